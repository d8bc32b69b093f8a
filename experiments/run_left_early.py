"""What a two-thread ``Selector.run`` loop left early delivers, and what it leaves held, with real
threads (docs/review.md, "Timing-dependent tests (session 18)").

1. The shipped clip to frame 30, then blank frames, ``max_age=1``: the tracker closes both people
   on the second blank frame, which detection reaches while selection is still at frame 30. The
   loop is left at frame 30 (at once, and after a 0.6 s pause that lets detection run ahead).
2. The shipped clip alone, left at each frame after a 0.6 s pause: at which frames the flush left a
   track's log or crops behind in the selection store.

Run: ``FACESEL_DATA=... PYTHONPATH=python python experiments/run_left_early.py``
"""

from __future__ import annotations

import time

import numpy as np
from facesel import Selector
from facesel.demo_data import demo_clip
from facesel.sinks import CallbackSink
from facesel.video import open_source


def leave(frames, leave_at: int, pause: float, **settings):
    """(track ids delivered, the Selector after its flush) for a loop left at ``leave_at``."""
    delivered = []
    selector = Selector(threads=2, sinks=[CallbackSink(delivered.append)], **settings)
    with selector:
        for view in selector.run(iter(frames), live=False):
            if view.frame_index == leave_at:
                time.sleep(pause)
                break
    return sorted(r.track_id for r in delivered), selector


def held(selector) -> tuple[int, int, int]:
    """(confirmed tracks open, track logs, crops) still held by the selection store."""
    store = selector._score.store
    return selector.open_tracks, len(store.logs), store.held_observations


def main() -> None:
    frames = list(open_source(demo_clip()))
    cut = frames[:31] + [(np.zeros_like(frames[0][0]), None)] * 8
    for pause in (0.0, 0.6, 0.6, 0.6):
        ids, selector = leave(cut, 30, pause, max_age=1)
        print(f"blank after frame 30, pause {pause}: delivered {ids}, held (open, logs, crops) {held(selector)}")
    left = [k for k in range(len(frames)) if held(leave(frames, k, 0.6)[1]) != (0, 0, 0)]
    print(f"shipped clip left after a 0.6 s pause: state held after the flush at frames {left} of {len(frames)}")


if __name__ == "__main__":
    main()
