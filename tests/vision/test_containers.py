"""Container-number reader: localisation and assembly on synthetic frames (no OCR engine), then the real
EasyOCR recogniser on synthetic frames rendered here and on photographs from ``../shared/eval``."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from lane_controller.domain.container_number import ContainerNumber
from lane_controller.vision.container_assembly import Assembled, Piece, assemble, stacked_pairs
from lane_controller.vision.containers import (
    AUTO_ACCEPT,
    CORRECTED_CAP,
    DISPUTED_CAP,
    Alphabet,
    LineRead,
    _one,
    calibrate,
    ctc_decode,
    framed_digit,
    typed_part,
    typed_windows,
)
from lane_controller.vision.reads import ReadKind, image_sha256
from lane_controller.vision.text_lines import GroupKind, TextGroup, localise

CODE = "CSQU3054383"
FONT = cv2.FONT_HERSHEY_DUPLEX
EVAL_ENV = "LANE_CONTROLLER_EVAL_DIR"
EVAL_DIR = Path(os.environ.get(EVAL_ENV, Path(__file__).resolve().parents[2] / ".." / "shared" / "eval"))
MARSA = EVAL_DIR / "marsa_maroc_gate_containers"


def frame(*, panel=(140, 60, 20), ink=(255, 255, 255), seed: int = 0, size=(1080, 1920)) -> np.ndarray:
    """A grey-ish yard background with a coloured container panel in the middle."""
    rng = np.random.default_rng(seed)
    image = rng.integers(90, 130, (*size, 3), dtype=np.uint8)
    cv2.rectangle(image, (300, 100), (1700, 1000), panel, -1)
    return image


def put_line(image, text: str, x: int, y: int, *, scale: float = 2.2, ink=(255, 255, 255)) -> tuple:
    (w, h), _ = cv2.getTextSize(text, FONT, scale, 4)
    cv2.putText(image, text, (x, y), FONT, scale, ink, 4, cv2.LINE_AA)
    return (x, y - h, x + w, y)


def put_column(image, text: str, x: int, y: int, *, scale: float = 1.8, ink=(255, 255, 255)) -> tuple:
    """One upright character per row, as painted on door posts."""
    (_, h), _ = cv2.getTextSize("8", FONT, scale, 4)
    pitch = int(h * 1.45)
    for i, ch in enumerate(text):
        (cw, _), _ = cv2.getTextSize(ch, FONT, scale, 4)
        cv2.putText(image, ch, (x - cw // 2, y + i * pitch), FONT, scale, ink, 4, cv2.LINE_AA)
    return (x - h, y - h, x + h, y + (len(text) - 1) * pitch)


def rotate(image, degrees: float) -> np.ndarray:
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def noisy(image, sigma: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(image.astype(np.int16) + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def contains(outer, inner, slack: int = 40) -> bool:
    return (
        outer[0] <= inner[0] + slack
        and outer[1] <= inner[1] + slack
        and outer[2] >= inner[2] - slack
        and outer[3] >= inner[3] - slack
    )


# --- localisation -------------------------------------------------------------------------------------


def test_localise_finds_a_horizontal_line_with_every_character():
    image = frame()
    where = put_line(image, "CSQU 305438 3", 600, 400)
    lines = [g for g in localise(image) if g.kind is GroupKind.LINE and contains(where, g.box)]
    assert lines
    assert max(len(g.chars) for g in lines) >= 9
    assert not lines[0].dark_text


def test_localise_finds_a_column_of_upright_characters():
    image = frame(panel=(40, 40, 150))
    where = put_column(image, CODE, 900, 200)
    columns = [g for g in localise(image) if g.kind is GroupKind.COLUMN and contains(where, g.box)]
    assert [len(g.chars) for g in columns] == [11]
    ys = [c[1] for c in columns[0].chars]
    assert ys == sorted(ys)


def test_localise_finds_dark_text_on_a_light_panel_and_honours_the_roi():
    image = frame(panel=(200, 200, 200))
    put_line(image, "CSQU 305438 3", 600, 400, ink=(30, 30, 30))
    lines = [g for g in localise(image) if g.kind is GroupKind.LINE and len(g.chars) >= 9]
    assert lines
    assert lines[0].dark_text
    assert not [g for g in localise(image, roi=(0, 600, 1920, 1080)) if len(g.chars) >= 9]


def test_localise_on_a_blank_frame_finds_nothing_long():
    image = frame()
    assert not [g for g in localise(image) if len(g.chars) >= 6]


# --- assembly -------------------------------------------------------------------------------------------


def test_assemble_keeps_a_clean_read_at_full_confidence():
    [window] = assemble([Piece(CODE, 0.9, (0, 0, 10, 10))])
    assert window.valid[0] == (CODE, pytest.approx(0.9))


def test_assemble_corrects_confusions_and_drops_an_inserted_character():
    found = {t for a in assemble([Piece("CSQUV3O54383", 0.8, (0, 0, 10, 10))]) for t, _ in a.valid}
    assert CODE in found
    best = max((c, t) for a in assemble([Piece("CSQU3O54383", 0.8, (0, 0, 10, 10))]) for t, c in a.valid)
    assert best[1] == CODE
    assert best[0] < 0.8


def test_assemble_never_replaces_the_check_digit_as_read():
    wrong_check = CODE[:-1] + "4"
    assert not [v for a in assemble([Piece(wrong_check, 0.9, (0, 0, 10, 10))]) for v in a.valid]


def test_assemble_finds_the_code_inside_a_longer_line():
    found = [v for a in assemble([Piece(CODE + "22G1", 0.9, (0, 0, 10, 10))]) for v in a.valid]
    assert (CODE, pytest.approx(0.9)) in found


def test_stacked_pairs_join_the_owner_code_with_the_serial_under_it():
    top = Piece("CSQU", 0.9, (100, 100, 300, 150), 50)
    low = Piece("3054383", 0.8, (105, 170, 420, 220), 50)
    far = Piece("1234567", 0.8, (900, 170, 1220, 220), 50)
    joined = stacked_pairs([top, low, far])
    assert [p.text for p in joined] == [CODE]
    assert joined[0].box == (100, 100, 420, 220)


def test_assemble_marks_dropped_and_retyped_windows_as_derived():
    as_read = assemble([Piece(CODE, 0.9, (0, 0, 10, 10))])
    assert [a.derived for a in as_read] == [False]
    assert as_read[0].costs == (0,)
    dropped = [a for a in assemble([Piece("CSQUV3054383", 0.9, (0, 0, 10, 10))]) if a.raw == CODE]
    assert dropped
    assert dropped[0].derived
    retyped = assemble([Piece(CODE, 0.9, (0, 0, 10, 10), 0.0, 1)])
    assert retyped[0].derived
    assert retyped[0].costs == (1,)


# --- CTC decoding and calibration (no engine) -------------------------------------------------------------

CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def posteriors(steps: list[dict[str, float]]) -> np.ndarray:
    """One time step per dict (character -> probability; the rest of the mass on the blank)."""
    out = np.zeros((len(steps), 1 + len(CHARS)), dtype=np.float32)
    for t, step in enumerate(steps):
        for ch, p in step.items():
            out[t, 1 + CHARS.index(ch)] = p
        out[t, 0] = 1.0 - sum(step.values())
    return out


def spelled(text: str, *, doubt: dict[int, dict[str, float]] | None = None) -> np.ndarray:
    """Posteriors spelling ``text``: each character over two steps, then a blank."""
    steps: list[dict[str, float]] = []
    for i, ch in enumerate(text):
        step = (doubt or {}).get(i, {ch: 0.95})
        steps += [step, step, {}]
    return posteriors(steps)


def test_ctc_decode_collapses_repeats_and_blanks_and_keeps_spans():
    line = ctc_decode(spelled("CSQU"), Alphabet.ANY.value, CHARS)
    assert line.text == "CSQU"
    assert line.spans == ((0, 2), (3, 5), (6, 8), (9, 11))
    assert all(p == pytest.approx(0.95) for p in line.probs)
    assert line.confidence == pytest.approx(0.95**4 ** (2 / 2))


def test_ctc_decode_restricts_to_the_alphabet_and_renormalises():
    probs = spelled("0", doubt={0: {"O": 0.6, "0": 0.3}})
    assert ctc_decode(probs, Alphabet.ANY.value, CHARS).text == "O"
    digits = ctc_decode(probs, Alphabet.DIGITS.value, CHARS)
    assert digits.text == "0"
    assert digits.probs[0] == pytest.approx(0.3 / 0.4)


def test_typed_windows_reread_each_position_within_its_class():
    # the owner code's O read as 0 and the serial's 5 read as S: re-read by position, two changes
    probs = spelled("CS0U3O54383", doubt={2: {"0": 0.6, "O": 0.35}, 5: {"O": 0.6, "0": 0.35}})
    line = ctc_decode(probs, Alphabet.ANY.value, CHARS)
    assert line.text == "CS0U3O54383"
    [(typed, changed)] = typed_windows(probs, line, CHARS)
    assert typed.text == "CSOU3054383"
    assert changed == 2
    # a clean reading needs no re-read; a line too far off (3 changes) gives nothing
    clean = ctc_decode(spelled(CODE), Alphabet.ANY.value, CHARS)
    assert typed_windows(spelled(CODE), clean, CHARS) == []
    far = spelled("C5Q0305438E")
    assert typed_windows(far, ctc_decode(far, Alphabet.ANY.value, CHARS), CHARS) == []


def test_typed_part_rereads_a_short_line_as_owner_code_or_serial():
    serial = spelled("3O54383", doubt={1: {"O": 0.7, "0": 0.25}})
    line = ctc_decode(serial, Alphabet.ANY.value, CHARS)
    assert line.text == "3O54383"
    part = typed_part(serial, line, CHARS)
    assert part is not None
    assert part[0].text == "3054383"
    assert part[1] == 1
    owner = spelled("C5QU", doubt={1: {"5": 0.6, "S": 0.3}})
    part = typed_part(owner, ctc_decode(owner, Alphabet.ANY.value, CHARS), CHARS)
    assert part is not None
    assert part[0].text == "CSQU"
    clean = spelled("3054383")
    assert typed_part(clean, ctc_decode(clean, Alphabet.ANY.value, CHARS), CHARS) is None


def test_a_one_character_segment_keeps_its_most_probable_character():
    # a border left beside a boxed 9 read as 1
    two = LineRead("19", (0.4, 0.97), ((0, 2), (3, 5)))
    assert _one(two) == LineRead("9", (0.97,), ((3, 5),))
    assert _one(LineRead("9", (0.9,), ((0, 1),))).text == "9"


def window(raw: str, conf: float, *, cost: int = 0, derived: bool = False, box=(0, 0, 100, 20)) -> Assembled:
    return Assembled(raw, box, conf, ((CODE, conf),) if raw == CODE or cost else (), (cost,), derived)


def test_calibrate_keeps_a_clean_uncontested_read_above_auto_accept():
    [(text, (conf, _a))] = calibrate([window(CODE, 0.95)]).items()
    assert text == CODE
    assert conf == pytest.approx(0.95)
    assert conf >= AUTO_ACCEPT


def test_calibrate_caps_a_corrected_read_below_auto_accept():
    [(conf, _a)] = calibrate([window("CSQU3O54383", 0.95, cost=1)]).values()
    assert conf == pytest.approx(CORRECTED_CAP)
    assert conf < AUTO_ACCEPT


def test_calibrate_caps_a_read_another_reading_of_the_place_contradicts():
    # the framed check digit read as 3 here and as 0 in another reading of the same line
    rival = Assembled("CSQU3054380", (5, 0, 105, 20), 0.9, ())
    [(conf, _a)] = calibrate([window(CODE, 0.95), rival]).values()
    assert conf == pytest.approx(DISPUTED_CAP)
    # a derived window (a dropped character), a far text or another place is no rival
    others = [
        Assembled("CSQU3054380", (5, 0, 105, 20), 0.9, (), (), True),
        Assembled("MSKU3866036", (5, 0, 105, 20), 0.9, ()),
        Assembled("CSQU3054380", (500, 0, 600, 20), 0.9, ()),
    ]
    [(conf, _a)] = calibrate([window(CODE, 0.95), *others]).values()
    assert conf == pytest.approx(0.95)


def framed(digit: str, *, dark: bool = False) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    bg, ink = (200, 20) if dark else (60, 240)
    grey = np.full((200, 200), bg, dtype=np.uint8)
    cv2.rectangle(grey, (70, 50), (130, 150), ink, 4)
    cv2.putText(grey, digit, (78, 132), FONT, 2.6, ink, 5, cv2.LINE_AA)
    return grey, (70, 50, 131, 151)


@pytest.mark.parametrize("dark", [False, True], ids=["light-on-dark", "dark-on-light"])
def test_framed_digit_wipes_the_frame_and_keeps_the_digit(dark):
    grey, cell = framed("9", dark=dark)
    segment = framed_digit(grey, cell, 100.0, dark_text=dark)
    assert segment is not None
    assert segment.alphabet is Alphabet.DIGITS
    assert segment.one_char
    assert segment.image.shape[0] == 64
    # no border left: the outer rows and columns are background
    edge = np.concatenate(
        [segment.image[:3].ravel(), segment.image[-3:].ravel(), segment.image[:, :3].ravel()]
    )
    background = 200 if dark else 60
    assert np.abs(edge.astype(int) - background).max() < 40


def test_framed_digit_wipes_a_side_broken_off_the_frame():
    grey, cell = framed("9")
    cv2.line(grey, (76, 60), (76, 140), 240, 3)  # an inner border line beside the digit
    segment = framed_digit(grey, cell, 100.0, dark_text=False)
    assert segment is not None
    assert np.abs(segment.image[:, :6].astype(int) - 60).max() < 40


def test_framed_digit_ignores_an_unframed_character():
    grey = np.full((200, 200), 60, dtype=np.uint8)
    cv2.putText(grey, "9", (82, 128), FONT, 2.0, 240, 4, cv2.LINE_AA)
    assert framed_digit(grey, (80, 80, 125, 130), 50.0, dark_text=False) is None


def boxed_code(layout: str) -> np.ndarray:
    """CSQU 305438 with its check digit 3 in a painted box, on one line or one character per row."""
    image = frame(panel=(40, 40, 150))
    if layout == "line":
        x0, y0, x1, y1 = put_line(image, "CSQU 305438", 500, 400)
        cell = (x1 + 30, y0 - 14, x1 + 30 + int(1.05 * (y1 - y0)), y1 + 14)
    else:
        x0, y0, x1, y1 = put_column(image, "CSQU305438", 900, 150)
        h = (x1 - x0) // 2
        cell = (
            900 - int(0.55 * h) - 8,
            y1 + int(0.45 * h) - 6,
            900 + int(0.55 * h) + 14,
            y1 + int(1.45 * h) + 12,
        )
    cv2.rectangle(image, cell[:2], cell[2:], (255, 255, 255), 4)
    (w, h3), _ = cv2.getTextSize("3", FONT, 2.2 if layout == "line" else 1.8, 4)
    cx, cy = (cell[0] + cell[2]) // 2, (cell[1] + cell[3]) // 2
    scale = 2.2 if layout == "line" else 1.8
    cv2.putText(image, "3", (cx - w // 2, cy + h3 // 2), FONT, scale, (255, 255, 255), 4, cv2.LINE_AA)
    return image


def test_build_crops_reads_a_boxed_check_digit_on_its_own():
    from lane_controller.vision.containers import build_crops

    image = boxed_code("line")
    crops = build_crops(image, localise(image))
    assert any(len(c.segments) >= 2 and c.segments[-1].alphabet is Alphabet.DIGITS for c in crops[:3])


def test_build_crops_reads_a_stacked_serial_line_before_short_labels():
    """A door's serial line (six digits and the check digit) is one line of a stacked number: it is read
    before four- and five-character labels such as TARE or 22G1, which only look like owner codes."""
    from lane_controller.vision.containers import build_crops

    def line(n: int, y: int) -> TextGroup:
        return TextGroup(
            GroupKind.LINE, tuple((100 + 40 * i, y, 130 + 40 * i, y + 40) for i in range(n)), False
        )

    image = frame(panel=(40, 40, 150))
    labels = [line(5, 600 + 60 * k) for k in range(4)]
    crops = build_crops(image, [*labels, line(7, 200)])
    assert crops[0].box == line(7, 200).box


# --- the reader with the real recogniser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def reader(ocr_engine):
    from lane_controller.vision.containers import ContainerReader

    return ContainerReader(ocr_engine)


def best_valid(reads):
    valid = [r for r in reads.reads if r.valid]
    return valid[0] if valid else None


def test_reader_reads_a_horizontal_code_and_keeps_sha_and_box(reader):
    image = frame()
    where = put_line(image, "CSQU 305438 3", 600, 400)
    reads = reader.read(image, camera="rear")
    best = best_valid(reads)
    assert best is not None
    assert best.text == CODE
    assert best.kind is ReadKind.CONTAINER
    assert contains(where, best.box, slack=60)
    assert reads.image_sha256 == image_sha256(image)
    assert reads.camera == "rear"
    assert ContainerNumber.parse(best.text)


class _RecogniseOnly:
    """An engine that offers ``recognize`` and ``detect`` but not the network's posteriors."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self.calls = 0

    def recognize(self, *args, **kwargs):
        self.calls += 1
        return self._engine.recognize(*args, **kwargs)

    def detect(self, *args, **kwargs):
        return self._engine.detect(*args, **kwargs)


