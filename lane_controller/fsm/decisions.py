"""Pure decision rules of a lane: reads, seals, offline unseal data, route time limit, and what the driver
is told. No I/O: every function takes what it judges and returns a typed verdict.

Exceptions are listed by effect (openpilot-style): each :class:`Reason` either *denies* the truck (the
barrier stays down, the display says where to go, the session ends when the truck leaves) or sends it
to *manual review* (a person decides). A lane may override the effect per reason in its config.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from lane_controller.domain.json_value import JsonValue
from lane_controller.domain.transport_note import SealSpec
from lane_controller.fsm.protocols import (
    DisplayMessage,
    Recognition,
    SealReport,
    SealState,
    UnsealAuthorisation,
)
from lane_controller.fsm.states import LaneState

TAIPEI = timezone(timedelta(hours=8), "Asia/Taipei")
"""Taiwan keeps UTC+8 all year."""
SERVICE_HOURS = (8, 20)
"""Customer service answers 08:00-20:00 Taipei time; the customs control centre otherwise."""
UNSEAL_DATA_LIFETIME = timedelta(minutes=15)
CLOCK_SKEW_TOLERANCE = timedelta(seconds=60)


class Effect(StrEnum):
    """What an exception does to the truck."""

    DENY = "deny"
    REVIEW = "review"


class Reason(StrEnum):
    """Why a truck is not let through automatically."""

    UNREADABLE = "unreadable"
    LOW_AGREEMENT = "low_agreement"
    NO_CN = "no_cn"
    SEVERAL_CNS = "several_cns"
    PLATE_MISMATCH = "plate_mismatch"
    CONTAINER_MISMATCH = "container_mismatch"
    CN_ALREADY_USED = "cn_already_used"
    SEAL_MISSING = "seal_missing"
    SEAL_COUNT_MISMATCH = "seal_count_mismatch"
    SEAL_ID_MISMATCH = "seal_id_mismatch"
    SEAL_NOT_LOCKED = "seal_not_locked"
    SEAL_TAMPERED = "seal_tampered"
    SEAL_NOT_OPENED = "seal_not_opened"
    UNSEAL_DATA_MISSING = "unseal_data_missing"
    UNSEAL_DATA_EXPIRED = "unseal_data_expired"
    LATE_ARRIVAL = "late_arrival"
    DEVICE_FAULT = "device_fault"
    TIMEOUT = "timeout"
    STAFF_DENIED = "staff_denied"
    OPEN_REFUSED = "open_refused"
    RECOVERED = "recovered"


DEFAULT_EFFECTS: Mapping[Reason, Effect] = {
    Reason.UNREADABLE: Effect.REVIEW,
    Reason.LOW_AGREEMENT: Effect.REVIEW,
    Reason.NO_CN: Effect.DENY,
    Reason.SEVERAL_CNS: Effect.REVIEW,
    Reason.PLATE_MISMATCH: Effect.REVIEW,
    Reason.CONTAINER_MISMATCH: Effect.REVIEW,
    Reason.CN_ALREADY_USED: Effect.REVIEW,
    Reason.SEAL_MISSING: Effect.DENY,
    Reason.SEAL_COUNT_MISMATCH: Effect.DENY,
    Reason.SEAL_ID_MISMATCH: Effect.DENY,
    Reason.SEAL_NOT_LOCKED: Effect.DENY,
    Reason.SEAL_TAMPERED: Effect.DENY,
    Reason.SEAL_NOT_OPENED: Effect.REVIEW,
    Reason.UNSEAL_DATA_MISSING: Effect.REVIEW,
    Reason.UNSEAL_DATA_EXPIRED: Effect.REVIEW,
    Reason.LATE_ARRIVAL: Effect.REVIEW,
    Reason.DEVICE_FAULT: Effect.REVIEW,
    Reason.TIMEOUT: Effect.REVIEW,
    Reason.STAFF_DENIED: Effect.DENY,
    Reason.OPEN_REFUSED: Effect.REVIEW,
    Reason.RECOVERED: Effect.REVIEW,
}
"""Plate and container mismatches go to review: an OCR misread looks the same as a wrong truck."""


def effect_of(reason: Reason, overrides: Mapping[Reason, Effect] | None = None) -> Effect:
    """The effect of ``reason``, a lane's override first."""
    if overrides and reason in overrides:
        return overrides[reason]
    return DEFAULT_EFFECTS[reason]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Passed (``reason`` None) or failed with a reason; ``detail`` says what exactly, for people."""

    reason: Reason | None = None
    detail: str = ""
    data: Mapping[str, JsonValue] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No exception."""
        return self.reason is None

    def payload(self) -> dict[str, JsonValue]:
        """JSON-ready form for the audit log."""
        return {"ok": self.ok, "reason": self.reason.value if self.reason else None, "detail": self.detail}


