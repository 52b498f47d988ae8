"""How a configuration file's first validation problem is worded: the dotted key and the reason."""

from __future__ import annotations

from pydantic import ValidationError


def first_error(exc: ValidationError, *, root: str = "(root)") -> tuple[str, str]:
    """The first problem pydantic found: its dotted key (``root`` when it is the whole value) and why
    ("unknown key" for a key the model does not have)."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or root
    return key, "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
