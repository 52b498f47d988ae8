"""CN ingestion: validate, apply the lifecycle rules, store with an audit entry and an outbox message.

Every record commits in its own transaction, so a bad record never rejects a good one and nothing
already accepted is lost.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from lane_controller.customs.cn_message import CNCancel, CNNote, message_document, parse_cn_message
from lane_controller.customs.cn_records import RawRecord
from lane_controller.domain.cn_lifecycle import LifecycleDecision, LifecycleOutcome, decide
from lane_controller.domain.enums import MessageFunction
from lane_controller.domain.stations import StationTable, UnknownStation
from lane_controller.domain.transport_note import InvalidTransportNote
from lane_controller.store.audit import AuditEvent, append_audit
from lane_controller.store.coltypes import utcnow
from lane_controller.store.outbox import enqueue_new
from lane_controller.store.transport_notes import load_note, same_content, save_cancel, save_note_version

CN_TOPIC = "customs.cn"
"""Outbox topic of CN messages bound for the customs IoT platform."""

_AUDIT_KINDS = {
    LifecycleOutcome.CREATE: "cn.created",
    LifecycleOutcome.SUPERSEDE: "cn.replaced",
    LifecycleOutcome.CANCEL: "cn.cancelled",
    LifecycleOutcome.UNCHANGED: "cn.resent",
}


@dataclass(frozen=True, slots=True)
class FieldError:
    """Why a record was rejected: the field (dotted path) and the reason."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What happened to one input record."""

    where: str
    cn_number: str | None
    accepted: bool
    outcome: LifecycleOutcome | None = None
    version: int | None = None
    errors: tuple[FieldError, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the import report."""
        return {
            "where": self.where,
            "cn_number": self.cn_number,
            "accepted": self.accepted,
            "outcome": self.outcome.value if self.outcome else None,
            "version": self.version,
            "errors": [{"field": e.field, "reason": e.reason} for e in self.errors],
        }


@dataclass(slots=True)
class ImportReport:
    """Accepted and rejected records of one import, in input order."""

    outcomes: list[RecordOutcome] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """How many records were stored (or were identical re-sends)."""
        return sum(1 for o in self.outcomes if o.accepted)

    @property
    def rejected(self) -> int:
        """How many records were rejected."""
        return len(self.outcomes) - self.accepted


class _Rejected(Exception):
    def __init__(self, *errors: FieldError) -> None:
        super().__init__(errors)
        self.errors = errors


def _field_errors(exc: ValidationError) -> tuple[FieldError, ...]:
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if loc and loc[0] in {f.value for f in MessageFunction}:
            loc = loc[1:]  # the discriminated-union tag pydantic puts first
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, InvalidTransportNote):
            errors.append(FieldError(cause.field, cause.reason))
            continue
        reason = error["msg"].removeprefix("Value error, ")
        if error["type"] == "union_tag_invalid":
            loc, reason = ["function"], "must be 9 (original), 5 (replace) or 1 (cancel)"
        elif error["type"] == "union_tag_not_found":
            loc, reason = ["function"], "is required: 9 (original), 5 (replace) or 1 (cancel)"
        errors.append(FieldError(".".join(loc) or "(record)", reason))
    return tuple(errors)


def _cn_number_of(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("cn_number"), str):
        return str(value["cn_number"]).strip().upper()
    return None


class CNIngestor:
    """Validates and stores CN records, one transaction each (`lane-controller cn import`)."""

    def __init__(
        self,
        engine: Engine,
        stations: StationTable,
        *,
        actor: str = "cn-import",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._stations = stations
        self._actor = actor
        self._clock = clock

    def ingest_all(self, records: Iterable[RawRecord]) -> ImportReport:
        """Ingest every record in order, each in its own transaction; never stops at a bad one."""
        report = ImportReport()
        with self._engine.connect() as conn:
            for record in records:
                report.outcomes.append(self._ingest(conn, record))
        return report

    def ingest(self, record: RawRecord) -> RecordOutcome:
        """Validate and store one record; a rejection is audited and changes nothing else."""
        with self._engine.connect() as conn:
            return self._ingest(conn, record)

    def _ingest(self, conn: Connection, record: RawRecord) -> RecordOutcome:
        cn_number = _cn_number_of(record.value)
        try:
            message = self._validate(record)
            cn_number = message.cn_number
            return self._store(conn, record.where, message)
        except _Rejected as rejected:
            outcome = RecordOutcome(record.where, cn_number, False, errors=rejected.errors)
            self._audit_rejection(conn, outcome)
            return outcome

    def _validate(self, record: RawRecord) -> CNNote | CNCancel:
        if record.decode_error is not None:
            raise _Rejected(FieldError("(record)", record.decode_error))
        if not isinstance(record.value, dict):
            raise _Rejected(FieldError("(record)", "must be a JSON object"))
        try:
            return parse_cn_message(record.value, self._stations)
        except ValidationError as exc:
            raise _Rejected(*_field_errors(exc)) from exc
        except UnknownStation as exc:
            raise _Rejected(FieldError("destination_station_code", str(exc))) from exc

    def _store(self, conn: Connection, where: str, message: CNNote | CNCancel) -> RecordOutcome:
        document = message_document(message)
        for attempt in range(2):
            try:
                with conn.begin():
                    decision = self._apply(conn, message, document)
                    return RecordOutcome(
                        where, message.cn_number, True, decision.outcome, decision.new_version
                    )
            except IntegrityError:
                # Another writer created the same CN between our read and insert: decide again.
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def _apply(self, conn: Connection, message: CNNote | CNCancel, document: str) -> LifecycleDecision:
        at = self._clock()
        stored = load_note(conn, message.cn_number)
        function = MessageFunction(message.function)
        same = stored is not None and same_content(stored.current_document, document)
        decision = decide(message.cn_number, function, stored.state if stored else None, same_as_current=same)
        if not decision.accepted or decision.new_version is None or decision.outcome is None:
            raise _Rejected(FieldError("function", decision.reason or "rejected"))
        if decision.outcome is LifecycleOutcome.UNCHANGED:
            pass
        elif isinstance(message, CNCancel):
            assert stored is not None
            save_cancel(conn, stored, version=decision.new_version, document=document, at=at)
        else:
            save_note_version(
                conn, stored, message.to_domain(), version=decision.new_version, document=document, at=at
            )
        payload = {
            "cn_number": message.cn_number,
            "function": function.value,
            "version": decision.new_version,
            "document_sha256": hashlib.sha256(document.encode()).hexdigest(),
        }
        append_audit(conn, AuditEvent(_AUDIT_KINDS[decision.outcome], payload, actor=self._actor), at=at)
        if decision.outcome is not LifecycleOutcome.UNCHANGED:
            enqueue_new(
                conn, CN_TOPIC, f"cn/{message.cn_number}/v{decision.new_version}", json.loads(document)
            )
        return decision

    def _audit_rejection(self, conn: Connection, outcome: RecordOutcome) -> None:
        payload: dict[str, Any] = {
            "where": outcome.where,
            "cn_number": outcome.cn_number,
            "errors": [{"field": e.field, "reason": e.reason} for e in outcome.errors],
        }
        with conn.begin():
            append_audit(conn, AuditEvent("cn.rejected", payload, actor=self._actor), at=self._clock())
