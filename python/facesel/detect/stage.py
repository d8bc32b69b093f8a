"""The detection stage: full-frame detection on the schedule (optionally started ahead, in a thread
of its own), region search around tracks between."""

from __future__ import annotations

import time
from concurrent.futures import Executor, Future
from dataclasses import dataclass

import numpy as np

from facesel.detect.base import check_frame
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
    """

    full: bool
    ahead: Future | None = None
    still: bool = True


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

    def plan(self, frame: np.ndarray, executor: Executor | None = None) -> Planned:
        """Decide whether ``frame`` is searched whole; call once per frame, in stream order.

        With ``executor``, a full-frame detection is started on it at once (:attr:`Planned.ahead`).
        """
        frame = check_frame(frame)
        full = self.schedule.full_frame(frame, self._tracked)
        if not full:  # the one-step shrink's decoded picture is not needed: let it go at once
            forget_picture(frame)
        if full and executor is not None:
            self.full_ahead += 1
            return Planned(True, executor.submit(self._timed_full, frame))
        # Still tracks' squares are left out on the frames still_region_every skips, but not when
        # the motion gate saw something move outside the tracks on this frame: a face whose box
        # hardly moves over a moving body or scene (a walker coming straight at the camera) is not
        # a still face (issue 27: on the arcade video, box speed alone moved the choice).
        every = 1 if self.config.mode == "exhaustive" else self.config.still_region_every
        still = full or self.schedule.since % every == 0 or self.schedule.moved_now is True
        return Planned(full, still=still)

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
            dets = self._full(frame)
        else:
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
            dets = search_regions(self.detector, frame, expected, scale=c.region_scale,
                                  face_px=c.region_face_px, min_px=c.region_min_px, base_shrink=base,
                                  fast=c.region_shrink == "fast")
        return usable(dets, frame.shape, self.config.min_face_size), planned.full

    def _full(self, frame: np.ndarray) -> Detections:
        dets = self.detector.detect(frame)
        forget_picture(frame)
        if not isinstance(dets, Detections):
            raise TypeError(f"detector.detect must return Detections, got {type(dets).__name__}")
        return dets

    def _timed_full(self, frame: np.ndarray) -> tuple[Detections, float]:
        start = self.clock()
        dets = self._full(frame)
        return dets, self.clock() - start


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
