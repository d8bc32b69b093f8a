"""A camera that cannot keep up detects less often before it drops frames.

Full-frame detection is the costliest stage (:mod:`facesel.detect.schedule`); between two full
detections the tracked faces are searched for in small squares. When a camera's pipeline falls
behind its source, :class:`ScheduleGovernor` doubles the camera's ``detect_every`` (up to a cap)
and halves it back, step by step, once the pipeline has had slack for a while. Dropping a frame
loses every face on it; a coarser schedule only delays the first detection of a face that walks
in (by at most ``detect_every`` frames, or not at all when the scene changes as a whole).

The signal is how long each frame waited in the source's queue before the pipeline took it,
as a share of the queue's span: ``capacity`` (the source's ``buffer_frames``) frame intervals. A
pipeline with slack takes each frame as it arrives (wait about 0); one slower than the source
finds frames waiting longer and longer, and once a frame would wait the whole span the queue is
full and the next frame pushes the oldest out: a drop. Acting when the smoothed share passes
``high`` (the queue half full, by default) coarsens the schedule before an overload that builds
up drops anything, while a burst that the queue absorbs (shorter than half its span) changes
nothing. An overload that starts at once (a camera too slow from its first frame) drops frames
before any wait can be seen: a drop seen (a gap in the frames' sequence numbers) coarsens the
schedule at once, without waiting for the smoothed wait.

A refinement the load cannot bear is undone within a few dozen frames, and meanwhile frames wait
and some drop. Where the load fits only a coarser schedule than the configured one, a governor that
tries again after every ``calm_frames`` of slack oscillates between the two (issue 27, session 12:
7 of 10 refinements of two and three continuous 720p cameras on a loaded machine were undone
within 150 frames). So a refinement
undone by a coarsening within ``undo_frames`` frames multiplies the slack needed before the next
refinement to the same ``detect_every`` by ``refine_backoff`` (up to ``max_calm_frames``); a
refinement to it that holds for ``undo_frames`` frames (the load has eased) brings that back to
``calm_frames``. The count is kept per schedule because an undone step overshoots (the backlog
of the failed schedule still waits when the cooldown ends, so ``every`` goes two steps up) and
the first step back down holds: one count for all steps would be reset by it. ``refine_backoff =
1`` is the old rule: a fixed ``calm_frames``.

Two tiers first (issue 27, session 13): with ``stage`` given (a camera whose pipeline has
two-tier detection off), the first coarsening turns two-tier full-frame detection on
(:mod:`facesel.detect.stage`: most full-frame detections on the frame shrunk to ``coarse_side``,
one in ``fine_every`` at ``max_side``) at the configured ``detect_every``, and only the next ones
double ``detect_every``; the last refinement turns it off again. At 720p it saved about as much CPU
as doubling ``detect_every`` from 4 to 8 while agreeing better with the exhaustive mode
(docs/performance.md, "Session 13"), so it is the gentler first step. A schedule is then the pair
(``detect_every``, two tiers on): the steps are (4, off), (4, on), (8, on), (16, on) by default.
"""

from __future__ import annotations

import threading
import time
from collections import deque


TIER_COARSE_SIDE = 640
"""The coarse tier's longer side when the governor turns two tiers on for a pipeline that has them
off (``coarse_max_side``'s measured setting: a quarter of the network's pixels at ``max_side`` 1280;
docs/performance.md, "Session 13")."""