PASS = Verdict()


# -------------------------------------------------------------------------------------------- reads


def assess_reads(recognition: Recognition, threshold: float) -> Verdict:
    """At least one plate read, and every voted plate and container agreed on by ``threshold`` of frames."""
    if not recognition.plates:
        return Verdict(Reason.UNREADABLE, "no licence plate could be read")
    weak = [r for r in (*recognition.plates, *recognition.containers) if r.agreement < threshold]
    if weak:
        listed = ", ".join(f"{r.text} ({r.agreement:.0%})" for r in weak)
        return Verdict(Reason.LOW_AGREEMENT, f"reads below {threshold:.0%} agreement: {listed}")
    return PASS


# -------------------------------------------------------------------------------------------- seals


def _seal_set_verdict(listed: Sequence[SealSpec], reports: Sequence[SealReport]) -> Verdict | None:
    """Tampering, then missing, foreign or extra seals; None when exactly the listed seals were heard."""
    tampered = sorted(r.seal_id for r in reports if r.state is SealState.TAMPERED)
    if tampered:
        return Verdict(Reason.SEAL_TAMPERED, f"seal reports tampering: {', '.join(tampered)}")
    wanted = {s.seal_id.value for s in listed}
    heard = {r.seal_id for r in reports}
    missing = sorted(wanted - heard)
    extra = sorted(heard - wanted)
    data: dict[str, JsonValue] = {"missing": list(missing), "unlisted": list(extra)}
    if missing and len(heard) == len(wanted):
        detail = f"seal ids differ from the CN: heard {', '.join(extra)}, listed {', '.join(missing)}"
        return Verdict(Reason.SEAL_ID_MISMATCH, detail, data)
    if missing:
        return Verdict(Reason.SEAL_MISSING, f"listed seals not heard: {', '.join(missing)}", data)
    if extra:
        detail = f"{len(heard)} seals heard, {len(wanted)} listed (unlisted: {', '.join(extra)})"
        return Verdict(Reason.SEAL_COUNT_MISMATCH, detail, data)
    return None


def verify_exit_seals(listed: Sequence[SealSpec], reports: Sequence[SealReport]) -> Verdict:
    """Exit: every seal listed on the CN present, no other seal, ids matching, all locked, none tampered."""
    problem = _seal_set_verdict(listed, reports)
    if problem is not None:
        return problem
    unlocked = sorted(r.seal_id for r in reports if r.state is not SealState.SEALED)
    if unlocked:
        return Verdict(Reason.SEAL_NOT_LOCKED, f"seals not locked: {', '.join(unlocked)}")
    return PASS


@dataclass(frozen=True, slots=True)
class EntrySeals:
    """Entry seal check: a verdict, and the seals still locked (to unseal offline) when it passed."""

    verdict: Verdict
    still_sealed: tuple[str, ...] = ()

    @property
    def all_opened(self) -> bool:
        """Passed and every seal already reports opened (by the electronic fence)."""
        return self.verdict.ok and not self.still_sealed