def test_an_engine_without_posteriors_is_read_through_recognize(ocr_engine):
    from lane_controller.vision.containers import ContainerReader
    from lane_controller.vision.engine import PosteriorSource

    engine = _RecogniseOnly(ocr_engine)
    assert not isinstance(engine, PosteriorSource)
    image = frame()
    put_line(image, "CSQU 305438 3", 600, 400)
    best = best_valid(ContainerReader(engine).read(image))  # type: ignore[arg-type]
    assert best is not None and best.text == CODE
    assert engine.calls > 0


@pytest.mark.parametrize(
    ("panel", "ink"),
    [((40, 40, 150), (255, 255, 255)), ((200, 200, 200), (20, 20, 20))],
    ids=["white-on-red", "dark-on-light"],
)
def test_reader_reads_a_vertical_code_one_character_per_row(reader, panel, ink):
    image = frame(panel=panel)
    put_column(image, CODE, 900, 200, ink=ink)
    best = best_valid(reader.read(image))
    assert best is not None
    assert best.text == CODE


def test_reader_reads_a_stacked_owner_code_and_serial(reader):
    image = frame(panel=(40, 110, 30))
    put_line(image, "CSQU", 700, 350)
    put_line(image, "3054383", 700, 450)
    put_line(image, "22G1", 700, 550)
    best = best_valid(reader.read(image))
    assert best is not None
    assert best.text == CODE


