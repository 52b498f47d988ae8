"""Published chain heads (anchors) catch a log rewritten from some entry on, head row included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from lane_controller.cli import main
from lane_controller.store.audit import (
    Anchor,
    AuditEvent,
    AuditLog,
    canonical_entry_json,
    canonical_json,
    compute_entry_hash,
    verify_chain,
)
from lane_controller.store.models import AuditEntry, AuditHead

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def fill(session_factory: sessionmaker[Session], n: int) -> None:
    log = AuditLog(session_factory)
    for i in range(1, n + 1):
        log.append(AuditEvent("barrier.command", {"i": i}, lane_id="L1"), at=T0 + timedelta(seconds=i))


def rewrite_from(session_factory: sessionmaker[Session], first: int) -> None:
    """Forge entry `first`'s payload and re-hash it and every later entry, then move the head."""
    with session_factory.begin() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq >= first).order_by(AuditEntry.seq)
        ).all()
        prev_hash = session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == first - 1))
        assert prev_hash is not None
        for row in rows:
            if row.seq == first:
                row.payload = canonical_json({"i": -1})
            canonical = canonical_entry_json(
                seq=row.seq,
                recorded_at=row.recorded_at,
                lane_id=row.lane_id,
                session_id=row.session_id,
                kind=row.kind,
                actor=row.actor,
                payload=json.loads(row.payload),
            )
            row.prev_hash = prev_hash
            row.entry_hash = prev_hash = compute_entry_hash(prev_hash, canonical)
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=prev_hash))


def head_of(session_factory: sessionmaker[Session], seq: int) -> Anchor:
    with session_factory() as session:
        digest = session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == seq))
        assert digest is not None
        return Anchor(seq, digest)


def test_rewritten_tail_passes_alone_but_fails_against_an_anchor(session_factory, db_url, capsys):
    fill(session_factory, 12)
    published = head_of(session_factory, 10)
    rewrite_from(session_factory, 7)
    with session_factory() as session:
        assert verify_chain(session).ok  # a consistent forgery is invisible without an anchor
        report = verify_chain(session, [published])
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (10, "anchor mismatch")

    status = main(["--db", db_url, "audit", "verify", "--anchor", f"10:{published.entry_hash}"])
    assert status == 1
    assert capsys.readouterr().out.startswith("FAIL at seq 10: anchor mismatch")


def test_anchor_before_the_rewrite_still_holds(session_factory, db_url, capsys):
    fill(session_factory, 12)
    early = head_of(session_factory, 5)
    rewrite_from(session_factory, 7)
    assert main(["--db", db_url, "audit", "verify", "--anchor", f"5:{early.entry_hash}"]) == 0
    assert capsys.readouterr().out.startswith("OK: 12 entries")


def test_anchor_to_a_deleted_tail_fails(session_factory):
    fill(session_factory, 4)
    with session_factory() as session:
        report = verify_chain(session, [Anchor(9, "a" * 64)])
    assert report.problem is not None
    assert report.problem.kind == "anchor mismatch"
    assert "no entry" in report.problem.detail


@pytest.mark.parametrize("text", ["10", "x:" + "a" * 64, "3:abc", "3:" + "g" * 64])
def test_malformed_anchor_is_refused(text):
    with pytest.raises(ValueError, match="must be SEQ:HASH"):
        Anchor.parse(text)
