"""Cheap cumulative per-stage timers (``time.perf_counter``), for the Selector's time split."""

from __future__ import annotations

import time

PIPELINE_STAGES = ("detection", "alignment", "scoring", "tracking", "selection", "sealing", "output")
"""Stages of :class:`facesel.selector.Selector`, in the order a frame passes them.

detection: the detector (including its own resizing); alignment: ``align_face`` for every face;
scoring: the quality scorer on the frame's batch of crops; tracking: the tracker update;
selection: the best-crop store and the per-track bookkeeping, building results; sealing: the
vault; output: the caller's ``on_result`` callback (e.g. writing files or plots).
"""


class StageTimer:
    """Seconds spent per stage and frames seen, summed over a run.

    Parameters
    ----------
    stages : tuple of str
    clock : callable returning seconds
        ``time.perf_counter`` (wall time, the default) or e.g. ``time.process_time`` (CPU time of
        the process, steadier than wall time on a machine shared with other work).
    """

    def __init__(self, stages: tuple[str, ...] = PIPELINE_STAGES, clock=time.perf_counter):
        if not callable(clock):
            raise TypeError(f"clock must be callable, got {type(clock).__name__}")
        self.clock = clock
        self.seconds = dict.fromkeys(stages, 0.0)
        self.frames = 0
        self._last = clock()

    def start(self) -> None:
        """Begin timing a frame: the next :meth:`lap` measures from now."""
        self._last = self.clock()

    def lap(self, stage: str) -> None:
        """Charge the time since the previous lap (or :meth:`start`) to ``stage``."""
        now = self.clock()
        self.seconds[stage] += now - self._last
        self._last = now

    def as_dict(self) -> dict:
        """``{"frames": int, "total": float, <stage>: float seconds, ...}``."""
        out = {"frames": self.frames, "total": float(sum(self.seconds.values()))}
        out.update(self.seconds)
        return out

    def reset(self) -> None:
        self.seconds = dict.fromkeys(self.seconds, 0.0)
        self.frames = 0
