"""How a configuration file's first validation problem is worded: the dotted key and the reason."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from pydantic import ValidationError


def _dotted(loc: Sequence[int | str]) -> str:
    return ".".join(str(p) for p in loc)


def first_error(exc: ValidationError, *, root: str = "(root)") -> tuple[str, str]:
    """The first problem pydantic found: its dotted key (``root`` when it is the whole value) and why.

    An unknown key comes first, as "unknown key", with the closest known key it may be a typing error
    for and the required keys missing beside it: a mistyped ``laneid`` also leaves ``lane_id`` missing,
    and the typo is the cause to name."""
    errors = exc.errors()
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    if not unknown:
        err = errors[0]
        return _dotted(err["loc"]) or root, err["msg"]
    loc = unknown[0]["loc"]
    parent = tuple(loc[:-1])
    missing = [e["loc"] for e in errors if e["type"] == "missing" and tuple(e["loc"][:-1]) == parent]
    reason = "unknown key"
    close = difflib.get_close_matches(str(loc[-1]), [str(m[-1]) for m in missing], n=1)
    if close:
        reason += f" (did you mean {close[0]!r}?)"
    if missing:
        reason += "; missing: " + ", ".join(_dotted(m) for m in missing)
    return _dotted(loc) or root, reason
