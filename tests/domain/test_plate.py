import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lane_controller.domain.ocr_confusions import CONFUSIONS, DIGITS, LETTERS, Edit, char_class
from lane_controller.domain.plate import (
    DEFAULT_PLATE_MAX_COST,
    PLATE_FORMATS,
    InvalidPlate,
    Plate,
    PlateFormat,
    VehicleKind,
    normalise_plate,
    plate_candidates,
)

EVAL_SET_EXAMPLES = {
    "LLLDDDD": "KLA1234",
    "DDDLLL": "123ABC",
    "LLLDDD": "BLI686",
    "LLDDDD": "AB1234",
    "DDDDLL": "1234AB",
    "DDDDLD": "1234A5",
    "DDDLD": "123A4",
    "DLDDDD": "1A2345",
    "DLLDDD": "1AB234",
    "LDDDDD": "A12345",
    "LDLDDD": "A1B234",
}


@st.composite
def valid_plates(draw: st.DrawFn) -> str:
    plate_format = draw(st.sampled_from(PLATE_FORMATS))
    return "".join(draw(st.sampled_from(LETTERS if k == "L" else DIGITS)) for k in plate_format.shape)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KLA-1234", "KLA1234"),
        ("kla 1234", "KLA1234"),
        ("KLA.1234", "KLA1234"),
        ("KLA·1234", "KLA1234"),
        (" K L A - 1 2 3 4 ", "KLA1234"),
        ("ＫＬＡ－１２３４", "KLA1234"),
    ],
)
def test_normalise_plate(text, expected):
    assert normalise_plate(text) == expected


@pytest.mark.parametrize(("shape", "text"), EVAL_SET_EXAMPLES.items())
def test_eval_set_shapes_are_accepted(shape, text):
    plate = Plate.parse(text)
    assert str(plate) == text
    assert plate.formats[0].shape == shape


@pytest.mark.parametrize(
    ("text", "display", "patterns"),
    [
        ("KLA-1234", "KLA-1234", ["LLL-DDDD"]),
        ("AB2345", "AB-2345", ["LL-DDDD", "LLD-DDD"]),
        ("AB2-345", "AB-2345", ["LL-DDDD", "LLD-DDD"]),
        ("1AB234", "1AB-234", ["DLL-DDD"]),
        ("123A4", "123-A4", ["DDD-LD"]),
        ("1234AB", "1234-AB", ["DDDD-LL"]),
        ("12AB", "12-AB", ["DD-LL"]),
        ("AB12", "AB-12", ["LL-DD"]),
        ("BLI686", "BLI-686", ["LLL-DDD"]),
    ],
)
def test_parse_display_and_formats(text, display, patterns):
    plate = Plate.parse(text)
    assert plate.display() == display
    assert [f.pattern for f in plate.formats] == patterns


def test_kinds():
    assert VehicleKind.TRAILER in Plate.parse("KLA-1234").kinds
    assert Plate.parse("123-ABC").kinds == {VehicleKind.MOTORCYCLE}


def test_letters_i_and_o_are_allowed():
    assert str(Plate.parse("BLI-686")) == "BLI686"
    assert str(Plate.parse("OIA-1234")) == "OIA1234"


def test_plates_are_values():
    assert Plate.parse("kla-1234") == Plate("KLA1234")
    assert len({Plate.parse("KLA-1234"), Plate.parse("KLA 1234")}) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("KLA12345", "Taiwan plates have 4 to 7 characters, got 8"),
        ("KLA", "got 3"),
        ("KL#1234", "only letters A-Z and digits are allowed, got '#' at position 3"),
        ("ABCD12", "letter/digit layout LLLLDD (L letter, D digit) matches no known Taiwan plate format"),
        ("KLA-I234", "layout LLLLDDD"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(InvalidPlate) as info:
        Plate.parse(text)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_constructor_wants_the_normalised_form():
    with pytest.raises(InvalidPlate):
        Plate("KLA-1234")


def test_format_table_is_well_formed():
    assert len({f.pattern for f in PLATE_FORMATS}) == len(PLATE_FORMATS)
    for plate_format in PLATE_FORMATS:
        assert isinstance(plate_format, PlateFormat)
        assert plate_format.pattern.count("-") == 1
        assert set(plate_format.shape) <= {"L", "D"}
        assert plate_format.kinds
        assert plate_format.name
    assert set(EVAL_SET_EXAMPLES) <= {f.shape for f in PLATE_FORMATS}


@given(valid_plates())
def test_every_generated_plate_parses_and_round_trips(text):
    plate = Plate.parse(text)
    assert str(plate) == text
    assert Plate.parse(plate.display()) == plate
    assert plate.display().replace("-", "") == text


# --- OCR candidates -------------------------------------------------------------------------------------


def test_valid_read_returns_itself_at_cost_zero():
    result = plate_candidates("KLA-1234")
    assert result.best == Plate("KLA1234")
    assert result.best_cost == 0
    assert result.candidates[0].edits == ()
    assert not result.ambiguous


@pytest.mark.parametrize(
    ("read", "best", "cost", "edits"),
    [
        ("KLA-I234", "KLA1234", 1, [Edit(4, "I", "1", 1)]),
        ("K1A-1234", "KIA1234", 1, [Edit(2, "1", "I", 1)]),
        ("KLA-12S4", "KLA1254", 2, [Edit(6, "S", "5", 2)]),
        ("12B4-AB", "1284AB", 2, [Edit(3, "B", "8", 2)]),
    ],
)
def test_corrects_class_confusions(read, best, cost, edits):
    result = plate_candidates(read)
    assert str(result.best) == best
    assert result.best_cost == cost
    assert list(result.candidates[0].edits) == edits
    assert not result.ambiguous


def test_ranked_by_cost_then_text():
    result = plate_candidates("K1A-1234")
    assert [(str(c.value), c.cost) for c in result.candidates] == [
        ("KIA1234", 1),
        ("KLA1234", 2),
        ("KJA1234", 3),
    ]


def test_ambiguous_when_two_plates_tie():
    result = plate_candidates("KL7-1234")
    assert result.ambiguous
    assert [(str(c.value), c.cost) for c in result.candidates] == [("KLT1234", 3), ("KLZ1234", 3)]


def test_same_class_changes_are_not_proposed():
    assert [str(c.value) for c in plate_candidates("KVA-1234").candidates] == ["KVA1234"]


@pytest.mark.parametrize("read", ["", "KLA12345", "KL#1234", "ABCD"])
def test_nothing_within_reach(read):
    result = plate_candidates(read)
    assert result.best is None
    assert not result.ambiguous


def test_max_cost_limits_the_search():
    assert plate_candidates("KLA-12S4", max_cost=1).best is None


@given(valid_plates(), st.data())
def test_candidates_recover_one_cross_class_confusion(text, data):
    corruptions = [
        (i, other, cost)
        for i, c in enumerate(text)
        for other, cost in CONFUSIONS.get(c, {}).items()
        if char_class(other) != char_class(c)
    ]
    assume(corruptions)
    i, other, cost = data.draw(st.sampled_from(corruptions))
    read = text[:i] + other + text[i + 1 :]
    result = plate_candidates(read)
    found = {str(c.value): c.cost for c in result.candidates}
    assert found.get(text) == cost <= DEFAULT_PLATE_MAX_COST
    keys = [(c.cost, str(c.value)) for c in result.candidates]
    assert keys == sorted(keys)
    assert len({str(c.value) for c in result.candidates}) == len(keys)
    for candidate in result.candidates:
        assert Plate.parse(str(candidate.value)) == candidate.value
        assert candidate.cost == sum(e.cost for e in candidate.edits)
