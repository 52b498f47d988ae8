import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import iso6346

from lane_controller.domain.container_number import (
    CHECK_DIGIT_SUBSTITUTION_COST,
    DEFAULT_MAX_COST,
    ContainerNumber,
    InvalidContainerNumber,
    _remainder,
    candidates,
    compute_check_digit,
    single_substitution_collision,
)
from lane_controller.domain.ocr_confusions import CONFUSIONS, DIGITS, LETTERS, Edit, char_class

KNOWN_VALID = ["CSQU3054383", "MSCU1234566", "MSKU9070323", "TGHU4667175", "CAIZ1234565", "GESJ1234567"]


@st.composite
def valid_numbers(draw: st.DrawFn) -> ContainerNumber:
    owner = draw(st.text(LETTERS, min_size=3, max_size=3))
    category = draw(st.sampled_from("UJZ"))
    serial = draw(st.text(DIGITS, min_size=6, max_size=6))
    return ContainerNumber.build(owner, category, serial)


# --- parsing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", KNOWN_VALID)
def test_known_numbers_parse(text):
    number = ContainerNumber.parse(text)
    assert str(number) == text
    assert iso6346.is_valid(text)


def test_parts_and_forms():
    number = ContainerNumber.parse("CSQU3054383")
    assert (number.owner, number.category, number.serial, number.check_digit) == ("CSQ", "U", "305438", 3)
    assert str(number) == "CSQU3054383"
    assert number.formatted() == "CSQU 305438 3"


@pytest.mark.parametrize(
    "text",
    [
        "MSCU 123456 6",
        "mscu1234566",
        "MSCU-123456-6",
        " M.S.C.U 123456.6 ",
        "MSCU·123456·6",
        "ＭＳＣＵ１２３４５６６",
    ],
)
def test_parse_accepts_ocr_ish_text(text):
    assert ContainerNumber.parse(text) == ContainerNumber("MSC", "U", "123456", 6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("MSCU123456", "must have 11 characters (4 letters, 6 digits, check digit), got 10"),
        ("MSCU12345667", "got 12"),
        ("MSCU12#4566", "unexpected character '#' at position 7"),
        ("MSCU12E4566", "position 7 (serial number) must be a digit, got 'E'"),
        ("M5CU1234566", "position 2 (owner code) must be a letter, got '5'"),
        ("MSCU123456O", "position 11 (check digit) must be a digit, got 'O'"),
        ("MSCR1234566", "position 4 (equipment category) must be U, J or Z, got 'R'"),
        ("MSC01234566", "position 4 (equipment category) must be U, J or Z, got '0'"),
        ("MSCU1234567", "wrong check digit 7 for MSCU123456: expected 6"),
    ],
)
def test_parse_errors_name_the_problem(text, message):
    with pytest.raises(InvalidContainerNumber) as info:
        ContainerNumber.parse(text)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_parse_lists_every_position_problem():
    with pytest.raises(InvalidContainerNumber) as info:
        ContainerNumber.parse("M5CV12E4566")
    assert info.value.problems == (
        "position 2 (owner code) must be a letter, got '5'",
        "position 4 (equipment category) must be U, J or Z, got 'V'",
        "position 7 (serial number) must be a digit, got 'E'",
    )


def test_stdnum_accepts_r_but_we_do_not():
    body = "MSCR123456"
    text = body + iso6346.calc_check_digit(body)
    assert iso6346.is_valid(text)
    with pytest.raises(InvalidContainerNumber, match="must be U, J or Z"):
        ContainerNumber.parse(text)


def test_constructor_validates():
    with pytest.raises(InvalidContainerNumber, match="expected 3"):
        ContainerNumber("CSQ", "U", "305438", 4)
    with pytest.raises(InvalidContainerNumber):
        ContainerNumber("CSQU", "U", "30543", 3)


def test_build_computes_check_digit():
    assert str(ContainerNumber.build("csq", "U", "305438")) == "CSQU3054383"
    assert compute_check_digit("CSQU305438") == 3


def test_numbers_are_hashable_values():
    assert len({ContainerNumber.parse("CSQU3054383"), ContainerNumber.parse("csqu 305438 3")}) == 1


