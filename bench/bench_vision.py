"""Container reader latency per frame (p50/p95) on the marsa gate folder, and the recogniser on one crop.

    .venv/bin/python bench/bench_vision.py [--eval-dir ../shared/eval] [--repeat 1]

Also prints, against labels.csv: frames read exactly, wrong numbers that pass the check digit (with their
confidences, and how many reach ``AUTO_ACCEPT``), frames with no valid read, and the trucks (file-name
groups ``1-<truck>-OCR-...``) whose two containers are the top two after voting (summed confidence of the
valid reads). Latency figures are wall-clock medians: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from lane_controller.vision.containers import AUTO_ACCEPT, Alphabet, ContainerReader
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
    latencies: list[float] = []
    exact, none = 0, 0
    wrong: list[tuple[str, str, float]] = []
    votes: dict[str, dict[str, float]] = {}
    truth: dict[str, set[str]] = {}
    load_before = os.getloadavg()
    for _ in range(args.repeat):
        for name, text in labels.items():
            image = np.asarray(cv2.imread(str(folder / name)), dtype=np.uint8)
            result = reader.read(image)
            latencies.append(result.elapsed_s)
            valid = [r for r in result.reads if r.valid]
            truck = name.split("-")[1]
            truth.setdefault(truck, set()).add(text)
            for r in valid:
                votes.setdefault(truck, {})
                votes[truck][r.text] = votes[truck].get(r.text, 0.0) + r.confidence
            if not valid:
                none += 1
            elif valid[0].text == text:
                exact += 1
            else:
                wrong.append((name, valid[0].text, valid[0].confidence))
    n = len(latencies)
    print(
        f"container reader, {n} frames 1920x1080: p50 {statistics.median(latencies):.2f} s "
        f"p95 {percentile(latencies, 0.95):.2f} s (load average {load_before[0]:.1f} -> "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    above = sum(c >= AUTO_ACCEPT for _, _, c in wrong)
    print(f"exact {exact}/{n}, no valid read {none}, wrong but valid {len(wrong)} ({above} >= {AUTO_ACCEPT})")
    for name, text, confidence in wrong:
        print(f"  wrong {name}: {text} {confidence:.2f}")
    right = 0
    for truck, expected in sorted(truth.items()):
        top = sorted(votes.get(truck, {}).items(), key=lambda kv: -kv[1])[:2]
        ok = {t for t, _ in top} == expected
        right += ok
        shown = ", ".join(f"{t} {c:.2f}" for t, c in top)
        print(f"  truck {truck}: {'ok ' if ok else 'BAD'} {shown} (expected {', '.join(sorted(expected))})")
    print(f"trucks with both containers right after voting: {right}/{len(truth)}")


if __name__ == "__main__":
    main()
