"""Where the track finaliser's and the switch cues' CPU goes: each part's thread CPU on the arcade
video, as a share of the whole default pipeline's, in one run (docs/persons.md).

    python experiments/persons_costs.py [--repeats 3]

The video is decoded once into memory; each run feeds every frame to a fresh default
:class:`facesel.Selector` on one thread (``threads=1``, no sinks). The parts are timed by wrapping
their functions (``time.thread_time``, outermost call only; the wrapping itself costs about a
microsecond a call): the scene-change thumbnail (``TrackStage._cut``), the crowding test, the
colour histograms, the split checks (with the size / aspect jumps), the pinned-logo samples, the
finaliser's per-frame evidence (``Finaliser.observe``), its hold and re-link (``process`` and
``flush`` without the vote) and the not-a-face vote (``DoseFaceVote``, a VAE pass per finalist of
a doubtful track; ``vote_many`` since the finaliser votes on the tracks it judges together). Reported: the median over runs of each part in ms a run and in % of the
pipeline's CPU (``time.process_time`` of the run); then the same less the timing's own cost
(measured after each run on a wrapped function that does nothing: each part less its calls times
what a call charges, the run less every call times what it adds; about 1,100 calls a run, each
charging 1-3 us on the shared 2-core machine, where a thread-clock read is a system call). The same script runs on code before this
breakdown's functions existed (a part whose function is missing is left out).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import cv2

PARTS = (  # (module, owner attribute or None, function, label)
    ("facesel.track", "TrackStage", "_cut", "cues: scene-change thumbnail"),
    ("facesel.track", None, "crowded", "cues: crowding"),
    ("facesel.track", None, "appearances", "cues: colour histograms"),
    ("facesel.track", None, "appearance", "cues: colour histograms"),
    ("facesel.track", "TrackStage", "_jumps", "cues: split checks"),
    ("facesel.track", "TrackStage", "_check", "cues: split checks"),
    ("facesel.track", "TrackStage", "_pinned", "cues: pinned-logo samples"),
    ("facesel.select.finalise", "Finaliser", "observe", "finaliser: evidence"),
    ("facesel.select.finalise", "Finaliser", "process", "finaliser: hold, re-link, verdict"),
    ("facesel.select.finalise", "Finaliser", "flush", "finaliser: hold, re-link, verdict"),
    ("facesel.select.face_vote", "DoseFaceVote", "__call__", "finaliser: not-a-face vote (VAE)"),
    ("facesel.select.face_vote", "DoseFaceVote", "vote_many", "finaliser: not-a-face vote (VAE)"),
)


def timer(totals: dict, calls: dict, stack: list):
    """``wrap(function, label)``: ``function`` timed, its thread CPU charged to ``label`` in
    ``totals`` and its calls counted in ``calls``; a call inside another wrapped call is charged
    to the inner label only (the vote inside ``flush``, the colours inside ``update``)."""

    def wrap(inner, label):
        def timed(*args, **kwargs):
            start = time.thread_time()
            stack.append(0.0)
            try:
                return inner(*args, **kwargs)
            finally:
                spent = time.thread_time() - start
                nested = stack.pop()
                totals[label] += spent - nested
                calls[label] += 1
                if stack:
                    stack[-1] += spent

        return timed

    return wrap


def wrap_parts(wrap) -> None:
    """Replace each part's function by its timed wrapper (``wrap``, :func:`timer`)."""
    import importlib

    for module_name, owner_name, name, label in PARTS:
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        inner = getattr(owner, name, None)
        if inner is None:
            continue
        setattr(owner, name, wrap(inner, label))


def wrapper_cost(wrap, totals: dict, calls: int = 2000) -> tuple[float, float]:
    """(seconds a wrapped call charges to its part, seconds it adds to the run's process CPU),
    measured now on a function that does nothing: what each part's figure and the run's total
    hold of the timing itself (two thread-clock reads a call, about 1-3 us each on this machine)."""

    def nothing():
        return None

    timed = wrap(nothing, "wrapper")
    totals["wrapper"] = 0.0
    start = time.process_time()
    for _ in range(calls):
        timed()
    wrapped = time.process_time() - start
    start = time.process_time()
    for _ in range(calls):
        nothing()
    bare = time.process_time() - start
    charged = totals.pop("wrapper") / calls
    return charged, max(0.0, wrapped - bare) / calls


def main(argv=None) -> int:
    from facesel import Selector
    from facesel.data import data_root_or_exit
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs (default 3)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    frames = list(open_source(data_root_or_exit() / "videos" / "arcade_walkers_1080p.mp4"))
    detector, scorer = default_detector(), default_scorer()
    totals: dict = defaultdict(float)
    calls: dict = defaultdict(int)
    wrap = timer(totals, calls, [])
    wrap_parts(wrap)

    def run() -> float:
        selector = Selector(detector, scorer, threads=1)
        start = time.process_time()
        for frame, stamp in frames:
            selector.feed(frame, stamp)
        selector.flush()
        return time.process_time() - start

    run()  # warm-up: model loading, first-call allocations
    runs, parts, corrected, whole_corrected = [], defaultdict(list), defaultdict(list), []
    labels = sorted({p[3] for p in PARTS})
    for _ in range(args.repeats):
        totals.clear()
        calls.clear()
        runs.append(run())
        # the timing's own cost, measured right after the run (the same load): taken out of each
        # part (its calls x what a call charges) and out of the run (every call x what it adds)
        charged, added = wrapper_cost(wrap, totals)
        whole_corrected.append(runs[-1] - added * sum(calls.values()))
        for label in labels:
            parts[label].append(totals.get(label, 0.0))
            corrected[label].append(totals.get(label, 0.0) - charged * calls.get(label, 0))
    whole = statistics.median(runs)
    whole_c = statistics.median(whole_corrected)
    print(f"arcade, {len(frames)} frames, default pipeline on one thread: median CPU {whole:.3f} s a run "
          f"({args.repeats} runs); the last run's wrapped calls {sum(calls.values())}, each charging "
          f"{1e6 * charged:.2f} us to its part")
    print(f"  {'part':40s} {'ms':>7s}  {'%':>5s}    (less the timing's own cost: ms, %)")
    sums = defaultdict(float)
    for label in labels:
        value, value_c = statistics.median(parts[label]), statistics.median(corrected[label])
        group = "cues" if label.startswith("cues") else "finaliser"
        sums[group] += value
        sums[group + " c"] += value_c
        print(f"  {label:40s} {1000 * value:7.1f}  {100 * value / whole:5.2f}    {1000 * value_c:7.1f}  {100 * value_c / whole_c:5.2f}")
    for name, value, value_c in (("cues, all", sums["cues"], sums["cues c"]),
                                 ("finaliser, all", sums["finaliser"], sums["finaliser c"]),
                                 ("both", sums["cues"] + sums["finaliser"], sums["cues c"] + sums["finaliser c"])):
        print(f"  {name:40s} {1000 * value:7.1f}  {100 * value / whole:5.2f}    {1000 * value_c:7.1f}  {100 * value_c / whole_c:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
