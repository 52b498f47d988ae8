"""ISO 6346 size-and-type codes: the four characters painted beside a container's number (``22G1``,
``45R1``, ``L5G1``).

Two size characters (length; height and width) and two type characters (the type group's letter and a
digit). A gate camera that sees the container sees this code as well, and to a plate reader it is a
four-character truck plate (``22-GI`` once the ``1`` is taken for an ``I``): :func:`reads_as_size_type_code`
lets the lane tell the two apart.
"""

from __future__ import annotations

import math
from typing import Final

from lane_controller.domain.ocr_confusions import CONFUSIONS, clean_read

LENGTH_CODES: Final = "1234ABCDEFGHKLMNP"
"""First character: the length (1-4 the 10-40 ft classes, A-P the other lengths)."""
HEIGHT_WIDTH_CODES: Final = "024568" + "9CDEFLMNP"
"""Second character: height and width (0-9 for 2438 mm wide, C-P for the wider and taller classes)."""
TYPE_GROUPS: Final = "GVBSRHUPTAK"
"""Third character: the type group (general purpose, ventilated, bulk, named cargo, thermal, open top,
platform, tank, air/surface; K: the tank codes of the 1995 edition's later amendment)."""
TYPE_DIGITS: Final = "0123456789"
"""Fourth character: the type within its group."""

_POSITIONS: Final = (LENGTH_CODES, HEIGHT_WIDTH_CODES, TYPE_GROUPS, TYPE_DIGITS)
DEFAULT_MAX_COST: Final = 2
"""OCR confusion cost a read may need to be a size-and-type code (``2261``: a G read as 6 costs 2)."""


def reads_as_size_type_code(text: str, max_cost: int = DEFAULT_MAX_COST) -> bool:
    """Whether ``text`` is a size-and-type code once OCR confusions costing at most ``max_cost`` in all
    are undone (``22GI``, ``2261``, ``45R1``)."""
    return size_type_cost(text) <= max_cost


def size_type_cost(text: str) -> float:
    """The cheapest OCR confusion cost that turns ``text`` into a size-and-type code (0: it is one;
    infinite: no confusion makes it one, or it is not four characters long)."""
    chars = clean_read(text)
    if len(chars) != len(_POSITIONS):
        return math.inf
    total = 0.0
    for char, allowed in zip(chars, _POSITIONS, strict=True):
        if char in allowed:
            continue
        costs = [cost for other, cost in CONFUSIONS.get(char, {}).items() if other in allowed]
        if not costs:
            return math.inf
        total += min(costs)
    return total
