"""Run the readers over labelled folders and measure them (``lane-controller eval-ocr``).

A folder holds images and ``labels.csv`` (``file,text,kind``; ``kind`` is ``plate`` or ``container``). The
folder's kind picks the reader; a plate folder's grammar comes from its name (:func:`grammar_for`). Per
image the *top read* is the reader's first valid read (the highest confidence, ties broken the reader's
way): it is exact, wrong-but-valid (a valid plate or container number that is not the label) or missing
(no read). Container folders are also scored
per truck (``1-<truck>-OCR-<view>-...`` file names): the truck's frames are voted, and the truck is right
when the voted texts include every label of its frames and no other text reaches ``agreement_threshold``.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

import cv2
import numpy as np

from lane_controller.vision.engine import Image, OcrEngine
from lane_controller.vision.plate_grammar import BRAZIL, PERMISSIVE, TAIWAN, PlateGrammar
from lane_controller.vision.plates import PlateReader
from lane_controller.vision.reads import FrameReader, FrameReads, ReadKind
from lane_controller.vision.voting import vote

DEFAULT_AGREEMENT_THRESHOLD: Final = 0.6
"""The lane's default: below it a truck goes to manual review."""

_TRUCK = re.compile(r"^\d+-(?P<truck>[^-]+)-OCR-")
_COUNTRY_GRAMMARS: Final[dict[str, PlateGrammar]] = {
    "tw": TAIWAN,
    "br": BRAZIL,
    "eu": PERMISSIVE,
    "us": PERMISSIVE,
}


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled image of a folder."""

    file: str
    text: str
    kind: ReadKind


@dataclass(frozen=True, slots=True)
class ImageResult:
    """The outcome for one image: ``outcome`` is ``exact``, ``wrong`` (wrong but valid) or ``none``."""

    file: str
    truth: str
    top: str | None
    confidence: float | None
    outcome: str
    latency_s: float


@dataclass(slots=True)
class FolderReport:
    """Metrics of one folder (rates are shares of its images; latencies in seconds per image)."""

    folder: str
    kind: str
    reader: str
    images: int = 0
    exact: int = 0
    wrong_valid: int = 0
    no_read: int = 0
    exact_rate: float = 0.0
    wrong_valid_rate: float = 0.0
    no_read_rate: float = 0.0
    latency_p50_s: float = 0.0
    latency_p95_s: float = 0.0
    trucks: int | None = None
    trucks_right: int | None = None
    truck_rate: float | None = None
    note: str = ""
    results: list[ImageResult] = field(default_factory=list)


LABEL_COLUMNS = ("file", "text", "kind")


class LabelsError(ValueError):
    """``labels.csv`` is not usable; the message names the file, the line and the column."""


def load_labels(folder: Path) -> list[Labelled]:
    """The rows of ``folder/labels.csv``, each checked: its three columns filled, a known kind, and an
    image file that exists. Raises :class:`LabelsError` on the first problem."""
    path = folder / "labels.csv"
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # a BOM, as spreadsheets write
            reader = csv.DictReader(handle)
            missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise LabelsError(
                    f"{path}: line 1: no column {', '.join(missing)} (need {','.join(LABEL_COLUMNS)})"
                )
            labels = [_label(path, folder, reader.line_num, row) for row in reader]
    except FileNotFoundError as exc:
        raise LabelsError(f"{path}: no such file") from exc
    except (IsADirectoryError, csv.Error) as exc:
        raise LabelsError(f"{path}: not a labels table ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise LabelsError(f"{path}: not UTF-8 text (byte offset {exc.start})") from exc
    if not labels:
        raise LabelsError(f"{path}: no labelled images")
    return labels


def _label(path: Path, folder: Path, line: int, row: dict[str, str | None]) -> Labelled:
    for column in LABEL_COLUMNS:
        if not row.get(column):
            raise LabelsError(f"{path}: line {line}: column {column} is empty")
    file, text, kind = (str(row[c]) for c in LABEL_COLUMNS)
    try:
        read_kind = ReadKind(kind)
    except ValueError as exc:
        known = ", ".join(k.value for k in ReadKind)
        raise LabelsError(f"{path}: line {line}: column kind: {kind!r} is not one of {known}") from exc
    if not (folder / file).is_file():
        raise LabelsError(f"{path}: line {line}: column file: no image {folder / file}")
    return Labelled(file, text, read_kind)


def grammar_for(folder: Path) -> PlateGrammar:
    """The plate grammar for a folder, by a country token in its name (``_br`` Brazil, ``_eu``/``_us``
    permissive, ``_tw`` or none Taiwan)."""
    for token in re.split(r"[^a-z]+", folder.name.lower()):
        if token in _COUNTRY_GRAMMARS:
            return _COUNTRY_GRAMMARS[token]
    return TAIWAN


def truck_id(file: str) -> str | None:
    """The truck id of a ``1-<truck>-OCR-<view>-...`` file name, else None."""
    match = _TRUCK.match(file)
    return match["truck"] if match else None


def make_reader(kind: ReadKind, folder: Path, engine: OcrEngine) -> FrameReader | None:
    """The reader for a folder of ``kind``; None when the container reader is not available."""
    if kind is ReadKind.PLATE:
        return PlateReader(engine, grammar_for(folder))
    try:
        from lane_controller.vision.containers import (  # noqa: PLC0415 - optional, written separately
            ContainerReader,
        )
    except ImportError:
        return None
    reader: FrameReader = ContainerReader(engine)
    return reader


def evaluate_folder(
    folder: Path,
    reader: FrameReader | None,
    *,
    limit: int | None = None,
    progress: TextIO | None = None,
    agreement_threshold: float = DEFAULT_AGREEMENT_THRESHOLD,
) -> FolderReport:
    """Run ``reader`` over the folder's labelled images (the first ``limit``) and measure it."""
    labels = load_labels(folder)[:limit] if limit else load_labels(folder)
    kinds = {label.kind for label in labels}
    kind = kinds.pop() if len(kinds) == 1 else ReadKind.PLATE
    report = FolderReport(folder.name, kind.value, type(reader).__name__ if reader else "none")
    if reader is None:
        report.note = "no container reader"
        return report
    frames: dict[str, list[tuple[Labelled, FrameReads]]] = {}
    latencies = []
    for i, label in enumerate(labels):
        image = _load(folder / label.file)
        started = time.perf_counter()
        reads = reader.read(image, camera=label.file)
        latency = time.perf_counter() - started
        latencies.append(latency)
        report.results.append(_score(label, reads, latency))
        if (truck := truck_id(label.file)) is not None:
            frames.setdefault(truck, []).append((label, reads))
        if progress is not None:
            _progress(progress, folder.name, i + 1, len(labels))
    _summarise(report, latencies)
    if kind is ReadKind.CONTAINER and frames:
        right = sum(_truck_right(truck, kind, agreement_threshold) for truck in frames.values())
        report.trucks, report.trucks_right = len(frames), right
        report.truck_rate = right / len(frames)
    return report


