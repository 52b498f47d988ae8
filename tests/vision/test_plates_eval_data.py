"""The plate reader with the real engine on photographs from ``../shared/eval`` (never copied here)."""

from __future__ import annotations

import cv2
import pytest

from lane_controller.vision.plate_grammar import BRAZIL, TAIWAN

pytestmark = pytest.mark.slow

# files read right by the reader as built; a regression shows here before it shows in eval-ocr
TAIWAN_FILES = (
    "tw_003.jpg",
    "tw_004.jpg",
    "tw_005.jpg",
    "tw_200.jpg",
    "tw_231.jpg",
    "tw_074.jpg",  # MMA2070: both Ms read H by the recogniser, put right by their glyphs' shape
    "tw_086.jpg",  # MRW7318: the W read H
    "tw_161.jpg",  # NGU7601: the last 1 read L, the blob count keeps the seventh character
    "tw_173.jpg",  # NNE2359: the 59 touching a sticker, completed by the lengthened read
    "tw_032.jpg",  # BEB7716: seen from the side, the first B clipped unless the line is set upright
    "tw_078.jpg",  # MNF2931: F, 2 and 9 joined to the plate's border; a dealer's name below
    "tw_184.jpg",  # TDF3809: the T's arm joined to the border, its stem read as I
    "tw_288.jpg",  # KZK922: the first K and the last 2 faint, read ZK92 until the line grew by whole pitches
    "tw_170.jpg",  # NLN1705: the bar-shaped 1 read 7, a 1 by its glyph's width
)
BRAZIL_FILES = (
    "AYO9034.jpg",
    "JSC7486.jpg",
    "NTO1053.jpg",
    "OKM2371.jpg",  # views that each misread another character, combined position by position
    "ODJ1599.jpg",  # the D read O but in the sharpened view
)


def labels(folder):
    rows = (folder / "labels.csv").read_text(encoding="utf-8").splitlines()[1:]
    return {file: text for file, text, _kind in (row.split(",") for row in rows)}


@pytest.mark.parametrize(
    ("folder", "grammar", "files"),
    [("tw_plates_hermeschen", TAIWAN, TAIWAN_FILES), ("openalpr_endtoend_br", BRAZIL, BRAZIL_FILES)],
)
def test_real_plates_read_exactly(ocr_engine, eval_dir, folder, grammar, files):
    from lane_controller.vision.plates import PlateReader

    reader = PlateReader(ocr_engine, grammar)
    truth = labels(eval_dir / folder)
    for file in files:
        reads = reader.read(cv2.imread(str(eval_dir / folder / file), cv2.IMREAD_COLOR))
        valid = [r for r in reads.reads if r.valid]
        assert valid, f"{file}: nothing valid in {reads.reads}"
        assert valid[0].text == truth[file], file
