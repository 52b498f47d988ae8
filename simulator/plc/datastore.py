"""The pymodbus side of the simulated PLC: a datastore that serves the profile's map from the model.

pymodbus 3.16's ``SimDevice`` checks addresses per 16-bit word and hands its action no bit count, so it
cannot answer "illegal data address" exactly for a map with holes; this datastore plugs into the
server through ``ModbusServerContext``'s documented duck-typed interface instead
(``async_getValues`` / ``async_setValues``), and answers every request from ``SimPlc`` directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import cast

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.pdu import ExceptionResponse, ModbusPDU

from simulator.plc.image import MapError, RegisterImage
from simulator.plc.model import SimPlc
from simulator.plc.profile import Table

_TABLE_OF_FC: dict[int, Table] = {
    1: "coil",
    5: "coil",
    15: "coil",
    2: "discrete_input",
    3: "holding_register",
    6: "holding_register",
    16: "holding_register",
    22: "holding_register",
    23: "holding_register",
    4: "input_register",
}
_ECHOED = frozenset({5, 6})


class PlcDatastore(ModbusServerContext):
    """Answers the server's reads and writes from a ``SimPlc``, applying its fault knobs once per request."""

    def __init__(self, plc: SimPlc) -> None:  # the base __init__ only builds the deprecated block store
        self.plc = plc
        self.image = RegisterImage(plc.profile)
        self.old_simulator = True  # tells the server to call this object directly
        self.simdevices = []
        self._echo: dict[tuple[int, int], list[int] | list[bool]] = {}

    def device_ids(self) -> list[int]:
        """The one unit id the board answers."""
        return [self.plc.profile.unit_id]

    async def async_getValues(  # noqa: N802 (pymodbus's name)
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        """A read request (or the read-back pymodbus does after a single write)."""
        if func_code in _ECHOED and (echo := self._echo.pop((func_code, address), None)) is not None:
            return echo  # a single write's reply echoes the request, as the spec says
        if refused := await self._admit(device_id, func_code):
            return refused
        try:
            return self.image.read(self.plc, _TABLE_OF_FC[func_code], address, count)
        except MapError as exc:
            return ExcCodes(exc.code)

    async def async_setValues(  # noqa: N802 (pymodbus's name)
        self, device_id: int, func_code: int, address: int, values: Sequence[int] | Sequence[bool]
    ) -> ExcCodes | None:
        """A write request: decoded against the map, then given to the PLC in one piece."""
        if refused := await self._admit(device_id, func_code):
            return refused
        raw = cast(list[int] | list[bool], list(values))
        try:
            writes = self.image.decode_write(_TABLE_OF_FC[func_code], address, raw)
        except MapError as exc:
            return ExcCodes(exc.code)
        self.plc.write_points(writes)
        if func_code in _ECHOED:
            self._echo[(func_code, address)] = raw
        return None

    async def _admit(self, device_id: int, func_code: int) -> ExcCodes | None:
        faults = self.plc.faults
        if device_id != self.plc.profile.unit_id or faults.silent:
            raise NoSuchIdException(f"unit {device_id}: no answer")  # the server stays silent
        if faults.delay_s > 0:
            await asyncio.sleep(faults.delay_s)
            if faults.silent:
                raise NoSuchIdException("silenced while delayed")
        if faults.exception_code:
            return ExcCodes(faults.exception_code)
        if func_code not in self.plc.profile.function_codes or func_code not in _TABLE_OF_FC:
            return ExcCodes.ILLEGAL_FUNCTION
        return None


class _IllegalFunction(ModbusPDU):
    """Stands in for a request whose function code the board does not take."""

    def __init__(self, request: ModbusPDU) -> None:
        super().__init__(dev_id=request.dev_id, transaction_id=request.transaction_id)
        self.function_code = request.function_code

    async def datastore_update(self, context: ModbusServerContext, device_id: int) -> ModbusPDU:
        """Let the datastore decide (silence, delay, injected exception), else ILLEGAL_FUNCTION."""
        result = await context.async_getValues(device_id, self.function_code, 0, 1)
        code = result if isinstance(result, ExcCodes) else ExcCodes.ILLEGAL_FUNCTION
        return ExceptionResponse(self.function_code, code)


def function_code_gate(allowed: frozenset[int]) -> Callable[[bool, ModbusPDU], ModbusPDU]:
    """A pymodbus ``trace_pdu`` hook: requests with other function codes never reach their handler."""

    def trace_pdu(sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if sending or pdu.function_code in allowed:
            return pdu
        return _IllegalFunction(pdu)

    return trace_pdu
