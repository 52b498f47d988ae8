"""The transport note (CN, 運送單) and the rules derived from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lane_controller.domain.container_number import ContainerNumber
from lane_controller.domain.enums import (
    Direction,
    MessageFunction,
    MonitoringPhase,
    SealType,
    TransportToolCategory,
)
from lane_controller.domain.plate import Plate

CN_NUMBER_PATTERN = r"^[A-Z0-9]{4,20}$"
SEAL_ID_PATTERN = r"^[A-Z0-9]{4,32}$"
SITE_CODE_PATTERN = r"^[A-Z0-9]{2,8}$"
RELEASE_CODES_REQUIRING_E_SEAL = frozenset({"1", "B"})
MAX_CONTAINERS = 2
TRACTOR_TRAILER_CATEGORIES = frozenset(
    {TransportToolCategory.BONDED_TRACTOR_TRAILER, TransportToolCategory.ORDINARY_TRACTOR_TRAILER}
)


class InvalidTransportNote(ValueError):
    """A transport note that breaks a domain rule; `field` names the offending field."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


def normalise_code(text: str) -> str:
    """Upper-case a code and drop spaces and dashes (CN numbers, seal ids, site codes)."""
    return re.sub(r"[\s\-]", "", text).upper()


@dataclass(frozen=True, slots=True)
class SealId:
    """A write-once seal identifier (manufacturer prefix and serial, ISO 18185 style)."""

    value: str

    @classmethod
    def parse(cls, text: str) -> SealId:
        """Normalise and validate a seal id."""
        value = normalise_code(text)
        if not re.fullmatch(SEAL_ID_PATTERN, value):
            raise ValueError(f"seal id {text!r} must be 4-32 letters or digits")
        return cls(value)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class SealSpec:
    """A seal listed on a transport note."""

    seal_id: SealId
    seal_type: SealType


@dataclass(frozen=True, slots=True)
class TransportNote:
    """One version of a transport note as received; `validate()` checks the cross-field rules."""

    cn_number: str
    function: MessageFunction
    direction: Direction
    origin_site_code: str
    destination_station_code: str
    containers: tuple[ContainerNumber, ...]
    tractor_plate: Plate
    trailer_plate: Plate | None
    transport_tool_category: TransportToolCategory
    seals: tuple[SealSpec, ...]
    release_instruction_code: str | None
    issued_at: datetime
    route_code: str | None = None
    time_limit: timedelta | None = None
    remarks: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise `InvalidTransportNote` naming the first field that breaks a rule."""
        if not re.fullmatch(CN_NUMBER_PATTERN, self.cn_number):
            raise InvalidTransportNote("cn_number", "must be 4-20 upper-case letters or digits")
        if self.function is MessageFunction.CANCEL:
            raise InvalidTransportNote("function", "a cancel message carries no note; use CancelNotice")
        for name in ("origin_site_code", "destination_station_code"):
            if not re.fullmatch(SITE_CODE_PATTERN, getattr(self, name)):
                raise InvalidTransportNote(name, "must be 2-8 upper-case letters or digits")
        self._validate_cargo()
        if self.issued_at.tzinfo is None:
            raise InvalidTransportNote("issued_at", "needs a UTC offset")
        if self.time_limit is not None and self.time_limit <= timedelta(0):
            raise InvalidTransportNote("time_limit", "must be positive")
        if self.time_limit is not None and self.route_code is None:
            raise InvalidTransportNote("route_code", "a time limit is assigned together with a route")

    def _validate_cargo(self) -> None:
        if len(self.containers) > MAX_CONTAINERS:
            raise InvalidTransportNote("containers", f"at most {MAX_CONTAINERS} containers per truck")
        if len(set(self.containers)) != len(self.containers):
            raise InvalidTransportNote("containers", "the same container is listed twice")
        if not self.containers and not self.has_vehicle_seal:
            raise InvalidTransportNote(
                "containers", "at least one container, unless the truck body carries vehicle-mounted seals"
            )
        if self.transport_tool_category in TRACTOR_TRAILER_CATEGORIES and self.trailer_plate is None:
            raise InvalidTransportNote("trailer_plate", "required for a tractor-trailer")
        seal_ids = [seal.seal_id for seal in self.seals]
        if len(set(seal_ids)) != len(seal_ids):
            raise InvalidTransportNote("seals", "the same seal id is listed twice")
        if self.release_instruction_code in RELEASE_CODES_REQUIRING_E_SEAL and not self.seals:
            raise InvalidTransportNote(
                "seals",
                f"release instruction code {self.release_instruction_code} requires an electronic seal",
            )

    @property
    def has_vehicle_seal(self) -> bool:
        """True when any listed seal is vehicle-mounted (車機封條)."""
        return any(seal.seal_type is SealType.VEHICLE_MOUNTED for seal in self.seals)

    @property
    def seal_required(self) -> bool:
        """Sealing is required: release code `1`/`B` (electronic seal) or any vehicle seal listed."""
        return self.release_instruction_code in RELEASE_CODES_REQUIRING_E_SEAL or self.has_vehicle_seal

    def officer_confirmation_required(self, phase: MonitoringPhase) -> bool:
        """Phase 1: a vehicle seal that replaces the passive e-seal (code `1`/`B`) needs a 專責人員."""
        return (
            phase is MonitoringPhase.PHASE_1
            and self.release_instruction_code in RELEASE_CODES_REQUIRING_E_SEAL
            and self.has_vehicle_seal
        )


@dataclass(frozen=True, slots=True)
class CancelNotice:
    """A cancel message (function `1`): the CN number and when it was issued."""

    cn_number: str
    issued_at: datetime
    reason: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(CN_NUMBER_PATTERN, self.cn_number):
            raise InvalidTransportNote("cn_number", "must be 4-20 upper-case letters or digits")
        if self.issued_at.tzinfo is None:
            raise InvalidTransportNote("issued_at", "needs a UTC offset")