@pytest.mark.parametrize(
    "spoil",
    [
        lambda im: rotate(im, 3.0),
        lambda im: cv2.GaussianBlur(im, (5, 5), 1.5),
        lambda im: noisy(im, 12.0),
    ],
    ids=["rotated-3deg", "blurred", "noisy"],
)
def test_reader_survives_rotation_blur_and_noise(reader, spoil):
    image = frame()
    put_line(image, "CSQU 305438 3", 600, 400)
    best = best_valid(reader.read(spoil(image)))
    assert best is not None
    assert best.text == CODE


@pytest.mark.parametrize("layout", ["line", "column"])
def test_reader_reads_a_code_with_a_boxed_check_digit(reader, layout):
    image = boxed_code(layout)
    best = best_valid(reader.read(image))
    assert best is not None
    assert best.text == CODE


def test_reader_gives_a_clean_synthetic_read_auto_accept_confidence(reader):
    image = frame()
    put_line(image, "CSQU 305438 3", 600, 400)
    best = best_valid(reader.read(image))
    assert best is not None
    assert best.confidence >= AUTO_ACCEPT


def test_reader_reports_nothing_valid_on_a_blank_frame(reader):
    assert best_valid(reader.read(frame())) is None


# --- photographs -----------------------------------------------------------------------------------------

