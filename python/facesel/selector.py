"""The frame-selection pipeline, wired: detect -> track -> score -> select -> post-close -> sinks.

Two halves, so that they can run on two cores (:meth:`Selector.run`): the front
(:class:`facesel.detect.stage.DetectStage` + :class:`facesel.track.TrackStage`) and the back
(:class:`facesel.select.stage.ScoreStage`, the post-close stages and the sinks). ``feed`` runs
both in turn for one frame; every setting is a :class:`facesel.config.PipelineConfig` field.
Every confirmed track yields exactly one result, however poor its best crop (Baert et al.,
AAAI-21: a snapshot of a bad quality is still worth more to an investigator than none).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from facesel.config import PipelineConfig
from facesel.detect.base import check_frame
from facesel.detect.stage import DetectStage, Planned
from facesel.frame_rate import check_rate, held_in_seconds
from facesel.live import LatestFrames, is_live
from facesel.pipeline import run_staged
from facesel.select.finalise import Finaliser  # persons (issue 12)
from facesel.select.post_close import check_post_close
from facesel.select.stage import Packet, ScoreStage
from facesel.select.view import FrameView
from facesel.setting_checks import check_flag, is_finite
from facesel.sinks.base import check_sinks
from facesel.timing import StageTimer
from facesel.track import TrackStage

logger = logging.getLogger("facesel")

STILL_SPEED = 0.05
"""A track is still (``still_region_every``) when the centre of its box moved at most this share of
its side a frame between its last two detections. Set from YuNet's own jitter on a real face that
does not move (tests/test_motion_gate.py's scene: the centre moves 1-3 % of the side between
detections, a box edge up to 8 % between a full-frame and a region-search detection); not from
any agreement figure."""


def default_detector(config: PipelineConfig | None = None):
    """The configured detector (``facesel.detect.make_detector``; YuNet at ``max_side`` 1280 by default)."""
    from facesel.detect import make_detector

    config = PipelineConfig() if config is None else config
    settings = {"max_side": config.max_side} if config.max_side else {}
    if config.detector == "yunet":
        settings["engine"] = config.yunet_engine
        # with the second pass, the low boxes that may only continue a track (TrackStage)
        settings["min_confidence"] = config.low_confidence if config.second_pass else config.start_confidence
    return make_detector(config.detector, **settings)


def default_scorer(config: PipelineConfig | None = None):
    """``facesel.scoring.default_scorer()`` when the package provides it (the VAE quality model),
    else :class:`facesel.scoring.LaplacianVarianceScorer`, with a warning in the ``facesel`` log:
    that fallback ranks blur but knows nothing else about faces."""
    from facesel import scoring

    factory = getattr(scoring, "default_scorer", None)
    if factory is not None:
        return factory() if config is None else factory(threads=config.onnx_threads)
    logger.warning("facesel.scoring has no default_scorer (the VAE quality model); falling back to "
                   "LaplacianVarianceScorer, which ranks sharpness only")
    return scoring.LaplacianVarianceScorer()


_SUSPENDED_AT_EXIT: weakref.WeakSet = weakref.WeakSet()
"""Every run() generator not yet collected. A run loop left by ``break`` whose generator a variable
still held (a script's top level) kept its stage threads alive to the interpreter's end, which
killed them inside native code: the process aborted ("FATAL: exception not rethrown", exit 134;
ux17). They are closed at exit, before that, as leaving the loop would have closed them."""


@atexit.register
def _close_suspended_runs_at_exit() -> None:
    for stream in list(_SUSPENDED_AT_EXIT):
        if not stream.gi_running:
            stream.close()


def _check_frames(frames) -> None:
    """Refuse what :meth:`Selector.run` cannot iterate as frames: a number (Python's "'int' object
    is not iterable") or one frame (iterated by rows, each then called "a ndarray of shape (W, 3)")."""
    hint = "(a facesel.video source, or zip(frames, timestamps) with None for timestamps from config.fps)"
    if isinstance(frames, np.ndarray):
        raise TypeError(f"frames must be an iterable of (frame, timestamp) pairs {hint}, got one ndarray of "
                        f"shape {frames.shape}: Selector.feed(frame) takes a single frame")
    if isinstance(frames, (str, bytes, os.PathLike)):
        # a path was iterated by characters: "frames must yield (frame, timestamp) pairs ..., got a str" (ux20)
        raise TypeError(f"frames must be an iterable of (frame, timestamp) pairs {hint}, got the path "
                        f"{os.fspath(frames)!r}: read it with Selector.run(facesel.video.open_source({os.fspath(frames)!r}))")
    if not hasattr(frames, "__iter__"):
        raise TypeError(f"frames must be an iterable of (frame, timestamp) pairs {hint}, got {type(frames).__name__}")


def _unpack(item) -> tuple:
    """``(frame, timestamp, dropped)`` of one item of :meth:`Selector.run`'s ``frames``: a
    ``(frame, timestamp)`` pair, or a triple with the frames dropped before it (a live buffer's).
    Raises TypeError saying what was given: bare frames (``run(list_of_arrays)``, the likely slip)
    ended in "_front() takes from 3 to 5 positional arguments but 65 were given"."""
    if not isinstance(item, (tuple, list)) or not 2 <= len(item) <= 3:
        given = (f"a {type(item).__name__} of shape {item.shape}" if isinstance(item, np.ndarray)
                 else f"a {type(item).__name__} of {len(item)}" if isinstance(item, (tuple, list))
                 else f"a {type(item).__name__}")
        raise TypeError(f"frames must yield (frame, timestamp) pairs (a facesel.video source, or "
                        f"zip(frames, timestamps) with None for timestamps from config.fps), got {given}")
    frame, stamp, *rest = item
    dropped = rest[0] if rest else 0
    if isinstance(dropped, bool) or not isinstance(dropped, (int, np.integer)) or dropped < 0:
        raise TypeError(f"the third value of a frames item (frames dropped before it) must be an int >= 0, "
                        f"got {dropped!r}")
    return frame, stamp, int(dropped)


class Selector:
    """Video frames in, one best snapshot per person out.

    Parameters
    ----------
    detector : object with ``detect(frame) -> Detections``, or a name, optional
        Default :func:`default_detector`. A name (``"yunet"``, ``"mtcnn"``, ``"haar"``, as
        ``facesel run --detector``) sets ``config.detector`` and builds that detector.
    scorer : object with ``score((N, 64, 64) uint8) -> (N,) float64``, or a name, optional
        Higher is better; an optional ``screen`` (:func:`facesel.scoring.screen_crops`) makes the
        sparse mode cheaper. Default :func:`default_scorer`. A name (``"default"``, ``"context"``,
        ``"laplacian"``, as ``facesel run --scorer`` and a serve camera's ``scorer``) builds that scorer.
    config : PipelineConfig, optional
        Every setting; ``**settings`` override single fields (e.g. ``mode="exhaustive"``).
    sinks : sequence of Sink
        Receive each result (:mod:`facesel.sinks`: vault, plaintext, report, callback).
    post_close : sequence of PostCloseStage, optional
        Run in order on the closed results before the sinks (:mod:`facesel.select.post_close`);
        a stage with ``observe(packet)`` also sees every frame's tracked detections first.
        Default: the track finaliser (:meth:`facesel.select.finalise.Finaliser.for_config`) when
        ``config.finalise`` is on, else none.
    clock : callable returning seconds
        Clock of the per-stage timers (:attr:`timings`): wall time by default;
        ``time.thread_time`` gives CPU time per stage, also when the halves run in two threads.

    One Selector is one stream: :meth:`feed`, :meth:`run` and :meth:`flush` are not called from two
    threads at once (nor ``feed`` inside a ``run`` loop); such a call raises a RuntimeError rather
    than interleaving two streams' frames in one tracker. Give each thread (camera) its own Selector.
    """

    def __init__(self, detector=None, scorer=None, *, config: PipelineConfig | None = None, sinks=(),
                 post_close=None, clock=time.perf_counter, **settings):
        if isinstance(detector, PipelineConfig) or isinstance(scorer, PipelineConfig):
            # Selector(PipelineConfig(...)) was told "detector must have a detect() method, got PipelineConfig"
            raise TypeError("the settings are a keyword argument: Selector(config=PipelineConfig(...)); the "
                            "positional arguments are the detector and the scorer")
        config = PipelineConfig() if config is None else config
        if not isinstance(config, PipelineConfig):
            raise TypeError(f"config must be a PipelineConfig, got {type(config).__name__}")
        if isinstance(detector, str):
            # Selector(detector="mtcnn"), as `facesel run --detector mtcnn`: the config's detector
            # setting, whose name the argument shadows ("detector must have a detect() method, got str"; ux18)
            settings, detector = {**settings, "detector": detector}, None
        self.config = config.replace(**settings) if settings else config
        self.detector = default_detector(self.config) if detector is None else detector
        if isinstance(scorer, str):  # Selector(scorer="context"), as `facesel run --scorer context`
            from facesel.serve.pipeline_adapter import make_scorer  # imports this module: not at the top

            scorer = make_scorer(scorer, self.config)
        self.scorer = default_scorer(self.config) if scorer is None else scorer
        self.sinks = check_sinks(sinks)
        if post_close is None:  # persons (issue 12): the finaliser is on by default
            post_close = [Finaliser.for_config(self.config, self.scorer)] if self.config.finalise else []
        self.post_close = check_post_close(post_close)
        self._front_timer, self._back_timer = StageTimer(clock=clock), StageTimer(clock=clock)
        self._detect = DetectStage(self.detector, self.config, clock)
        # max_age and min_hits held to their seconds on a slow camera (facesel.frame_rate)
        self._track = TrackStage(held_in_seconds(self.config))
        self._score = ScoreStage(self.scorer, self.config, self._back_timer)
        self._score.watch_rises = self.config.peak_detect and self.config.mode != "exhaustive"
        self._frame_index = 0
        self._clock_start: float | None = None
        self._last_stamp = 0.0
        self._dropped = 0
        self._busy = threading.Lock()
        self._runs: weakref.WeakSet = weakref.WeakSet()  # run() generators not yet collected
        self._busy_with = ""

    # -- state ---------------------------------------------------------------------------------
    @property
    def frame_index(self) -> int:
        """Index the next fed frame will get (frames fed so far)."""
        return self._frame_index

    @property
    def track_limits(self) -> dict:
        """``{"max_age", "min_hits"}``: the frame counts the tracker uses now (``config``'s, held to
        their seconds below 25 fps: :mod:`facesel.frame_rate`)."""
        tracker = self._track.tracker
        return {"max_age": int(tracker.max_age), "min_hits": int(tracker.min_hits)}

    def hold_limits_at(self, fps) -> bool:
        """Hold the tracker's frame-counted limits to their seconds at ``fps`` (frames/s), the
        stream's rate learned after the Selector was built: ``facesel serve`` builds a camera's
        pipeline before its source has connected and said its rate. 25 and above: the limits
        ``config`` sets (:func:`facesel.frame_rate.held_in_seconds`); 0 or None (unknown): nothing
        changes. ``config`` is left as it is (its ``fps`` dates frames fed without a timestamp).
        True when the limits changed.

        Only before the first frame (RuntimeError after): the open tracks were counted in the old
        limits, and a new tracker would count its track ids from 1 again. It may be called from
        the thread that iterates a :meth:`run`'s frames, before it hands the first one on."""
        check_rate(fps)
        if self._frame_index > 0:
            raise RuntimeError(f"Selector.hold_limits_at({fps!r}) called after {self._frame_index} frames: the "
                               "tracker's limits can only change before the first frame (build the Selector with "
                               "config.fps, or call this before feeding)")
        if not fps:
            return False
        held = held_in_seconds(self.config, float(fps))
        if {"max_age": held.max_age, "min_hits": held.min_hits} == self.track_limits:
            return False
        self._track = TrackStage(held)
        return True

    @property
    def open_tracks(self) -> int:
        """Confirmed tracks open now."""
        return sum(1 for log in self._score.store.logs.values() if log.confirmed)

    @property
    def closed_tracks(self) -> int:
        """Tracks closed so far (confirmed or not): the selection store's count."""
        return self._score.store.closed

    @property
    def finaliser(self) -> Finaliser | None:
        """The first :class:`Finaliser` among the post-close stages (its ``stats`` count every
        merge and drop), or None."""
        return next((stage for stage in self.post_close if isinstance(stage, Finaliser)), None)  # persons (issue 12)

    @property
    def held_observations(self) -> int:
        """Observations (crops) held in memory now: what the store still needs."""
        return self._score.store.held_observations

    @property
    def timings(self) -> dict:
        """``{"frames", "total", "dropped", <stage>...}``: seconds per stage
        (:data:`facesel.timing.PIPELINE_STAGES`); ``dropped``: live frames dropped unprocessed."""
        front, back = self._front_timer.as_dict(), self._back_timer.as_dict()
        out = {key: front[key] + back[key] for key in front if key != "frames"}
        out["frames"] = back["frames"]
        out["dropped"] = self._dropped
        return out

    @property
    def dropped(self) -> int:
        """Frames of a live source dropped unprocessed so far (:meth:`run`)."""
        return self._dropped

    @property
    def schedule(self):
        """The :class:`facesel.detect.schedule.DetectionSchedule` of full-frame detections; its
        ``every`` may be changed while the pipeline runs (``facesel serve`` coarsens it under load)."""
        return self._detect.schedule

    @property
    def detect_stage(self):
        """The :class:`facesel.detect.stage.DetectStage`; its two-tier detection may be switched while
        the pipeline runs (:meth:`~facesel.detect.stage.DetectStage.set_tiers`: ``facesel serve``'s
        first step under load)."""
        return self._detect

    @property
    def work(self) -> dict:
        """Counts of the work done: full-frame detections (and those the motion gate put off; of them, at
        ``max_side`` and, with two-tier detection, at ``coarse_max_side``), regions searched
        (still tracks' squares skipped, and lost tracks' squares left out by ``region_miss_limit``), crops seen/gated/screened/aligned/scored."""
        return {"full_detections": self._detect.schedule.full, "scene_changes": self._detect.schedule.by_scene_change,
                "full_postponed": self._detect.schedule.postponed, "regions": self._detect.regions_searched,
                "regions_skipped": self._detect.regions_skipped, "regions_lost": self._detect.regions_lost,
                "full_ahead": self._detect.full_ahead, "full_fine": self._detect.full_fine,
                "full_coarse": self._detect.full_coarse,
                **self._score.policy.counts}

    # -- the pipeline --------------------------------------------------------------------------
    def feed(self, frame: np.ndarray, timestamp: float | None = None) -> FrameView:
        """Run one frame through every stage.

        Parameters
        ----------
        frame : (H, W, 3) uint8 BGR (or (H, W) uint8 grey)
        timestamp : float, optional
            Seconds since the start of the stream; without it, ``frame_index / config.fps``
            (or, with ``fps`` 0, the monotonic clock since the first frame). Give timestamps that
            never decrease: a closed track is held for its grace period of stream time before it
            is delivered, so after a step back (a camera clock reset) the held tracks wait until
            time passes their hold again, or until :meth:`flush`.

        Returns
        -------
        FrameView
            The tracks detected on this frame and the results delivered on it.
        """
        with self._one_at_a_time("feed"):
            return self._back(self._front(frame, timestamp))

    def run(self, frames, live: bool | None = None):
        """Iterate ``frames`` (``(frame, timestamp)`` pairs, e.g. a :mod:`facesel.video` source)
        and yield one :class:`FrameView` per processed frame; with ``config.threads == 2``
        reading and detection + tracking run in threads beside scoring + selection + sinks,
        joined by queues of ``queue_size`` frames. Leaving the loop early stops the threads.

        ``live`` (default: whether ``frames`` is a camera or URL source) reads ``frames`` in a
        thread of its own into a buffer of ``queue_size`` frames that drops its oldest when the
        pipeline falls behind (:class:`facesel.live.LatestFrames`), before detection; the drops
        are counted in :attr:`dropped`, ``timings["dropped"]`` and each ``FrameView.dropped``.
        A file is read without dropping (it waits for the pipeline). ``frames`` with
        ``keeps_newest = True`` drop (and count) by themselves: no buffer is added.

        Leaving ``with selector:`` closes a run loop an error or a ``break`` left suspended, then
        flushes."""
        live = check_flag(live, "live", or_none=True)  # "no" read as True dropped a file's frames (ux19)
        stream = self._run_one_at_a_time(frames, live)
        self._runs.add(stream)
        _SUSPENDED_AT_EXIT.add(stream)
        return stream

    def _run_one_at_a_time(self, frames, live):
        _check_frames(frames)
        with self._one_at_a_time("run"):
            yield from self._run(frames, live)

    def _run(self, frames, live):
        if live is None:
            live = is_live(frames)
        # A source that keeps only its newest frame itself (``keeps_newest``: a segment of a live
        # facesel.sources.StreamSource, whose bounded queue drops and counts) needs no second
        # buffer: the stages then take a frame only when they have room for it, so a frame waits
        # (and is dropped) in the source's queue, not in another one (issue 27: 4-frame queues held about
        # 50 MB of 1080p frames per camera and as much latency).
        keeps_newest = live and getattr(frames, "keeps_newest", False) is True
        items = LatestFrames(frames, self.config.queue_size) if live and not keeps_newest else frames
        if self.config.threads == 1:
            for item in items:
                yield self._back(self._front(*_unpack(item)))
            return
        # Full-frame detections need only the frame, so they start in a thread of their own as the
        # reader plans each frame; the tracking thread meanwhile searches the regions of the
        # frames before it (issue 10: detection was three quarters of the work, on one core).
        # Only for detectors that say they may be called from two threads at once
        # (``thread_safe = True``: YuNet, MTCNN); any other detector is called from one thread.
        ahead = None
        if self.config.detect_ahead and getattr(self.detector, "thread_safe", False) is True:
            ahead = ThreadPoolExecutor(1, thread_name_prefix="facesel-detect-ahead")

        def plan(item):
            frame, stamp, dropped = _unpack(item)
            frame = check_frame(frame)
            return frame, stamp, dropped, self._detect.plan(frame, ahead)

        try:
            yield from run_staged(items, self._front, self._back, self.config.queue_size, live=live, prepare=plan)
        finally:
            if ahead is not None:
                ahead.shutdown(wait=True, cancel_futures=True)

    def flush(self) -> list:
        """Close every open track (end of stream) and deliver the results; tentative tracks are
        discarded. The Selector can be fed again afterwards (track ids keep counting)."""
        with self._one_at_a_time("flush"):
            return self._flush()

    def _flush(self) -> list:
        self._back_timer.start()
        results = self._score.flush(self._track.flush())
        self._back_timer.lap("selection")
        for stage in self.post_close:
            results = list(stage.process(results, self._last_stamp)) + list(stage.flush())
        return self._deliver(results, self._last_stamp)

    def __enter__(self) -> Selector:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # A stream that breaks still delivers its open tracks; an error raised here is chained
        # to the one that broke the stream, not hiding it.
        self._close_suspended_runs()
        self.flush()

    def _close_suspended_runs(self) -> None:
        # A run loop left by an error while its generator is still referenced (``views =
        # selector.run(...)``, as ``facesel run`` does) holds the Selector: the flush here was
        # refused ("Selector.flush called while Selector.run is still running") and the open
        # tracks were never delivered: a second Ctrl-C in ``facesel run`` lost the people in view
        # (ux17). Closing it stops its threads and frees the Selector. A run executing in another
        # thread (gi_running) is left alone: the flush then says so.
        for stream in list(self._runs):
            if not stream.gi_running:
                stream.close()

    @contextmanager
    def _one_at_a_time(self, call: str):
        # Two threads feeding one Selector interleaved their frames in one tracker and failed deep
        # in the C++ store ("frame_index must increase within a track", ux16): said here instead.
        if not self._busy.acquire(blocking=False):
            # A loop left by break keeps its generator open while a variable holds it (ux17: "flush
            # after the run loop" was what the caller had done).
            left = " (a loop left by break stays open while its generator is held: call its close() first)" \
                if self._busy_with == "run" else ""
            raise RuntimeError(f"Selector.{call} called while Selector.{self._busy_with} is still running (another "
                               f"thread, or inside a run loop): one Selector is one stream; give each thread its own "
                               f"Selector, and flush after the run loop{left}")
        self._busy_with = call
        try:
            yield
        finally:
            self._busy_with = ""
            self._busy.release()

    # -- the halves ----------------------------------------------------------------------------
    def _front(self, frame, timestamp, dropped: int = 0, planned: Planned | None = None) -> Packet:
        frame = check_frame(frame)
        stamp = self._stamp(timestamp)
        index = self._frame_index
        self._frame_index += 1
        self._front_timer.start()
        still = self._track.expected_still(STILL_SPEED) if self.config.still_region_every > 1 else None
        unseen = self._track.expected_unseen() if self.config.region_miss_limit > 0 else None
        dets, full = self._detect.detect(frame, self._track.expected_boxes(), planned, still, unseen)
        if self._detect.last_ahead_seconds is None:
            self._front_timer.lap("detection")
        else:  # waiting for the detection thread is not detection work: charge that thread's own time
            self._front_timer.add("detection", self._detect.last_ahead_seconds)
            self._front_timer.start()
        update = self._track.update(dets, frame)
        dets = self._track.detections  # the second pass leaves out the low boxes no track took
        self._front_timer.lap("tracking")
        self._dropped += dropped
        return Packet(frame, index, stamp, dets, update, full, dropped, self._track.switches, self._track.appearances,
                      self._track.still, self._track.change, self._track.cut_thumbs, self._track.thumb,
                      self._track.bridges, self._track.following)

    def _back(self, packet: Packet) -> FrameView:
        self._back_timer.start()
        views, results = self._score.process(packet)
        if self._score.new_high:  # only ever set where peak_detect acts (ScoreStage.watch_rises)
            # with two threads the reader has planned up to queue_size frames ahead: the move lands
            # on the next frame it plans, a few frames later than with one thread
            self._detect.schedule.request_full()
        self._back_timer.frames += 1
        self._last_stamp = packet.stamp
        for stage in self.post_close:
            observe = getattr(stage, "observe", None)  # persons (issue 12): per-frame evidence
            if observe is not None:
                observe(packet)
            results = list(stage.process(results, packet.stamp))
        self._back_timer.lap("selection")  # persons (issue 12): the post-close stages are selection's work
        return FrameView(packet.index, packet.stamp, views, self._deliver(results, packet.stamp), packet.full_detection,
                         packet.dropped)

    def _deliver(self, results: list, now: float) -> list:
        for sink in self.sinks:
            for result in results:
                sink.write(result)
            sink.tick(now)
        self._back_timer.lap("sinks")
        return results

    def _stamp(self, timestamp) -> float:
        if timestamp is not None:
            if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float, np.number)) or not is_finite(timestamp):
                raise ValueError(f"timestamp must be a finite number or None, got {timestamp!r}")
            return float(timestamp)
        if self.config.fps > 0:
            return self._frame_index / self.config.fps
        now = time.monotonic()
        if self._clock_start is None:
            self._clock_start = now
        return now - self._clock_start
