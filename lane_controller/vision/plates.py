"""The licence-plate reader: find plate text lines cheaply, recognise crops, keep what the grammar allows.

For one frame (:meth:`PlateReader.read`):

1. Localise: rows of character-like blobs (:func:`~lane_controller.vision.plate_locate.find_text_lines`)
   on a grey copy no larger than ``work_size`` pixels, the flat border of a letterboxed crop trimmed first;
   a plate's small print beside its characters is dropped (``small_print``) and a row whose glyphs lean
   once it is level is set upright (``deslant``).
2. Recognise: each of the best ``max_lines`` rows is cut out straightened, padded and widened to a normal
   glyph shape, and sent through EasyOCR's recogniser only, with the plate allowlist (tens of milliseconds
   a crop). A row that reads as a valid plate, but not with the confidence ``sure`` asks for, is read again
   at other widths (``variants``), binarised (``binarised_view``) and sharpened (``sharpened_view``). A row
   whose read is no plate of the grammar's longest length is read again lengthened at both ends
   (``extend``, or a character pitch per character it misses), unless it is one character short and
   accounts for every blob. A frame that is itself plate-shaped (a plate crop) and gave no valid row is
   also read whole.
3. Correct: the grammar turns each raw text into valid plates with a correction cost; a view votes for its
   cheapest plates with the recogniser's confidence, lowered by ``cost_penalty`` per unit of cost (a plate
   whose length is not the row's blob count costs ``length_cost`` more); a row's read is the plate with the
   best mean over its views, or the plate their characters vote for position by position where that has
   more support (``character_vote``). An ``H``, ``M``, ``N`` or ``W`` in it is then checked against its
   glyph's shape, and a digit against its glyph's width (``glyph_check``): the recogniser reads a condensed
   plate ``M`` as ``H`` and a bar-shaped ``1`` as ``7``. Reads of the same plate are merged.
4. Fallback (``detector_fallback``): when nothing valid was found, the CRAFT detector runs on a copy at most
   ``detector_size`` pixels large and its boxes are read the same way.

Every read keeps its box in the frame and the frame's SHA-256.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Final

import cv2
import numpy as np

from lane_controller.vision.engine import Image, OcrEngine, TextRead
from lane_controller.vision.glyph_shapes import check_letters
from lane_controller.vision.plate_grammar import PLATE_ALLOWLIST, TAIWAN, PlateGrammar, plate_readings
from lane_controller.vision.plate_locate import (
    TextLine,
    find_text_lines,
    line_crop,
    trim_uniform_border,
    with_slant,
    without_small_print,
)
from lane_controller.vision.reads import RAW_SEPARATOR, Box, FrameReads, Read, ReadKind, image_sha256

_PLATE_ASPECT: Final = (1.2, 6.5)  # width / height of a whole plate
_MAX_ALTERNATIVES: Final = 4
_SHARPEN_SIGMA: Final = 2.0  # pixels of the blur an unsharp mask subtracts, at the crop's scale
_SHARPEN_AMOUNT: Final = 0.8
_COMPLETION_SHARE: Final = 0.3  # of a short read's confidence a lengthened read containing it needs


@dataclass(frozen=True, slots=True)
class PlateReaderSettings:
    """Tuning knobs of :class:`PlateReader` (defaults suit 2-core CPUs and 720p-1080p lane cameras).

    ``glyph_aspect``: line crops are widened until their median character is this wide for its height
    (at most ``max_stretch`` times): plate fonts are condensed, the recogniser was trained on book text.
    ``variants``: further widenings (factors of that one) read for every line that gave a valid plate;
    the variants' confidences are averaged per plate, so a plate read the same way by all counts most.
    ``sure``: a first read that is a valid plate with at least this confidence and as many characters as
    the line has blobs is not read in the other views (their votes changed none of the Taiwan and Brazilian
    photographs' reads above 0.9, and they are four of a row's five recogniser passes; 0.8 lost a read);
    above 1 every valid row is read in every view.
    ``binarised_view``: the line at its first width, at Otsu's threshold, is one more view.
    ``sharpened_view``: so is the line at its first width with an unsharp mask (a small plate in a whole
    car photo is soft: a ``D``'s corners or a ``Q``'s tail blur into an ``O``).
    ``extend``: character heights the line of an invalid read, or of a short read (two or more characters
    short, or one short and leaving blobs unread), is lengthened by at each end for a second read, or by
    a character pitch per character the longest plate has beyond the line's blobs where that is more
    (positional grammars only; 0 disables it).
    ``length_cost``: correction cost of a plate whose length is not the number of character blobs the
    localiser found on the line (0 disables it).
    ``character_vote``: views that disagree on different characters are also combined position by position
    (:meth:`PlateReader._consensus`; positional grammars only: under a permissive one the views' texts
    need not be the same plate).
    ``small_print``: a line whose characters are under this share as tall as those of a line it lies on,
    above or below is a plate's small print (a state's name, a dealer's phone number on the plate's frame)
    and is not read (:func:`~lane_controller.vision.plate_locate.without_small_print`; 0 reads it).
    ``deslant``: a line whose glyphs lean by at least this shear once it is level (a plate seen from the
    side, an italic font) is cut out with them set upright (:func:`~lane_controller.vision.plate_locate.
    with_slant`; horizontal pixels per vertical pixel; 0 disables it).
    ``glyph_check``: an ``H``, ``M``, ``N`` or ``W`` in a valid read is checked against its glyph's shape
    (:mod:`~lane_controller.vision.glyph_shapes`) and replaced where the shape clearly shows another of them;
    a digit on a glyph as narrow as a bar becomes a ``1``.
    """

    work_size: int = 1600
    max_lines: int = 8
    min_char_px: float = 8.0
    pad: float = 0.3
    glyph_aspect: float = 0.7
    max_stretch: float = 1.8
    variants: tuple[float, ...] = (0.8, 1.25)
    sure: float = 0.9
    cost_penalty: float = 0.85
    binarised_view: bool = True
    sharpened_view: bool = True
    extend: float = 0.9
    small_print: float = 0.5
    deslant: float = 0.18
    glyph_check: bool = True
    length_cost: int = 2
    character_vote: bool = True
    detector_fallback: bool = True
    detector_size: int = 640


@dataclass(frozen=True, slots=True)
class _Crop:
    image: Image
    box: Box


class PlateReader:
    """Reads licence plates in a frame (implements the ``FrameReader`` Protocol)."""

    kind: ReadKind = ReadKind.PLATE

    def __init__(
        self,
        engine: OcrEngine,
        grammar: PlateGrammar = TAIWAN,
        settings: PlateReaderSettings | None = None,
    ) -> None:
        self.engine = engine
        self.grammar = grammar
        self.settings = settings or PlateReaderSettings()

    def read(self, image: Image, *, camera: str | None = None) -> FrameReads:
        """Every plate read in ``image`` (blocking: call it off the event loop), valid reads first."""
        started = time.perf_counter()
        sha = image_sha256(image)
        grey = _to_grey(image)
        x0, y0, x1, y1 = trim_uniform_border(grey)
        content = grey[y0:y1, x0:x1]
        reads = [self._read_line(content, line) for line in self._lines(content)]
        h, w = content.shape[:2]
        if not any(r.valid for r in reads) and _PLATE_ASPECT[0] <= w / max(h, 1) <= _PLATE_ASPECT[1]:
            reads.append(self._read_crops([_Crop(content, (0, 0, w, h))]))
        if self.settings.detector_fallback and not any(r.valid for r in reads):
            reads += [self._read_crops([crop]) for crop in self._detector_crops(content)]
        shifted = [_shift(r, x0, y0) for r in reads]
        return FrameReads(sha, camera, _merge(shifted), time.perf_counter() - started)

    def _lines(self, grey: Image) -> list[TextLine]:
        h, w = grey.shape[:2]
        scale = min(1.0, self.settings.work_size / max(h, w))
        small = grey if scale == 1.0 else _resize(grey, scale)
        lines = find_text_lines(
            small, min_char_h=self.settings.min_char_px * min(1.0, scale * 2), max_char_h=0.9 * small.shape[0]
        )
        lines = [_rescale(line, 1.0 / scale) for line in lines[: self.settings.max_lines]]
        if self.settings.small_print:
            lines = without_small_print(lines, ratio=self.settings.small_print)
        if not self.settings.deslant:
            return lines
        return [
            with_slant(grey, line, pad=self.settings.pad, min_slant=self.settings.deslant) for line in lines
        ]

    def _read_line(self, grey: Image, line: TextLine) -> Read:
        """The line's read (:meth:`_read_views`); when that is no plate of the grammar's longest length, the
        line is also read lengthened at each end (characters in a shadow or joined to a sticker or a dirt
        blot are not found as blobs) and the more confident read is kept, or the longer one where it
        completes the short one (:func:`_completes`). The line grows by ``extend`` character heights, or
        by a character pitch per character the longest plate has beyond the line's blobs (or the read's
        characters; at most the grammar's spread of lengths) where that is more: a blot joined to two
        characters cuts them and those beyond them from the line.
        A plate one character short of the longest that accounts for every blob (a six-character Taiwan
        plate) is not read again: that second read was a fifth of the recogniser's passes on the Taiwan
        photographs and changed none of their reads. A shorter one is. Only under a positional grammar: a
        permissive one would take the plate's edge or a sticker as characters."""
        lo, hi = self.grammar.lengths
        read = self._read_views(grey, line, line.chars if lo <= line.chars <= hi else None)
        full = read.valid and len(read.text) >= min(hi, max(line.chars, hi - 1))
        if not self.settings.extend or full or not self.grammar.positional:
            return read
        # at most as many characters as the grammar's plates differ in length: the lost ones may all lie at
        # one end, and a short row of blobs beside the plate must not grow across the frame
        missing = min(hi - lo, hi - max(line.chars, len(read.text) if read.valid else 0))
        pitch = (line.length - line.char_width) / max(line.chars - 1, 1)  # centre to centre
        extend = max(self.settings.extend * line.char_height, missing * pitch)
        longer = self._read_views(grey, _lengthened(line, extend), None)
        if not longer.valid:
            return read
        if not read.valid or longer.confidence > read.confidence:
            return longer
        if _completes(read, longer, line.chars) and longer.confidence >= _COMPLETION_SHARE * read.confidence:
            return longer
        return read

    def _read_views(self, grey: Image, line: TextLine, blobs: int | None) -> Read:
        """The line read at its glyph-normalising width, then in the other views if that was valid but not
        ``sure``; ``blobs``: how many characters the localiser found on it (see :meth:`_read_crops`)."""
        base = min(
            self.settings.max_stretch,
            max(1.0, self.settings.glyph_aspect * line.char_height / max(line.char_width, 1.0)),
        )
        first = self._crop(grey, line, base)
        first_text = self.engine.recognize(first.image, allowlist=PLATE_ALLOWLIST)[0]
        read = self._read_crops([first], blobs, known=(first_text,))
        sure = read.valid and read.confidence >= self.settings.sure and len(read.text) == blobs
        if read.valid and self.settings.variants and not sure:
            crops = [first, *(self._crop(grey, line, base * f) for f in self.settings.variants)]
            if self.settings.binarised_view:
                crops.append(_Crop(_binarised(first.image), first.box))
            if self.settings.sharpened_view:
                crops.append(_Crop(_sharpened(first.image), first.box))
            read = self._read_crops(crops, blobs, known=(first_text,))
        return self._check_glyphs(first.image, read)

    def _check_glyphs(self, line_image: Image, read: Read) -> Read:
        """``read`` with its H/M/N/W letters and 1s as their glyphs' shapes show them (``glyph_check``); the
        recogniser's plate is kept as the first alternative and the change is noted in ``raw``."""
        if not self.settings.glyph_check or not read.valid:
            return read
        splits = self.grammar.dash_positions(read.text) or _class_changes(read.text)
        checked = check_letters(line_image, read.text, pad=self.settings.pad, splits=splits)
        if checked == read.text or (checked, 0) not in self.grammar.exact(checked):
            return read
        alternatives = ((read.text, read.confidence), *(a for a in read.alternatives if a[0] != checked))
        return replace(
            read,
            text=checked,
            raw=f"{read.raw}{RAW_SEPARATOR}glyph shapes: {checked}",
            alternatives=alternatives[:_MAX_ALTERNATIVES],
        )

    def _crop(self, grey: Image, line: TextLine, stretch: float) -> _Crop:
        image, box = line_crop(grey, line, pad=self.settings.pad, stretch=stretch)
        return _Crop(image, box)

    def _detector_crops(self, grey: Image) -> list[_Crop]:
        h, w = grey.shape[:2]
        scale = min(1.0, self.settings.detector_size / max(h, w))
        small = grey if scale == 1.0 else _resize(grey, scale)
        crops = []
        found = self.engine.detect(small, canvas_size=self.settings.detector_size)
        for text_box in found[: self.settings.max_lines]:
            bx0, by0, bx1, by1 = (round(v / scale) for v in text_box.box)
            pad = round(0.15 * (by1 - by0))
            box = (max(0, bx0 - pad), max(0, by0 - pad), min(w, bx1 + pad), min(h, by1 + pad))
            if box[2] - box[0] >= 8 and box[3] - box[1] >= 8:
                crops.append(_Crop(grey[box[1] : box[3], box[0] : box[2]], box))
        return crops

    def _consensus(self, scores: dict[str, float], best: str) -> tuple[str, float] | None:
        """The plate of ``best``'s length taking at each position the character with the most vote, with
        its support (the vote behind its weakest character), when it is a valid plate other than ``best``
        with more support than ``best``: views that each misread a different character outvote the one
        that misread two."""
        votes: list[dict[str, float]] = [{} for _ in best]
        for plate, score in scores.items():
            if len(plate) == len(best):
                for i, char in enumerate(plate):
                    votes[i][char] = votes[i].get(char, 0.0) + score
        consensus = "".join(max(v.items(), key=lambda item: (item[1], item[0]))[0] for v in votes)
        if consensus == best or (consensus, 0) not in self.grammar.exact(consensus):
            return None

        def support(plate: str) -> float:
            return min(votes[i][c] for i, c in enumerate(plate))

        return (consensus, support(consensus)) if support(consensus) > support(best) else None

    def _read_crops(
        self, crops: list[_Crop], blobs: int | None = None, known: tuple[TextRead, ...] = ()
    ) -> Read:
        """One read from views of the same text: each plate scores the mean over the views of the
        recogniser's confidence lowered per unit of correction cost; the best plate wins. With ``blobs``
        (the localiser's character count), a plate of another length costs ``length_cost`` more: the
        recogniser merges a plain-bar ``1`` with the dash into a ``T`` or reads it as ``L``, the blob count
        does not. ``known``: what the recogniser already read in the first crops."""
        scores: dict[str, float] = {}
        raws = list(known)
        raws += [self.engine.recognize(c.image, allowlist=PLATE_ALLOWLIST)[0] for c in crops[len(known) :]]
        for text_read in raws:
            readings = plate_readings(self.grammar, text_read.text)
            if blobs is not None:
                readings = sorted(
                    (
                        (plate, cost + self.settings.length_cost * (len(plate) != blobs))
                        for plate, cost in readings
                    ),
                    key=lambda item: (item[1], -len(item[0]), item[0]),
                )
            for plate, cost in readings:
                if cost > readings[0][1]:  # a view votes only for its cheapest readings
                    break
                score = text_read.confidence * self.settings.cost_penalty**cost / len(crops)
                scores[plate] = scores.get(plate, 0.0) + score
        box = crops[0].box
        raw = max(raws, key=lambda r: r.confidence)
        if not scores:
            return Read(ReadKind.PLATE, raw.text, raw.confidence, box, False, raw=raw.text)
        # on a tie the longer plate wins: it explains more of what was read than one with characters dropped
        ranked = sorted(scores.items(), key=lambda item: (-item[1], -len(item[0]), item[0]))
        vote = self.settings.character_vote and self.grammar.positional
        consensus = self._consensus(scores, ranked[0][0]) if vote else None
        if consensus is not None:
            ranked.insert(0, consensus)
        (best, confidence), *others = ranked
        return Read(
            ReadKind.PLATE,
            best,
            round(confidence, 4),
            box,
            True,
            raw=RAW_SEPARATOR.join(r.text for r in raws),
            alternatives=tuple((t, round(c, 4)) for t, c in others[:_MAX_ALTERNATIVES]),
        )


