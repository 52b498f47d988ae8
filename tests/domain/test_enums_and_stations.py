from pathlib import Path

import pytest

from lane_controller.domain.enums import (
    Direction,
    MessageFunction,
    SealType,
    TransportToolCategory,
)
from lane_controller.domain.stations import StationTable, UnknownStation


def test_every_enum_member_has_both_labels():
    for enum in (SealType, TransportToolCategory, MessageFunction, Direction):
        for member in enum:
            assert member.label_zh and member.label_en
            assert member.label == f"{member.label_zh} ({member.label_en})"


def test_customs_codes_and_labels():
    assert [c.value for c in TransportToolCategory] == ["1", "2", "3", "4", "5", "6", "7"]
    assert TransportToolCategory("1").label_en == "bonded tractor-trailer"
    assert TransportToolCategory("7").label_zh == "郵政車輛"
    assert MessageFunction("9") is MessageFunction.ORIGINAL
    assert MessageFunction("5").label_en == "replace"
    assert MessageFunction("1").label_en == "cancel"
    assert SealType.ELECTRONIC.label_zh == "電子封條"
    assert SealType.E_PAPER.label_zh == "電子紙封條"
    assert SealType.VEHICLE_MOUNTED.label_zh == "車機封條"


def test_packaged_station_table_shows_chinese_name():
    table = StationTable.packaged()
    assert len(table) >= 4
    assert "kelc" in table
    assert table.get("KELC").display() == "KELC 基隆關"
    with pytest.raises(UnknownStation, match="unknown destination station code 'ZZZZ'"):
        table.get("ZZZZ")


def test_station_table_from_file_reports_bad_rows(tmp_path: Path):
    good = tmp_path / "stations.csv"
    good.write_text("code,name_zh,name_en\nab12,測試站,Test\n", encoding="utf-8")
    assert StationTable.from_csv(good).get("AB12").name_zh == "測試站"

    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("code,name\nAB12,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header must be code,name_zh,name_en"):
        StationTable.from_csv(bad_header)

    missing = tmp_path / "missing.csv"
    missing.write_text("code,name_zh,name_en\nAB12,,Test\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing.csv:2: code and name_zh are required"):
        StationTable.from_csv(missing)

    twice = tmp_path / "twice.csv"
    twice.write_text("code,name_zh,name_en\nAB12,甲,A\nab12,乙,B\n", encoding="utf-8")
    with pytest.raises(ValueError, match="appears twice"):
        StationTable.from_csv(twice)
