"""Typed events a lane reacts to. Each event class names the trigger of the transition table.

PLC inputs, device replies, people's commands and timers all reach the state machine as these events,
one at a time through the lane's queue: a timer firing is an event like any other, so it can never race
a trigger.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from lane_controller.domain.json_value import JsonValue
from lane_controller.domain.matching import MatchResult
from lane_controller.fsm.protocols import (
    BarrierPosition,
    Device,
    Recognition,
    SealReport,
    TagRead,
    UnsealAuthorisation,
)
from lane_controller.fsm.states import LaneState


class Trigger(StrEnum):
    """Trigger names of the transition table (one per event class)."""

    VEHICLE_ARRIVED = "vehicle_arrived"
    VEHICLE_LEFT = "vehicle_left"
    SAFETY_LOOP = "safety_loop"
    EXIT_LOOP = "exit_loop"
    PHOTOCELL = "photocell"
    BARRIER_REPORTED = "barrier_reported"
    READS_READY = "reads_ready"
    CN_MATCHED = "cn_matched"
    SEAL_STATUS = "seal_status"
    UNSEAL_AUTHORISED = "unseal_authorised"
    OFFICER_CONFIRMED = "officer_confirmed"
    STAFF_OVERRIDE = "staff_override"
    CLOSE_LANE = "close_lane"
    REOPEN_LANE = "reopen_lane"
    DEVICE_FAULT = "device_fault"
    DEVICE_RECOVERED = "device_recovered"
    TIMEOUT = "timeout"
    REEVALUATE = "reevaluate"


@dataclass(frozen=True, slots=True)
class LaneEvent:
    """Base of all lane events."""

    trigger: ClassVar[Trigger]

    @property
    def actor(self) -> str | None:
        """The person behind the event (human actions), else None."""
        return None

    @property
    def reply_to(self) -> str | None:
        """For a device reply: the session that asked. A reply for another session is stale."""
        return None

    def summary(self) -> dict[str, JsonValue]:
        """The event as recorded in the audit log."""
        return {"event": type(self).__name__}


def _require(value: str, what: str) -> None:
    if not value or not value.strip():
        raise ValueError(f"{what} must not be empty")


# ----------------------------------------------------------------------------------------- PLC inputs


@dataclass(frozen=True, slots=True)
class VehicleArrived(LaneEvent):
    """The arming loop reports a vehicle."""

    trigger: ClassVar[Trigger] = Trigger.VEHICLE_ARRIVED


@dataclass(frozen=True, slots=True)
class VehicleLeft(LaneEvent):
    """The arming loop is clear again."""

    trigger: ClassVar[Trigger] = Trigger.VEHICLE_LEFT


@dataclass(frozen=True, slots=True)
class SafetyLoopChanged(LaneEvent):
    """The safety loop under the boom changed."""

    occupied: bool
    trigger: ClassVar[Trigger] = Trigger.SAFETY_LOOP

    def summary(self) -> dict[str, JsonValue]:
        return {"event": "SafetyLoopChanged", "occupied": self.occupied}


@dataclass(frozen=True, slots=True)
class ExitLoopChanged(LaneEvent):
    """The exit loop past the boom changed."""

    occupied: bool
    trigger: ClassVar[Trigger] = Trigger.EXIT_LOOP

    def summary(self) -> dict[str, JsonValue]:
        return {"event": "ExitLoopChanged", "occupied": self.occupied}


@dataclass(frozen=True, slots=True)
class PhotocellChanged(LaneEvent):
    """The photocell across the boom changed."""

    blocked: bool
    trigger: ClassVar[Trigger] = Trigger.PHOTOCELL

    def summary(self) -> dict[str, JsonValue]:
        return {"event": "PhotocellChanged", "blocked": self.blocked}


@dataclass(frozen=True, slots=True)
class BarrierReported(LaneEvent):
    """The PLC reports a new boom position."""

    position: BarrierPosition
    trigger: ClassVar[Trigger] = Trigger.BARRIER_REPORTED

    def summary(self) -> dict[str, JsonValue]:
        return {"event": "BarrierReported", "position": self.position.value}


# ------------------------------------------------------------------------------------ device replies


@dataclass(frozen=True, slots=True)
class ReadsReady(LaneEvent):
    """The recognizer and the RFID reader are done with the truck of ``session_id``."""

    session_id: str
    recognition: Recognition
    tags: tuple[TagRead, ...] = ()
    trigger: ClassVar[Trigger] = Trigger.READS_READY

    @property
    def reply_to(self) -> str | None:
        return self.session_id

    def summary(self) -> dict[str, JsonValue]:
        return {
            "event": "ReadsReady",
            "plates": [p.text for p in self.recognition.plates],
            "containers": [c.text for c in self.recognition.containers],
            "tags": [t.epc for t in self.tags],
        }


@dataclass(frozen=True, slots=True)
class CnMatched(LaneEvent):
    """The CN search for ``session_id`` finished."""

    session_id: str
    result: MatchResult
    trigger: ClassVar[Trigger] = Trigger.CN_MATCHED

    @property
    def reply_to(self) -> str | None:
        return self.session_id

    def summary(self) -> dict[str, JsonValue]:
        return {"event": "CnMatched", **self.result.summary()}  # type: ignore[dict-item]


@dataclass(frozen=True, slots=True)
class SealStatus(LaneEvent):
    """The seals heard on the truck of ``session_id``; ``after_unlock``: read back after an offline unseal."""

    session_id: str
    reports: tuple[SealReport, ...]
    after_unlock: bool = False
    trigger: ClassVar[Trigger] = Trigger.SEAL_STATUS

    @property
    def reply_to(self) -> str | None:
        return self.session_id

    def summary(self) -> dict[str, JsonValue]:
        return {
            "event": "SealStatus",
            "after_unlock": self.after_unlock,
            "seals": {r.seal_id: r.state.value for r in self.reports},
        }


@dataclass(frozen=True, slots=True)
class UnsealAuthorised(LaneEvent):
    """The unseal data the uplink holds for the CN of ``session_id`` (None: none downloaded)."""

    session_id: str
    authorisation: UnsealAuthorisation | None
    trigger: ClassVar[Trigger] = Trigger.UNSEAL_AUTHORISED

    @property
    def reply_to(self) -> str | None:
        return self.session_id

    def summary(self) -> dict[str, JsonValue]:
        auth = self.authorisation
        return {
            "event": "UnsealAuthorised",
            "downloaded_at": auth.downloaded_at.isoformat() if auth else None,
            "seal_ids": list(auth.seal_ids) if auth else [],
        }


# ------------------------------------------------------------------------------------------- people


class OverrideDecision(StrEnum):
    """What a person decided for the truck on the lane."""

    OPEN = "open"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class OfficerConfirmed(LaneEvent):
    """A named dedicated officer (專責人員) confirmed the sealing (phase 1)."""

    person_id: str
    cn_number: str | None = None
    photo_sha256: str | None = None
    trigger: ClassVar[Trigger] = Trigger.OFFICER_CONFIRMED

    def __post_init__(self) -> None:
        _require(self.person_id, "the officer's id")

    @property
    def actor(self) -> str | None:
        return self.person_id

    def summary(self) -> dict[str, JsonValue]:
        return {
            "event": "OfficerConfirmed",
            "person_id": self.person_id,
            "cn_number": self.cn_number,
            "photo_sha256": self.photo_sha256,
        }


@dataclass(frozen=True, slots=True)
class StaffOverride(LaneEvent):
    """A person decides for the truck: open or deny, always with their id and a reason."""

    person_id: str
    reason: str
    decision: OverrideDecision
    trigger: ClassVar[Trigger] = Trigger.STAFF_OVERRIDE

    def __post_init__(self) -> None:
        _require(self.person_id, "the person's id")
        _require(self.reason, "the reason")

    @property
    def actor(self) -> str | None:
        return self.person_id

    def summary(self) -> dict[str, JsonValue]:
        return {
            "event": "StaffOverride",
            "person_id": self.person_id,
            "reason": self.reason,
            "decision": self.decision.value,
        }


@dataclass(frozen=True, slots=True)
class CloseLane(LaneEvent):
    """Staff take the lane out of service."""

    person_id: str
    reason: str
    trigger: ClassVar[Trigger] = Trigger.CLOSE_LANE

    def __post_init__(self) -> None:
        _require(self.person_id, "the person's id")
        _require(self.reason, "the reason")

    @property
    def actor(self) -> str | None:
        return self.person_id

    def summary(self) -> dict[str, JsonValue]:
        return {"event": "CloseLane", "person_id": self.person_id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ReopenLane(LaneEvent):
    """Staff put the lane back in service."""

    person_id: str
    reason: str
    trigger: ClassVar[Trigger] = Trigger.REOPEN_LANE

    def __post_init__(self) -> None:
        _require(self.person_id, "the person's id")
        _require(self.reason, "the reason")

    @property
    def actor(self) -> str | None:
        return self.person_id

    def summary(self) -> dict[str, JsonValue]:
        return {"event": "ReopenLane", "person_id": self.person_id, "reason": self.reason}


# ------------------------------------------------------------------------------------ health, timers


@dataclass(frozen=True, slots=True)
class DeviceFault(LaneEvent):
    """A device failed (``code`` short and stable, ``detail`` for people)."""

    device: Device
    code: str
    detail: str = ""
    session_id: str | None = None
    """The session whose request failed, when the fault is a failed request."""
    trigger: ClassVar[Trigger] = Trigger.DEVICE_FAULT

    def summary(self) -> dict[str, JsonValue]:
        return {"event": "DeviceFault", "device": self.device.value, "code": self.code, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class DeviceRecovered(LaneEvent):
    """A device works again."""

    device: Device
    trigger: ClassVar[Trigger] = Trigger.DEVICE_RECOVERED

    def summary(self) -> dict[str, JsonValue]:
        return {"event": "DeviceRecovered", "device": self.device.value}


@dataclass(frozen=True, slots=True)
class Timeout(LaneEvent):
    """The time-out of ``state`` fired; ``token`` names the visit of the state that armed it."""

    state: LaneState
    token: int
    trigger: ClassVar[Trigger] = Trigger.TIMEOUT

    def summary(self) -> dict[str, JsonValue]:
        return {"event": "Timeout", "state": self.state.value, "token": self.token}


@dataclass(frozen=True, slots=True)
class Reevaluate(LaneEvent):
    """Check again whether the lane can move on (posted on entering a state whose exit condition may
    already hold, e.g. a truck already waiting on the arming loop when the lane becomes idle)."""

    trigger: ClassVar[Trigger] = Trigger.REEVALUATE


EVENT_TYPES: tuple[type[LaneEvent], ...] = (
    VehicleArrived,
    VehicleLeft,
    SafetyLoopChanged,
    ExitLoopChanged,
    PhotocellChanged,
    BarrierReported,
    ReadsReady,
    CnMatched,
    SealStatus,
    UnsealAuthorised,
    OfficerConfirmed,
    StaffOverride,
    CloseLane,
    ReopenLane,
    DeviceFault,
    DeviceRecovered,
    Timeout,
    Reevaluate,
)
"""Every event class, one per trigger."""
