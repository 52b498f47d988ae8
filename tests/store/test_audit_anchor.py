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


def test_audit_anchor_keeps_heads_that_verify_checks_later(session_factory, db_url, tmp_path, capsys):
    kept = tmp_path / "anchors.txt"
    assert main(["--db", db_url, "audit", "anchor", "--file", str(kept)]) == 4  # an empty log
    assert "no entries yet" in capsys.readouterr().err
    fill(session_factory, 5)
    assert main(["--db", db_url, "audit", "anchor", "--file", str(kept)]) == 0
    first = capsys.readouterr().out.strip()
    assert first == f"5:{head_of(session_factory, 5).entry_hash}"
    fill(session_factory, 3)
    assert main(["--db", db_url, "audit", "anchor", "--file", str(kept)]) == 0
    second = capsys.readouterr().out.strip()
    assert [line.split()[0] for line in kept.read_text(encoding="utf-8").splitlines()] == [first, second]
    assert main(["--db", db_url, "audit", "verify", "--anchor-file", str(kept)]) == 0
    capsys.readouterr()

    rewrite_from(session_factory, 2)  # a consistent forgery from entry 2 on
    assert main(["--db", db_url, "audit", "verify"]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "audit", "verify", "--anchor-file", str(kept)]) == 1
    assert capsys.readouterr().out.startswith("FAIL at seq 5: anchor mismatch")
    assert main(["--db", db_url, "audit", "anchor"]) == 0  # the forged chain is consistent: anchors
    capsys.readouterr()  # only help when kept before the forgery
    assert main(["--db", db_url, "audit", "verify", "--anchor-file", str(tmp_path / "none")]) == 2


def test_export_into_a_closed_pipe_ends_quietly(session_factory, db_url):
    import subprocess
    import sys

    log = AuditLog(session_factory)
    for i in range(3000):
        log.append(AuditEvent("lane.read", {"i": i, "pad": "x" * 200}, lane_id="L1"), at=T0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lane_controller.cli", "--db", db_url, "audit", "export"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["seq"] == 1
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""