def _load(path: Path) -> Image:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return np.asarray(image, dtype=np.uint8)


def _score(label: Labelled, reads: FrameReads, latency: float) -> ImageResult:
    valid = [r for r in reads.reads if r.valid and r.kind is label.kind]
    # the reader lists its best first; a stable max keeps its order among equal confidences
    top = max(valid, key=lambda r: r.confidence, default=None)
    if top is None:
        return ImageResult(label.file, label.text, None, None, "none", latency)
    outcome = "exact" if top.text == label.text else "wrong"
    return ImageResult(label.file, label.text, top.text, top.confidence, outcome, latency)


def _summarise(report: FolderReport, latencies: Sequence[float]) -> None:
    outcomes = [r.outcome for r in report.results]
    report.images = len(outcomes)
    report.exact, report.wrong_valid, report.no_read = (outcomes.count(o) for o in ("exact", "wrong", "none"))
    if report.images:
        report.exact_rate = report.exact / report.images
        report.wrong_valid_rate = report.wrong_valid / report.images
        report.no_read_rate = report.no_read / report.images
        report.latency_p50_s = float(np.percentile(latencies, 50))
        report.latency_p95_s = float(np.percentile(latencies, 95))


def _truck_right(frames: list[tuple[Labelled, FrameReads]], kind: ReadKind, threshold: float) -> bool:
    truths = {label.text for label, _ in frames}
    votes = vote([reads for _, reads in frames], kind, max_texts=len(truths) + 2)
    voted = {v.text for v in votes}
    wrong = any(v.text not in truths and v.agreement >= threshold for v in votes)
    return truths <= voted and not wrong


def _progress(stream: TextIO, name: str, done: int, total: int, width: int = 30) -> None:
    filled = width * done // max(total, 1)
    end = "\n" if done == total else ""
    stream.write(f"\r{name} [{'#' * filled}{' ' * (width - filled)}] {done}/{total}{end}")
    stream.flush()


def report_json(reports: Sequence[FolderReport]) -> dict[str, Any]:
    """The JSON-ready report: per folder its metrics and per-image results."""
    return {"folders": [asdict(r) for r in reports]}


def run_eval(
    folders: Sequence[Path],
    out_dir: Path,
    *,
    engine_factory: Callable[[], OcrEngine],
    limit: int | None = None,
    progress: TextIO | None = None,
) -> list[FolderReport]:
    """Evaluate every folder, write ``report.json`` and ``report.png`` to ``out_dir``, return the reports;
    a progress bar goes to ``progress`` when given."""
    from lane_controller.vision.chart import write_chart  # noqa: PLC0415 - drawing only when reporting

    engine = engine_factory()
    reports = []
    for folder in folders:
        labels = load_labels(folder)
        kind = labels[0].kind if labels else ReadKind.PLATE
        reader = make_reader(kind, folder, engine)
        reports.append(evaluate_folder(folder, reader, limit=limit, progress=progress))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report_json(reports), indent=2), encoding="utf-8")
    write_chart(reports, out_dir / "report.png")
    return reports


def format_table(reports: Sequence[FolderReport]) -> str:
    """One line per folder: the figures eval-ocr prints."""
    lines = [
        f"{'folder':<30} {'n':>4} {'exact':>7} {'wrong':>11} {'no read':>8} {'trucks':>9} "
        f"{'p50 s':>7} {'p95 s':>7}"
    ]
    for r in reports:
        if r.note:
            lines.append(f"{r.folder:<30} {r.note}")
            continue
        trucks = f"{r.truck_rate:6.1%}" if r.truck_rate is not None else "-"
        lines.append(
            f"{r.folder:<30} {r.images:>4} {r.exact_rate:>7.1%} "
            f"{r.wrong_valid:>3} ({r.wrong_valid_rate:>5.1%}) {r.no_read_rate:>8.1%} {trucks:>9} "
            f"{r.latency_p50_s:>7.3f} {r.latency_p95_s:>7.3f}"
        )
    return "\n".join(lines)