MARSA_FILES = {
    "1-124126001-OCR-RF-D01.jpg": "vertical",
    "1-125722001-OCR-AS-B01.jpg": "horizontal",
    "1-125722001-OCR-LB-C02.jpg": "vertical",
    "1-145327001-OCR-AH-A01.jpg": "horizontal",
    "1-145327001-OCR-RF-D01.jpg": "stacked",
    "1-125722001-OCR-RF-D01.jpg": "vertical, its N dropped unless the column is also read wider",
    "1-145327001-OCR-LB-C02.jpg": "stacked, a latch after the boxed check digit",
    "1-152733001-OCR-AH-A01.jpg": "vertical, its check digit misread: corrected readings ranked by agreement",
    "1-124126001-OCR-AS-B01.jpg": "horizontal, two corrections of one line tied: ranked by agreement",
    "1-142900001-OCR-AS-B01.jpg": "roof code without check digit, completed by the door's serial line",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MARSA_FILES))
def test_reader_reads_gate_photographs(reader, name):
    if not MARSA.is_dir():
        pytest.skip(f"{MARSA} is absent (set ${EVAL_ENV} to the eval folder)")
    with (MARSA / "labels.csv").open() as f:
        labels = {row["file"]: row["text"] for row in csv.DictReader(f)}
    image = cv2.imread(str(MARSA / name))
    best = best_valid(reader.read(image))
    assert best is not None, f"{name} ({MARSA_FILES[name]}): nothing valid read"
    assert best.text == labels[name]


