"""The plate reader on plates rendered here (white plate, black border, Hershey text) with the real
recogniser, and its grammars and localisation without it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lane_controller.vision.plate_grammar import BRAZIL, PERMISSIVE, TAIWAN, plate_readings
from lane_controller.vision.plate_locate import (
    TextLine,
    find_text_lines,
    line_crop,
    trim_uniform_border,
    with_slant,
    without_small_print,
)
from lane_controller.vision.reads import ReadKind, image_sha256

from .test_glyph_shapes import H_PX, render_line


def render_plate(text, *, scale=2.2, thickness=5):
    """A white plate with a black border and ``text`` in Hershey simplex."""
    (tw, th), _base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    plate = np.full((th + 60, tw + 60, 3), 245, np.uint8)
    cv2.rectangle(plate, (3, 3), (plate.shape[1] - 4, plate.shape[0] - 4), (20, 20, 20), 4)
    cv2.putText(
        plate, text, (30, th + 30), cv2.FONT_HERSHEY_SIMPLEX, scale, (15, 15, 15), thickness, cv2.LINE_AA
    )
    return plate


def scene(plate, *, at=(500, 420), size=(1280, 720), angle=0.0, blur=0.0, noise=0.0, seed=1):
    """``plate`` pasted on a grey frame at ``at`` (top left), turned by ``angle`` degrees, blurred, noised."""
    rng = np.random.default_rng(seed)
    frame = np.full((size[1], size[0], 3), 90, np.uint8)
    cv2.rectangle(frame, (100, 100), (400, 300), (140, 140, 140), -1)  # something else in the scene
    x, y = at
    h, w = plate.shape[:2]
    frame[y : y + h, x : x + w] = plate
    if angle:
        rot = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), angle, 1.0)
        frame = cv2.warpAffine(frame, rot, size, borderMode=cv2.BORDER_REPLICATE)
    if blur:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    if noise:
        frame = np.clip(frame + rng.normal(0, noise, frame.shape), 0, 255).astype(np.uint8)
    return frame, (x, y, x + w, y + h)


def inside(box, outer, slack=20):
    return (
        box[0] >= outer[0] - slack
        and box[1] >= outer[1] - slack
        and box[2] <= outer[2] + slack
        and box[3] <= outer[3] + slack
    )


# --- grammars --------------------------------------------------------------------------------------------


def test_taiwan_grammar_corrects_class_confusions_and_drops_an_edge_character():
    assert plate_readings(TAIWAN, "KLA-I234")[0] == ("KLA1234", 1)
    assert plate_readings(TAIWAN, "059-NRUI")[0] == ("059NRU", 1)
    assert plate_readings(TAIWAN, "XYZW") == []


def test_a_correction_beats_dropping_the_character_at_the_same_cost():
    """``MAN-052I``: the I as a 1 (cost 1) explains the whole read; dropping it (also cost 1) leaves a
    shorter valid plate, which comes second."""
    readings = plate_readings(TAIWAN, "MAN-052I")
    assert readings[:2] == [("MAN0521", 1), ("MAN052", 1)]


def test_taiwan_grammar_charges_a_dash_where_the_format_has_none():
    # DDD-LLL read with the dash after 3: the DDD-LLL plate; LLL-DDD with a dash after 2 costs one more
    assert plate_readings(TAIWAN, "ABC-123")[0] == ("ABC123", 0)
    assert ("ABC123", 1) in plate_readings(TAIWAN, "AB-C123")


def test_brazil_grammar_takes_old_and_mercosur_plates():
    assert plate_readings(BRAZIL, "AYO-9034")[0] == ("AYO9034", 0)
    assert plate_readings(BRAZIL, "BRA2E19")[0] == ("BRA2E19", 0)
    assert plate_readings(BRAZIL, "AY0-9034")[0] == ("AYO9034", 1)
    assert plate_readings(BRAZIL, "1234567") == []


def test_permissive_grammar_takes_four_to_eight_letters_and_digits():
    assert plate_readings(PERMISSIVE, "NEILDMND")[0] == ("NEILDMND", 0)
    assert plate_readings(PERMISSIVE, "M5-XSX")[0] == ("M5XSX", 0)
    assert plate_readings(PERMISSIVE, "AB1") == []


# --- localisation ----------------------------------------------------------------------------------------


def test_trim_uniform_border_finds_a_letterboxed_crop():
    canvas = np.full((640, 640), 255, np.uint8)
    canvas[200:400, 50:590] = 120
    assert trim_uniform_border(canvas) == (50, 200, 590, 400)


def test_text_line_found_around_the_plate_characters_with_its_tilt():
    frame, where = scene(render_plate("KLA-1234"), angle=4.0)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    lines = find_text_lines(grey, min_char_h=8, max_char_h=200)
    best = lines[0]
    assert best.chars == 7
    assert inside(best.box, where, slack=30)
    assert best.angle == pytest.approx(-4.0, abs=1.0)


def _framed(grey, *, tilt=0.0, rows=40):
    """``grey`` on a larger plate-coloured canvas, its columns shifted down by ``tilt`` pixels per pixel:
    a plate seen from the side, its baseline tilted and its verticals still vertical."""
    canvas = cv2.copyMakeBorder(grey, rows, rows, 40, 40, cv2.BORDER_CONSTANT, value=235)
    h, w = canvas.shape
    m = np.float32([[1, 0, 0], [tilt, 1, -tilt * w / 2]])
    return cv2.warpAffine(canvas, m, (w, h), borderValue=235)


def _first_stroke(crop):
    """The longest column of ink among the first glyph's leftmost 20 columns: its left stroke's height
    where that stands upright."""
    ink = crop < 128
    first = int(np.flatnonzero(ink.any(axis=0))[0])
    return max(int(ink[:, c].sum()) for c in range(first, first + 20))


@pytest.mark.parametrize("shear", [0.3, -0.25, 0.2])
def test_the_slant_of_an_italic_line_is_measured_and_an_upright_line_is_left_alone(shear):
    upright = _framed(render_line("MHW-1010"))
    line = find_text_lines(upright, min_char_h=8, max_char_h=200)[0]
    assert with_slant(upright, line, pad=0.3, min_slant=0.1) is line

    italic = _framed(render_line("MHW-1010", shear=shear))
    line = find_text_lines(italic, min_char_h=8, max_char_h=200)[0]
    assert line.chars == 7
    assert with_slant(italic, line, pad=0.3, min_slant=0.1).slant == pytest.approx(shear, abs=0.05)
    assert with_slant(italic, line, pad=0.3, min_slant=abs(shear) + 0.1) is line  # under the threshold


@pytest.mark.parametrize("tilt", [0.25, -0.25])
def test_a_plate_seen_from_the_side_is_cut_out_with_its_glyphs_upright_and_whole(tilt):
    """Levelling the tilted baseline leans the glyphs, and the first one's foot is clipped at the line's
    end; set upright, its left stroke stands whole again."""
    grey = _framed(render_line("MHW-1010"), tilt=tilt, rows=120)
    line = find_text_lines(grey, min_char_h=8, max_char_h=300)[0]
    assert abs(line.angle) == pytest.approx(14.0, abs=1.0)
    slanted = with_slant(grey, line, pad=0.3, min_slant=0.1)
    assert slanted.slant == pytest.approx(-tilt, abs=0.05)
    levelled, _box = line_crop(grey, line, pad=0.3)
    upright, _box = line_crop(grey, slanted, pad=0.3)
    assert _first_stroke(levelled) < 0.85 * H_PX
    assert _first_stroke(upright) >= 0.95 * H_PX


@pytest.mark.parametrize(("deslant", "expected"), [(0.18, 0.3), (0.0, 0.0)])
def test_the_reader_cuts_italic_lines_upright_unless_told_not_to(deslant, expected):
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    reader = PlateReader(_FixedEngine(""), settings=PlateReaderSettings(deslant=deslant))
    lines = reader._lines(_framed(render_line("MHW-1010", shear=0.3)))
    assert lines[0].slant == pytest.approx(expected, abs=0.05)


def test_characters_joined_to_the_plates_border_by_thin_ink_are_still_found():
    grey = _framed(render_line("MHW-1010"), rows=30)
    h, w = grey.shape
    cv2.rectangle(grey, (8, 8), (w - 9, h - 9), 20, 6)  # the plate's border
    for x in range(110, w - 100, 60):  # dirt or a screw's shadow linking the glyphs' tops to the border
        cv2.line(grey, (x, 8), (x, h // 2), 20, 3)
    lines = find_text_lines(grey, min_char_h=8, max_char_h=0.9 * h)
    assert lines and lines[0].chars == 7, lines


def _line_at(box, height):
    x0, y0, x1, y1 = box
    return TextLine(box, 0.0, height, 0.6 * height, 7, ((x0 + x1) / 2, (y0 + y1) / 2), x1 - x0)


def test_a_plates_small_print_is_dropped_and_other_lines_are_kept():
    plate = _line_at((100, 100, 500, 200), 100)
    frame_phone = _line_at((250, 215, 450, 245), 30)  # on the frame below the characters
    state = _line_at((200, 60, 400, 90), 30)  # above them
    far = _line_at((250, 500, 450, 530), 30)  # a sticker elsewhere in the frame
    beside = _line_at((600, 120, 800, 150), 30)  # level with the plate but not over or under it
    second_row = _line_at((120, 220, 480, 290), 70)  # a two-row plate's second row
    lines = [plate, frame_phone, state, far, beside, second_row]
    assert without_small_print(lines, ratio=0.5) == [plate, far, beside, second_row]
    assert without_small_print(lines, ratio=0.0) == lines


class _SmallPrintEngine:
    """A recogniser double: short crops (small print) read as a plate with more confidence than the
    plate's own characters."""

    def recognize(self, image, boxes=None, *, allowlist=None):
        from lane_controller.vision.engine import TextRead

        h, w = image.shape[:2]
        return [
            TextRead("ABC-5678", 0.99, (0, 0, w, h)) if h < 80 else TextRead("KLA-1234", 0.4, (0, 0, w, h))
        ]


