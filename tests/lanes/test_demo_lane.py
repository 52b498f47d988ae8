"""`lane-controller demo-lane` drives one exit truck through a lane of simulated devices on real transports
(Modbus TCP, ptys) and the real store, and leaves a valid chain."""

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from lane_controller.cli import main
from lane_controller.store.audit import verify_chain
from lane_controller.store.db import create_engine_for, make_session_factory
from lane_controller.store.models import AuditEntry, BarrierCommand

EXAMPLES = Path(__file__).parents[2] / "examples" / "cn-messages.jsonl"


def test_demo_lane_opens_on_a_recorded_decision_and_closes(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["--db", url, "db", "upgrade"]) == 0
    assert main(["--db", url, "cn", "import", str(EXAMPLES)]) == 1  # one record is bad on purpose
    capsys.readouterr()
    assert main(["--db", url, "demo-lane", "--fixed-reads"]) == 0
    out = capsys.readouterr().out
    assert "-> sealing" in out
    assert "[CN CN20261126001]" in out
    assert "Modbus TCP 127.0.0.1:" in out
    assert "the PLC received: open seq 1: executed; close seq 2: executed" in out

    engine = create_engine_for(url)
    try:
        with make_session_factory(engine)() as session:
            assert verify_chain(session).ok
            commands = session.scalars(select(BarrierCommand).order_by(BarrierCommand.seq)).all()
            assert [(c.command, c.seq) for c in commands] == [("open", 1), ("close", 2)]
            decision = session.get(AuditEntry, commands[0].decision_audit_seq)
            assert decision is not None
            assert decision.kind == "lane.decision"
            assert json.loads(decision.payload)["cn_number"] == "CN20261126001"
    finally:
        engine.dispose()


def test_a_cn_used_for_an_exit_is_not_matched_for_a_second_exit(tmp_path, capsys):
    from lane_controller.customs.matching import MatchKind, MatchQuery, MismatchReason, match_transport_note
    from lane_controller.domain.enums import Direction

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["--db", url, "db", "upgrade"]) == 0
    main(["--db", url, "cn", "import", str(EXAMPLES)])
    assert main(["--db", url, "demo-lane", "--fixed-reads"]) == 0
    capsys.readouterr()

    engine = create_engine_for(url)
    try:
        with engine.connect() as conn:
            query = MatchQuery(Direction.EXIT, "KHC1", ("KLA1234", "AB1234"), ("CSQU3054383",))
            result = match_transport_note(conn, query)
        assert result.kind is MatchKind.MISMATCH
        assert result.reasons == (MismatchReason.DEPARTED,)
        assert result.candidates[0].departed_at is not None
    finally:
        engine.dispose()

    assert main(["--db", url, "demo-lane", "--fixed-reads"]) == 1  # the same truck again: a person must judge
    out = capsys.readouterr().out
    assert "-> manual_review" in out
    assert "already used for an exit" in out
    assert "the barrier stays down" in out
    assert "the PLC received: no command" in out


@pytest.mark.slow
def test_demo_lane_reads_the_truck_with_the_real_ocr(tmp_path, capsys):
    """The default demo: a synthetic camera shows the truck, EasyOCR reads plate and container, the CN
    matches and the barrier opens and closes."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["--db", url, "db", "upgrade"]) == 0
    main(["--db", url, "cn", "import", str(EXAMPLES)])
    capsys.readouterr()
    assert main(["--db", url, "demo-lane"]) == 0
    out = capsys.readouterr().out
    assert "OCR reads (valid):" in out
    assert "plate KLA1234" in out and "container CSQU3054383" in out
    assert "[CN CN20261126001]" in out
    assert "the PLC received: open seq 1: executed; close seq 2: executed" in out