def _completes(short: Read, longer: Read, blobs: int) -> bool:
    """Whether ``longer`` (the line read lengthened) is the plate ``short`` is part of: the ends it missed
    were there, only harder to read. So when ``short`` does not even account for the line's ``blobs`` and
    is part of ``longer``, or when it is a plate only after corrections and ``longer`` holds its
    characters as read, unchanged (``KLA-1`` read as ``KL41``: ``KLA1234``)."""
    if len(longer.text) <= len(short.text):
        return False
    if len(short.text) < blobs and short.text in longer.text:
        return True
    as_read = short.first_read
    return as_read != short.text and as_read in longer.text


def _class_changes(plate: str) -> frozenset[int]:
    """Where a plate turns from letters to digits or back: where its dash may stand when the grammar has
    no dash rule."""
    return frozenset(i for i in range(1, len(plate)) if plate[i - 1].isalpha() != plate[i].isalpha())


def _shift(read: Read, dx: int, dy: int) -> Read:
    if not dx and not dy:
        return read
    x0, y0, x1, y1 = read.box
    return replace(read, box=(x0 + dx, y0 + dy, x1 + dx, y1 + dy))


def _merge(reads: list[Read]) -> tuple[Read, ...]:
    """One read per text (the most confident), valid reads first, then by confidence and text."""
    best: dict[tuple[bool, str], Read] = {}
    for read in reads:
        key = (read.valid, read.text)
        if key not in best or read.confidence > best[key].confidence:
            best[key] = read
    return tuple(sorted(best.values(), key=lambda r: (not r.valid, -r.confidence, r.text)))


