"""Texts a gate camera sees: ISO 6346 container numbers with valid check digits, Taiwan-style plates."""

from __future__ import annotations

import numpy as np
from stdnum import iso6346

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # I and O are not issued on current series
PLATE_PATTERNS = ("LLL-DDDD", "LLL-DDDD", "LLL-DDDD", "LL-DDDD", "DDD-LL", "DDDD-LL")
"""Patterns drawn from (the current series weighted up); L a letter, D a digit."""


def container_code(rng: np.random.Generator) -> str:
    """An 11-character container number (owner code, category U/J/Z, serial, check digit)."""
    owner = "".join(rng.choice(list(LETTERS), 3))
    category = str(rng.choice(["U", "U", "U", "U", "J", "Z"]))
    serial = "".join(str(d) for d in rng.integers(0, 10, 6))
    body = owner + category + serial
    return body + str(iso6346.calc_check_digit(body))


def plate_text(rng: np.random.Generator) -> str:
    """A plate as displayed, with its dash (``KLA-1234``)."""
    pattern = str(rng.choice(PLATE_PATTERNS))
    out = []
    for c in pattern:
        if c == "L":
            out.append(str(rng.choice(list(PLATE_LETTERS))))
        elif c == "D":
            out.append(str(rng.integers(0, 10)))
        else:
            out.append(c)
    return "".join(out)


def is_valid_container_code(code: str) -> bool:
    """The code passes the ISO 6346 check digit."""
    return bool(iso6346.is_valid(code))
