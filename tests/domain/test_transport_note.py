from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from lane_controller.domain.container_number import ContainerNumber
from lane_controller.domain.enums import (
    Direction,
    MessageFunction,
    MonitoringPhase,
    SealType,
    TransportToolCategory,
)
from lane_controller.domain.plate import Plate
from lane_controller.domain.transport_note import (
    CancelNotice,
    InvalidTransportNote,
    SealId,
    SealSpec,
    TransportNote,
)

ISSUED = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def seal(seal_id: str, kind: SealType = SealType.ELECTRONIC) -> SealSpec:
    return SealSpec(SealId.parse(seal_id), kind)


def note(**changes) -> TransportNote:
    base = TransportNote(
        cn_number="CN20261126001",
        function=MessageFunction.ORIGINAL,
        direction=Direction.EXIT,
        origin_site_code="KHC1",
        destination_station_code="KELC",
        containers=(ContainerNumber.parse("CSQU3054383"),),
        tractor_plate=Plate.parse("KLA-1234"),
        trailer_plate=Plate.parse("AB-1234"),
        transport_tool_category=TransportToolCategory.BONDED_TRACTOR_TRAILER,
        seals=(seal("ES00012345"),),
        release_instruction_code="1",
        issued_at=ISSUED,
    )
    return replace(base, **changes)


def test_valid_note_and_derived_rules():
    cn = note()
    assert cn.seal_required
    assert not cn.has_vehicle_seal
    assert not cn.officer_confirmation_required(MonitoringPhase.PHASE_1)


def test_plate_is_stored_without_dash():
    assert str(note().tractor_plate) == "KLA1234"


@pytest.mark.parametrize("code", ["1", "B"])
def test_vehicle_seal_replacing_e_seal_needs_officer_in_phase_1_only(code):
    cn = note(release_instruction_code=code, seals=(seal("VS0001", SealType.VEHICLE_MOUNTED),))
    assert cn.seal_required
    assert cn.officer_confirmation_required(MonitoringPhase.PHASE_1)
    assert not cn.officer_confirmation_required(MonitoringPhase.PHASE_2)


def test_three_door_truck_lists_three_vehicle_seals():
    doors = tuple(seal(f"VSDOOR{i}", SealType.VEHICLE_MOUNTED) for i in range(3))
    cn = note(
        containers=(),
        seals=doors,
        transport_tool_category=TransportToolCategory.BONDED_TRUCK,
        trailer_plate=None,
        release_instruction_code=None,
    )
    assert len(cn.seals) == 3
    assert cn.seal_required  # vehicle seals always need sealing
    assert not cn.officer_confirmation_required(MonitoringPhase.PHASE_1)


def test_no_seal_needed_without_code_or_vehicle_seal():
    assert not note(release_instruction_code="2", seals=()).seal_required


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"cn_number": "cn-1"}, "cn_number", "4-20"),
        ({"origin_site_code": "x"}, "origin_site_code", "2-8"),
        ({"containers": ()}, "containers", "at least one container"),
        (
            {"containers": (ContainerNumber.parse("CSQU3054383"), ContainerNumber.parse("CSQU3054383"))},
            "containers",
            "listed twice",
        ),
        ({"trailer_plate": None}, "trailer_plate", "tractor-trailer"),
        ({"seals": (seal("ES0001"), seal("ES0001"))}, "seals", "listed twice"),
        ({"seals": ()}, "seals", "requires an electronic seal"),
        ({"issued_at": datetime(2026, 11, 26, 9, 30)}, "issued_at", "UTC offset"),
        ({"time_limit": timedelta(minutes=90)}, "route_code", "together with a route"),
        ({"route_code": "R1", "time_limit": timedelta(0)}, "time_limit", "positive"),
        ({"function": MessageFunction.CANCEL}, "function", "CancelNotice"),
    ],
)
def test_rule_violations_name_the_field(changes, field, reason):
    with pytest.raises(InvalidTransportNote, match=reason) as info:
        note(**changes)
    assert info.value.field == field


def test_too_many_containers():
    boxes = tuple(ContainerNumber.parse(c) for c in ("CSQU3054383", "MSKU0000006", "TGHU0000008"))
    with pytest.raises(InvalidTransportNote, match="at most 2"):
        note(containers=boxes)


def test_seal_id_normalised_and_validated():
    assert SealId.parse(" es-0001 2345 ").value == "ES00012345"
    with pytest.raises(ValueError, match="4-32 letters or digits"):
        SealId.parse("E!")


def test_cancel_notice_rules():
    assert CancelNotice("CN0001", ISSUED).cn_number == "CN0001"
    with pytest.raises(InvalidTransportNote, match="UTC offset"):
        CancelNotice("CN0001", datetime(2026, 1, 1))
