"""Per-truck voting over the reads of many frames from every camera of the lane.

Only valid reads vote (plate grammar, ISO 6346 check digit). In each frame a text counts once, with the
confidence of its best read there; a frame's weight is the confidence of its best valid read of the kind.
A text's ``agreement`` is its summed weight over the summed weight of the frames that produced any valid
read of that kind: 1.0 when every such frame read it as its best, lower when frames disagree or read it
with less confidence than something else. Two containers on one truck can both reach 1.0.

Reads of one frame whose boxes overlap are competing readings of one painted text (a reader may offer
two valid readings of one crop): only the first of them in the reader's order (best first) votes there, the
others are kept as alternatives. Two containers on one truck are two places in the frame.

Texts are ranked by agreement, then by the number of frames that read them, then by text (deterministic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lane_controller.vision.reads import Box, FrameReads, ReadKind, Vote


@dataclass(slots=True)
class _Tally:
    weight: float = 0.0
    frames: int = 0


def vote(frames: Sequence[FrameReads], kind: ReadKind, *, max_texts: int) -> list[Vote]:
    """The ``max_texts`` best-agreed texts of ``kind`` over ``frames``; each keeps the texts that were not
    chosen as its alternatives (text, agreement), best first. Empty when no frame read a valid text."""
    tallies: dict[str, _Tally] = {}
    rivals: dict[str, _Tally] = {}
    total = 0.0
    for frame in frames:
        best_here: dict[str, float] = {}
        places: list[Box] = []
        for read in frame.reads:
            if read.kind is not kind or not read.valid:
                continue
            if read.text not in best_here and any(_same_place(read.box, p) for p in places):
                rival = rivals.setdefault(read.text, _Tally())
                rival.weight += read.confidence
                rival.frames += 1
                continue
            places.append(read.box)
            best_here[read.text] = max(read.confidence, best_here.get(read.text, 0.0))
        if not best_here:
            continue
        total += max(best_here.values())
        for text, confidence in best_here.items():
            tally = tallies.setdefault(text, _Tally())
            tally.weight += confidence
            tally.frames += 1
    if total <= 0.0:
        return []
    ranked = sorted(tallies.items(), key=lambda item: (-item[1].weight, -item[1].frames, item[0]))
    chosen, rest = ranked[:max_texts], ranked[max_texts:]
    # Readings that only ever lost to another in its place: alternatives after the texts that voted.
    rest += sorted(
        ((t, r) for t, r in rivals.items() if t not in tallies),
        key=lambda item: (-item[1].weight, item[0]),
    )
    alternatives = tuple((text, _agreement(tally, total)) for text, tally in rest)
    return [
        Vote(
            kind=kind,
            text=text,
            agreement=_agreement(tally, total),
            votes=tally.frames,
            confidence=tally.weight / tally.frames,
            alternatives=alternatives,
        )
        for text, tally in chosen
    ]


def _same_place(a: Box, b: Box) -> bool:
    """The boxes overlap by more than half of the smaller one."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return False
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return smaller > 0 and w * h > smaller / 2


def _agreement(tally: _Tally, total: float) -> float:
    return min(1.0, tally.weight / total)
