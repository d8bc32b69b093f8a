"""The frame-selection pipeline: detect, align, score, track, keep the best crop per person.

``Selector.feed(frame)`` runs one frame through the stages and returns the tracks that closed on
it; ``Selector.flush()`` closes the rest at the end of a stream. Every confirmed track yields
exactly one result, however poor its best crop (Baert et al., AAAI-21: a snapshot of a bad
quality is still worth more to an investigator than none). Before delivery the finaliser
(:mod:`facesel.select.finalise`) merges fragments of one person and drops, counted, tracks that
are not faces (static, a second box on one head, or doubted by the detector and the quality model).

Memory is bounded on an endless stream: the tracker holds at most the open tracks (closed after
``max_age`` unseen frames), the C++ best-crop store holds O(top_k + clip_window) observations per
track and hands back every other one at once, this class frees the crops of the handles it gets
back, and each track's quality series is decimated to at most ``series_capacity`` points (see
:class:`facesel.tracklog.DecimatedSeries`).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from facesel.align import align_face
from facesel.core import BestCropStore, Tracker
from facesel.detectors.base import check_frame
from facesel.timing import StageTimer
from facesel.tracklog import DecimatedSeries, SelectedTrack, TrackLog
from facesel.scoring.base import score_crops
from facesel.select.finalise import Finaliser  # persons (issue 12): the stage after track close
from facesel.types import CropContext, Detections, Snapshot

logger = logging.getLogger("facesel")

# The lowest finite quality: the store needs finite numbers, and a scorer may say -inf for
# "nothing face-like here", which must still rank below every real score, not abort the stream.
_FLOOR = -np.finfo(np.float64).max


def default_detector():
    """The detector chosen by measurement (``facesel.detectors.DEFAULT_DETECTOR``)."""
    from facesel.detectors import make_detector

    return make_detector()


def default_scorer():
    """``facesel.scoring.default_scorer()`` when the package provides it (the VAE quality model),
    else :class:`facesel.scoring.LaplacianVarianceScorer`, with a warning in the ``facesel`` log:
    that fallback ranks blur but knows nothing else about faces."""
    from facesel import scoring

    factory = getattr(scoring, "default_scorer", None)
    if factory is not None:
        return factory()
    logger.warning(
        "facesel.scoring has no default_scorer (the VAE quality model); falling back to "
        "LaplacianVarianceScorer, which ranks sharpness only"
    )
    return scoring.LaplacianVarianceScorer()


class _Observation:
    """One detection of one frame, kept while the store holds its handle."""

    __slots__ = ("crop", "box", "landmarks", "frame_index", "timestamp", "quality")

    def __init__(self, crop, box, landmarks, frame_index, timestamp, quality):
        self.crop, self.box, self.landmarks = crop, box, landmarks
        self.frame_index, self.timestamp, self.quality = frame_index, timestamp, quality


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_float(value, name: str, low: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value) or value < low:
        raise ValueError(f"{name} must be a finite number >= {low}, got {value!r}")
    return float(value)


class Selector:
    """Video frames in, one best snapshot per person out.

    Parameters
    ----------
    detector : Detector, optional
        Any object with ``detect(frame) -> Detections``; default :func:`default_detector`.
    scorer : Scorer, optional
        Any object with ``score((N, 64, 64) uint8) -> (N,) float64``, higher is better; default
        :func:`default_scorer`.
    vault : object with ``seal(TrackResult)``, optional
        Every result is sealed into it as soon as its track closes.
    min_hits, max_age, metric, max_distance, min_iou, predict_motion
        Tracker settings (``facesel.Tracker``): detections before a track counts, frames a track
        may go unseen, association by "euclidean" centre distance (in box sizes, the paper's rule)
        or by "iou", and whether a track's box moves with its velocity while it is unseen.
        ``predict_motion`` is off by default (the paper's rule): measured on the shared videos, the
        prediction carried on while a face was briefly undetected split one person's track in two
        (OTB Girl frames 323/332; a small face on the arcade video), and it split none less.
    top_k : int >= 1
        Best observations kept per track (``SelectedTrack.top``).
    clip_window : int >= 0
        When > 0, the best snapshot carries the track's crops within +-``clip_window`` frames of
        the best (frames in which the track was detected).
    min_face_size : float >= 0
        Detections whose box is smaller than this many pixels on its shorter side are ignored.
    margin : float >= 0
        Margin of the kept colour crop, as a fraction of the box size on each side.
    series_capacity : int >= 2
        Most points kept of a track's quality series (and boxes): longer tracks are decimated
        uniformly, always keeping the best observation (:class:`facesel.tracklog.DecimatedSeries`).
    thumbnails : int >= 0
        When > 0, each result carries up to this many small colour crops spread over its track
        (for reports; at least 2 when asked for); 0 keeps none.
    thumbnail_height : int >= 8
        Rows of each thumbnail.
    fps : float > 0, optional
        When ``feed`` gets no timestamp, the frame's time is ``frame_index / fps``; without
        ``fps`` it is the monotonic clock since the first frame.
    on_result : callable, optional
        Called with each result (after sealing), also for those closed by ``flush`` when the
        Selector is left as a context manager.
    clock : callable returning seconds
        Clock of the per-stage timers (:attr:`timings`): wall time by default;
        ``time.process_time`` gives CPU time, steadier on a shared machine.
    finaliser : facesel.select.finalise.Finaliser, optional
        What happens to a closed track before it is delivered (grace period, re-linking of
        fragments, "is it a face"); default ``Finaliser.for_scorer(scorer, margin)``;
        ``Finaliser.passthrough()`` delivers every closed track at once, unjudged.
    """

    def __init__(
        self,
        detector=None,
        scorer=None,
        vault=None,
        *,
        min_hits: int = 3,
        max_age: int = 10,
        metric: str = "euclidean",
        max_distance: float = 0.5,
        min_iou: float = 0.3,
        predict_motion: bool = False,
        top_k: int = 1,
        clip_window: int = 0,
        min_face_size: float = 16.0,
        margin: float = 0.25,
        series_capacity: int = 1024,
        thumbnails: int = 0,
        thumbnail_height: int = 96,
        fps: float | None = None,
        on_result=None,
        clock=time.perf_counter,
        finaliser=None,
    ):
        self.detector = default_detector() if detector is None else detector
        self.scorer = default_scorer() if scorer is None else scorer
        for obj, method, name in ((self.detector, "detect", "detector"), (self.scorer, "score", "scorer")):
            if not callable(getattr(obj, method, None)):
                raise TypeError(f"{name} must have a {method}() method, got {type(obj).__name__}")
        if vault is not None and not callable(getattr(vault, "seal", None)):
            raise TypeError(f"vault must have a seal() method, got {type(vault).__name__}")
        if on_result is not None and not callable(on_result):
            raise TypeError(f"on_result must be callable, got {type(on_result).__name__}")
        self.vault = vault
        self.on_result = on_result
        self.min_face_size = _check_float(min_face_size, "min_face_size", 0.0)
        self.margin = _check_float(margin, "margin", 0.0)
        self.series_capacity = _check_int(series_capacity, "series_capacity", 2)
        self.thumbnails = _check_int(thumbnails, "thumbnails", 0)
        self.thumbnail_height = _check_int(thumbnail_height, "thumbnail_height", 8)
        if fps is not None and (not isinstance(fps, (int, float)) or isinstance(fps, bool) or not fps > 0):
            raise ValueError(f"fps must be a positive number or None, got {fps!r}")
        self.fps = None if fps is None else float(fps)
        self._tracker = Tracker(
            metric=metric, max_distance=max_distance, min_iou=min_iou, min_hits=min_hits, max_age=max_age,
            predict_motion=predict_motion,
        )
        self._store = BestCropStore(top_k=top_k, clip_window=clip_window)
        self.top_k, self.clip_window = int(top_k), int(clip_window)
        self._observations: dict[int, _Observation] = {}
        self._logs: dict[int, TrackLog] = {}
        self._next_handle = 0
        self._frame_index = 0
        self._clock_start: float | None = None
        self._closed = 0
        self._timer = StageTimer(clock=clock)
        # persons (issue 12): closed tracks pass the finaliser before sealing.
        if finaliser is not None and not isinstance(finaliser, Finaliser):
            raise TypeError(f"finaliser must be a facesel.select.finalise.Finaliser, got {type(finaliser).__name__}")
        self.finaliser = Finaliser.for_scorer(self.scorer, self.margin) if finaliser is None else finaliser

    # -- state ---------------------------------------------------------------------------------
    @property
    def frame_index(self) -> int:
        """Index the next fed frame will get (frames fed so far)."""
        return self._frame_index

    @property
    def open_tracks(self) -> int:
        """Confirmed tracks open now."""
        return sum(1 for log in self._logs.values() if log.confirmed)

    @property
    def closed_tracks(self) -> int:
        """Tracks closed so far (before the finaliser merges or drops any: see ``finaliser.stats``)."""
        return self._closed

    @property
    def held_observations(self) -> int:
        """Observations (crops) held in memory now: what the store still needs."""
        return len(self._observations)

    @property
    def timings(self) -> dict:
        """``{"frames", "total", <stage>...}``: seconds per stage (:data:`facesel.timing.PIPELINE_STAGES`)
        summed over everything fed and flushed so far."""
        return self._timer.as_dict()

    # -- the pipeline --------------------------------------------------------------------------
    def feed(self, frame: np.ndarray, timestamp: float | None = None) -> list[SelectedTrack]:
        """Run one frame through the pipeline.

        Parameters
        ----------
        frame : (H, W, 3) uint8 BGR (or (H, W) uint8 grey)
        timestamp : float, optional
            Seconds since the start of the stream; see ``fps``.

        Returns
        -------
        list of SelectedTrack
            The tracks that closed on this frame (usually none).
        """
        frame = check_frame(frame)
        stamp = self._stamp(timestamp)
        index = self._frame_index
        self._timer.start()
        detections = self.detector.detect(frame)
        if not isinstance(detections, Detections):
            raise TypeError(f"detector.detect must return Detections, got {type(detections).__name__}")
        detections = self._usable(detections, frame.shape)
        self._timer.lap("detection")
        greys, crops = self._align(frame, detections)
        self._timer.lap("alignment")
        qualities = self._score(greys, CropContext.from_detections(detections, frame.shape))
        self._timer.lap("scoring")
        update = self._tracker.update(np.ascontiguousarray(detections.boxes, dtype=np.float32))
        self.finaliser.evidence.observe_frame(update.track_ids, detections, stamp, index)  # persons (issue 12)
        self._timer.lap("tracking")
        self._frame_index += 1
        self._timer.frames += 1
        for i in range(len(detections)):
            landmarks = None if detections.landmarks is None else detections.landmarks[i]
            self._observe(int(update.track_ids[i]), bool(update.confirmed[i]), index, stamp,
                          crops[i], detections.boxes[i], landmarks, float(qualities[i]))
        results = self._finish(update, stamp)
        self._timer.lap("selection")
        self._deliver(results)
        return results

    def flush(self) -> list[SelectedTrack]:
        """Close every open track (end of stream). Confirmed ones yield results; tentative ones
        are discarded. The Selector can be fed again afterwards (track ids keep counting)."""
        self._timer.start()
        results = self._finish(self._tracker.flush())
        self._timer.lap("selection")
        self._deliver(results)
        return results

    def __enter__(self) -> Selector:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # A stream that breaks still delivers its open tracks (to the vault and on_result); an
        # error raised here is chained to the one that broke the stream, not hiding it.
        self.flush()

    # -- stages --------------------------------------------------------------------------------
    def _stamp(self, timestamp) -> float:
        if timestamp is not None:
            if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float, np.number)) or not math.isfinite(timestamp):
                raise ValueError(f"timestamp must be a finite number or None, got {timestamp!r}")
            return float(timestamp)
        if self.fps is not None:
            return self._frame_index / self.fps
        now = time.monotonic()
        if self._clock_start is None:
            self._clock_start = now
        return now - self._clock_start

    def _usable(self, dets: Detections, shape) -> Detections:
        """Detections with a finite box of at least ``min_face_size`` that overlaps the frame."""
        if len(dets) == 0:
            return dets
        b = dets.boxes
        h, w = shape[:2]
        with np.errstate(invalid="ignore"):
            side = np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
            keep = np.isfinite(b).all(axis=1) & (side > 0) & (side >= self.min_face_size)
            keep &= (b[:, 2] > 0) & (b[:, 3] > 0) & (b[:, 0] < w) & (b[:, 1] < h)
        return dets if keep.all() else dets[keep]

    def _align(self, frame, dets: Detections) -> tuple[np.ndarray, list[np.ndarray]]:
        greys, crops = [], []
        for i in range(len(dets)):
            landmarks = None if dets.landmarks is None else dets.landmarks[i]
            if landmarks is not None and not np.isfinite(landmarks).all():
                landmarks = None
            try:
                face = align_face(frame, dets.boxes[i], landmarks, margin=self.margin)
            except ValueError:
                # Degenerate landmarks (all on one point): the box alone still aligns the face.
                face = align_face(frame, dets.boxes[i], None, margin=self.margin)
            greys.append(face.grey)
            crops.append(face.colour)
        grey = np.stack(greys) if greys else np.zeros((0, 64, 64), np.uint8)
        return grey, crops

    def _score(self, greys: np.ndarray, context: CropContext) -> np.ndarray:
        if len(greys) == 0:
            return np.zeros(0, np.float64)
        scores = np.asarray(score_crops(self.scorer, greys, context), dtype=np.float64).reshape(-1)
        if scores.shape != (len(greys),):
            raise ValueError(f"scorer returned {scores.shape[0]} scores for {len(greys)} crops")
        if np.isnan(scores).any() or np.isposinf(scores).any():
            raise ValueError(f"scorer returned NaN or +inf quality: {scores.tolist()}")
        return np.maximum(scores, _FLOOR)

    def _observe(self, track_id, confirmed, index, stamp, crop, box, landmarks, quality) -> None:
        handle = self._next_handle
        self._next_handle += 1
        self._observations[handle] = _Observation(
            crop, box.copy(), None if landmarks is None else landmarks.copy(), index, stamp, quality
        )
        log = self._logs.get(track_id)
        if log is None:
            thumbs = DecimatedSeries(max(2, self.thumbnails)) if self.thumbnails else None
            log = TrackLog(index, stamp, index, stamp, DecimatedSeries(self.series_capacity), thumbs)
            self._logs[track_id] = log
        log.add(index, stamp, quality, confirmed, box, crop, self.thumbnail_height)
        self._free(self._store.push(track_id, index, quality, handle))

    def _free(self, handles) -> None:
        for handle in np.asarray(handles, dtype=np.int64).tolist():
            del self._observations[handle]

    def _finish(self, update, now: float | None = None) -> list[SelectedTrack]:
        for track_id in np.asarray(update.dropped, dtype=np.int64).tolist():
            self._free(self._store.discard(track_id))
            self._logs.pop(track_id, None)
            self.finaliser.evidence.discard(track_id)  # persons (issue 12)
        closed = [self._close(track_id) for track_id in np.asarray(update.closed, dtype=np.int64).tolist()]
        # persons (issue 12): held for the grace period, re-linked, judged; now=None is the flush.
        for result in closed:
            self.finaliser.add(result, 0.0 if now is None else now)
        return self.finaliser.flush() if now is None else self.finaliser.poll(now)

    def _snapshot(self, track_id: int, observation, clip=()) -> Snapshot:
        obs = self._observations[int(observation.handle)]
        clip_obs = [self._observations[int(c.handle)] for c in clip]
        return Snapshot(
            crop=obs.crop, box=obs.box, landmarks=obs.landmarks, quality=obs.quality,
            frame_index=obs.frame_index, timestamp=obs.timestamp, track_id=track_id,
            clip=[c.crop for c in clip_obs], clip_frame_indices=[c.frame_index for c in clip_obs],
        )

    def _close(self, track_id: int) -> SelectedTrack:
        closed = self._store.close(track_id)
        log = self._logs.pop(track_id)
        best = self._snapshot(track_id, closed.best, closed.clip if self.clip_window > 0 else ())
        top = [best if t.handle == closed.best.handle else self._snapshot(track_id, t) for t in closed.top]
        self._free(closed.released)
        self._closed += 1
        thumbs = log.thumbnails
        return SelectedTrack(
            track_id=track_id, first_frame=log.first_frame, last_frame=log.last_frame,
            first_timestamp=log.first_timestamp, last_timestamp=log.last_timestamp, best=best,
            qualities=log.series.values(), frame_indices=log.series.frames(),
            boxes=np.stack(log.series.payloads()).astype(np.float32), top=top,
            thumbnails=[] if thumbs is None else thumbs.payloads(),
            thumbnail_frames=np.zeros(0, np.int64) if thumbs is None else thumbs.frames(),
        )

    def _deliver(self, results: list[SelectedTrack]) -> None:
        if self.vault is not None:
            for result in results:
                self.vault.seal(result)
            # Retention must also run while nobody walks past (no seal() to trigger it); the
            # vault rate-limits this itself, so calling it every frame is cheap.
            maybe_purge = getattr(self.vault, "maybe_purge", None)
            if callable(maybe_purge):
                maybe_purge()
        self._timer.lap("sealing")
        if self.on_result is not None:
            for result in results:
                self.on_result(result)
        self._timer.lap("output")
