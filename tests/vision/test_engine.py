"""The shared OCR engine's recogniser calls: EasyOCR's contrast-stretched second pass over crops it read
with little confidence runs only when asked for; the network's posteriors for crops of any width."""

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


def _text_crop(text: str) -> np.ndarray:
    """Dark text on a light grey crop as tall as the recogniser's input."""
    import cv2

    from lane_controller.vision.engine import RECOGNISER_HEIGHT

    (w, _h), _base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.3, 3)
    crop = np.full((RECOGNISER_HEIGHT, w + 40), 225, np.uint8)
    cv2.putText(crop, text, (20, 46), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 30, 3, cv2.LINE_AA)
    return crop


def _greedy(probs: np.ndarray, characters: str, allowed: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") -> str:
    """Best path decoding over the blank and the ``allowed`` characters (as the readers decode)."""
    keep = np.array([True] + [c in allowed for c in characters])
    best = np.where(keep, probs, 0.0).argmax(axis=1)
    return "".join(characters[b - 1] for i, b in enumerate(best) if b and (i == 0 or b != best[i - 1]))


def test_posteriors_decode_to_the_text_and_batching_changes_nothing(ocr_engine):
    crops = [_text_crop("CSQU"), _text_crop("3054383"), _text_crop("KLA1234")]
    characters = ocr_engine.characters
    alone = [ocr_engine.posteriors([c])[0] for c in crops]
    together = ocr_engine.posteriors(crops, batch_spread=10.0)  # one batch, padded to the widest crop
    for crop, one, batched in zip(crops, alone, together, strict=True):
        assert one.shape[1] == 1 + len(characters)
        assert np.allclose(one.sum(axis=1), 1.0, atol=1e-4)
        assert abs(one.shape[0] - crop.shape[1] / 4) <= 2  # a time step per four pixels of width
        assert abs(batched.shape[0] - one.shape[0]) <= 1  # the padding's time steps are cut off
        assert _greedy(batched, characters) == _greedy(one, characters)
    assert [_greedy(p, characters) for p in alone] == ["CSQU", "3054383", "KLA1234"]


@pytest.mark.parametrize("shape", [(64, 200, 3), (32, 200), (64, 0)])
def test_posteriors_refuse_a_crop_the_network_cannot_take(ocr_engine, shape):
    with pytest.raises(ValueError, match=r"crop 1: .*64 px tall") as refused:
        ocr_engine.posteriors([np.zeros((64, 100), np.uint8), np.zeros(shape, np.uint8)])
    assert str(refused.value).endswith(f"not shape {tuple(shape)}")


def test_posteriors_of_a_crop_narrower_than_the_network_needs(ocr_engine):
    """Alone in its batch a crop under 8 px wide is padded, as a batch is padded to its widest crop."""
    [probs] = ocr_engine.posteriors([np.full((64, 3), 200, np.uint8)])
    assert probs.shape == (1, 1 + len(ocr_engine.characters))
