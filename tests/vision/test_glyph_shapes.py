"""The H/M/N/W glyph-shape check on plate lines drawn here in a bold condensed plate-like font: the letters
the recogniser confuses are told apart by where their inner ink lies, on clean, sheared, blurred and
inverted lines; anything the check cannot match to the plate is left as read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lane_controller.vision.glyph_shapes import GlyphShape, check_letters
from lane_controller.vision.plate_grammar import TAIWAN

PAD = 0.3
H_PX, W_PX, STROKE = 90, 48, 12


def _glyph(char: str) -> np.ndarray:
    """One character, ink 255 on 0, in a condensed bold style: M's V hangs to mid-height, W's rises to it."""
    g = np.zeros((H_PX, W_PX), np.uint8)
    s, w, h = STROKE, W_PX, H_PX
    left, right = s // 2, w - 1 - s // 2

    def line(p, q):
        cv2.line(g, p, q, 255, s, cv2.LINE_AA)

    if char in "HMNW":
        line((left, 0), (left, h - 1))
        line((right, 0), (right, h - 1))
    if char == "H":
        line((left, h // 2), (right, h // 2))
    elif char == "M":
        line((left, 0), (w // 2, int(0.6 * h)))
        line((right, 0), (w // 2, int(0.6 * h)))
    elif char == "W":
        line((left, h - 1), (w // 2, int(0.4 * h)))
        line((right, h - 1), (w // 2, int(0.4 * h)))
    elif char == "N":
        line((left, 0), (right, h - 1))
    elif char == "1":
        line((w // 2 + 4, 0), (w // 2 + 4, h - 1))
        line((w // 2 + 4, 0), (w // 2 - 12, 16))  # the flag
    elif char == "|":  # a 1 as Taiwan's plate font draws it: a plain bar
        line((w // 2, 0), (w // 2, h - 1))
    elif char == "7":
        line((left, s // 2), (right, s // 2))
        line((right, s // 2), (w // 3, h - 1))
    elif char == "0":
        cv2.rectangle(g, (s // 2, s // 2), (w - 1 - s // 2, h - 1 - s // 2), 255, s)
    else:
        raise ValueError(char)
    return g


def render_line(text: str, *, shear=0.0, blur=0.0, inverted=False, edge=False) -> np.ndarray:
    """A grey line crop as the plate reader cuts it: ``PAD`` character heights above and below, the
    characters dark on a light plate (``inverted``: light on dark), a dash as a small square; ``edge``
    adds the plate's vertical edge beside the last character."""
    gap, margin = 14, 30
    pieces = []
    for char in text:
        if char == "-":
            dash = np.zeros((H_PX, 26), np.uint8)
            dash[H_PX // 2 - 6 : H_PX // 2 + 6, 7:19] = 255
            pieces.append(dash)
        else:
            pieces.append(_glyph(char))
        pieces.append(np.zeros((H_PX, gap), np.uint8))
    row = np.hstack([np.zeros((H_PX, margin), np.uint8), *pieces, np.zeros((H_PX, margin), np.uint8)])
    if edge:
        row[:, -margin + 6 : -margin + 14] = 255
    pad_px = round(PAD * H_PX)
    ink = np.pad(row, ((pad_px, pad_px), (0, 0)))
    if shear:
        h, w = ink.shape
        m = np.float32([[1, -shear, shear * h / 2], [0, 1, 0]])
        ink = cv2.warpAffine(ink, m, (w, h))
    grey = (235 - ink.astype(np.float32) * (215 / 255)).astype(np.uint8)
    if inverted:
        grey = 255 - grey
    if blur:
        grey = cv2.GaussianBlur(grey, (0, 0), blur)
    return grey


SPLITS = frozenset({3})


@pytest.mark.parametrize(
    ("truth", "read"),
    [
        ("MWN-1001", "HHH-1001"),  # the recogniser's usual mistake: every one an H
        ("HMN-1010", "NHW-1010"),
        ("WNH-0100", "MWN-0100"),
    ],
)
@pytest.mark.parametrize(
    "style",
    [{}, {"shear": 0.18}, {"blur": 1.5}, {"inverted": True}, {"edge": True}],
    ids=["clean", "italic", "blurred", "light-on-dark", "plate-edge"],
)
def test_confused_letters_are_corrected_to_what_their_glyphs_show(truth, read, style):
    line = render_line(truth, **style)
    assert check_letters(line, read.replace("-", ""), pad=PAD, splits=SPLITS) == truth.replace("-", "")


def test_letters_read_right_stay_as_they_are():
    line = render_line("MWN-1001")
    assert check_letters(line, "MWN1001", pad=PAD, splits=SPLITS) == "MWN1001"


def test_a_plate_without_confusable_letters_or_digits_is_not_looked_at(monkeypatch):
    import lane_controller.vision.glyph_shapes as glyph_shapes

    def cut(*_args):
        raise AssertionError("the line was cut into glyphs")

    monkeypatch.setattr(glyph_shapes, "_line_glyphs", cut)
    assert check_letters(np.zeros((3, 3), np.uint8), "ABC1111", pad=PAD, splits=SPLITS) == "ABC1111"
    with pytest.raises(AssertionError, match="cut into glyphs"):
        check_letters(np.zeros((3, 3), np.uint8), "ABC1711", pad=PAD, splits=SPLITS)


@pytest.mark.parametrize(
    ("truth", "read", "expected"),
    [
        ("MWN-|7|0", "MWN7700", "MWN1710"),  # bars read as a 7 and a 0 are 1s; the 7 stays
        ("MWN-1001", "MWN1001", "MWN1001"),  # a 1 with a flag is read right and left alone
        ("MWN-7007", "MWN7007", "MWN7007"),  # no glyph is a bar
    ],
)
def test_a_digit_on_a_glyph_as_narrow_as_a_bar_is_a_1(truth, read, expected):
    """Only the 1 is a bar: a digit read on a glyph under half as wide as the plate's median glyph is one
    (the recogniser reads Taiwan's bar-shaped 1 as a 7 or a 0)."""
    line = render_line(truth)
    assert check_letters(line, read, pad=PAD, splits=SPLITS) == expected


def test_glyphs_that_do_not_match_the_plate_leave_it_as_read():
    """Two glyphs too many and no dash to anchor on: which glyph is which letter is unknown."""
    line = render_line("MWN10011")
    assert check_letters(line, "HHH100", pad=PAD, splits=frozenset()) == "HHH100"


def test_the_dash_anchors_the_groups_when_an_edge_stands_beside_the_plate():
    """Without the dash the extra edge glyph would shift every letter by one."""
    line = render_line("MW-1101", edge=True)
    assert check_letters(line, "HH1101", pad=PAD, splits=frozenset({2})) == "MW1101"


def test_an_unclear_shape_keeps_the_recognisers_letter():
    assert GlyphShape(upper=0.24, lower=0.1, shift=0.0).letter() is None  # between empty and inked
    assert GlyphShape(upper=0.5, lower=0.55, shift=0.6).letter() is None  # neither symmetric nor diagonal
    assert GlyphShape(upper=0.05, lower=0.1, shift=1.5).letter() == "H"
    assert GlyphShape(upper=0.35, lower=0.45, shift=1.6).letter() == "N"
    assert GlyphShape(upper=0.6, lower=0.4, shift=0.0).letter() == "M"
    assert GlyphShape(upper=0.35, lower=0.85, shift=0.1).letter() == "W"
    assert GlyphShape(upper=0.62, lower=0.4, shift=0.45).letter() == "M"  # a slanted M
    assert GlyphShape(upper=0.55, lower=0.42, shift=0.56).letter() is None  # a blurred N, or an M?


def test_taiwan_dash_positions_anchor_a_real_reader_line():
    """The splits the plate reader passes for a Taiwan plate are the grammar's dash positions."""
    line = render_line("MWN-1001", edge=True)
    assert check_letters(line, "HHN1001", pad=PAD, splits=TAIWAN.dash_positions("HHN1001")) == "MWN1001"