def verify_entry_seals(listed: Sequence[SealSpec], reports: Sequence[SealReport]) -> EntrySeals:
    """Entry: seals intact (none tampered) and exactly the listed ids; which still need unsealing."""
    problem = _seal_set_verdict(listed, reports)
    if problem is not None:
        return EntrySeals(problem)
    sealed = tuple(sorted(r.seal_id for r in reports if r.state is SealState.SEALED))
    return EntrySeals(PASS, sealed)


def verify_unsealed(listed: Sequence[SealSpec], reports: Sequence[SealReport]) -> Verdict:
    """Entry, after an offline unseal: the listed seals intact and every one now reports opened."""
    problem = _seal_set_verdict(listed, reports)
    if problem is not None:
        return problem
    closed = sorted(r.seal_id for r in reports if r.state is not SealState.OPENED)
    if closed:
        return Verdict(Reason.SEAL_NOT_OPENED, f"seals still locked after unsealing: {', '.join(closed)}")
    return PASS


def check_unseal_authorisation(
    authorisation: UnsealAuthorisation | None,
    *,
    cn_number: str,
    seal_ids: Sequence[str],
    now: datetime,
    max_age: timedelta = UNSEAL_DATA_LIFETIME,
) -> Verdict:
    """Offline unseal data: for this CN and these seals, and younger than ``max_age`` (15 min) now."""
    if authorisation is None:
        return Verdict(Reason.UNSEAL_DATA_MISSING, f"no unseal data downloaded for CN {cn_number}")
    if authorisation.cn_number != cn_number:
        detail = f"unseal data is for CN {authorisation.cn_number}, not {cn_number}"
        return Verdict(Reason.UNSEAL_DATA_MISSING, detail)
    uncovered = sorted(set(seal_ids) - set(authorisation.seal_ids))
    if uncovered:
        return Verdict(Reason.UNSEAL_DATA_MISSING, f"unseal data does not cover seals {', '.join(uncovered)}")
    age = now - authorisation.downloaded_at
    if age < -CLOCK_SKEW_TOLERANCE:
        return Verdict(Reason.UNSEAL_DATA_MISSING, "unseal data is dated in the future")
    if age >= max_age:
        minutes = age.total_seconds() / 60
        detail = (
            f"unseal data downloaded {minutes:.1f} min ago "
            f"({authorisation.downloaded_at.isoformat()}), void after {max_age.total_seconds() / 60:.0f} min"
        )
        return Verdict(Reason.UNSEAL_DATA_EXPIRED, detail)
    return PASS


# ------------------------------------------------------------------------------------------- route


@dataclass(frozen=True, slots=True)
class RouteCheck:
    """Route time limit at entry: known (a departure time and a limit), late or not."""

    departed_at: datetime | None
    arrived_at: datetime
    time_limit: timedelta | None

    @property
    def known(self) -> bool:
        """Both a departure time and a limit are known."""
        return self.departed_at is not None and self.time_limit is not None

    @property
    def elapsed(self) -> timedelta | None:
        """Time on the road."""
        return None if self.departed_at is None else self.arrived_at - self.departed_at

    @property
    def late(self) -> bool:
        """Over the time limit."""
        elapsed = self.elapsed
        return elapsed is not None and self.time_limit is not None and elapsed > self.time_limit

    def payload(self) -> dict[str, JsonValue]:
        """JSON-ready form for the audit log."""
        elapsed = self.elapsed
        return {
            "departed_at": self.departed_at.isoformat() if self.departed_at else None,
            "arrived_at": self.arrived_at.isoformat(),
            "time_limit_min": self.time_limit.total_seconds() / 60 if self.time_limit else None,
            "elapsed_min": round(elapsed.total_seconds() / 60, 2) if elapsed is not None else None,
            "late": self.late,
        }


