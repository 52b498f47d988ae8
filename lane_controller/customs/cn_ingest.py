"""CN ingestion: validate, apply the lifecycle rules, store with an audit entry and an outbox message.

Every record commits in its own transaction, so a bad record never rejects a good one and nothing
already accepted is lost. An import run of many records ends with one ``cn.import`` audit entry that
sums it up (counts, the input's SHA-256, the first rejections); only its first
:data:`REJECTIONS_AUDITED_PER_RUN` rejected records get an audit entry of their own, so a file of
garbage cannot flood the lane log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

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

REJECTIONS_AUDITED_PER_RUN: Final = 20
"""Rejected records of one run audited one by one; the run's summary entry counts the rest."""

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


@dataclass(frozen=True, slots=True)
class ImportSource:
    """Where an import run's records come from, for its summary audit entry: a name (a file's path, or
    ``-``) and a callable giving the SHA-256 of its bytes once they are read."""

    name: str
    sha256: Callable[[], str] | None = None


@dataclass(slots=True)
class ImportReport:
    """Accepted and rejected records of one import, in input order."""

    outcomes: list[RecordOutcome] = field(default_factory=list)
    rejections_audited: int = 0
    """How many of the rejected records got an audit entry of their own."""

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
        return _shown(str(value["cn_number"]).strip().upper())
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

    def ingest_all(self, records: Iterable[RawRecord], source: ImportSource | None = None) -> ImportReport:
        """Ingest every record in order, each in its own transaction; never stops at a bad one. With a
        ``source``, the run ends with its ``cn.import`` summary entry, also when reading the input failed
        part-way (the error is in the entry and raised again)."""
        report = ImportReport()
        with self._engine.connect() as conn:
            try:
                for record in records:
                    audit = source is None or report.rejections_audited < REJECTIONS_AUDITED_PER_RUN
                    outcome = self._ingest(conn, record, audit_rejection=audit)
                    report.outcomes.append(outcome)
                    if audit and not outcome.accepted:
                        report.rejections_audited += 1
            except Exception as exc:
                if source is not None:
                    self._audit_run(conn, report, source, error=str(exc))
                raise
            if source is not None:
                self._audit_run(conn, report, source)
        return report

    def ingest(self, record: RawRecord) -> RecordOutcome:
        """Validate and store one record; a rejection is audited and changes nothing else."""
        with self._engine.connect() as conn:
            return self._ingest(conn, record)

    def _ingest(self, conn: Connection, record: RawRecord, *, audit_rejection: bool = True) -> RecordOutcome:
        cn_number = _cn_number_of(record.value)
        try:
            message = self._validate(record)
            cn_number = message.cn_number
            return self._store(conn, record.where, message)
        except _Rejected as rejected:
            errors = tuple(FieldError(_shown(e.field) or "", _shown(e.reason) or "") for e in rejected.errors)
            outcome = RecordOutcome(record.where, cn_number, False, errors=errors)
            if audit_rejection:
                self._audit_rejection(conn, outcome)
            return outcome

    def _audit_run(
        self, conn: Connection, report: ImportReport, source: ImportSource, *, error: str | None = None
    ) -> None:
        rejected = [o for o in report.outcomes if not o.accepted]
        payload: dict[str, Any] = {
            "source": source.name,
            "sha256": source.sha256() if source.sha256 is not None else None,
            "records": len(report.outcomes),
            "accepted": report.accepted,
            "rejected": len(rejected),
            "rejections_audited": report.rejections_audited,
            "first_rejections": [_rejection_payload(o) for o in rejected[:REJECTIONS_AUDITED_PER_RUN]],
            "error": error,
        }
        with conn.begin():
            append_audit(conn, AuditEvent("cn.import", payload, actor=self._actor), at=self._clock())

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
        with conn.begin():
            append_audit(
                conn,
                AuditEvent("cn.rejected", _rejection_payload(outcome), actor=self._actor),
                at=self._clock(),
            )


_SHOWN_CHARS: Final = 120
"""How much of a rejected record's own text (its CN number, a field, a reason quoting a value) is kept:
a hostile record cannot make its audit entry large."""
_SHOWN_ERRORS: Final = 10


def _shown(text: str | None) -> str | None:
    if text is None or len(text) <= _SHOWN_CHARS:
        return text
    return f"{text[:_SHOWN_CHARS]}… ({len(text)} characters)"


def _rejection_payload(outcome: RecordOutcome) -> dict[str, Any]:
    errors = [{"field": e.field, "reason": e.reason} for e in outcome.errors]
    return {
        "where": outcome.where,
        "cn_number": _shown(outcome.cn_number),
        "errors": errors[:_SHOWN_ERRORS],
        "more_errors": max(0, len(errors) - _SHOWN_ERRORS),
    }
