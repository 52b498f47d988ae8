"""Per-truck voting: exact agreements, weights, alternatives and tie-breaking."""

from __future__ import annotations

import pytest

from lane_controller.vision.reads import FrameReads, Read, ReadKind, Vote
from lane_controller.vision.voting import vote

P = ReadKind.PLATE
C = ReadKind.CONTAINER


def read(text, confidence, *, valid=True, kind=P, at=0):
    """A read at place ``at`` of the frame (reads at one place are readings of one painted text)."""
    return Read(kind, text, confidence, (100 * at, 0, 100 * at + 10, 10), valid)


def frame(*reads, camera="front"):
    return FrameReads("sha", camera, tuple(reads))


def test_unanimous_frames_agree_fully():
    frames = [frame(read("KLA1234", 0.5)), frame(read("KLA1234", 0.25), camera="rear")]
    assert vote(frames, P, max_texts=1) == [Vote(P, "KLA1234", 1.0, 2, 0.375)]


def test_agreement_is_weight_over_frames_with_a_valid_read():
    frames = [
        frame(read("KLA1234", 0.5)),
        frame(read("KLA1234", 0.25)),
        frame(read("KLA1284", 0.25)),
        frame(read("XX", 0.9, valid=False)),  # no valid read: not counted
        frame(),
    ]
    votes = vote(frames, P, max_texts=1)
    assert votes == [Vote(P, "KLA1234", 0.75, 2, 0.375, alternatives=(("KLA1284", 0.25),))]


def test_a_frame_counts_a_text_once_with_its_best_read_and_weighs_its_best_read():
    frames = [frame(read("KLA1234", 0.5), read("KLA1234", 0.25, at=1), read("KLA1284", 0.25, at=2))]
    votes = vote(frames, P, max_texts=2)
    assert [(v.text, v.agreement, v.votes) for v in votes] == [("KLA1234", 1.0, 1), ("KLA1284", 0.5, 1)]
    assert votes[0].alternatives == ()


def test_two_containers_on_one_truck_both_agree():
    both = (read("CSQU3054383", 0.5, kind=C), read("MSKU1234565", 0.5, kind=C, at=1))
    frames = [
        frame(*both),
        frame(*both, camera="rear"),
        frame(read("CSQU3054383", 0.5, kind=C), camera="side"),
        frame(read("MSKU1234565", 0.5, kind=C), camera="top"),
    ]
    votes = vote(frames, C, max_texts=2)
    assert votes == [Vote(C, "CSQU3054383", 0.75, 3, 0.5), Vote(C, "MSKU1234565", 0.75, 3, 0.5)]


def test_other_kinds_and_invalid_reads_do_not_vote():
    frames = [frame(read("CSQU3054383", 0.9, kind=C), read("KLA1234", 0.9, valid=False))]
    assert vote(frames, P, max_texts=1) == []


def test_ties_are_broken_by_frame_count_then_text():
    frames = [frame(read("BBB1111", 0.5)), frame(read("AAA1111", 0.25)), frame(read("AAA1111", 0.25))]
    votes = vote(frames, P, max_texts=1)
    assert (votes[0].text, votes[0].votes) == ("AAA1111", 2)
    assert votes[0].alternatives == (("BBB1111", 0.5),)
    same = [frame(read("BBB1111", 0.5)), frame(read("AAA1111", 0.5))]
    assert [v.text for v in vote(same, P, max_texts=2)] == ["AAA1111", "BBB1111"]
    assert [v.text for v in vote(list(reversed(same)), P, max_texts=2)] == ["AAA1111", "BBB1111"]


def test_two_readings_of_one_place_are_one_text_with_an_alternative():
    """A reader offering two valid readings of one crop (same box) gives one vote, not two containers."""
    frames = [
        frame(read("CSQU3054383", 0.45, kind=C), read("CSQU3064381", 0.45, kind=C)),
        frame(read("CSQU3054383", 0.5, kind=C), read("CSQU3064381", 0.4, kind=C), camera="rear"),
    ]
    votes = vote(frames, C, max_texts=2)
    assert [(v.text, v.agreement, v.votes) for v in votes] == [("CSQU3054383", 1.0, 2)]
    ((text, share),) = votes[0].alternatives
    assert text == "CSQU3064381" and share == pytest.approx(0.85 / 0.95)
