"""`lane-controller demo-lane` drives one exit truck through the real store and leaves a valid chain."""

import json
from pathlib import Path

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
    assert main(["--db", url, "demo-lane"]) == 0
    out = capsys.readouterr().out
    assert "-> sealing" in out
    assert "CN matched: CN20261126001" in out
    assert "open #1 (decision: audit entry" in out

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
