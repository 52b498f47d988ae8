"""JSON that says one thing: an object with a key twice is refused (``json.loads`` keeps the last value
silently, so a forged first value, or a second one, would pass unseen). Shared by the CN reader and the
offline audit check."""

from __future__ import annotations

from typing import Any


class DuplicateKeyError(ValueError):
    """An object has a key more than once; the message names the keys."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for :func:`json.loads` that raises :class:`DuplicateKeyError`."""
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        msg = f"duplicate key {', '.join(repr(k[:40]) for k in duplicates)}"
        raise DuplicateKeyError(msg)
    return dict(pairs)
