"""Lane configuration, validated strictly on load (unknown keys are errors)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from lane_controller.domain.enums import Direction, MonitoringPhase
from lane_controller.fsm.decisions import Effect, Reason
from lane_controller.fsm.states import WAITING_STATES, LaneState

Seconds = Annotated[float, Field(gt=0, le=24 * 3600)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(_Strict):
    """Seconds each waiting state may last; where each one leads is fixed in the transition table."""

    identifying: Seconds = 20.0
    """-> manual_review (cameras/OCR gave nothing in time)."""
    matching: Seconds = 10.0
    """-> manual_review."""
    sealing: Seconds = 30.0
    """-> manual_review (seals not read in time)."""
    unsealing: Seconds = 180.0
    """-> manual_review (unseal not confirmed in time)."""
    awaiting_staff: Seconds = 900.0
    """-> manual_review (no officer confirmation)."""
    opening: Seconds = 10.0
    """-> fault (the barrier did not report open)."""
    passing: Seconds = 120.0
    """-> manual_review (the truck did not pass); the barrier goes down once nobody is under it."""
    closing: Seconds = 15.0
    """-> fault (the barrier did not report closed)."""
    denied: Seconds = 300.0
    """-> manual_review (the truck did not leave)."""
    manual_review: Seconds = 1800.0
    """-> manual_review again: the review is raised anew (audited, the display refreshed)."""
    fault: Seconds = 600.0
    """-> closed_lane (the fault persisted; staff reopen the lane)."""

    def for_state(self, state: LaneState) -> float | None:
        """The time-out of ``state``, None for states that do not wait (idle, closed_lane)."""
        if state not in WAITING_STATES:
            return None
        value: float = getattr(self, state.value)
        return value


class LaneConfig(_Strict):
    """One lane: what it is and how it decides."""

    lane_id: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: str = ""
    direction: Direction
    site_code: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,8}$")]
    """Exit lane: the site issuing CNs (origin). Entry lane: the destination station code."""
    phase: MonitoringPhase = MonitoringPhase.PHASE_1
    cn_required: bool = True
    """False for moves that cross no controlled-area boundary: the truck is identified and logged only."""
    agreement_threshold: Annotated[float, Field(ge=0, le=1)] = 0.6
    """Minimum share of frames agreeing on every voted plate and container."""
    late_arrival_holds: bool = False
    """Entry: a truck over its route time limit goes to manual review (True) or is only flagged (False)."""
    unseal_max_age_s: Annotated[float, Field(gt=0, le=3600)] = 900.0
    """Offline unseal data is void this long after download (customs: 15 minutes)."""
    journal_max_delay_s: Annotated[float, Field(ge=0, le=60)] = 2.0
    """Longest time a lane record may wait in memory before it is written. Records are always written
    before a barrier command, after a person's command and on entering a state that may last (idle,
    denied, manual review, awaiting staff, fault, closed lane); in between (the seconds a truck spends
    being identified, matched and checked, or passing) they wait at most this long, which lets one
    commit carry several steps. 0 writes after every event."""
    timeouts: Timeouts = Timeouts()
    effects: dict[Reason, Effect] = Field(default_factory=dict)
    """Per-reason override of the effect (deny or manual review) in ``decisions.DEFAULT_EFFECTS``."""

    def display_name(self) -> str:
        """The name, else the id."""
        return self.name or self.lane_id

    @classmethod
    def load(cls, data: dict[str, Any]) -> LaneConfig:
        """Validate a mapping (e.g. one lane of a TOML/YAML file)."""
        return cls.model_validate(data)