def test_build_crops_reads_a_stacked_owner_code_and_serial_before_labels_of_like_length():
    """Corrugation broke the owner code into five blobs and merged two digits of the serial into six: by
    blob count alone they rank with the labels around them and fall past ``max_crops``; stacked, left
    edges aligned, the serial longer than the code, they are read first. A stack of labels is not."""
    from lane_controller.vision.containers import build_crops

    def line(n: int, x: int, y: int) -> TextGroup:
        return TextGroup(
            GroupKind.LINE, tuple((x + 40 * i, y, x + 30 + 40 * i, y + 40) for i in range(n)), False
        )

    image = frame(panel=(40, 40, 150))
    labels = [line(4, 700, 100 + 60 * k) for k in range(3)] + [line(7, 1200, 100 + 60 * k) for k in range(2)]
    owner, serial = line(5, 100, 600), line(6, 104, 650)
    crops = build_crops(image, [*labels, owner, serial])
    assert {c.box for c in crops[:2]} == {owner.box, serial.box}


def test_a_line_ends_at_its_framed_check_digit():
    from lane_controller.vision.containers import _end_at_frame

    chars = [(0, 0, 10, 20), (12, 0, 22, 20), (24, 0, 34, 20), (36, 0, 46, 20)]
    frame_box, digit, latch = (50, -4, 70, 24), (54, 0, 66, 20), (80, -10, 86, 30)
    assert _end_at_frame([*chars, frame_box, digit, latch], [frame_box]) == [*chars, frame_box]
    assert _end_at_frame([*chars, latch], []) == [*chars, latch]
    # a frame too early in the line is no check digit's
    assert _end_at_frame([chars[0], frame_box, digit, *chars[1:]], [frame_box])[-1] == chars[-1]


