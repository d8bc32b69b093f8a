"""The detection stage: full-frame detection on the schedule (optionally started ahead, in a thread
of its own), region search around tracks between.

Two-tier full-frame detection (``coarse_max_side`` > 0, issue 27, session 13): a full-frame
detection's job in the sparse mode is finding faces new to the scene, since the tracked ones are
followed in their region squares. Large (near) faces move fast and soon become recognisable; small
(far) ones move slowly in the image. So most full-frame detections search a coarse copy of the
frame (``coarse_max_side``: 640 is a quarter of the network's pixels at 1280) and find the large
new faces, while one in ``fine_every`` (and the first, and any a scene change forces) searches it
at ``max_side`` as today and finds the small ones. On a coarse frame the tracked faces are searched
in their squares as on the frames between, so a track's boxes, landmarks and crops come from the
full-resolution squares or the fine pass, never from the coarse image; the coarse pass adds only
the faces no square found.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor, Future
from dataclasses import dataclass

import numpy as np

from facesel.boxes import pairwise_iou
from facesel.detect.base import check_frame, shrink
from facesel.detect.schedule import DetectionSchedule, search_regions
from facesel.sources.decoded import forget_picture
from facesel.types import Detections


@dataclass
class Planned:
    """What :meth:`DetectStage.plan` decided for one frame.

    Attributes
    ----------
    full : bool
        The whole frame is searched (else the regions around the tracks).
    ahead : concurrent.futures.Future or None
        A full-frame detection already running in a thread of its own; its result is
        ``(Detections, seconds)``, seconds of the stage's clock spent in that thread.
    still : bool
        When not ``full``: whether the squares of still tracks are searched on this frame
        (``still_region_every``, and with the motion gate on, also whenever something moved
        outside the tracks); the other tracks' squares are searched on every frame.
    coarse : bool
        When ``full``: the whole frame is searched at ``coarse_max_side`` and the tracked faces in
        their squares (two-tier detection); False: at ``max_side`` (the fine pass, today's).
    coarse_side : int
        When ``coarse``: the longer side the frame is shrunk to (the tier setting read when the
        frame was planned, whatever :meth:`DetectStage.set_tiers` did since).
    """

    full: bool
    ahead: Future | None = None
    still: bool = True
    coarse: bool = False
    coarse_side: int = 0


COARSE_OVERLAP = 0.3
"""On a coarse frame, a face of the coarse pass overlapping a face found in a tracked square by more
than this IoU is that tracked face, found again (the square's detection is kept: full resolution);
below it, a face the squares did not find. The tracker's own ``min_iou`` default: a box that would
not continue a track under the IoU rule counts as another face."""

class DetectStage:
    """Detections of one frame, found the way the configuration says.

    Parameters
    ----------
    detector : object with ``detect(frame) -> Detections``
    config : facesel.config.PipelineConfig
        ``mode == "exhaustive"`` detects every frame whole; otherwise detect_every,
        scene_change, motion_gate, motion_max_every, still_region_every, region_scale, region_face_px,
        region_min_px. min_face_size always.
    clock : callable returning seconds
        Times the full-frame detections run ahead (:attr:`last_ahead_seconds`).

    Notes
    -----
    A full-frame detection does not depend on the tracks, only on the frame, so
    :meth:`plan` can start it in another thread as soon as the frame is decoded, frames before
    the tracker needs it (:meth:`facesel.Selector.run` with two threads): the region searches
    between full detections do depend on the tracks and stay in the tracking thread.
    """

    def __init__(self, detector, config, clock=time.perf_counter):
        if not callable(getattr(detector, "detect", None)):
            raise TypeError(f"detector must have a detect() method, got {type(detector).__name__}")
        self.detector = detector
        self.config = config
        self.clock = clock
        every = 1 if config.mode == "exhaustive" else config.detect_every
        sparse = config.mode != "exhaustive"
        self.schedule = DetectionSchedule(every, config.scene_change if sparse else 0.0,
                                          config.motion_gate if sparse else 0.0, config.motion_max_every,
                                          config.region_scale)
        # The boxes the last region search looked after, for the motion gate of the next plan: with
        # two threads a frame is planned in the reader thread, up to queue_size frames before the
        # tracker has caught up, so the squares left out of its motion test are that many frames old.
        self._tracked = np.zeros((0, 4), np.float32)
        self.regions_searched = 0
        self.regions_skipped = 0  # still tracks' squares left out on the frames still_region_every skips
        self.regions_lost = 0  # squares of tracks missed on region_miss_limit frames in a row, left out
        self.full_ahead = 0
        self.last_ahead_seconds: float | None = None
        # two-tier detection (coarse_max_side): the full-frame detections of each tier, and the
        # pixels each handed to the network (the image after shrinking, before YuNet's padding)
        # (coarse side, fine_every) in one tuple, replaced whole by set_tiers (the load governor of
        # facesel serve, from the thread reading the source) and read once a frame by plan: a frame
        # never sees one tier setting's side with the other's fine_every, and no lock is taken
        self.tiers = (config.coarse_max_side if sparse and config.coarse_max_side > 0 else 0, config.fine_every)
        self._sparse = sparse
        self.full_fine = 0
        self.full_coarse = 0
        self.network_pixels = {"fine": 0, "coarse": 0}
        self._fulls_since_fine: int | None = None  # full detections since the last fine one

    def plan(self, frame: np.ndarray, executor: Executor | None = None) -> Planned:
        """Decide whether ``frame`` ((H, W, 3) uint8 BGR) is searched whole; call once per frame, in
        stream order.

        With ``executor``, a full-frame detection is started on it at once (:attr:`Planned.ahead`).
        """
        frame = check_frame(frame)
        tiers = self.tiers  # read once: set_tiers may replace it from another thread meanwhile
        scene_changes = self.schedule.by_scene_change
        full = self.schedule.full_frame(frame, self._tracked)
        if not full:  # the one-step shrink's decoded picture is not needed: let it go at once
            forget_picture(frame)
        # a scene change finds everything new (small faces too); a detection moved early by
        # peak_detect is there for a tracked face, which a coarse pass would search in its square again
        fine_now = self.schedule.by_scene_change > scene_changes or self.schedule.early
        coarse = full and self._coarse_now(fine_now, frame.shape, tiers)
        coarse_side = tiers[0] if coarse else 0
        if full:
            side = coarse_side if coarse else getattr(self.detector, "max_side", self.config.max_side)
            self.network_pixels["coarse" if coarse else "fine"] += network_pixels(frame.shape, side)
        if full and executor is not None:
            self.full_ahead += 1
            return Planned(True, executor.submit(self._timed_full, frame, coarse_side), coarse=coarse,
                           coarse_side=coarse_side)
        # Still tracks' squares are left out on the frames still_region_every skips, but not when
        # the motion gate saw something move outside the tracks on this frame: a face whose box
        # hardly moves over a moving body or scene (a walker coming straight at the camera) is not
        # a still face (issue 27: on the arcade video, box speed alone moved the choice).
        every = 1 if self.config.mode == "exhaustive" else self.config.still_region_every
        still = full or self.schedule.since % every == 0 or self.schedule.moved_now is True
        return Planned(full, still=still, coarse=coarse, coarse_side=coarse_side)

    @property
    def coarse_side(self) -> int:
        """The coarse tier's longer side now (0: one tier, every full-frame detection at ``max_side``)."""
        return self.tiers[0]

    def set_tiers(self, coarse_side: int, fine_every: int) -> None:
        """Turn two-tier detection on (``coarse_side`` > 0) or off (0) from the next planned frame,
        as ``coarse_max_side`` and ``fine_every`` would (facesel serve's load governor:
        :class:`facesel.serve.scheduler.ScheduleGovernor`). Safe from another thread than the one
        planning frames: the setting is one tuple, replaced whole. Ignored in the exhaustive mode
        (the yardstick searches every frame whole at ``max_side``)."""
        for name, value, low in (("coarse_side", coarse_side, 0), ("fine_every", fine_every, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if 0 < coarse_side < 32:
            raise ValueError(f"coarse_side must be 0 (off) or at least 32, got {coarse_side!r}")
        self.tiers = (coarse_side if self._sparse else 0, fine_every)

    def _coarse_now(self, force_fine: bool, shape, tiers: tuple[int, int]) -> bool:
        """Whether the full-frame detection of this frame is a coarse one (counts it either way).
        Fine: with two tiers off, the first, one in ``fine_every``, one ``force_fine`` asks for (a
        scene change, everything in a new scene being new, small faces too; a detection moved early
        by ``peak_detect``), and any of a frame no larger than
        ``coarse_max_side`` (the coarse pass would search it at the same size). ``tiers``:
        :attr:`tiers` as read once for this frame."""
        side, every = tiers[0], max(1, tiers[1])
        fine = (not side or max(shape[:2]) <= side or self._fulls_since_fine is None
                or force_fine or self._fulls_since_fine + 1 >= every)
        if fine:
            self._fulls_since_fine = 0
            self.full_fine += 1
        else:
            self._fulls_since_fine += 1
            self.full_coarse += 1
        return not fine

    def detect(self, frame: np.ndarray, expected: np.ndarray, planned: Planned | None = None,
               still: np.ndarray | None = None, unseen: np.ndarray | None = None) -> tuple[Detections, bool]:
        """This frame's usable detections and whether the whole frame was searched.

        Parameters
        ----------
        frame : (H, W, 3) uint8 BGR
        expected : (T, 4) float32
            Where the open tracks' faces are expected (``TrackStage.expected_boxes``).
        planned : Planned, optional
            This frame's :meth:`plan`; planned here when not given. A detection running ahead is
            waited for; its own time is then in :attr:`last_ahead_seconds`.
        still : (T,) bool, optional
            Which of ``expected`` are still tracks (``TrackStage.expected_still``), whose squares
            are searched only on the frames ``still_region_every`` picks; None: all are searched.
        unseen : (T,) int, optional
            Frames from each of ``expected``'s last detection to this frame
            (``TrackStage.expected_unseen``): with ``region_miss_limit`` N > 0 the squares of tracks
            missed on their last N frames (``unseen > N``) are left out until a full-frame detection
            finds them again; None: all are searched.
        """
        frame = check_frame(frame)
        self._tracked = np.asarray(expected, np.float32).reshape(-1, 4)
        planned = self.plan(frame) if planned is None else planned
        self.last_ahead_seconds = None
        if planned.ahead is not None:
            dets, self.last_ahead_seconds = planned.ahead.result()
        elif planned.full:
            dets = self._full(frame, planned.coarse_side if planned.coarse else 0)
        else:
            dets = self._regions(frame, expected, planned, still, unseen)
        if planned.full and planned.coarse:
            # the tracked faces from their full-resolution squares; the coarse pass adds new faces only
            tracked = self._regions(frame, expected, planned, still, unseen)
            dets = with_new_faces(tracked, dets)
        return usable(dets, frame.shape, self.config.min_face_size), planned.full

    def _regions(self, frame: np.ndarray, expected: np.ndarray, planned: Planned, still: np.ndarray | None,
                 unseen: np.ndarray | None) -> Detections:
        """The tracked faces found again in their squares (the frames between full detections, and
        coarse full frames)."""
        c = self.config
        expected = np.asarray(expected, np.float32).reshape(-1, 4)
        keep = np.ones(len(expected), bool)
        if not planned.still and still is not None and len(still) == len(expected):
            self.regions_skipped += int(np.count_nonzero(still))
            keep &= ~np.asarray(still, bool)
        limit = 0 if c.mode == "exhaustive" else c.region_miss_limit
        if limit > 0 and unseen is not None and len(unseen) == len(expected):
            # A face missed in its square this many frames running has most often left the
            # square (walked out of view, turned away, covered): searching it again every frame
            # until max_age closes the track costs a square a frame for nothing; a face that
            # comes back is found by the next full-frame detection (at most detect_every later).
            lost = keep & (np.asarray(unseen).reshape(-1) > limit)
            self.regions_lost += int(np.count_nonzero(lost))
            keep &= ~lost
        expected = expected[keep]
        self.regions_searched += len(expected)
        longer = max(frame.shape[:2])
        base = min(1.0, c.max_side / longer) if c.max_side else 1.0
        return search_regions(self.detector, frame, expected, scale=c.region_scale,
                              face_px=c.region_face_px, min_px=c.region_min_px, base_shrink=base,
                              fast=c.region_shrink == "fast")

    def _full(self, frame: np.ndarray, coarse_side: int = 0) -> Detections:
        """The whole frame searched at the detector's ``max_side`` (``coarse_side`` 0: the fine
        pass) or shrunk to ``coarse_side`` (the coarse pass)."""
        coarse = coarse_side > 0
        if coarse:
            # shrunk here (from the decoded picture in one step where it is remembered), so that the
            # detector, whose own max_side is the fine one, gets an image it does not shrink again
            image, back = shrink(frame, coarse_side)
            dets = self.detector.detect(image)
        else:
            dets = self.detector.detect(frame)
        forget_picture(frame)
        if not isinstance(dets, Detections):
            raise TypeError(f"detector.detect must return Detections, got {type(dets).__name__}")
        if coarse and len(dets) and not np.array_equal(back, np.ones(2, np.float32)):
            marks = None if dets.landmarks is None else dets.landmarks * back
            dets = Detections(dets.boxes * np.tile(back, 2), dets.scores, marks)
        return dets

    def _timed_full(self, frame: np.ndarray, coarse_side: int = 0) -> tuple[Detections, float]:
        start = self.clock()
        dets = self._full(frame, coarse_side)
        return dets, self.clock() - start


def network_pixels(shape, max_side: int | None) -> int:
    """Pixels of the image a full-frame detection hands to the network for a frame of ``shape``
    shrunk to at most ``max_side`` on its longer side (:func:`facesel.detect.base.shrink`'s size;
    0 or None: the frame's own). YuNet's padding to a multiple of 32 is not counted."""
    h, w = shape[:2]
    if not max_side or max(h, w) <= max_side:
        return int(h) * int(w)
    factor = max_side / float(max(h, w))
    return max(1, round(w * factor)) * max(1, round(h * factor))


def with_new_faces(tracked: Detections, coarse: Detections) -> Detections:
    """``tracked`` (the squares' detections) and those of ``coarse`` (the coarse full-frame pass,
    in frame pixels) that overlap none of them by more than :data:`COARSE_OVERLAP`: the faces new
    to the tracker. Landmarks are kept only when both have them."""
    if len(coarse) == 0:
        return tracked
    if len(tracked):
        new = coarse[~(pairwise_iou(coarse.boxes, tracked.boxes) > COARSE_OVERLAP).any(axis=1)]
    else:
        new = coarse
    if len(new) == 0:
        return tracked
    if len(tracked) == 0:
        return new
    marks = (np.concatenate([tracked.landmarks, new.landmarks])
             if tracked.landmarks is not None and new.landmarks is not None else None)
    return Detections(np.concatenate([tracked.boxes, new.boxes]), np.concatenate([tracked.scores, new.scores]), marks)


def usable(dets: Detections, shape, min_face_size: float) -> Detections:
    """Detections with a finite box of at least ``min_face_size`` that overlaps the frame."""
    if len(dets) == 0:
        return dets
    b = dets.boxes
    h, w = shape[:2]
    with np.errstate(invalid="ignore"):
        side = np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        keep = np.isfinite(b).all(axis=1) & (side > 0) & (side >= min_face_size)
        keep &= (b[:, 2] > 0) & (b[:, 3] > 0) & (b[:, 0] < w) & (b[:, 1] < h)
    return dets if keep.all() else dets[keep]
