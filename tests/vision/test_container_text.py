"""Plate reads that are a container's own text: its size-and-type code beside its number, pieces of it."""

from __future__ import annotations

from lane_controller.vision.container_text import without_container_text
from lane_controller.vision.reads import Read, ReadKind

NUMBER = Read(ReadKind.CONTAINER, "CSQU3054383", 0.99, (800, 120, 1120, 170), True, raw="CSQU3054383")


def plate(text: str, box: tuple[int, int, int, int], raw: str | None = None) -> Read:
    return Read(ReadKind.PLATE, text, 0.6, box, True, raw=raw or text)


def test_the_size_type_code_below_the_number_is_not_a_plate() -> None:
    code = plate("22GI", (822, 180, 918, 220), raw="22G1 | 22G1")
    truck = plate("KLA1234", (140, 540, 320, 580))
    out = without_container_text([NUMBER, code, truck])
    assert [(r.text, r.valid) for r in out] == [("CSQU3054383", True), ("22GI", False), ("KLA1234", True)]
    assert out[1].raw.endswith("text of CSQU3054383")  # kept for the record, with the reason
    assert out[1].box == code.box and out[1].confidence == code.confidence


def test_a_size_type_code_is_caught_as_read_even_where_the_plate_it_became_is_no_code() -> None:
    """M5G1 read as it is painted; the grammar made it the plate MS61 (an S for the 5, a 6 for the G), which
    is no size-and-type code within the confusion budget."""
    out = without_container_text([NUMBER, plate("MS61", (822, 180, 918, 220), raw="M5G1 | M5G1")])
    assert not out[1].valid


def test_pieces_of_the_number_are_not_plates_wherever_they_lie() -> None:
    pieces = [plate("QU30", (749, 71, 905, 127)), plate("SQU3054", (10, 10, 300, 60), raw="CSQU-3054")]
    assert [r.valid for r in without_container_text([NUMBER, *pieces])] == [True, False, False]


def test_a_plate_sharing_only_digits_with_the_number_stays_a_plate() -> None:
    """A serial's digits can occur in a plate's first view by chance; letters and digits together that
    span the owner code and the serial are that container's."""
    truck = plate("KLA3054", (140, 540, 320, 580), raw="3054 | KLA-3054")
    assert without_container_text([NUMBER, truck])[1].valid


def test_a_plate_like_a_size_type_code_far_from_the_number_stays_a_plate() -> None:
    """An older four-character truck plate can look like a size-and-type code: on the cab, far from the
    container's number, it is read as a plate."""
    far = plate("22GI", (140, 540, 240, 580))
    assert without_container_text([NUMBER, far])[1].valid


def test_without_a_container_number_in_the_frame_every_plate_stays() -> None:
    reads = [plate("22GI", (822, 180, 918, 220)), plate("QU30", (749, 71, 905, 127))]
    invalid_number = Read(ReadKind.CONTAINER, "CSQU3054384", 0.5, NUMBER.box, False)
    assert without_container_text([invalid_number, *reads]) == (invalid_number, *reads)
