"""`cn import` on hostile input: broken UTF-8, deep nesting, floods of garbage, lenient values, empty
files, and a database that cannot be reached; each a defect found by attacking the command."""

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from lane_controller.cli import main
from lane_controller.customs.cn_ingest import REJECTIONS_AUDITED_PER_RUN
from lane_controller.customs.cn_records import MAX_DEPTH
from lane_controller.domain.plate import InvalidPlate, parse_written_plate
from lane_controller.store.db import create_engine_for, make_session_factory
from lane_controller.store.models import AuditEntry
from tests.customs.cn_samples import cn_record
from tests.customs.test_cn_import import counts, run_import


def jsonl_bytes(records: list[object]) -> list[bytes]:
    return [json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records]


def audit_rows(db_url: str) -> list[AuditEntry]:
    engine = create_engine_for(db_url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    finally:
        engine.dispose()


def test_a_line_of_broken_utf8_rejects_only_itself_and_names_line_and_offset(
    migrated_engine, db_url, tmp_path, capsys
):
    lines = jsonl_bytes([cn_record(f"CN{i:04d}") for i in range(1, 101)])
    bad = lines[93].replace(b'"exit"', b'"ex\xffit"')
    offset = sum(len(line) for line in lines[:93]) + bad.index(b"\xff")
    lines[93] = bad
    path = tmp_path / "cns.jsonl"
    path.write_bytes(b"".join(lines))
    status, report = run_import(db_url, path, capsys)
    assert status == 1
    assert (report["accepted"], report["rejected"]) == (99, 1)
    (rejected,) = [r for r in report["records"] if not r["accepted"]]
    assert rejected["where"] == "line 94"
    assert rejected["errors"][0]["reason"] == f"not UTF-8: byte 0xff at file offset {offset}"
    assert report["records"][-1]["cn_number"] == "CN0100"  # the lines after it went on
    assert counts(db_url)["notes"] == 99


def test_a_json_document_with_broken_utf8_stores_nothing(migrated_engine, db_url, tmp_path, capsys):
    body = json.dumps([cn_record("CN0001"), cn_record("CN0002")], indent=1).encode()
    at = body.index(b"CN0002")
    path = tmp_path / "cns.json"
    path.write_bytes(body[:at] + b"\xc3(" + body[at + 2 :])
    assert main(["--db", db_url, "cn", "import", str(path)]) == 2
    err = capsys.readouterr().err
    line = body[:at].count(b"\n") + 1
    assert f"not UTF-8: byte 0xc3 at file offset {at} (line {line}); nothing imported" in err
    assert counts(db_url)["notes"] == 0


@pytest.mark.parametrize("depth", [3_000, 100_000])
def test_deep_nesting_is_a_rejected_record_not_a_crash(migrated_engine, db_url, tmp_path, capsys, depth):
    deep = "[" * depth + "]" * depth
    path = tmp_path / "cns.jsonl"
    path.write_bytes(
        b"".join(jsonl_bytes([cn_record("CN0001")]))
        + deep.encode()
        + b"\n"
        + b"".join(jsonl_bytes([cn_record("CN0002")]))
    )
    status, report = run_import(db_url, path, capsys)
    assert status == 1
    assert [r["accepted"] for r in report["records"]] == [True, False, True]
    assert report["records"][1]["errors"][0]["reason"] == f"nested deeper than {MAX_DEPTH} levels"
    kinds = [row.kind for row in audit_rows(db_url)]
    assert kinds == ["cn.created", "cn.rejected", "cn.created", "cn.import"]  # the bad line is audited

    document = tmp_path / "deep.json"
    document.write_text(deep, encoding="utf-8")
    assert main(["--db", db_url, "cn", "import", str(document)]) == 2
    assert f"nested deeper than {MAX_DEPTH} levels" in capsys.readouterr().err


def test_a_flood_of_garbage_writes_a_bounded_number_of_audit_entries(
    migrated_engine, db_url, tmp_path, capsys
):
    garbage = b"".join(f"garbage {i} \x01\n".encode() for i in range(500))
    data = (
        b"".join(jsonl_bytes([cn_record("CN0001")])) + garbage + b"".join(jsonl_bytes([cn_record("CN0002")]))
    )
    path = tmp_path / "flood.jsonl"
    path.write_bytes(data)
    status, report = run_import(db_url, path, capsys)
    assert status == 1
    assert (report["accepted"], report["rejected"]) == (2, 500)
    rows = audit_rows(db_url)
    kinds = [row.kind for row in rows]
    assert kinds.count("cn.rejected") == REJECTIONS_AUDITED_PER_RUN
    assert kinds.count("cn.created") == 2
    assert kinds[-1] == "cn.import" and len(rows) == REJECTIONS_AUDITED_PER_RUN + 3
    summary = json.loads(rows[-1].payload)
    assert summary["sha256"] == hashlib.sha256(data).hexdigest()
    assert (summary["records"], summary["accepted"], summary["rejected"]) == (502, 2, 500)
    assert summary["rejections_audited"] == REJECTIONS_AUDITED_PER_RUN
    assert [r["where"] for r in summary["first_rejections"]][:2] == ["line 2", "line 3"]
    assert len(summary["first_rejections"]) == REJECTIONS_AUDITED_PER_RUN
    assert summary["source"] == str(path)


def test_a_malformed_line_names_the_column_of_its_error(migrated_engine, db_url, tmp_path, capsys):
    line = '{"function": "9", "cn_number": "CN0003", '
    path = tmp_path / "cns.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    status, report = run_import(db_url, path, capsys)
    assert status == 1
    reason = report["records"][0]["errors"][0]["reason"]
    assert reason.startswith("invalid JSON: Expecting property name enclosed in double quotes")
    assert f"at column {len(line) + 1} (file offset {len(line)})" in reason


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_an_empty_file_is_nothing_to_do(migrated_engine, db_url, tmp_path, capsys, content):
    path = tmp_path / "empty.jsonl"
    path.write_text(content, encoding="utf-8")
    assert main(["--db", db_url, "cn", "import", str(path)]) == 4
    captured = capsys.readouterr()
    assert "no CN records in it; nothing to do" in captured.err
    assert counts(db_url)["notes"] == 0


def test_a_missing_file_is_a_usage_error(migrated_engine, db_url, tmp_path, capsys):
    assert main(["--db", db_url, "cn", "import", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "field"),
    [(True, "time_limit_minutes"), ("180", "time_limit_minutes"), (180.5, "time_limit_minutes")],
)
def test_a_bool_or_string_does_not_pass_as_a_number(migrated_engine, db_url, tmp_path, capsys, value, field):
    path = tmp_path / "cns.jsonl"
    path.write_bytes(b"".join(jsonl_bytes([cn_record("CN0001", time_limit_minutes=value)])))
    status, report = run_import(db_url, path, capsys)
    assert status == 1
    assert report["records"][0]["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("KLA-1234", "KLA1234"),
        ("KLA1234", "KLA1234"),
        ("kla-1234", "KLA1234"),
        (" KLA-1234 ", "KLA1234"),
        ("KLA 1234", "KLA1234"),
        ("ＫＬＡ－１２３４", "KLA1234"),  # full-width forms, NFKC
        ("AB-1234", "AB1234"),
        ("1234-AB", "1234AB"),
    ],
)
def test_written_plates_that_are_the_plate(written, stored):
    assert str(parse_written_plate(written)) == stored


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("-KLA1234", "the dash is out of place"),
        ("KLA1234-", "the dash is out of place"),
        ("KLA--1234", "2 separators"),
        ("KLA- 1234", "2 separators"),
        ("KL-A1234", "the dash is out of place (written KLA-1234)"),
        ("KLA–1234", "'–' (U+2013)"),  # an en dash
        ("KLA.1234", "'.' (U+002E)"),
        ("KLA_1234", "'_' (U+005F)"),
        ("", "empty"),
    ],
)
def test_written_plates_that_are_typing_errors(written, reason):
    with pytest.raises(InvalidPlate) as err:
        parse_written_plate(written)
    assert reason in err.value.reason


