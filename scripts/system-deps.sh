#!/usr/bin/env bash
# Debian packages the tests use beside Python's: mbpoll, an independent Modbus master for the PLC tests.
# Installs it when missing (needs root and Debian's package index).
set -euo pipefail
missing=()
for tool in mbpoll; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "system-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" != 0 ]; then
    echo "system-deps: not root; install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