class ScheduleGovernor:
    """Adapts one camera's detection schedule to its load.

    Parameters
    ----------
    schedule : facesel.detect.schedule.DetectionSchedule
        Its ``every`` is changed in place (read by the pipeline's reading thread).
    base : int >= 1
        The configured ``detect_every``: never finer than this.
    cap : int >= base
        Never coarser than this.
    high, low : float
        Smoothed wait (frame intervals) above which the schedule is coarsened, below which it
        counts as slack.
    smoothing : float in (0, 1]
        Weight of the newest frame in the smoothed wait.
    calm_frames : int >= 1
        Frames of slack in a row before the schedule is made finer again by one step.
    capacity : int >= 1
        Frames the source's queue holds (its ``buffer_frames``): waits are measured against
        ``capacity`` frame intervals.
    refine_backoff : int >= 1
        Factor on the slack needed before the next refinement to a schedule after one to it was
        undone within ``undo_frames`` frames (1: always ``calm_frames``, the rule before session 12).
    undo_frames : int >= 1
        A coarsening within this many frames of a refinement undoes it; a refinement that lasts
        longer holds, and resets the slack needed for its schedule to ``calm_frames``.
    max_calm_frames : int or None
        The most slack ever needed (None: 16 times ``calm_frames``, 48 s at 25 frames/s by default).
    stage : facesel.detect.stage.DetectStage or None
        The camera's detection stage, whose two-tier detection the first coarsening turns on
        (:meth:`~facesel.detect.stage.DetectStage.set_tiers`, read by the pipeline's reading
        thread) and the last refinement off; None: ``detect_every`` steps only (the rule before
        session 13). Its tiers must be off when given (the governor owns them from then on).
    coarse_side, fine_every : int
        The two tiers' setting when on (the pipeline's ``coarse_max_side`` and ``fine_every``).
    settle_coarsening : bool
        After a coarsening, coarsen again by the wait only once the smoothed wait passes the backlog
        at that step (the larger of the smoothed wait and the frame's own then: the queue grows
        although the schedule is coarser), on a gap (a drop), or ``SETTLE_SPANS * capacity`` frames
        after its cooldown with the wait still over ``high``; meanwhile a wait that stays under that backlog is
        the old schedule's backlog draining, and no further step is taken.
        False: the rule before session 16 (another step as soon as the 4-frame cooldown ends and
        the wait is still over ``high``, which climbs to the cap on one burst's backlog).

    Attributes
    ----------
    coarsened, refined : int
        Steps taken each way (exported as ``facesel_schedule_changes_total``), tier steps included.
    tiers_on, tiers_off : int
        Of those, the steps that turned two tiers on / off (``facesel_schedule_tier_changes_total``).
    undone : int
        Refinements undone by a coarsening within ``undo_frames`` frames.
    needed_calm : int
        Frames of slack needed now before the next refinement (property).
    dropped_before_first_coarsening : int or None
        The source's drop count when the schedule was first coarsened (None before).
    observed_before_first_coarsening : int or None
        Frames observed before the schedule was first coarsened (None before).
    observed_before_first_drop : int or None
        Frames observed before the first that came after a drop (None while none did).
    tiered : bool
        Two-tier detection turned on by the governor now (property).
    changes : collections.deque of (int, int, int, int, bool, float, bool)
        The latest steps (at most ``CHANGES_KEPT``), oldest first, each ``(observed, sequence, every,
        dropped, gap, when, tiered)``: frames observed when it was taken, the frame's sequence number,
        the new ``detect_every``, the source's drop count then, whether a gap (frames dropped just
        before) forced it, ``time.monotonic()`` then (recorded only: no decision reads a clock), and
        whether two tiers are on after it (a tier step keeps ``every``). For diagnosis
        (``experiments/capacity_timeline.py``, ``benchmarks/capacity.py``).
    """

    CHANGES_KEPT = 512

    SETTLE_SPANS = 4
    """With ``settle_coarsening``: frames after a coarsening's 4-frame cooldown (this many queue
    spans) within which a wait under the step's backlog holds the next step. A schedule that drains
    half the queue (the backlog at ``high``) in that time has at least 1 / (2 * SETTLE_SPANS) = 1/8
    slack a frame; one with less is stepped past as before."""

    def __init__(self, schedule, base: int, cap: int, high: float = 0.5, low: float = 0.15,
                 smoothing: float = 0.25, calm_frames: int = 75, capacity: int = 1, refine_backoff: int = 2,
                 undo_frames: int = 150, max_calm_frames: int | None = None, stage=None, coarse_side: int = 640,
                 fine_every: int = 4, settle_coarsening: bool = False):
        if isinstance(base, bool) or not isinstance(base, int) or base < 1:
            raise ValueError(f"base must be an integer >= 1, got {base!r}")
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < base:
            raise ValueError(f"cap must be an integer >= base ({base}), got {cap!r}")
        if not 0 <= low < high:
            raise ValueError(f"need 0 <= low < high, got low={low!r}, high={high!r}")
        if not 0 < smoothing <= 1:
            raise ValueError(f"smoothing must be in (0, 1], got {smoothing!r}")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be an integer >= 1, got {capacity!r}")
        for name, value in (("calm_frames", calm_frames), ("refine_backoff", refine_backoff),
                            ("undo_frames", undo_frames)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        max_calm_frames = 16 * calm_frames if max_calm_frames is None else max_calm_frames
        if isinstance(max_calm_frames, bool) or not isinstance(max_calm_frames, int) or max_calm_frames < calm_frames:
            raise ValueError(f"max_calm_frames must be an integer >= calm_frames ({calm_frames}), got {max_calm_frames!r}")
        if stage is not None:
            if not callable(getattr(stage, "set_tiers", None)):
                raise TypeError(f"stage must be a detection stage with set_tiers(), got {type(stage).__name__}")
            if stage.tiers[0]:
                raise ValueError("stage: its two-tier detection is already on (the pipeline's "
                                 "coarse_max_side); the governor can only turn it on from off")
            stage.set_tiers(coarse_side, fine_every)  # checks both ...
            stage.set_tiers(0, fine_every)  # ... and leaves it off
        if not isinstance(settle_coarsening, bool):
            raise ValueError(f"settle_coarsening must be true or false, got {settle_coarsening!r}")
        self.settle_coarsening = settle_coarsening
        self._settling: float | None = None  # the backlog at the last coarsening, while it drains
        self._settle_left = 0  # frames left before that step is judged anyway
        self.stage, self.coarse_side, self.fine_every = stage, coarse_side, fine_every
        self._tiered = False
        self.tiers_on = self.tiers_off = 0
        self.refine_backoff, self.undo_frames, self.max_calm_frames = refine_backoff, undo_frames, max_calm_frames
        # (detect_every, two tiers on) -> slack needed before refining to it, if not calm_frames
        self._needed: dict[tuple[int, bool], int] = {}
        self.undone = 0
        self._refined_at: int | None = None  # frames observed at the last refinement not yet judged
        self.schedule, self.base, self.cap, self.capacity = schedule, base, cap, capacity
        self.high, self.low, self.smoothing, self.calm_frames = float(high), float(low), float(smoothing), int(calm_frames)
        self.schedule.every = base
        self.coarsened = 0
        self.refined = 0
        self.dropped_before_first_coarsening: int | None = None
        self.observed_before_first_coarsening: int | None = None
        self.observed_before_first_drop: int | None = None
        self.observed = 0
        self.changes: deque = deque(maxlen=self.CHANGES_KEPT)
        self.wait = 0.0
        self._calm = 0
        self._cooldown = 0
        self._last_sequence: int | None = None
        self._lock = threading.Lock()

    @property
    def every(self) -> int:
        """The schedule's ``detect_every`` now."""
        return self.schedule.every

    @property
    def tiered(self) -> bool:
        """Whether the governor has two-tier full-frame detection on now."""
        return self._tiered

    @property
    def at_cap(self) -> bool:
        """No coarser schedule is left (``cap`` reached, two tiers on where the governor uses them)."""
        return self._coarser() is None

    @property
    def level(self) -> tuple[int, bool]:
        """The schedule now: (``detect_every``, two tiers on by the governor)."""
        return self.schedule.every, self._tiered

    def _coarser(self) -> tuple[int, bool] | None:
        """The next schedule up (None at the cap): two tiers on first, then ``every`` doubled."""
        every, tiered = self.level
        if self.stage is not None and not tiered:
            return every, True
        return (min(self.cap, every * 2), tiered) if every < self.cap else None

    def _finer(self) -> tuple[int, bool] | None:
        """The next schedule down (None at the base): ``every`` halved, then two tiers off."""
        every, tiered = self.level
        if every > self.base:
            return max(self.base, every // 2), tiered
        return (every, False) if tiered else None

    def _set(self, level: tuple[int, bool]) -> None:
        every, tiered = level
        if tiered != self._tiered:
            self.stage.set_tiers(self.coarse_side if tiered else 0, self.fine_every)
            self._tiered = tiered
            if tiered:
                self.tiers_on += 1
            else:
                self.tiers_off += 1
        self.schedule.every = every

    @property
    def needed_calm(self) -> int:
        """Frames of slack needed before the next refinement: the finer schedule's own count
        (grown by failed refinements), ``calm_frames`` when none is finer.
        """
        finer = self._finer()
        return self.calm_frames if finer is None else self._needed.get(finer, self.calm_frames)

    def observe(self, waited: float, interval: float | None, sequence: int, dropped: int = 0) -> None:
        """One frame taken by the pipeline.

        Parameters
        ----------
        waited : float
            Seconds the frame waited in the source's queue.
        interval : float or None
            Seconds between two frames of the source (None: unknown, the frame is ignored).
        sequence : int
            The frame's sequence number (frames received before it, dropped ones included).
        dropped : int
            The source's drop count now (recorded at the first coarsening).
        """
        if not interval or interval <= 0:
            return
        with self._lock:
            self.observed += 1
            fraction = min(2.0, max(0.0, waited / (interval * self.capacity)))
            gap = self._last_sequence is not None and sequence > self._last_sequence + 1
            if gap:
                fraction = max(fraction, 1.0)  # frames were dropped in between
                if self.observed_before_first_drop is None:
                    self.observed_before_first_drop = self.observed - 1
            self._last_sequence = sequence
            self.wait += self.smoothing * (fraction - self.wait)
            if self._refined_at is not None and self.observed - self._refined_at > self.undo_frames:
                self._refined_at = None  # the last refinement held: the load has eased
                self._needed.pop(self.level, None)
            if self._cooldown > 0:  # the backlog of the old schedule is still draining
                self._cooldown -= 1
                return
            if self._settling is not None:
                self._settle_left -= 1
                if self.wait < self.high or self.wait > self._settling or self._settle_left <= 0:
                    self._settling = None  # drained, growing again, or given its time: the step is judged
            if self.wait > self.high and self._settling is not None and not gap:
                self._calm = 0  # the last coarsening's backlog is still draining (settle_coarsening)
                return
            if self.wait > self.high or gap:
                self._calm = 0
                coarser = self._coarser()
                if coarser is not None:
                    failed = self.level
                    self._set(coarser)
                    self.coarsened += 1
                    if self._refined_at is not None:  # the last refinement was too much: wait longer next time
                        self.undone += 1
                        self._needed[failed] = min(self.max_calm_frames,
                                                   self._needed.get(failed, self.calm_frames) * self.refine_backoff)
                        self._refined_at = None
                    self.changes.append((self.observed, sequence, self.schedule.every, int(dropped), bool(gap),
                                         time.monotonic(), self._tiered))
                    if self.dropped_before_first_coarsening is None:
                        self.dropped_before_first_coarsening = int(dropped)
                        self.observed_before_first_coarsening = self.observed - 1
                    self._cooldown = 4
                    if self.settle_coarsening:  # the backlog now: the smoothed wait lags a rising one
                        self._settling = max(self.wait, fraction)
                        self._settle_left = self.SETTLE_SPANS * self.capacity
                return
            self._calm = self._calm + 1 if self.wait < self.low else 0
            finer = self._finer()
            if finer is not None and self._calm >= self.needed_calm:
                if self._refined_at is not None:  # the step before this one was not undone: it held
                    self._needed.pop(self.level, None)
                self._set(finer)
                self.refined += 1
                self._calm = 0
                self._refined_at = self.observed
                self.changes.append((self.observed, sequence, self.schedule.every, int(dropped), False, time.monotonic(),
                                     self._tiered))
