"""Pure decision rules: reads, seals, unseal data, route time, decisions, display texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lane_controller.domain.enums import SealType
from lane_controller.domain.transport_note import SealId, SealSpec
from lane_controller.fsm.decisions import (
    DEFAULT_EFFECTS,
    Decision,
    DecisionBasis,
    Effect,
    Reason,
    assess_reads,
    check_route_time,
    check_unseal_authorisation,
    contact_for,
    effect_of,
    exception_message,
    verify_entry_seals,
    verify_exit_seals,
    verify_unsealed,
)
from lane_controller.fsm.protocols import SealReport, SealState, UnsealAuthorisation
from tests.fsm.harness import recognition

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Taipei
LISTED = (SealSpec(SealId("ES01"), SealType.ELECTRONIC), SealSpec(SealId("ES02"), SealType.ELECTRONIC))


def r(seal_id: str, state: SealState = SealState.SEALED) -> SealReport:
    return SealReport(seal_id, state)


@pytest.mark.parametrize(
    ("reports", "reason"),
    [
        ((r("ES01"), r("ES02")), None),
        ((r("ES01"),), Reason.SEAL_MISSING),
        ((), Reason.SEAL_MISSING),
        ((r("ES01"), r("ES03")), Reason.SEAL_ID_MISMATCH),
        ((r("ES01"), r("ES02"), r("ES03")), Reason.SEAL_COUNT_MISMATCH),
        ((r("ES01"), r("ES02", SealState.OPENED)), Reason.SEAL_NOT_LOCKED),
        ((r("ES01"), r("ES02", SealState.TAMPERED)), Reason.SEAL_TAMPERED),
        ((r("ES01", SealState.TAMPERED),), Reason.SEAL_TAMPERED),
    ],
)
def test_exit_seals(reports: tuple[SealReport, ...], reason: Reason | None) -> None:
    assert verify_exit_seals(LISTED, reports).reason is reason


def test_entry_seals_intact_then_which_need_unsealing() -> None:
    both_open = verify_entry_seals(LISTED, (r("ES01", SealState.OPENED), r("ES02", SealState.OPENED)))
    assert both_open.all_opened
    one_locked = verify_entry_seals(LISTED, (r("ES01", SealState.OPENED), r("ES02")))
    assert one_locked.verdict.ok
    assert one_locked.still_sealed == ("ES02",)
    assert (
        verify_entry_seals(LISTED, (r("ES01"), r("ES02", SealState.TAMPERED))).verdict.reason
        is Reason.SEAL_TAMPERED
    )
    assert verify_unsealed(LISTED, (r("ES01", SealState.OPENED), r("ES02"))).reason is Reason.SEAL_NOT_OPENED


@pytest.mark.parametrize(
    ("minutes", "cn", "seals", "reason"),
    [
        (0, "CN1", ("ES01",), None),
        (14.99, "CN1", ("ES01",), None),
        (15, "CN1", ("ES01",), Reason.UNSEAL_DATA_EXPIRED),
        (60, "CN1", ("ES01",), Reason.UNSEAL_DATA_EXPIRED),
        (1, "CN2", ("ES01",), Reason.UNSEAL_DATA_MISSING),
        (1, "CN1", ("ES09",), Reason.UNSEAL_DATA_MISSING),
        (-5, "CN1", ("ES01",), Reason.UNSEAL_DATA_MISSING),
    ],
)
def test_unseal_data_is_void_after_15_minutes(
    minutes: float, cn: str, seals: tuple[str, ...], reason: Reason | None
):
    auth = UnsealAuthorisation(cn, seals, NOW - timedelta(minutes=minutes))
    verdict = check_unseal_authorisation(auth, cn_number="CN1", seal_ids=("ES01",), now=NOW)
    assert verdict.reason is reason
    if reason is Reason.UNSEAL_DATA_EXPIRED:
        assert "void after 15 min" in verdict.detail
    assert (
        check_unseal_authorisation(None, cn_number="CN1", seal_ids=(), now=NOW).reason
        is Reason.UNSEAL_DATA_MISSING
    )


def test_reads_agreement() -> None:
    assert assess_reads(recognition(), 0.6).ok
    assert assess_reads(recognition(agreement=0.5), 0.6).reason is Reason.LOW_AGREEMENT
    assert assess_reads(recognition(plates=()), 0.6).reason is Reason.UNREADABLE


def test_route_time() -> None:
    route = check_route_time(NOW - timedelta(minutes=181), NOW, timedelta(minutes=180))
    assert route.late
    assert route.payload()["elapsed_min"] == 181
    assert not check_route_time(NOW - timedelta(minutes=179), NOW, timedelta(minutes=180)).late
    unknown = check_route_time(None, NOW, timedelta(minutes=180))
    assert not unknown.known
    assert not unknown.late


def test_positive_decisions_are_complete_by_construction() -> None:
    with pytest.raises(ValueError, match="person"):
        Decision(open=True, basis=DecisionBasis.STAFF_OVERRIDE, note="x")
    with pytest.raises(ValueError, match="matched CN"):
        Decision(open=True, basis=DecisionBasis.AUTOMATIC)
    with pytest.raises(ValueError, match="not confirmed"):
        Decision(open=True, basis=DecisionBasis.AUTOMATIC, cn_number="CN1", seal_required=True)
    with pytest.raises(ValueError, match="names the officer"):
        Decision(open=True, basis=DecisionBasis.OFFICER, cn_number="CN1")
    with pytest.raises(ValueError, match="reason"):
        Decision(open=False)
    with pytest.raises(ValueError, match="basis"):
        Decision(open=True)


def test_every_reason_has_an_effect_and_texts_and_config_may_override() -> None:
    assert set(DEFAULT_EFFECTS) == set(Reason)
    for reason in Reason:
        message = exception_message(reason, effect_of(reason), NOW)
        assert message.zh
        assert message.en
        assert message.reason == reason.value
    assert effect_of(Reason.NO_CN) is Effect.DENY
    assert effect_of(Reason.NO_CN, {Reason.NO_CN: Effect.REVIEW}) is Effect.REVIEW


def test_contact_depends_on_taipei_time() -> None:
    assert contact_for(NOW)[1] == "call customer service"  # 10:00 Taipei
    assert contact_for(NOW.replace(hour=13))[1] == "call the customs control centre"  # 21:00 Taipei
    assert contact_for(NOW.replace(hour=0))[1] == "call customer service"  # 08:00 Taipei
