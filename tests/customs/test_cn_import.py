"""`lane-controller cn import` against a real SQLite file and the real PostgreSQL server."""

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from lane_controller.cli import main
from lane_controller.store.audit import verify_chain
from lane_controller.store.db import create_engine_for, make_session_factory
from lane_controller.store.models import AuditEntry, OutboxMessage, TransportNote, TransportNoteContainer
from lane_controller.store.transport_notes import note_history, record_officer_confirmation
from tests.customs.cn_samples import cn_record


def write_jsonl(path: Path, records: list[object | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_import(db_url: str, path: Path, capsys) -> tuple[int, dict]:
    status = main(["--db", db_url, "cn", "import", str(path), "--json"])
    return status, json.loads(capsys.readouterr().out)


def counts(db_url: str) -> dict[str, int]:
    engine = create_engine_for(db_url)
    try:
        with make_session_factory(engine)() as session:
            return {
                "notes": session.scalar(select(func.count()).select_from(TransportNote)) or 0,
                "outbox": session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
                "audit": session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            }
    finally:
        engine.dispose()


def test_bad_records_never_reject_good_ones(migrated_engine, db_url, tmp_path, capsys):
    path = write_jsonl(
        tmp_path / "cns.jsonl",
        [
            cn_record("CN0001"),
            cn_record("CN0002", containers=["CSQU3054384"]),
            '{"function": "9", "cn_number": "CN0003", ',
            cn_record("CN0004", tractor_plate="KLA-12#4"),
            cn_record("CN0005", destination_station_code="QQQQ"),
            cn_record("CN0006", seals=[], release_instruction_code="B"),
            [1, 2],
            cn_record("CN0007", containers=["TGHU0000008"]),
        ],
    )
    status, report = run_import(db_url, path, capsys)
    assert status == 1
    assert (report["accepted"], report["rejected"]) == (2, 6)
    by_where = {r["where"]: r for r in report["records"]}
    assert by_where["line 1"]["accepted"] and by_where["line 1"]["version"] == 1
    assert by_where["line 8"]["accepted"]
    rejected = {r["where"]: r["errors"][0] for r in report["records"] if not r["accepted"]}
    assert rejected["line 2"]["field"] == "containers.0"
    assert "check digit" in rejected["line 2"]["reason"]
    assert rejected["line 3"]["field"] == "(record)"
    assert "invalid JSON" in rejected["line 3"]["reason"]
    assert rejected["line 4"]["field"] == "tractor_plate"
    assert rejected["line 5"] == {
        "field": "destination_station_code",
        "reason": "unknown destination station code 'QQQQ'",
    }
    assert rejected["line 6"]["field"] == "seals"
    assert "requires an electronic seal" in rejected["line 6"]["reason"]
    assert rejected["line 7"]["reason"] == "must be a JSON object"
    # two notes stored, each with an outbox message; 2 accepted + 6 rejected audit entries + the run's
    assert counts(db_url) == {"notes": 2, "outbox": 2, "audit": 9}


def test_replace_supersedes_cancel_ends_and_history_is_kept(migrated_engine, db_url, tmp_path, capsys):
    first = write_jsonl(tmp_path / "a.jsonl", [cn_record("CN0001")])
    assert run_import(db_url, first, capsys)[0] == 0
    updates = write_jsonl(
        tmp_path / "b.jsonl",
        [
            cn_record("CN0001"),  # identical re-send: accepted, nothing new
            cn_record("CN0001", function="5", containers=["TGHU0000008"]),
            cn_record("CN0001", function="9", containers=["MSKU0000006"]),  # original again: rejected
            {"function": "1", "cn_number": "CN0001", "issued_at": "2026-11-26T12:00:00+08:00"},
            cn_record("CN0001", function="5"),  # cancelled: no more replacing
        ],
    )
    status, report = run_import(db_url, updates, capsys)
    assert status == 1
    outcomes = [(r["accepted"], r["outcome"], r["version"]) for r in report["records"]]
    assert outcomes == [
        (True, "unchanged", 1),
        (True, "supersede", 2),
        (False, None, None),
        (True, "cancel", 3),
        (False, None, None),
    ]
    assert "already exists" in report["records"][2]["errors"][0]["reason"]
    assert "was cancelled" in report["records"][4]["errors"][0]["reason"]

    with make_session_factory(migrated_engine)() as session:
        history = note_history(session, "CN0001")
        assert [(v.version, v.message_function) for v in history] == [(1, "9"), (2, "5"), (3, "1")]
        assert history[0].superseded_at is not None
        assert history[2].superseded_at is None
        v2_containers = session.scalars(
            select(TransportNoteContainer.container_number).where(
                TransportNoteContainer.version_id == history[1].id
            )
        ).all()
        assert v2_containers == ["TGHU0000008"]
        note = session.scalars(select(TransportNote)).one()
        assert (note.status, note.current_version) == ("cancelled", 3)
        keys = session.scalars(select(OutboxMessage.message_key).order_by(OutboxMessage.id)).all()
        assert keys == ["cn/CN0001/v1", "cn/CN0001/v2", "cn/CN0001/v3"]
        kinds = session.scalars(select(AuditEntry.kind).order_by(AuditEntry.seq)).all()
        assert kinds == [
            "cn.created",
            "cn.import",
            "cn.resent",
            "cn.replaced",
            "cn.rejected",
            "cn.cancelled",
            "cn.rejected",
            "cn.import",
        ]
        assert verify_chain(session).ok


def test_officer_confirmed_note_cannot_be_replaced_or_cancelled(migrated_engine, db_url, tmp_path, capsys):
    record = cn_record("CN0009", seals=[{"seal_id": "VS0001", "seal_type": "vehicle_mounted"}])
    assert run_import(db_url, write_jsonl(tmp_path / "a.jsonl", [record]), capsys)[0] == 0
    with make_session_factory(migrated_engine).begin() as session:
        record_officer_confirmation(session, "CN0009", "officer-42", datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    changes = [
        {**record, "function": "5", "containers": ["TGHU0000008"]},
        {"function": "1", "cn_number": "CN0009", "issued_at": "2026-11-26T12:00:00+08:00"},
    ]
    status, report = run_import(db_url, write_jsonl(tmp_path / "b.jsonl", changes), capsys)
    assert status == 1
    for outcome in report["records"]:
        assert not outcome["accepted"]
        assert "confirmed by officer officer-42" in outcome["errors"][0]["reason"]


def test_json_array_input_and_text_report(migrated_engine, db_url, tmp_path, capsys):
    path = tmp_path / "cns.json"
    path.write_text(
        json.dumps([cn_record("CN0101"), cn_record("CN0102", direction="sideways")]), encoding="utf-8"
    )
    status = main(["--db", db_url, "cn", "import", str(path)])
    out = capsys.readouterr().out
    assert status == 1
    assert "record 1     CN0101" in out
    assert "accepted  create v1" in out
    assert "record 2     CN0102               rejected  direction:" in out
    assert out.strip().endswith("accepted 1, rejected 1 (of 2 records)")


def test_unreadable_json_document_imports_nothing(migrated_engine, db_url, tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('[{"function": "9",', encoding="utf-8")
    assert main(["--db", db_url, "cn", "import", str(path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert counts(db_url)["notes"] == 0
