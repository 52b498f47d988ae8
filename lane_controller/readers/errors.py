"""Typed errors the lane gets from the reader drivers; each names the request and, where any, the seal."""

from __future__ import annotations

from lane_controller.readers.messages import NakCode


class ReaderError(Exception):
    """A reader request failed."""

    def __init__(self, reason: str, request: str, seal_id: str | None = None) -> None:
        self.reason, self.request, self.seal_id = reason, request, seal_id
        where = f" seal {seal_id}" if seal_id else ""
        super().__init__(f"{request}{where}: {reason}")


class ReaderTimeout(ReaderError):
    """No matching reply within the time-out (after the profile's retries)."""


class ReaderUnavailable(ReaderError):
    """The serial port is closed or gone (the transport keeps reopening it in the background)."""


class ReaderNak(ReaderError):
    """The reader refused the request."""

    def __init__(self, code: NakCode, request: str, seal_id: str | None = None, detail: str = "") -> None:
        self.code = code
        super().__init__(f"refused: {code.value}{f' ({detail})' if detail else ''}", request, seal_id)


class SealReaderError(ReaderError):
    """The seal reader answered something that does not fit the request (wrong seal, missing status)."""
