"""Concurrent writes to an array while a binding that releases the GIL reads it (review round 16b).

``_core.Tracker.update`` takes a C-contiguous float32 array without copying it and releases the GIL;
a Python thread may then write to the same array while the core validates and uses it. One thread
flips box values between valid ones and NaN / +-inf / +-3e38 / a denormal while this process calls
``update`` for 20 s. A crash or hang would end or stall the process; the output counts the calls and
the refusals (a flipped value seen by the core's check).

Run: ``PYTHONPATH=python python experiments/binding_race_probe.py iou|euclidean|dense`` (one process
per setting: a crash ends only that run).
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
from facesel import _core

DURATION_S = 20.0
N_BOXES = 40


def main(which: str) -> None:
    rng = np.random.default_rng(0)
    corners = np.sort(rng.uniform(0, 500, (N_BOXES, 2, 2)).astype(np.float32), axis=1).reshape(N_BOXES, 4)
    corners[:, 2:] += 20  # x2 > x1, y2 > y1
    boxes = corners.copy()
    stop = threading.Event()

    def flip() -> None:
        odd = [np.nan, np.inf, -np.inf, 3e38, -3e38, 1e-45]
        i = 0
        while not stop.is_set():
            row, col = i % N_BOXES, i % 4
            boxes[row, col] = odd[i % len(odd)]
            boxes[row, col] = corners[row, col]
            i += 1

    metric = "iou" if which == "iou" else "euclidean"
    association = "dense" if which == "dense" else "components"
    tracker = _core.Tracker(metric, 100.0, 0.3, 1, 5, True, 100, association, 0.0, True)
    writer = threading.Thread(target=flip)
    writer.start()
    calls = refused = 0
    end = time.monotonic() + DURATION_S
    try:
        while time.monotonic() < end:
            try:
                tracker.update(boxes, np.ones(N_BOXES, np.float32))
            except ValueError:
                refused += 1
            calls += 1
    finally:
        stop.set()
        writer.join()
    print(f"{which}: {calls} calls, {refused} refused, no crash")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "iou")
