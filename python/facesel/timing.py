"""Cheap cumulative per-stage timers (``time.perf_counter``), for the Selector's time split."""

from __future__ import annotations

import time

PIPELINE_STAGES = ("detection", "tracking", "alignment", "screening", "scoring", "selection", "sinks")
"""Stages of :class:`facesel.selector.Selector`, in the order a frame passes them.

detection: the detector on the whole frame or on the regions around tracks (including its own
resizing); tracking: the tracker update; alignment: ``align_face`` for the crops worth a look;
screening: the scorer's cheap screen; scoring: the full quality score; selection: the best-crop
store and the per-track bookkeeping, building results; sinks: the post-close stages and the
sinks (vault, files, callbacks).
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

    def add(self, stage: str, seconds: float) -> None:
        """Charge ``seconds`` (of this timer's clock, measured elsewhere, e.g. in another thread) to ``stage``."""
        self.seconds[stage] += seconds

    def as_dict(self) -> dict:
        """``{"frames": int, "total": float, <stage>: float seconds, ...}``."""
        out = {"frames": self.frames, "total": float(sum(self.seconds.values()))}
        out.update(self.seconds)
        return out

    def reset(self) -> None:
        """Zero every stage's seconds and the frame count (the stages stay listed)."""
        self.seconds = dict.fromkeys(self.seconds, 0.0)
        self.frames = 0