@given(valid_numbers())
def test_every_valid_number_parses(number):
    assert ContainerNumber.parse(str(number)) == number
    assert ContainerNumber.parse(number.formatted()) == number
    assert ContainerNumber.parse(str(number).lower()) == number
    assert iso6346.is_valid(str(number))


# --- check digit blind spots ----------------------------------------------------------------------------


def test_letters_eleven_apart_collide():
    assert ContainerNumber.parse("APZU1234569")
    assert ContainerNumber.parse("KPZU1234569")
    reason = single_substitution_collision("APZU1234569", "KPZU1234569")
    assert reason is not None
    assert "A (value 10) and K (value 21) differ by 11" in reason


def test_confusion_pair_m_w_collides():
    assert ContainerNumber.parse("WSCU1234566")
    assert single_substitution_collision("MSCU1234566", "WSCU1234566") is not None


def test_remainder_ten_and_zero_collide():
    # EISU123456 sums to 10 mod 11 and EISU128456 to 0: both have check digit 0.
    assert ContainerNumber.parse("EISU1234560")
    assert ContainerNumber.parse("EISU1284560")
    reason = single_substitution_collision("EISU1234560", "EISU1284560")
    assert reason is not None
    assert "between 0 and 10" in reason


def test_category_collision_is_still_rejected_by_parse():
    assert single_substitution_collision("MSCU1234566", "MSCK1234566") is not None
    with pytest.raises(InvalidContainerNumber, match="must be U, J or Z"):
        ContainerNumber.parse("MSCK1234566")


@pytest.mark.parametrize(
    ("original", "corrupted"),
    [
        ("CSQU3054383", "CSQU3054393"),  # detected
        ("CSQU3054383", "CSQU3054384"),  # check digit itself
        ("CSQU3054383", "CSQU3054383"),  # identical
        ("APZU1234569", "KPZU1234568"),  # two substitutions
        ("CSQU3054383", "CSQU305438"),  # length
        ("CSQU3054383", "CSQU30543#3"),  # not alphanumeric
    ],
)
def test_no_collision(original, corrupted):
    assert single_substitution_collision(original, corrupted) is None


def _same_class_substitutions(text):
    for i, c in enumerate(text):
        for other in LETTERS if c in LETTERS else DIGITS:
            if other != c:
                yield i, text[:i] + other + text[i + 1 :]


def _check_substitution(text, i, corrupted):
    reason = single_substitution_collision(text, corrupted)
    try:
        ContainerNumber.parse(corrupted)
    except InvalidContainerNumber:
        pass
    else:
        assert reason is not None, corrupted
    undetected_by_check_digit = i < 10 and compute_check_digit(text[:10]) == compute_check_digit(
        corrupted[:10]
    )
    assert (reason is not None) == undetected_by_check_digit, corrupted


@pytest.mark.parametrize("text", [*KNOWN_VALID, "EISU1234560", "APZU1234569"])
def test_every_same_class_substitution_is_detected_or_explained(text):
    for i, corrupted in _same_class_substitutions(text):
        _check_substitution(text, i, corrupted)


@given(valid_numbers(), st.data())
def test_same_class_substitution_is_detected_or_explained(number, data):
    text = str(number)
    i = data.draw(st.integers(0, 10))
    pool = LETTERS if i < 4 else DIGITS
    other = data.draw(st.sampled_from(pool).filter(lambda c: c != text[i]))
    _check_substitution(text, i, text[:i] + other + text[i + 1 :])


# --- OCR candidates -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", KNOWN_VALID)
def test_valid_read_returns_itself_at_cost_zero(text):
    result = candidates(text)
    assert str(result.best) == text
    assert result.best_cost == 0
    assert result.candidates[0].edits == ()
    assert not result.ambiguous


@pytest.mark.parametrize(
    ("read", "best", "cost", "edits"),
    [
        ("CSQU 3O5438 3", "CSQU3054383", 1, [Edit(6, "O", "0", 1)]),
        ("C5QU3054383", "CSQU3054383", 2, [Edit(2, "5", "S", 2)]),
        ("CSQV3054383", "CSQU3054383", 2, [Edit(4, "V", "U", 2)]),
        ("EISU123456O", "EISU1234560", 1, [Edit(11, "O", "0", 1)]),
        ("0OLU1234567", "OOLU1234567", 1, [Edit(1, "0", "O", 1)]),
    ],
)
def test_corrects_ocr_confusions(read, best, cost, edits):
    result = candidates(read)
    assert str(result.best) == best
    assert result.best_cost == cost
    assert list(result.candidates[0].edits) == edits
    assert not result.ambiguous


