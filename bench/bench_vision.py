"""Container reader latency per frame (p50/p95) on the marsa gate folder, and the recogniser on one crop.

    .venv/bin/python bench/bench_vision.py [--eval-dir ../shared/eval] [--repeat 1]

Also prints the exact-read rate against labels.csv. Run it on a quiet machine: the figures are medians
of wall-clock time and two cores shared with other work make them meaningless.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from lane_controller.vision.containers import Alphabet, ContainerReader
from lane_controller.vision.engine import OcrEngine


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--eval-dir", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "eval")
    )
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    folder = Path(args.eval_dir) / "marsa_maroc_gate_containers"

    engine = OcrEngine.shared()
    print(f"engine loaded in {engine.load_s:.1f} s ({engine.threads} threads)")

    crop = np.full((64, 420), 200, dtype=np.uint8)
    cv2.putText(crop, "CSQU 305438 3", (8, 46), cv2.FONT_HERSHEY_DUPLEX, 1.3, 20, 2)
    engine.recognize(crop, allowlist=Alphabet.ANY.value)
    times = []
    for _ in range(20):
        started = time.perf_counter()
        engine.recognize(crop, allowlist=Alphabet.ANY.value)
        times.append(time.perf_counter() - started)
    print(
        f"recogniser, one 64x420 crop: p50 {statistics.median(times) * 1000:.0f} ms "
        f"p95 {percentile(times, 0.95) * 1000:.0f} ms"
    )

    if not folder.is_dir():
        print(f"{folder} absent: no frame benchmark")
        return
    with (folder / "labels.csv").open() as f:
        labels = {row["file"]: row["text"] for row in csv.DictReader(f)}
    reader = ContainerReader(engine)
    latencies, exact = [], 0
    for _ in range(args.repeat):
        for name, text in labels.items():
            image = np.asarray(cv2.imread(str(folder / name)), dtype=np.uint8)
            result = reader.read(image)
            latencies.append(result.elapsed_s)
            valid = [r for r in result.reads if r.valid]
            exact += bool(valid) and valid[0].text == text
    n = len(latencies)
    print(
        f"container reader, {n} frames 1920x1080: p50 {statistics.median(latencies):.2f} s "
        f"p95 {percentile(latencies, 0.95):.2f} s, exact {exact}/{n}"
    )


if __name__ == "__main__":
    main()
