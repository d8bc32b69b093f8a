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
pipeline's CPU (``time.process_time`` of the run). The same script runs on code before this
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


def wrap_parts(totals: dict) -> None:
    """Charge each part's calls to its label; a call inside another wrapped call is charged to
    the inner label only (the vote inside ``flush``, the colours inside ``update``)."""
    import importlib

    stack: list = []
    for module_name, owner_name, name, label in PARTS:
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        inner = getattr(owner, name, None)
        if inner is None:
            continue

        def timed(*args, _inner=inner, _label=label, **kwargs):
            start = time.thread_time()
            stack.append(0.0)
            try:
                return _inner(*args, **kwargs)
            finally:
                spent = time.thread_time() - start
                nested = stack.pop()
                totals[_label] += spent - nested
                if stack:
                    stack[-1] += spent

        setattr(owner, name, timed)


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
    wrap_parts(totals)

    def run() -> float:
        selector = Selector(detector, scorer, threads=1)
        start = time.process_time()
        for frame, stamp in frames:
            selector.feed(frame, stamp)
        selector.flush()
        return time.process_time() - start

    run()  # warm-up: model loading, first-call allocations
    runs, parts = [], defaultdict(list)
    for _ in range(args.repeats):
        totals.clear()
        runs.append(run())
        for label in {p[3] for p in PARTS}:
            parts[label].append(totals.get(label, 0.0))
    whole = statistics.median(runs)
    print(f"arcade, {len(frames)} frames, default pipeline on one thread: median CPU {whole:.3f} s a run "
          f"({args.repeats} runs)")
    cues = finaliser = 0.0
    for label in sorted(parts):
        value = statistics.median(parts[label])
        cues += value if label.startswith("cues") else 0.0
        finaliser += value if label.startswith("finaliser") else 0.0
        print(f"  {label:40s} {1000 * value:7.1f} ms  {100 * value / whole:5.2f} %")
    print(f"  {'cues, all':40s} {1000 * cues:7.1f} ms  {100 * cues / whole:5.2f} %")
    print(f"  {'finaliser, all':40s} {1000 * finaliser:7.1f} ms  {100 * finaliser / whole:5.2f} %")
    print(f"  {'both':40s} {1000 * (cues + finaliser):7.1f} ms  {100 * (cues + finaliser) / whole:5.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
