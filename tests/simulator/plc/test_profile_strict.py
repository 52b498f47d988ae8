"""The simulator's profile reader is as strict about keys as the controller's, by its own checks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from lane_controller.plc.profile import PlcProfileError, load_plc_profile
from simulator.plc.profile import PROFILE_DIR, load_sim_profile

GENERIC = (PROFILE_DIR / "generic.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda t: t.replace("poll_ms = 50", "poll_msec = 50"), "timing.poll_msec"),
        (lambda t: t.replace('word_order = "big"', 'wordorder = "big"'), "wordorder"),
        (lambda t: t.replace('kind = "tcp"', 'kind = "tpc"'), "transport.kind"),
        (lambda t: t.replace('style = "coil_pulse"', 'style = "coil_pulse"\nstlye = 1'), "command.stlye"),
        (
            lambda t: t.replace(
                'coil_open = { table = "coil", address = 0 }', 'coil_open = { table = "coil", adress = 0 }'
            ),
            "points.coil_open.adress",
        ),
    ],
)
def test_both_sides_refuse_the_same_mistyped_profile(tmp_path: Path, edit, key) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(edit(GENERIC), encoding="utf-8")
    tomllib.loads(path.read_text(encoding="utf-8"))  # still valid TOML
    with pytest.raises(ValueError, match=re.escape(f"{key}: unknown")):
        load_sim_profile(path)
    with pytest.raises(PlcProfileError):
        load_plc_profile(path)


def test_every_shipped_profile_loads_on_both_sides() -> None:
    for path in sorted(PROFILE_DIR.glob("*.toml")):
        assert load_sim_profile(path).points
        assert load_plc_profile(path).points