def test_a_plate_with_two_dashes_is_rejected_in_a_cn(migrated_engine, db_url, tmp_path, capsys):
    path = tmp_path / "cns.jsonl"
    path.write_bytes(
        b"".join(
            jsonl_bytes(
                [
                    cn_record("CN0001", tractor_plate="KLA--1234"),
                    cn_record("CN0002", tractor_plate="ＫＬＡ－１２３４"),
                ]
            )
        )
    )
    status, report = run_import(db_url, path, capsys)
    assert status == 1
    first, second = report["records"]
    assert first["errors"][0]["field"] == "tractor_plate" and "2 separators" in first["errors"][0]["reason"]
    assert second["accepted"]


def test_an_unreachable_or_malformed_database_is_an_environment_error(tmp_path, capsys):
    path = tmp_path / "cns.jsonl"
    path.write_bytes(b"".join(jsonl_bytes([cn_record("CN0001")])))
    refused = "postgresql+psycopg://nobody@127.0.0.1:1/test"
    for argv in (
        ["--db", refused, "cn", "import", str(path)],
        ["--db", refused, "audit", "verify"],  # not 1: an outage must not read as tampering
        ["--db", refused, "audit", "export"],
        ["--db", refused, "db", "upgrade"],
        ["--db", "nosuchdialect://x/y", "audit", "verify"],
        ["--db", "not a url", "db", "upgrade"],
        ["--db", f"sqlite:///{tmp_path / 'typo' / 'lane.db'}", "db", "upgrade"],
    ):
        assert main(argv) == 3, argv
        err = capsys.readouterr().err
        assert err.startswith("lane-controller: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
    assert not (tmp_path / "typo").exists()  # a mistyped folder is not created


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_an_officer_confirms_a_vehicle_seal_from_the_command_line(migrated_engine, db_url, tmp_path, capsys):
    vehicle = [{"seal_id": "VS0001", "seal_type": "vehicle_mounted"}]
    path = tmp_path / "cns.jsonl"
    path.write_bytes(b"".join(jsonl_bytes([cn_record("CN0009", seals=vehicle), cn_record("CN0010")])))
    assert run_import(db_url, path, capsys)[0] == 0
    photo = tmp_path / "seal.png"
    photo.write_bytes(PNG)
    evidence = tmp_path / "evidence"

    def confirm(cn: str, photo_path: Path = photo) -> int:
        argv = ["--db", db_url, "cn", "confirm-seal", cn, "--officer", "officer-42"]
        return main([*argv, "--photo", str(photo_path), "--evidence-dir", str(evidence)])

    assert confirm("CN0009") == 0
    digest = hashlib.sha256(PNG).hexdigest()
    assert "confirmed by officer officer-42" in capsys.readouterr().out
    assert (evidence / f"{digest}.png").read_bytes() == PNG
    last = audit_rows(db_url)[-1]
    assert (last.kind, last.actor) == ("cn.seal_confirmed", "officer-42")
    assert json.loads(last.payload)["photo_sha256"] == digest

    assert confirm("CN0009") == 1  # once only
    assert "already confirmed by officer officer-42" in capsys.readouterr().err
    assert confirm("CN0010") == 1  # an electronic seal needs no officer in phase 1
    assert "needs no officer confirmation in phase 1" in capsys.readouterr().err
    assert confirm("CN9999") == 1
    assert "CN CN9999 is unknown" in capsys.readouterr().err
    text = tmp_path / "seal.txt"
    text.write_text("not a photo", encoding="utf-8")
    assert confirm("CN0010", text) == 2
    assert "not a JPEG or PNG image" in capsys.readouterr().err
    assert confirm("CN0010", tmp_path / "missing.jpg") == 2
    # the rule it exercises: a confirmed note can no longer be replaced
    replace = tmp_path / "replace.jsonl"
    replace.write_bytes(b"".join(jsonl_bytes([cn_record("CN0009", function="5", seals=vehicle)])))
    status, report = run_import(db_url, replace, capsys)
    assert status == 1
    assert "confirmed by officer officer-42" in report["records"][0]["errors"][0]["reason"]


def test_a_record_with_a_duplicate_key_is_refused(migrated_engine, db_url, tmp_path, capsys):
    line = json.dumps(cn_record("CN0001"))[:-1] + ', "time_limit_minutes": 9999}'
    path = tmp_path / "cns.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    status, report = run_import(db_url, path, capsys)
    assert status == 1
    assert report["records"][0]["errors"][0]["reason"] == "duplicate key 'time_limit_minutes'"
    assert counts(db_url)["notes"] == 0


def test_a_hostile_record_cannot_make_its_audit_entry_large(migrated_engine, db_url, tmp_path, capsys):
    huge = "9" * 5000
    path = tmp_path / "cns.jsonl"
    path.write_text(
        json.dumps({"function": "9", "cn_number": "CN" + "9" * 900_000})
        + "\n"
        + '{"function": "9", "time_limit_minutes": '
        + huge
        + "}\n",
        encoding="utf-8",
    )
    status, report = run_import(db_url, path, capsys)
    assert status == 1
    first, second = report["records"]
    assert len(first["cn_number"]) < 200 and first["cn_number"].endswith("(900002 characters)")
    assert second["errors"][0]["reason"] == "a number of more than 4300 digits"
    assert max(len(row.payload) for row in audit_rows(db_url)) < 4000


def test_a_broken_json_document_is_not_read_as_lines(migrated_engine, db_url, tmp_path, capsys):
    path = tmp_path / "cn.json"
    path.write_text(json.dumps(cn_record("CN0001"), indent=2)[:-5], encoding="utf-8")
    assert main(["--db", db_url, "cn", "import", str(path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert [row.kind for row in audit_rows(db_url)] == ["cn.import"]  # the refused run, nothing else
    assert main(["--db", db_url, "cn", "import", str(tmp_path)]) == 2
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("officer", ["OFF1\nCN X: vehicle seal confirmed by officer BOSS", "x" * 65, " "])
def test_an_officer_id_that_could_forge_a_line_is_refused(tmp_path, capsys, officer):
    photo = tmp_path / "seal.png"
    photo.write_bytes(PNG)
    argv = ["--db", f"sqlite:///{tmp_path / 'none.db'}", "cn", "confirm-seal", "CN1", "--officer", officer]
    assert main([*argv, "--photo", str(photo)]) == 2
    assert "officer id" in capsys.readouterr().err


def test_a_file_that_is_not_a_database_or_an_unknown_driver_is_an_environment_error(tmp_path, capsys):
    junk = tmp_path / "junk.db"
    junk.write_text("not a database\n" * 100, encoding="utf-8")
    for url in (f"sqlite:///{junk}", "mysql://u@127.0.0.1/x"):
        assert main(["--db", url, "audit", "verify"]) == 3
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "file is not a database" in err or "needs the driver MySQLdb" in err