@pytest.mark.parametrize(("small_print", "expected"), [(0.5, "KLA1234"), (0.0, "ABC5678")])
def test_the_plate_wins_over_its_frames_small_print(small_print, expected):
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    plate = render_line("MHW-1010")
    phone = cv2.resize(render_line("1010-1010"), None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    canvas = np.full((plate.shape[0] + phone.shape[0] + 80, plate.shape[1] + 80), 235, np.uint8)
    canvas[40 : 40 + plate.shape[0], 40 : 40 + plate.shape[1]] = plate
    canvas[40 + plate.shape[0] : 40 + plate.shape[0] + phone.shape[0], 120 : 120 + phone.shape[1]] = phone
    settings = PlateReaderSettings(small_print=small_print, glyph_check=False)
    assert top(PlateReader(_SmallPrintEngine(), settings=settings).read(canvas)).text == expected


# --- the reader with the real recogniser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def reader(ocr_engine):
    from lane_controller.vision.plates import PlateReader

    return PlateReader(ocr_engine)


def top(reads):
    valid = [r for r in reads.reads if r.valid]
    return valid[0] if valid else None


@pytest.mark.parametrize(
    ("text", "expected", "kwargs"),
    [
        ("KLA-1234", "KLA1234", {}),
        ("ABC-5678", "ABC5678", {"angle": 3.0}),
        ("RAB-3092", "RAB3092", {"blur": 1.2, "noise": 6.0}),
        ("AB-1234", "AB1234", {"at": (120, 500), "angle": -2.0, "noise": 4.0}),
        ("1234-XY", "1234XY", {"at": (700, 150)}),
    ],
)
def test_reader_reads_rendered_plates_exactly(reader, text, expected, kwargs):
    frame, where = scene(render_plate(text), **kwargs)
    reads = reader.read(frame, camera="front")
    best = top(reads)
    assert best is not None, reads
    assert best.text == expected
    assert best.kind is ReadKind.PLATE
    assert 0.0 < best.confidence <= 1.0
    assert inside(best.box, where, slack=30)
    assert reads.image_sha256 == image_sha256(frame)
    assert reads.camera == "front"


def test_reader_reads_a_plate_crop_on_a_white_canvas(reader):
    canvas = np.full((640, 640, 3), 255, np.uint8)
    plate = cv2.resize(render_plate("MAB-7020", scale=1.6, thickness=4), None, fx=1.0, fy=1.6)
    h, w = plate.shape[:2]
    canvas[(640 - h) // 2 : (640 - h) // 2 + h, (640 - w) // 2 : (640 - w) // 2 + w] = plate
    best = top(reader.read(canvas))
    assert best is not None
    assert best.text == "MAB7020"


def test_reader_finds_nothing_valid_in_an_empty_frame(reader):
    frame = np.full((480, 640, 3), 128, np.uint8)
    assert top(reader.read(frame)) is None


def test_lines_survive_chains_whose_members_disagree_everywhere():
    from lane_controller.vision.plate_locate import _consistent

    # heights agree, tops and bottoms zig-zag: every member is off the fitted edges
    members = np.array([[0, 0, 10, 20], [12, 30, 10, 20], [24, 0, 10, 20], [36, 30, 10, 20]], float)
    assert len(_consistent(members)) <= len(members)


class _WidthEngine:
    """A recogniser double: crops narrower than ``wide`` pixels show only part of the plate."""

    def __init__(self, wide: int, narrow_text: str, full_text: str, full_confidence: float = 0.9) -> None:
        self.wide, self.narrow_text, self.full_text = wide, narrow_text, full_text
        self.full_confidence = full_confidence
        self.widths: list[int] = []

    def recognize(self, image, boxes=None, *, allowlist=None):
        from lane_controller.vision.engine import TextRead

        h, w = image.shape[:2]
        self.widths.append(w)
        if w >= self.wide:
            return [TextRead(self.full_text, self.full_confidence, (0, 0, w, h))]
        return [TextRead(self.narrow_text, 0.9, (0, 0, w, h))]


def _plate_line():
    from lane_controller.vision.plate_locate import TextLine

    grey = np.full((200, 600), 200, np.uint8)
    return grey, TextLine((200, 80, 400, 120), 0.0, 40.0, 24.0, 5, (300.0, 100.0), 200.0)


def test_a_short_read_is_retried_on_the_line_lengthened_at_both_ends():
    """Characters under a shadow are not found as blobs: the line is read again lengthened, and the whole
    plate read there wins over the part."""
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    grey, line = _plate_line()
    engine = _WidthEngine(wide=330, narrow_text="ABC-12", full_text="ABC-1234")
    reader = PlateReader(engine, settings=PlateReaderSettings(variants=(), binarised_view=False))  # type: ignore[arg-type]
    read = reader._read_line(grey, line)
    assert read.valid and read.text == "ABC1234"
    assert max(engine.widths) >= 330 > min(engine.widths)


def test_a_line_cut_several_characters_short_is_lengthened_by_as_many_character_pitches():
    """A dirt blot joined to two characters cuts the plate's line after its fifth character: lengthening by
    one character height would reach one of the two it lost, so the line grows by a pitch per character
    the grammar's longest plate has beyond the line's blobs (here two of 44 px: five blobs 24 px wide
    whose outer edges are 200 px apart)."""
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    grey, line = _plate_line()  # five blobs 40 px apart, 200 px long
    engine = _WidthEngine(wide=380, narrow_text="ABC-12", full_text="ABC-1234")
    reader = PlateReader(engine, settings=PlateReaderSettings(variants=(), binarised_view=False))  # type: ignore[arg-type]
    read = reader._read_line(grey, line)
    assert read.valid and read.text == "ABC1234"
    # 88 px more at each end than the first read's crop (padded by 0.3 heights at each end)
    assert max(engine.widths) / min(engine.widths) == pytest.approx((200 + 176 + 24) / (200 + 24), rel=0.01)
    # the read's box grows with the line: the audit shows the whole plate
    assert read.box[0] <= 200 - 88 and read.box[2] >= 400 + 88


def test_a_full_length_read_is_not_read_again_lengthened():
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    grey, line = _plate_line()
    engine = _WidthEngine(wide=0, narrow_text="", full_text="ABC-1234")
    reader = PlateReader(engine, settings=PlateReaderSettings(variants=(), binarised_view=False))  # type: ignore[arg-type]
    assert reader._read_line(grey, line).text == "ABC1234"
    assert len(engine.widths) == 1


@pytest.mark.parametrize(
    ("text", "blobs", "reads"),
    [("AB-1234", 6, 1), ("AB-1234", 7, 2), ("AB-12", 4, 2)],
)
def test_a_shorter_plate_is_read_again_lengthened_unless_it_is_one_short_and_leaves_no_blob(
    text, blobs, reads
):
    """A six-character Taiwan plate from six blobs is whole; from seven it missed one; a four-character
    plate is read again even from four blobs (a dirt blot joined to a character cuts a line in two)."""
    from dataclasses import replace

    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    grey, line = _plate_line()
    engine = _WidthEngine(wide=0, narrow_text="", full_text=text)
    reader = PlateReader(engine, settings=PlateReaderSettings(variants=(), binarised_view=False))  # type: ignore[arg-type]
    assert reader._read_line(grey, replace(line, chars=blobs)).text == text.replace("-", "")
    assert len(engine.widths) == reads


def test_a_permissive_grammar_never_reads_the_line_lengthened():
    """Any text is a plate to it, so the plate's edge or a sticker beside it would be taken as characters."""
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    grey, line = _plate_line()
    engine = _WidthEngine(wide=330, narrow_text="XY12", full_text="IXY12I")
    reader = PlateReader(
        engine,  # type: ignore[arg-type]
        grammar=PERMISSIVE,
        settings=PlateReaderSettings(variants=(), binarised_view=False),
    )
    assert reader._read_line(grey, line).text == "XY12"
    assert len(engine.widths) == 1


class _FixedEngine:
    """A recogniser double that reads every crop as ``text``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def recognize(self, image, boxes=None, *, allowlist=None):
        from lane_controller.vision.engine import TextRead

        h, w = image.shape[:2]
        return [TextRead(self.text, 0.9, (0, 0, w, h))]


@pytest.mark.parametrize("glyph_check", [True, False])
def test_the_reader_corrects_an_m_and_a_w_read_as_h_by_their_glyphs(glyph_check):
    """The recogniser reads a condensed plate M and W as H; the glyph-shape check puts them right and keeps
    the recogniser's plate as the first alternative."""
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings
    from tests.vision.test_glyph_shapes import render_line

    line = render_line("MWN-1001")
    frame = np.full((line.shape[0] + 200, line.shape[1] + 200), 90, np.uint8)  # a dark car around the plate
    frame[100 : 100 + line.shape[0], 100 : 100 + line.shape[1]] = line
    settings = PlateReaderSettings(glyph_check=glyph_check, detector_fallback=False)
    reads = PlateReader(_FixedEngine("HHN-1001"), settings=settings).read(frame)  # type: ignore[arg-type]
    best = reads.reads[0]
    assert best.valid
    if glyph_check:
        assert best.text == "MWN1001"
        assert best.alternatives[0][0] == "HHN1001"
        assert "glyph shapes: MWN1001" in best.raw
    else:
        assert best.text == "HHN1001"


@pytest.mark.parametrize(("length_cost", "expected"), [(2, "MWN1001"), (0, "MWN100")])
def test_a_plate_as_long_as_the_line_has_character_blobs_is_preferred(length_cost, expected):
    """The recogniser reads the last plain-bar 1 as an L and adds junk: dropping both is cheaper than
    correcting the L, unless the seven blobs the localiser found count against a six-character plate."""
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings
    from tests.vision.test_glyph_shapes import render_line

    line = render_line("MWN-1001")
    frame = np.full((line.shape[0] + 200, line.shape[1] + 200), 90, np.uint8)
    frame[100 : 100 + line.shape[0], 100 : 100 + line.shape[1]] = line
    settings = PlateReaderSettings(length_cost=length_cost, detector_fallback=False, extend=0.0)
    reads = PlateReader(_FixedEngine("MWN-100L5"), settings=settings).read(frame)  # type: ignore[arg-type]
    assert reads.reads[0].text == expected


class _SequenceEngine:
    """A recogniser double that reads the given texts in turn, one per crop."""

    def __init__(self, reads: list[tuple[str, float]]) -> None:
        self.reads = list(reads)

    def recognize(self, image, boxes=None, *, allowlist=None):
        from lane_controller.vision.engine import TextRead

        text, confidence = self.reads.pop(0)
        return [TextRead(text, confidence, (0, 0, image.shape[1], image.shape[0]))]


@pytest.mark.parametrize(("character_vote", "expected"), [(True, "ABC1234"), (False, "ABC1239")])
def test_views_that_misread_different_characters_are_combined_position_by_position(character_vote, expected):
    """Four views, each with one character wrong in a different place: as whole plates the most confident
    wrong one wins; position by position the right plate has the most vote at every character."""
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    grey, line = _plate_line()
    views = [("ABC1234", 0.5), ("ABC1239", 0.6), ("ABD1234", 0.55), ("XBC1234", 0.3)]
    settings = PlateReaderSettings(
        character_vote=character_vote, extend=0.0, glyph_check=False, sharpened_view=False
    )
    read = PlateReader(_SequenceEngine(views), settings=settings)._read_line(grey, line)  # type: ignore[arg-type]
    assert read.text == expected
    if character_vote:
        assert read.alternatives[0][0] == "ABC1239"


@pytest.mark.parametrize(
    ("narrow", "full", "expected"),
    [
        ("NE23", "NNE-2359", "NNE2359"),  # four characters read off five blobs: the longer read completes it
        ("386-G3", "3386-G3", "386G3"),  # all five blobs read: the lengthened read's extra 3 is the edge
    ],
)
def test_a_lengthened_read_completes_a_short_read_only_when_blobs_went_unread(narrow, full, expected):
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    grey, line = _plate_line()  # five blobs
    assert line.chars == 5
    engine = _WidthEngine(wide=330, narrow_text=narrow, full_text=full)
    settings = PlateReaderSettings(glyph_check=False, length_cost=0)
    assert PlateReader(engine, settings=settings)._read_line(grey, line).text == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("narrow", "full", "expected"),
    [
        # KL41 only after reading the A as a 4, and the longer plate holds KLA1 as read: a blot had cut the
        # line after the 1 (the demo's synthetic plate)
        ("KLA-1", "LKLA-1234", "KLA1234"),
        ("KL-41", "LKLA-1234", "KL41"),  # read as it is: the longer read, less sure, does not replace it
    ],
)
def test_a_short_read_fitting_only_after_corrections_is_completed_by_a_longer_plate_holding_it_as_read(
    narrow, full, expected
):
    from dataclasses import replace

    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    grey, line = _plate_line()
    engine = _WidthEngine(wide=330, narrow_text=narrow, full_text=full, full_confidence=0.45)
    settings = PlateReaderSettings(glyph_check=False)
    read = PlateReader(engine, settings=settings)._read_line(grey, replace(line, chars=4))  # type: ignore[arg-type]
    assert read.text == expected


class _CountingEngine:
    """A recogniser double reading every crop as ``text`` with ``confidence``, counting its passes."""

    def __init__(self, text: str, confidence: float) -> None:
        self.text, self.confidence, self.passes = text, confidence, 0

    def recognize(self, image, boxes=None, *, allowlist=None):
        from lane_controller.vision.engine import TextRead

        self.passes += 1
        h, w = image.shape[:2]
        return [TextRead(self.text, self.confidence, (0, 0, w, h))]


@pytest.mark.parametrize(
    ("confidence", "blobs", "passes"),
    [(0.95, 7, 1), (0.85, 7, 5), (0.95, 6, 5), (0.95, None, 5)],
)
def test_a_sure_first_read_is_not_read_in_the_other_views(confidence, blobs, passes):
    """Only a confident valid read that accounts for every blob of the row skips the other four views."""
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings

    grey, line = _plate_line()
    engine = _CountingEngine("ABC-1234", confidence)
    settings = PlateReaderSettings(sure=0.9, length_cost=0)  # the blob count is not also a cost here
    read = PlateReader(engine, settings=settings)._read_views(grey, line, blobs)  # type: ignore[arg-type]
    assert read.valid and read.text == "ABC1234"
    assert engine.passes == passes


def test_a_valid_row_is_read_in_five_views_the_sharpened_one_steeper():
    """First width (read once), two other widths, binarised, sharpened: a soft edge comes out steeper in
    the last."""
    from lane_controller.vision.plates import PlateReader, PlateReaderSettings, _sharpened

    grey, line = _plate_line()
    engine = _WidthEngine(wide=0, narrow_text="", full_text="ABC-1234")
    PlateReader(engine, settings=PlateReaderSettings(extend=0.0))._read_views(grey, line, None)  # type: ignore[arg-type]
    assert len(engine.widths) == 5
    engine.widths.clear()
    settings = PlateReaderSettings(extend=0.0, sharpened_view=False)
    PlateReader(engine, settings=settings)._read_views(grey, line, None)  # type: ignore[arg-type]
    assert len(engine.widths) == 4

    step = np.full((40, 80), 60, np.uint8)
    step[:, 40:] = 160
    soft = cv2.GaussianBlur(step, (0, 0), 1.5)
    steepest = lambda image: int(np.abs(np.diff(image.astype(int), axis=1)).max())  # noqa: E731
    assert steepest(_sharpened(soft)) > 1.2 * steepest(soft)