def _to_grey(image: Image) -> Image:
    if image.ndim == 2:
        return image
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return np.asarray(cv2.cvtColor(image, code), dtype=np.uint8)


def _binarised(grey: Image) -> Image:
    """Black and white at Otsu's threshold: a bold condensed glyph's inner strokes (the V of an ``M``, the
    middle of a ``W``) stand apart from each other instead of blurring into an ``H``."""
    _t, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return np.asarray(binary, dtype=np.uint8)


def _sharpened(grey: Image) -> Image:
    """``grey`` with an unsharp mask: edges steepened by subtracting a blurred copy."""
    blurred = cv2.GaussianBlur(grey, (0, 0), _SHARPEN_SIGMA)
    sharp = cv2.addWeighted(grey, 1.0 + _SHARPEN_AMOUNT, blurred, -_SHARPEN_AMOUNT, 0)
    return np.asarray(sharp, dtype=np.uint8)


def _resize(grey: Image, scale: float) -> Image:
    h, w = grey.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _lengthened(line: TextLine, by: float) -> TextLine:
    """``line`` lengthened by ``by`` pixels at each end, its box grown along the line to match."""
    dx = by * abs(math.cos(math.radians(line.angle)))
    dy = by * abs(math.sin(math.radians(line.angle)))
    x0, y0, x1, y1 = line.box
    box = (round(x0 - dx), round(y0 - dy), round(x1 + dx), round(y1 + dy))
    return replace(line, length=line.length + 2 * by, box=box)


def _rescale(line: TextLine, factor: float) -> TextLine:
    if factor == 1.0:
        return line
    return replace(
        line,
        box=tuple(round(v * factor) for v in line.box),  # type: ignore[arg-type]
        char_height=line.char_height * factor,
        char_width=line.char_width * factor,
        centre=(line.centre[0] * factor, line.centre[1] * factor),
        length=line.length * factor,
    )
