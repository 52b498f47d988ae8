"""A bar chart of eval-ocr's figures drawn with OpenCV only (no plotting library).

Per folder one stacked bar: exact (green), wrong but valid (red), no read (grey), as shares of its
images, with the exact rate and p50 latency written under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import cv2
import numpy as np

if TYPE_CHECKING:
    from lane_controller.vision.evaluation import FolderReport

_BAR_W: Final = 90
_GAP: Final = 50
_PLOT_H: Final = 300
_TOP: Final = 50
_BOTTOM: Final = 90
_LEFT: Final = 60
_COLOURS: Final = {"exact": (80, 170, 60), "wrong": (60, 60, 210), "none": (170, 170, 170)}
_FONT: Final = cv2.FONT_HERSHEY_SIMPLEX


def write_chart(reports: Sequence[FolderReport], path: Path) -> None:
    """Draw the chart for ``reports`` and write it as a PNG to ``path``."""
    width = _LEFT + max(1, len(reports)) * (_BAR_W + _GAP) + _GAP + 160
    height = _TOP + _PLOT_H + _BOTTOM
    canvas = np.full((height, width, 3), 255, dtype=np.uint8)
    base = _TOP + _PLOT_H
    for pct in (0, 25, 50, 75, 100):
        y = base - _PLOT_H * pct // 100
        cv2.line(canvas, (_LEFT, y), (width - 170, y), (225, 225, 225), 1)
        cv2.putText(canvas, f"{pct}%", (8, y + 5), _FONT, 0.45, (90, 90, 90), 1, cv2.LINE_AA)
    cv2.putText(canvas, "eval-ocr: top read per image", (_LEFT, 30), _FONT, 0.7, (0, 0, 0), 2, cv2.LINE_AA)
    for i, report in enumerate(reports):
        x = _LEFT + _GAP // 2 + i * (_BAR_W + _GAP)
        y = base
        shares = (
            ("exact", report.exact_rate),
            ("wrong", report.wrong_valid_rate),
            ("none", report.no_read_rate),
        )
        for name, share in shares:
            h = round(_PLOT_H * share)
            if h > 0:
                cv2.rectangle(canvas, (x, y - h), (x + _BAR_W, y), _COLOURS[name], -1)
            y -= h
        label = report.folder if len(report.folder) <= 16 else report.folder[:15] + "~"
        cv2.putText(canvas, label, (x - 20, base + 20), _FONT, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
        figures = report.note or f"{report.exact_rate:.0%}  p50 {report.latency_p50_s:.2f}s"
        cv2.putText(canvas, figures, (x - 20, base + 40), _FONT, 0.42, (60, 60, 60), 1, cv2.LINE_AA)
        if report.truck_rate is not None:
            trucks = f"trucks {report.truck_rate:.0%}"
            cv2.putText(canvas, trucks, (x - 20, base + 60), _FONT, 0.42, (60, 60, 60), 1, cv2.LINE_AA)
    for j, (name, colour) in enumerate(_COLOURS.items()):
        y = _TOP + 20 + 25 * j
        cv2.rectangle(canvas, (width - 150, y - 12), (width - 135, y + 3), colour, -1)
        text = {"exact": "exact", "wrong": "wrong, valid", "none": "no read"}[name]
        cv2.putText(canvas, text, (width - 128, y), _FONT, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    if not cv2.imwrite(str(path), canvas):
        raise OSError(f"cannot write chart {path}")
