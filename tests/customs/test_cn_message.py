import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from lane_controller.customs.cn_message import (
    CNCancel,
    CNNote,
    json_schema,
    message_document,
    parse_cn_message,
)
from lane_controller.domain.stations import StationTable, UnknownStation
from tests.customs.cn_samples import cn_record

SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "cn-message.schema.json"


def test_valid_record_is_normalised():
    message = parse_cn_message(cn_record(tractor_plate="kla 1234"))
    assert isinstance(message, CNNote)
    assert message.containers == ["CSQU3054383"]
    assert message.tractor_plate == "KLA1234"
    assert message.trailer_plate == "AB1234"
    note = message.to_domain()
    assert note.seal_required
    assert str(note.containers[0]) == "CSQU3054383"


def test_cancel_needs_only_number_and_time():
    message = parse_cn_message({"function": "1", "cn_number": "cn0001", "issued_at": "2026-11-26T10:00:00Z"})
    assert isinstance(message, CNCancel)
    assert message.cn_number == "CN0001"


def errors_of(record):
    with pytest.raises(ValidationError) as info:
        parse_cn_message(record)
    return info.value.errors()


def test_wrong_check_digit_names_the_container():
    (error,) = errors_of(cn_record(containers=["CSQU3054384"]))
    assert error["loc"][-2:] == ("containers", 0)
    assert "check digit" in error["msg"]


def test_unknown_key_is_rejected():
    (error,) = errors_of(cn_record(driver="Wang"))
    assert error["loc"][-1] == "driver"
    assert error["type"] == "extra_forbidden"


def test_naive_issue_time_is_rejected():
    (error,) = errors_of(cn_record(issued_at="2026-11-26T09:30:00"))
    assert error["loc"][-1] == "issued_at"


def test_cross_field_rule_reports_its_field():
    (error,) = errors_of(cn_record(trailer_plate=None))
    assert "trailer_plate" in error["msg"]


def test_unknown_station_is_reported():
    with pytest.raises(UnknownStation, match="QQQQ"):
        parse_cn_message(cn_record(destination_station_code="QQQQ"), StationTable.packaged())


def test_document_is_canonical_and_stable():
    a = message_document(parse_cn_message(cn_record()))
    b = message_document(parse_cn_message(dict(reversed(list(cn_record().items())))))
    assert a == b
    assert json.loads(a)["containers"] == ["CSQU3054383"]


def test_schema_in_docs_matches_the_model():
    """docs/cn-message.schema.json is generated: `python -m lane_controller.customs.write_schema`."""
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json_schema()