def check_route_time(
    departed_at: datetime | None, arrived_at: datetime, time_limit: timedelta | None
) -> RouteCheck:
    """Compare the trip time with the route time limit customs assigned."""
    return RouteCheck(departed_at, arrived_at, time_limit)


# ------------------------------------------------------------------------------------------ decisions


class DecisionBasis(StrEnum):
    """Why a truck may pass."""

    AUTOMATIC = "automatic"
    """The CN matched and the seal operation was confirmed (or the CN requires none)."""
    OFFICER = "officer"
    """As automatic, and a named dedicated officer confirmed the sealing (phase 1)."""
    STAFF_OVERRIDE = "staff_override"
    """A named person decided, with a reason."""
    NO_CN_LANE = "no_cn_lane"
    """The lane crosses no controlled-area boundary; the truck was identified and logged."""


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision about the truck on the lane. Positive decisions are the only way to open the barrier;
    their rules are checked on construction, so an incomplete one cannot exist."""

    open: bool
    basis: DecisionBasis | None = None
    reason: Reason | None = None
    cn_number: str | None = None
    person_id: str | None = None
    note: str = ""
    seal_confirmed: bool = False
    seal_required: bool = False

    def __post_init__(self) -> None:
        if not self.open:
            if self.reason is None:
                raise ValueError("a negative decision needs a reason")
            return
        if self.basis is None:
            raise ValueError("a positive decision needs a basis")
        if self.basis is DecisionBasis.STAFF_OVERRIDE:
            if not self.person_id or not self.note:
                raise ValueError("a staff override needs the person's id and a reason")
        elif self.basis in (DecisionBasis.AUTOMATIC, DecisionBasis.OFFICER):
            if not self.cn_number:
                raise ValueError("an automatic decision needs the matched CN")
            if self.seal_required and not self.seal_confirmed:
                raise ValueError("the CN requires a seal operation that was not confirmed")
            if self.basis is DecisionBasis.OFFICER and not self.person_id:
                raise ValueError("an officer's confirmation names the officer")

    def payload(self) -> dict[str, JsonValue]:
        """JSON-ready form for the audit log (``lane.decision``)."""
        return {
            "decision": "open" if self.open else "hold",
            "basis": self.basis.value if self.basis else None,
            "reason": self.reason.value if self.reason else None,
            "cn_number": self.cn_number,
            "person_id": self.person_id,
            "note": self.note,
            "seal_required": self.seal_required,
            "seal_confirmed": self.seal_confirmed,
        }


# -------------------------------------------------------------------------------------------- display

_REASON_TEXT: Mapping[Reason, tuple[str, str]] = {
    Reason.UNREADABLE: ("無法辨識車牌", "Licence plate could not be read"),
    Reason.LOW_AGREEMENT: ("辨識結果不一致", "Plate or container reads disagree"),
    Reason.NO_CN: ("查無運送單", "No transport note (CN) found"),
    Reason.SEVERAL_CNS: ("符合多筆運送單", "Several transport notes match"),
    Reason.PLATE_MISMATCH: ("車牌與運送單不符", "Plate does not match the transport note"),
    Reason.CONTAINER_MISMATCH: ("貨櫃號碼與運送單不符", "Container number does not match the transport note"),
    Reason.CN_ALREADY_USED: ("此運送單已出站使用", "This transport note was already used for an exit"),
    Reason.SEAL_MISSING: ("封條缺少", "Seal missing"),
    Reason.SEAL_COUNT_MISMATCH: ("封條數量不符", "Seal count does not match"),
    Reason.SEAL_ID_MISMATCH: ("封條號碼不符", "Seal id does not match"),
    Reason.SEAL_NOT_LOCKED: ("封條未上鎖", "Seal not locked"),
    Reason.SEAL_TAMPERED: ("封條遭破壞", "Seal tampered"),
    Reason.SEAL_NOT_OPENED: ("封條未解封", "Seal not unsealed"),
    Reason.UNSEAL_DATA_MISSING: ("無解封資料", "No unseal data"),
    Reason.UNSEAL_DATA_EXPIRED: ("解封資料已逾時", "Unseal data expired"),
    Reason.LATE_ARRIVAL: ("逾越路線時限", "Route time limit exceeded"),
    Reason.DEVICE_FAULT: ("設備異常", "Device fault"),
    Reason.TIMEOUT: ("處理逾時", "Check timed out"),
    Reason.STAFF_DENIED: ("人員拒絕放行", "Refused by staff"),
    Reason.OPEN_REFUSED: ("放行決定無效", "Release decision not valid"),
    Reason.RECOVERED: ("系統重新啟動", "Controller restarted"),
}

_WHERE: Mapping[Reason, tuple[str, str]] = {
    Reason.NO_CN: ("請至服務台辦理運送單", "please go to the service counter to file the CN"),
    Reason.SEAL_MISSING: ("請至施封區", "please go to the sealing area"),
    Reason.SEAL_COUNT_MISMATCH: ("請至施封區", "please go to the sealing area"),
    Reason.SEAL_ID_MISMATCH: ("請至施封區", "please go to the sealing area"),
    Reason.SEAL_NOT_LOCKED: ("請至施封區", "please go to the sealing area"),
    Reason.SEAL_TAMPERED: ("請至海關查驗區", "please go to the customs inspection area"),
    Reason.STAFF_DENIED: ("請依現場人員指示", "please follow the staff's directions"),
}
_WAIT = ("請停車稍候，人員處理中", "please wait, staff are checking")


def contact_for(now: datetime) -> tuple[str, str]:
    """Who to call now: customer service 08:00-20:00 Taipei time, the customs control centre otherwise."""
    hour = now.astimezone(TAIPEI).hour
    if SERVICE_HOURS[0] <= hour < SERVICE_HOURS[1]:
        return "洽詢請撥客服中心", "call customer service"
    return "洽詢請撥海關管控中心", "call the customs control centre"


def exception_message(reason: Reason, effect: Effect, now: datetime) -> DisplayMessage:
    """What the driver reads on an exception: what is wrong, where to go (or wait), whom to call."""
    what_zh, what_en = _REASON_TEXT[reason]
    where_zh, where_en = _WHERE.get(reason, _WAIT) if effect is Effect.DENY else _WAIT
    call_zh, call_en = contact_for(now)
    return DisplayMessage(
        zh=f"{what_zh}，{where_zh}。{call_zh}",
        en=f"{what_en}: {where_en}. For help, {call_en}.",
        reason=reason.value,
    )


_STATE_TEXT: Mapping[LaneState, tuple[str, str]] = {
    LaneState.IDLE: ("請駛入", "Drive in"),
    LaneState.IDENTIFYING: ("辨識中，請稍候", "Identifying, please wait"),
    LaneState.MATCHING: ("核對運送單中，請稍候", "Checking the transport note, please wait"),
    LaneState.SEALING: ("檢查封條中，請稍候", "Checking seals, please wait"),
    LaneState.UNSEALING: ("解封中，請稍候", "Unsealing, please wait"),
    LaneState.AWAITING_STAFF: ("等候專責人員確認封條", "Waiting for the officer to confirm the seals"),
    LaneState.OPENING: ("請通行", "Please proceed"),
    LaneState.PASSING: ("請通行", "Please proceed"),
    LaneState.CLOSING: ("柵欄關閉中", "Barrier closing"),
    LaneState.FAULT: ("車道設備故障，請改走其他車道", "Lane out of order, please use another lane"),
    LaneState.CLOSED_LANE: ("本車道暫停使用，請改走其他車道", "Lane closed, please use another lane"),
}


def state_message(state: LaneState) -> DisplayMessage | None:
    """The display text of a state in the normal flow (None for denied and review: they show a reason)."""
    text = _STATE_TEXT.get(state)
    return None if text is None else DisplayMessage(zh=text[0], en=text[1])