def test_build_crops_reads_the_boxed_check_digit_when_a_latch_follows_it():
    """A door latch right after the boxed check digit chained into the line: the line still ends at the
    box, whose digit is read on its own, and neither the latch nor the box is read with the serial."""
    from lane_controller.vision.containers import build_crops

    image = frame(panel=(40, 40, 150))
    chars = tuple((400 + 40 * i, 300, 430 + 40 * i, 340) for i in range(7))
    box, digit, latch = (676, 292, 710, 348), (684, 300, 702, 340), (740, 290, 748, 350)
    group = TextGroup(GroupKind.LINE, (*chars, box, digit, latch), False, (box,))
    first = build_crops(image, [group])[0]
    assert len(first.segments) == 2
    assert first.segments[-1].alphabet is Alphabet.DIGITS and first.segments[-1].one_char
    # the serial's crop (seven characters padded by 0.3 heights, at 64 pixels high) stops at the box
    serial = first.segments[0].image
    width, height = 676 - (400 - 0.3 * 40), 40 + 2 * 0.25 * 40
    assert serial.shape[1] == pytest.approx(64 * width / height, abs=2)


def test_reads_tied_on_calibrated_confidence_are_ordered_by_their_summed_support():
    """Two corrected readings are both capped; the text two readings found outranks the text one more
    confident reading found."""
    from lane_controller.vision.containers import _to_reads

    other = "MSKU3866036"
    box = (0, 0, 100, 20)
    assembled = [
        Assembled("CSQU3O54383", box, 0.6, ((CODE, 0.6),), (1,)),
        Assembled("CSQU3O5438B", box, 0.6, ((CODE, 0.6),), (1,)),
        Assembled("MSKU3B66036", box, 0.7, ((other, 0.7),), (1,)),
    ]
    reads = _to_reads(assembled)
    assert [r.text for r in reads[:2]] == [CODE, other]
    assert reads[0].confidence == reads[1].confidence == pytest.approx(CORRECTED_CAP)


