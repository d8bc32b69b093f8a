"""The scoring and selection stage: align the crops worth a look, screen, score, keep the best."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facesel.align import CROP_SIZE, align_face, align_faces, colour_crop
from facesel.scoring.base import score_crops, screen_crops
from facesel.scoring.consensus import REFERENCE_SIGNATURES, SIGNATURES
from facesel.scoring.native_blur import native_sharpness
from facesel.select.policy import ScoringPolicy
from facesel.select.store import FLOOR, SelectionStore
from facesel.select.view import TrackView
from facesel.types import CropContext, Detections


@dataclass
class Packet:
    """What the detection + tracking stage hands to this one for one frame.

    Attributes
    ----------
    frame : (H, W, 3) uint8 BGR
    index : int
    stamp : float
    detections : Detections
    update : facesel.TrackerUpdate
        The tracker's update for ``detections`` (one track id per detection).
    full_detection : bool
    dropped : int
        Frames of a live source dropped unprocessed just before this one.
    switches : dict int -> str
        Tracks (segments) the switch cues ended on this frame, and why
        (:attr:`facesel.track.TrackStage.switches`): the finaliser never re-links them to what follows.
    appearances : list of (2, 64) float32 or None
        Per detection, the colours of its box and the band below (:func:`facesel.track_cues.appearance`),
        None where not computed; empty when the cues are off.
    still : list of bool
        Per detection, whether the pixels under its track's previous box did not change since
        (:attr:`facesel.track.TrackStage.still`); empty when the cues are off.
    change : list of float
        Per detection, how much those pixels changed (:attr:`facesel.track.TrackStage.change`,
        nan where not measured); empty when the cues are off.
    cut_thumbs : tuple of two (27, 48) float32 (and an int) or None
        On a frame where the cut cue fired, the whole-frame thumbnails of the frame before and of
        this one (:attr:`facesel.track.TrackStage.cut_thumbs`; the shot-return link,
        :mod:`facesel.select.shot_return`); None otherwise. With ``SwitchRule.fade_cut`` also on a
        fade's frame, and with ``fade_settle`` a third item (int): the frames after which the
        picture replaces "after" (:meth:`facesel.select.shot_return.ShotMemory.settle`).
    thumb : (27, 48) float32 or None
        This frame's whole-frame thumbnail (:attr:`facesel.track.TrackStage.thumb`; the
        shot-change cut veto keeps it for the frames where a track is first seen); None with the
        cues off.
    bridges : dict int -> (int, float, float)
        The continuity bridge's hints of this frame (:attr:`facesel.track.TrackStage.bridges`:
        earlier segment -> (later segment, smallest match, gap in seconds)); empty when it is off.
    following : frozenset of int
        Segments whose patch is followed after this frame (:attr:`facesel.track.TrackStage.following`).
    """

    frame: np.ndarray
    index: int
    stamp: float
    detections: Detections
    update: object
    full_detection: bool
    dropped: int = 0
    switches: dict = field(default_factory=dict)
    appearances: list = field(default_factory=list)
    still: list = field(default_factory=list)
    change: list = field(default_factory=list)
    cut_thumbs: tuple | None = None
    thumb: np.ndarray | None = None
    bridges: dict = field(default_factory=dict)
    following: frozenset = frozenset()


def _blank(count: int) -> np.ndarray:
    """(count, 64, 64) uint8 zeros: the grey crops handed to a scorer that reads no pixels."""
    return np.zeros((count, CROP_SIZE, CROP_SIZE), np.uint8)


def check_scores(scores, count: int, what: str) -> np.ndarray:
    """(count,) float64 finite-or--inf scores, -inf raised to :data:`FLOOR`."""
    try:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:  # numpy's own message named neither the scorer nor the value (ux22)
        raise ValueError(f"scorer returned {what} that are not numbers ({type(scores).__name__}: "
                         f"{str(scores)[:80]}): {err}") from None
    if scores.shape != (count,):
        raise ValueError(f"scorer returned {scores.shape[0]} {what} for {count} crops")
    if not (scores < np.inf).all():  # NaN or +inf (one comparison: NaN compares False)
        raise ValueError(f"scorer returned NaN or +inf {what}: {scores.tolist()}")
    return np.maximum(scores, FLOOR)


class ScoreStage:
    """Per frame: which crops to align (:class:`ScoringPolicy`), one batch per frame across all
    tracks for the scorer, and the store (:class:`SelectionStore`).

    In the sparse mode with a scorer that has ``screen``, crops are screened as they come and the
    full score runs on each track's finalists when it closes; otherwise (exhaustive mode, or no
    screen) every crop looked at is fully scored at once.

    Parameters
    ----------
    scorer : object with ``score(crops)`` (and optionally ``screen``)
    config : facesel.config.PipelineConfig
    timer : facesel.timing.StageTimer
        Charged "alignment", "screening", "scoring", "selection".
    """

    def __init__(self, scorer, config, timer):
        if not callable(getattr(scorer, "score", None)):
            raise TypeError(f"scorer must have a score() method, got {type(scorer).__name__}")
        self.scorer = scorer
        self.config = config
        self.policy = ScoringPolicy(config)
        self.deferred = config.mode != "exhaustive" and callable(getattr(scorer, "screen", None))
        # A screen from the detector's context alone (``screen_context``, e.g. PickScorer's) is taken
        # before any crop is made, and only crops the store admits to a track's finalists are
        # aligned: most crops of a long track never are (arcade: 230 of 785 aligned, the same
        # results; docs/architecture.md). Clips and thumbnails need every crop: they align all.
        self.screen_first = (self.deferred and callable(getattr(scorer, "screen_context", None))
                             and config.clip_window == 0 and config.thumbnails == 0)
        # A scorer that reads no pixels given the context (the default context rule) is handed blank
        # grey crops: only the colour crop that is kept is made (issue 27: about half of each
        # face's alignment; the same results bit for bit). The consensus pick reads the greys.
        self.make_greys = bool(getattr(scorer, "reads_pixels", True)) or config.consensus_finalists > 0
        # The consensus gate measures every looked-at face's sharpness on the frame itself (no
        # alignment needed): the track's median comes from all of them, the finalists are held to it.
        self.native_gate = config.consensus_gate if config.consensus_finalists > 0 and config.consensus_gate != "off" \
            else None
        # The consensus pick's signature of every crop aligned, a frame's crops in one batch
        # (facesel.scoring.consensus.hog_signatures: 2-3x cheaper a crop than one at a time).
        # consensus_impl "batched" (session 12): a frame's landmark fits in one batch
        # (facesel.align.align_faces) and the histograms with fewer temporaries; bit for bit the
        # same crops and rows as "reference", face by face (tests/test_consensus_cost.py).
        self.batched = config.consensus_impl == "batched"
        table = SIGNATURES if self.batched else REFERENCE_SIGNATURES
        self.signature = table[config.consensus_signature] if config.consensus_finalists > 0 else None
        self.store = SelectionStore(config, self._full_score if self.deferred else None,
                                    rescore_reads_pixels=bool(getattr(scorer, "reads_pixels", True)))
        self.timer = timer
        self._latest: dict[int, float] = {}
        # whether the last frame processed, searched in region squares, gave a track a value above
        # its best so far (peak_detect: the Selector moves the next full-frame detection there).
        # Only looked for when ``watch_rises`` (the Selector sets it where peak_detect acts: on, not
        # exhaustive); otherwise nobody reads it and each frame's values are not compared.
        self.watch_rises = False
        self.new_high = False

    def _full_score(self, greys: np.ndarray, context: CropContext) -> np.ndarray:
        self.policy.counts["scored"] += len(greys)
        return check_scores(score_crops(self.scorer, greys, context), len(greys), "scores")

    def process(self, packet: Packet) -> tuple[list[TrackView], list]:
        """Score and keep this frame's crops; returns the tracks in view and the closed results."""
        dets, update, index = packet.detections, packet.update, packet.index
        self.store.frame_shape = packet.frame.shape[:2]
        ids = np.asarray(update.track_ids, np.int64)
        wanted = self.policy.candidates(ids, dets, index)
        values: dict[int, float] = {}  # detection index -> screen value (or full score)
        if self.screen_first:
            # The screen needs no pixels: only the crops the store would hold are aligned.
            values = self._screen(dets, ids, wanted, packet.frame.shape, None)
            look = np.array([i for i in wanted.tolist() if self.store.admits(int(ids[i]), values[i])], np.int64)
        else:
            # A clip needs every frame's crop, valued or not; otherwise only the candidates are aligned.
            look = np.arange(len(dets)) if self.config.clip_window > 0 else wanted
        natives = {}
        if self.native_gate is not None:
            for i in wanted.tolist():
                natives[i] = native_sharpness(packet.frame, dets.boxes[i], self.native_gate)
                self.store.seen_sharpness(int(ids[i]), natives[i])
        greys, crops = self._align(packet.frame, dets, look)
        self.timer.lap("alignment")
        if not self.screen_first:
            sub = np.flatnonzero(np.isin(look, wanted))  # which aligned crops are candidates
            if len(sub):
                values = self._screen(dets, ids, look[sub], packet.frame.shape, _blank(len(sub)) if greys is None else greys[sub])
        signatures = None if self.signature is None or greys is None else self.signature(greys)
        self.new_high = self.watch_rises and not packet.full_detection and self._rising(ids, values)
        views = self._keep(packet, look, greys, crops, values, natives, signatures)
        self.timer.lap("selection")
        results = self.store.finish(update)  # rescoring of the finalists happens here
        self.timer.lap("scoring")
        ended = np.concatenate([update.closed, update.dropped])
        self.policy.forget(ended)
        for track_id in ended.tolist():
            self._latest.pop(int(track_id), None)
        return views, results

    def _rising(self, ids: np.ndarray, values: dict[int, float]) -> bool:
        """Whether a value of this frame (detection index -> value, not yet in the policy) is above
        its track's best so far; a track's first value is not a rise."""
        for i, value in values.items():
            best = self.policy.best_value(int(ids[i]))
            if best is not None and value > best:
                return True
        return False

    def _screen(self, dets: Detections, ids: np.ndarray, which: np.ndarray, shape, greys) -> dict[int, float]:
        """The screen value (deferred scoring) or full score of detections ``which``; ``greys`` their
        aligned crops, None for a scorer that screens from the context alone."""
        if len(which) == 0:
            return {}
        context = CropContext(dets.scores[which], dets.boxes[which],
                              None if dets.landmarks is None else dets.landmarks[which], shape[:2], ids[which])
        if self.deferred:
            self.policy.counts["screened"] += len(which)
            if greys is None:
                raw = self.scorer.screen_context(context)
            else:
                raw = screen_crops(self.scorer, greys, context)
            values = check_scores(raw, len(which), "screen values")
            self.timer.lap("screening")
        else:
            values = self._full_score(greys, context)
            self.timer.lap("scoring")
        return dict(zip(which.tolist(), values.tolist()))

    def flush(self, update) -> list:
        """End of stream: the results of the tracks ``update`` (the tracker's flush) closes; forgets
        their cadence state.
        """
        held = np.fromiter(self.store.logs, np.int64, len(self.store.logs))  # also those the flush leaves out
        results = self.store.finish(update, end_of_stream=True)
        self.policy.forget(np.concatenate([update.closed, update.dropped, held]))
        self._latest.clear()
        self.timer.lap("scoring")
        return results

    def _align(self, frame, dets: Detections, look: np.ndarray):
        """(M, 64, 64) uint8 grey crops of detections ``look`` (None when the scorer reads no
        pixels) and their colour crops by detection index."""
        if not self.make_greys:
            crops = {i: colour_crop(frame, dets.boxes[i], self.config.margin) for i in look.tolist()}
            self.policy.counts["aligned"] += len(crops)
            return None, crops
        if self.batched:
            greys, colours = align_faces(frame, dets.boxes[look], None if dets.landmarks is None else dets.landmarks[look],
                                         margin=self.config.margin)
            self.policy.counts["aligned"] += len(greys)
            return greys, dict(zip(look.tolist(), colours))
        greys, crops = [], {}
        for i in look.tolist():
            landmarks = None if dets.landmarks is None else dets.landmarks[i]
            if landmarks is not None and not np.isfinite(landmarks).all():
                landmarks = None
            try:
                face = align_face(frame, dets.boxes[i], landmarks, margin=self.config.margin)
            except ValueError:
                # Degenerate landmarks (all on one point): the box alone still aligns the face.
                face = align_face(frame, dets.boxes[i], None, margin=self.config.margin)
            greys.append(face.grey)
            crops[i] = face.colour
        self.policy.counts["aligned"] += len(greys)
        grey = np.stack(greys) if greys else np.zeros((0, 64, 64), np.uint8)
        return grey, crops

    def _keep(self, packet, look, greys, crops, values, natives, signatures=None) -> list[TrackView]:
        dets, index, stamp, update = packet.detections, packet.index, packet.stamp, packet.update
        position = {int(i): k for k, i in enumerate(look.tolist())}
        views = []
        # Python scalars for the whole frame at once, not a NumPy scalar per detection and field
        track_ids = np.asarray(update.track_ids, np.int64).tolist()
        confirms = [bool(c) for c in np.asarray(update.confirmed).tolist()]
        det_scores = dets.scores.tolist()
        for i in range(len(dets)):
            track_id, confirmed = track_ids[i], confirms[i]
            k, quality = position.get(i), values.get(i)
            landmarks = None if dets.landmarks is None else dets.landmarks[i]
            if quality is not None:
                self._latest[track_id] = quality
                self.policy.valued(track_id, quality)
            if k is not None:
                self.store.observe(track_id, confirmed, index, stamp, crops[i], dets.boxes[i], landmarks, quality,
                                   None if greys is None else greys[k], det_scores[i], natives.get(i, float("nan")),
                                   None if signatures is None else signatures[k])
            elif quality is not None:
                # Screened but below the track's finalists (never aligned): only its series learns the value.
                self.store.log(track_id, index, stamp).add(index, stamp, quality, confirmed, dets.boxes[i], None,
                                                           self.config.thumbnail_height)
            else:
                self.store.log(track_id, index, stamp).seen(index, stamp, confirmed)
            best = self.store.logs[track_id].series.best
            views.append(TrackView(track_id, dets.boxes[i].copy(), confirmed, self._latest.get(track_id), best,
                                   quality is not None))
        return views
