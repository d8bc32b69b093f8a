"""Shared loop of the A/B speed experiments (crowds_speed, persons_speed, second_pass_speed).

Each builds two Selectors that differ in one setting, feeds both the same frames (decoded once,
in memory) on one thread, alternating which goes first, and reports the CPU seconds of the process
per run (``time.process_time``): the median of each and their ratio. Only ratios within one run
mean anything on a shared machine.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Callable


def feed_all(selector, frames) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, results delivered) of feeding ``frames`` ((frame, stamp) pairs)
    to ``selector`` and flushing it."""
    cpu, wall = time.process_time(), time.perf_counter()
    delivered = 0
    for frame, stamp in frames:
        delivered += len(selector.feed(frame, stamp).closed)
    delivered += len(selector.flush())
    return time.process_time() - cpu, time.perf_counter() - wall, delivered


def alternate(make: dict[str, Callable[[], object]], frames, repeats: int) -> dict[str, list[float]]:
    """CPU seconds of ``repeats`` runs of each of the two Selector factories in ``make`` (name ->
    factory), alternating which runs first; one short warm-up run first (model loading, first-call
    allocations). Prints a line per run."""
    names = list(make)
    if len(names) != 2:
        raise ValueError(f"make must hold two factories, got {names}")
    feed_all(make[names[0]](), frames[:20])
    cpu = {name: [] for name in names}
    for k in range(repeats):
        for name in (names if k % 2 == 0 else names[::-1]):
            seconds, wall, delivered = feed_all(make[name](), frames)
            cpu[name].append(seconds)
            print(f"{name:8s} cpu {seconds:6.2f} s  wall {wall:6.2f} s  {len(frames) / seconds:5.2f} frames/CPU-s  "
                  f"{delivered} snapshots", flush=True)
    return cpu


def print_ratio(cpu: dict[str, list[float]]) -> None:
    """The median CPU of each and the first over the second, with the machine's load."""
    (a, runs_a), (b, runs_b) = cpu.items()
    ma, mb = statistics.median(runs_a), statistics.median(runs_b)
    print(f"median CPU s per run: {a} {ma:.2f}, {b} {mb:.2f}; {a}/{b} = {ma / mb:.3f} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