def test_widened_crop_keeps_each_segments_height_alphabet_and_role():
    from lane_controller.vision.containers import Crop, Segment, widened

    crop = Crop(
        (
            Segment(np.zeros((64, 200), np.uint8), Alphabet.ANY),
            Segment(np.zeros((64, 40), np.uint8), Alphabet.DIGITS, True),
        ),
        (0, 0, 10, 10),
        20.0,
        GroupKind.LINE,
    )
    wide = widened(crop, 1.3)
    assert [s.image.shape for s in wide.segments] == [(64, 260), (64, 52)]
    assert [(s.alphabet, s.one_char) for s in wide.segments] == [
        (Alphabet.ANY, False),
        (Alphabet.DIGITS, True),
    ]
    assert (wide.box, wide.char_height, wide.kind) == (crop.box, crop.char_height, crop.kind)


def test_the_reader_also_reads_its_first_crops_widened(reader, monkeypatch):
    """The recogniser drops or merges characters of a condensed font at its own width: the best crops are
    read once more 1.3 times as wide, and both readings go to the assembly."""
    from lane_controller.vision.containers import ContainerReader, build_crops

    image = boxed_code("line")
    plain = build_crops(image, localise(image))[: reader.max_crops]
    seen: list[int] = []
    original = ContainerReader._recognise

    def spy(self, crops):
        seen.extend(c.segments[0].image.shape[1] for c in crops)
        return original(self, crops)

    monkeypatch.setattr(ContainerReader, "_recognise", spy)
    reader.read(image)
    upright = [c for c in plain[: reader.widened_crops] if c.kind is not GroupKind.ROTATED]
    assert upright, "the frame must give upright crops for this test to mean anything"
    assert seen[: len(plain)] == [c.segments[0].image.shape[1] for c in plain]
    assert seen[len(plain) :] == [round(c.segments[0].image.shape[1] * 1.3) for c in upright]


def test_tied_reads_rank_by_fewest_corrections_then_by_what_the_other_readings_agree_with():
    """A door code whose check digit was misread: every reading of the place is corrected and capped.
    The reading needing the fewest corrections leads; between equally corrected ones, the one the other
    readings agree with character by character (5037029 shares the 0 and the 2 with 5837021, 5037219
    does not)."""
    from lane_controller.vision.containers import _to_reads

    box = (0, 0, 100, 20)

    def reading(text: str, conf: float, cost: int) -> Assembled:
        return Assembled(text, box, conf, ((text, conf),), (cost,), True)

    tied = [reading("TEMU5037219", 0.67, 2), reading("TEMU5837021", 0.56, 3), reading("TEMU5037029", 0.67, 2)]
    assert [r.text for r in _to_reads(tied)] == ["TEMU5037029", "TEMU5037219", "TEMU5837021"]
    # fewer corrections outrank more support
    many = [reading("TEMU5837021", 0.6, 3)] * 3 + [reading("TEMU5037029", 0.5, 1)]
    assert _to_reads(many)[0].text == "TEMU5037029"


def test_a_number_read_without_its_check_digit_is_completed_from_the_serial_read_elsewhere():
    """The roof shows CXDU 160407 (its check digit cut off, the C read G); the door shows 160407 and
    the boxed 4. Joined, and corrected, they make CXDU1604074, below auto-accept: read in two places."""
    from lane_controller.vision.container_assembly import completed_check_digits

    roof = Piece("GXDU 160407", 0.8, (480, 240, 880, 280), 28.0)
    door = Piece("1604074", 0.9, (1140, 660, 1430, 720), 56.0)
    label = Piece("22G1", 0.9, (1140, 730, 1260, 780), 56.0)
    [joined] = completed_check_digits([roof, door, label])
    assert joined.text == "GXDU1604074"
    assert joined.box == (480, 240, 1430, 720)
    assert joined.corrections == 1 and joined.confidence == pytest.approx(0.8)
    best = calibrate(assemble([joined]))
    assert "CXDU1604074" in best
    assert best["CXDU1604074"][0] < AUTO_ACCEPT
    # no serial elsewhere, a serial with nothing after it, or a head that is not code and serial: nothing
    assert completed_check_digits([roof, label]) == []
    assert completed_check_digits([roof, Piece("X160407", 0.9, (0, 0, 1, 1))]) == []
    assert completed_check_digits([Piece("GXDU16040A", 0.8, (0, 0, 1, 1)), door]) == []
