"""Typed errors of the PLC driver; each names the point(s), the table and the address it concerned."""

from __future__ import annotations

EXCEPTION_NAMES: dict[int, str] = {
    1: "illegal_function",
    2: "illegal_data_address",
    3: "illegal_data_value",
    4: "server_device_failure",
    5: "acknowledge",
    6: "server_device_busy",
    7: "negative_acknowledge",
    8: "memory_parity_error",
    10: "gateway_path_unavailable",
    11: "gateway_target_no_response",
}
"""Modbus exception codes (Modbus application protocol v1.1b3, §7)."""


class PlcError(Exception):
    """A Modbus request to the PLC failed; ``point`` is the point name (or several, comma-separated)."""

    def __init__(
        self, reason: str, *, point: str | None = None, table: str | None = None, address: int | None = None
    ) -> None:
        self.reason, self.point, self.table, self.address = reason, point, table, address
        where = " ".join(str(p) for p in (table, address) if p is not None)
        if point:
            where = f"{point} ({where})" if where else point
        super().__init__(f"{where}: {reason}" if where else reason)


class PlcTimeout(PlcError):
    """No reply within the request time-out."""


class PlcConnectionError(PlcError):
    """Not connected: the connection could not be opened or was lost."""


class PlcReconnecting(PlcConnectionError):
    """Not connected, and the hub waits out its backoff before the next connect; ``last`` is the error
    that took the line down (the message stays the same for the whole outage)."""

    def __init__(self, last: PlcError | None) -> None:
        self.last = last
        super().__init__(f"reconnect pending after: {last}" if last else "not connected (reconnect pending)")


class PlcMalformedReply(PlcError):
    """A reply that does not fit the request (wrong function, length, address, undecodable)."""


class PlcExceptionReply(PlcError):
    """The PLC answered with a Modbus exception."""

    def __init__(
        self, code: int, *, point: str | None = None, table: str | None = None, address: int | None = None
    ) -> None:
        self.code = code
        self.code_name = EXCEPTION_NAMES.get(code, "unknown")
        super().__init__(
            f"Modbus exception {code} ({self.code_name})", point=point, table=table, address=address
        )
