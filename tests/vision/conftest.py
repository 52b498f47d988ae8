"""Shared vision fixtures: one OCR engine per test session (loading it takes seconds) and the folder of
real labelled photographs (``../shared/eval`` beside the repository, or ``$LANE_CONTROLLER_EVAL_DIR``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

EVAL_DIR_ENV = "LANE_CONTROLLER_EVAL_DIR"
REPO = Path(__file__).resolve().parents[2]


def eval_root() -> Path:
    """Where the real evaluation photographs are (they are never copied into the repository)."""
    override = os.environ.get(EVAL_DIR_ENV)
    return Path(override) if override else (REPO / ".." / "shared" / "eval").resolve()


@pytest.fixture(scope="session")
def ocr_engine():
    """The process's shared OCR engine (EasyOCR, offline weights); skips when it cannot load."""
    from lane_controller.vision.engine import OcrEngine, OcrUnavailable

    try:
        return OcrEngine.shared()
    except OcrUnavailable as exc:  # pragma: no cover - depends on the installation
        pytest.skip(f"OCR engine unavailable: {exc}")


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """The evaluation folder; skips with the path it looked at when it is absent."""
    root = eval_root()
    if not root.is_dir():
        pytest.skip(f"real evaluation photographs not found at {root} (set ${EVAL_DIR_ENV} to use others)")
    return root