def test_check_digit_substitution_is_a_last_resort():
    result = candidates("CSQU3054384")
    assert [(str(c.value), c.cost) for c in result.candidates] == [
        ("CSQU3054383", CHECK_DIGIT_SUBSTITUTION_COST),
        ("CSOU3064384", 5),
    ]
    assert result.candidates[0].edits == (Edit(11, "4", "3", CHECK_DIGIT_SUBSTITUTION_COST),)


def test_unreadable_check_digit_is_recomputed():
    result = candidates("MSCU123456#")
    assert str(result.best) == "MSCU1234566"
    assert result.best_cost == CHECK_DIGIT_SUBSTITUTION_COST


def test_no_check_digit_substitution_when_something_cheaper_exists():
    # Replacing the check digit would give MSCU1234566 at cost 4; MSGU1234560 (C->G, O->0) costs 3.
    for read in ("MSCU123456O", "CSQU3054383"):
        result = candidates(read, max_cost=8)
        assert result.candidates
        assert "MSCU1234566" not in {str(c.value) for c in result.candidates}
        assert not any(
            e.position == 11 and e.cost == CHECK_DIGIT_SUBSTITUTION_COST
            for c in result.candidates
            for e in c.edits
        )


def test_ambiguous_when_two_valid_numbers_tie():
    result = candidates("CSQU3054883")
    assert result.ambiguous
    assert [(str(c.value), c.cost) for c in result.candidates[:2]] == [("CSQU3054383", 3), ("CSQU3054803", 3)]


@pytest.mark.parametrize("read", ["", "CSQU305438", "CSQU30543833", "C5QU3O5438E"])
def test_nothing_within_reach(read):
    result = candidates(read)
    assert result.best is None
    assert result.candidates == ()
    assert not result.ambiguous


def test_max_cost_limits_the_search():
    assert candidates("C5QU3054383", max_cost=1).best is None
    assert str(candidates("C5QU3054383", max_cost=2).best) == "CSQU3054383"


def _cross_class_corruptions(text):
    return [
        (i, other, cost)
        for i, c in enumerate(text)
        for other, cost in CONFUSIONS.get(c, {}).items()
        if char_class(other) != char_class(c)
    ]


@given(valid_numbers(), st.data())
def test_candidates_recover_one_cross_class_confusion(number, data):
    text = str(number)
    corruptions = _cross_class_corruptions(text)
    assume(corruptions)
    i, other, cost = data.draw(st.sampled_from(corruptions))
    result = candidates(text[:i] + other + text[i + 1 :])
    found = {str(c.value): c.cost for c in result.candidates}
    assert found.get(text) == cost
    assert result.best_cost is not None
    assert result.best_cost <= cost <= DEFAULT_MAX_COST


@given(valid_numbers(), st.data())
def test_candidates_are_valid_ranked_and_explained(number, data):
    text = list(str(number))
    for _ in range(data.draw(st.integers(0, 3))):
        text[data.draw(st.integers(0, 10))] = data.draw(st.sampled_from(LETTERS + DIGITS))
    read = "".join(text)
    result = candidates(read)
    keys = [(c.cost, str(c.value)) for c in result.candidates]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    for candidate in result.candidates:
        assert ContainerNumber.parse(str(candidate.value)) == candidate.value
        assert candidate.cost == sum(e.cost for e in candidate.edits) <= DEFAULT_MAX_COST
        rebuilt = list(read)
        for edit in candidate.edits:
            assert rebuilt[edit.position - 1] == edit.read
            rebuilt[edit.position - 1] = edit.corrected
        assert "".join(rebuilt) == str(candidate.value)


@given(st.text(LETTERS + DIGITS, min_size=10, max_size=10))
def test_internal_values_agree_with_stdnum(body):
    assert str(_remainder(body) % 10) == iso6346.calc_check_digit(body)
