"""eval-ocr on a tiny folder rendered here: the report's numbers, the chart, and the helpers."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from lane_controller.vision.evaluation import grammar_for, truck_id
from lane_controller.vision.plate_grammar import BRAZIL, PERMISSIVE, TAIWAN
from tests.vision.test_plates import render_plate, scene


def test_grammar_by_country_token_in_the_folder_name():
    assert grammar_for(Path("openalpr_endtoend_br")) is BRAZIL
    assert grammar_for(Path("openalpr_endtoend_eu")) is PERMISSIVE
    assert grammar_for(Path("openalpr_endtoend_us")) is PERMISSIVE
    assert grammar_for(Path("tw_plates_hermeschen")) is TAIWAN
    assert grammar_for(Path("lane3_plates")) is TAIWAN


def test_truck_id_from_gate_file_names():
    assert truck_id("1-124126001-OCR-AH-A01.jpg") == "124126001"
    assert truck_id("tw_003.jpg") is None


@pytest.fixture
def plate_folder(tmp_path):
    folder = tmp_path / "lane_tw"
    folder.mkdir()
    rows = ["file,text,kind"]
    # two plates read right, one labelled with another (valid) plate, one blank frame: no read
    for name, shown, label in (
        ("a.png", "KLA-1234", "KLA1234"),
        ("b.png", "ABC-5678", "ABC5678"),
        ("c.png", "RAB-3092", "RAB3093"),
    ):
        frame, _where = scene(render_plate(shown))
        cv2.imwrite(str(folder / name), frame)
        rows.append(f"{name},{label},plate")
    cv2.imwrite(str(folder / "d.png"), np.full((480, 640, 3), 128, np.uint8))
    rows.append("d.png,XYZ1234,plate")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_eval_ocr_reports_rates_latencies_and_a_chart(ocr_engine, plate_folder, tmp_path, capsys):
    from lane_controller.cli import main

    out = tmp_path / "out"
    assert main(["eval-ocr", str(plate_folder), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (folder,) = report["folders"]
    assert folder["folder"] == "lane_tw"
    assert folder["kind"] == "plate"
    assert (folder["images"], folder["exact"], folder["wrong_valid"], folder["no_read"]) == (4, 2, 1, 1)
    assert (folder["exact_rate"], folder["wrong_valid_rate"], folder["no_read_rate"]) == (0.5, 0.25, 0.25)
    assert 0 < folder["latency_p50_s"] <= folder["latency_p95_s"]
    assert folder["trucks"] is None
    outcomes = {r["file"]: (r["top"], r["outcome"]) for r in folder["results"]}
    assert outcomes == {
        "a.png": ("KLA1234", "exact"),
        "b.png": ("ABC5678", "exact"),
        "c.png": ("RAB3092", "wrong"),
        "d.png": (None, "none"),
    }
    chart = cv2.imread(str(out / "report.png"))
    assert chart is not None and chart.shape[0] > 100
    captured = capsys.readouterr()
    assert "lane_tw" in captured.out and "50.0%" in captured.out
    assert "4/4" in captured.err  # the progress bar


def test_eval_ocr_without_labels_fails_clearly(tmp_path, capsys):
    from lane_controller.cli import main

    assert main(["eval-ocr", str(tmp_path)]) == 2
    assert f"{tmp_path / 'labels.csv'}: no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("file,text\na.png,KLA1234\n", "line 1: no column kind (need file,text,kind)"),
        ("file,text,kind\na.png,KLA1234,plate\nmissing.png,KLA1234,plate\n", "line 3: column file: no image"),
        ("file,text,kind\na.png,KLA1234,truck\n", "line 2: column kind: 'truck' is not one of"),
        ("file,text,kind\na.png,,plate\n", "line 2: column text is empty"),
        ("file,text,kind\n", "no labelled images"),
    ],
)
def test_eval_ocr_names_the_line_and_column_of_a_bad_label(tmp_path, capsys, labels, message):
    from lane_controller.cli import main

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "labels.csv").write_text(labels, encoding="utf-8")
    assert main(["eval-ocr", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'labels.csv'}: {message}" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_the_top_read_is_the_readers_first_among_equal_confidences():
    """Capped reads tie on confidence; the reader has ordered them (by their support): the evaluation keeps
    that order instead of breaking the tie by text."""
    from lane_controller.vision.evaluation import Labelled, _score
    from lane_controller.vision.reads import FrameReads, Read, ReadKind

    reads = tuple(
        Read(ReadKind.CONTAINER, text, 0.45, (0, 0, 10, 10), True) for text in ("TRHU1700369", "TRHU1703619")
    )
    result = _score(Labelled("f.jpg", "TRHU1700369", ReadKind.CONTAINER), FrameReads("0", None, reads), 0.1)
    assert (result.top, result.outcome) == ("TRHU1700369", "exact")


def test_eval_ocr_takes_labels_saved_by_a_spreadsheet_with_a_bom(tmp_path):
    from lane_controller.vision.evaluation import load_labels

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "labels.csv").write_bytes(b"\xef\xbb\xbffile,text,kind\na.png,KLA1234,plate\n")
    assert [(label.file, label.text) for label in load_labels(tmp_path)] == [("a.png", "KLA1234")]
