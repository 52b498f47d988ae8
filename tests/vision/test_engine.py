"""The shared OCR engine's recogniser calls: EasyOCR's contrast-stretched second pass over crops it read
with little confidence runs only when asked for."""

from __future__ import annotations

import numpy as np
import pytest


def _noise() -> np.ndarray:
    """A crop with no text: the recogniser reads it with a confidence under EasyOCR's 0.1."""
    return np.random.default_rng(7).integers(0, 256, (64, 200), dtype=np.uint8)


@pytest.mark.parametrize(("retry", "passes"), [(False, 1), (True, 2)])
def test_the_low_contrast_second_pass_runs_only_when_asked_for(ocr_engine, monkeypatch, retry, passes):
    import easyocr.recognition as recognition

    calls: list[int] = []
    original = recognition.recognizer_predict

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(recognition, "recognizer_predict", counting)
    [read] = ocr_engine.recognize(_noise(), low_contrast_retry=retry)
    assert len(calls) == passes
    assert read.confidence < 0.1
