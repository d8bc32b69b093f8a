"""The best-crop store of the Selector: the C++ store's handles, the crops they stand for, and
each track's log, turned into a :class:`facesel.select.tracklog.SelectedTrack` when the track closes.

Memory is bounded on an endless stream: the C++ ``BestCropStore`` holds O(kept + 2 * clip_window)
observations per track (kept: top_k, or the finalists when rescoring or with the consensus pick)
and hands every other handle back at once, and the crops of those handles are freed here at once;
each track's quality series is decimated (``series_capacity``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from facesel.align import CROP_SIZE
from facesel.core import BestCropStore
from facesel.scoring.consensus import REFERENCE_SIGNATURES, SIGNATURES, TrackConsensus
from facesel.scoring.native_blur import TrackSharpness
from facesel.select.tracklog import DecimatedSeries, SelectedTrack, TrackLog
from facesel.types import CropContext, Snapshot

FLOOR = -np.finfo(np.float64).max
"""The lowest finite quality: the store needs finite numbers, and a scorer may say -inf for
"nothing face-like here", which must still rank below every real score, not abort the stream. An
observation held only for a clip (not scored) gets it too, so it never becomes a track's best
while a scored one exists."""


class _Observation:
    """One detection of one frame, kept while the store holds its handle."""

    __slots__ = ("crop", "box", "landmarks", "frame_index", "timestamp", "quality", "grey", "det_score", "native",
                 "signature")

    def __init__(self, crop, box, landmarks, frame_index, timestamp, quality, grey=None, det_score=1.0,
                 native=float("nan"), signature=None):
        self.crop, self.box, self.landmarks = crop, box, landmarks
        self.frame_index, self.timestamp, self.quality = frame_index, timestamp, quality
        self.grey, self.det_score, self.native = grey, det_score, native
        self.signature = signature


def _held(row: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """What a held crop keeps for the consensus pick's comparison on close: its (D,) signature row
    (a copy, not a view of its frame's stack of rows, which it would keep alive), float32 when that
    holds it exactly; or, when that row would take more than twice the grey crop's 4 KiB (the edge
    signature: 4096 float32 values, 16 KiB), the (64, 64) uint8 grey crop itself, whose signature
    is computed again on close (a function of the crop alone, bit for bit). The histograms (576
    float64, 4.5 KiB) are kept as rows: no recomputation on close."""
    narrow = row.astype(np.float32)
    kept = narrow if np.array_equal(narrow, row) else row.copy()
    return grey.copy() if kept.nbytes > 2 * grey.nbytes else kept


class SelectionStore:
    """Per track: the best observations (C++ store) and the log (first/last frame, series).

    Parameters
    ----------
    config : facesel.config.PipelineConfig
        Uses top_k, clip_window, series_capacity, thumbnails, thumbnail_height, finalists.
    rescore : callable, optional
        ``rescore(greys (M, 64, 64) uint8, CropContext) -> (M,) float64``. When given, the values
        observed are the cheap screen: the store keeps each track's ``finalists`` best by it, and
        on close rescores them (the full score) and chooses among them by the full score, so the
        result's best and top carry full scores while its quality series holds screen values.
        The clip (``clip_window``) is the one around the kept crop (:meth:`_window`). The owner sets
        :attr:`frame_shape` (H, W) for the context of the rescored crops.
    rescore_reads_pixels : bool
        False when ``rescore`` looks at the number of crops only (the default context rule): the
        grey crops are then not kept for it, and it is handed blanks of their shape.
    """

    def __init__(self, config, rescore=None, rescore_reads_pixels: bool = True):
        self.rescore = rescore
        self.keep_greys = rescore is not None and rescore_reads_pixels
        self.clip_window = config.clip_window
        self.top_k = config.top_k
        self.series_capacity = config.series_capacity
        self.thumbnails = config.thumbnails
        self.thumbnail_height = config.thumbnail_height
        # The consensus pick (facesel.scoring.consensus) chooses among each track's
        # ``consensus_finalists`` best by score (by screen when rescoring) with the track's reference
        # signature, built from every crop aligned for it; each held crop keeps its signature row
        # (computed once, when it is aligned, not again on close). With the gate
        # (``consensus_gate``) only among those at least as sharp in their native frame as the
        # track's median crop (the owner hands every crop's sharpness: :meth:`seen_sharpness`).
        self.consensus = config.consensus_finalists > 0
        self.consensus_signature = config.consensus_signature
        self.consensus_reference = config.consensus_reference
        self._signature = (SIGNATURES if config.consensus_impl == "batched" else REFERENCE_SIGNATURES)[config.consensus_signature]
        self._sharpness: dict[int, TrackSharpness] = {}
        keep = config.top_k if rescore is None and not self.consensus else max(config.top_k, config.kept_finalists)
        # The kept crop may be another than the best by value (the consensus pick, or the full
        # score's best when rescoring); the pick chooses among the finalists within clip_window of
        # the best by value, so holding twice the window around that best leaves the kept crop's own
        # +-clip_window whole (ux21: 9 of 12 arcade tracks got 5-8 of --clip-window 4's 9 frames).
        self._store = BestCropStore(top_k=keep, clip_window=2 * config.clip_window)
        self.finalists = config.finalists
        self._consensus: dict[int, TrackConsensus] = {}
        self.frame_shape = (0, 0)
        self._observations: dict[int, _Observation] = {}
        self.logs: dict[int, TrackLog] = {}
        self._next_handle = 0
        self.closed = 0

    @property
    def held_observations(self) -> int:
        """Observations (crops, boxes, landmarks) held now: the open tracks' finalists and clip frames."""
        return len(self._observations)

    def log(self, track_id: int, frame_index: int, stamp: float) -> TrackLog:
        """The log of ``track_id``, opened on its first detection."""
        log = self.logs.get(track_id)
        if log is None:
            thumbs = DecimatedSeries(max(2, self.thumbnails)) if self.thumbnails else None
            log = TrackLog(frame_index, stamp, frame_index, stamp, DecimatedSeries(self.series_capacity), thumbs)
            self.logs[track_id] = log
        return log

    def admits(self, track_id: int, value: float) -> bool:
        """Whether an observation of ``value`` would join ``track_id``'s kept best (its finalists
        when rescoring): :meth:`facesel.BestCropStore.admits`. With no clip, one it refuses is never
        part of the result, so its crop need not be made."""
        return self._store.admits(track_id, value)

    def observe(self, track_id: int, confirmed: bool, frame_index: int, stamp: float, crop: np.ndarray,
                box: np.ndarray, landmarks, quality: float | None, grey=None, det_score: float = 1.0,
                native: float = float("nan"), signature=None) -> None:
        """Keep one aligned observation. ``quality`` None: not scored, held only for the clip;
        ``grey`` (64, 64) uint8: the scorer's crop, kept for the rescoring on close; ``native``: its
        sharpness in the native frame (the consensus gate; nan: not measured); ``signature``: the
        grey crop's (D,) float64 consensus signature when the caller computed it (a frame's crops
        at once), else it is computed here."""
        log = self.log(track_id, frame_index, stamp)
        if quality is None:
            log.seen(frame_index, stamp, confirmed)
        else:
            log.add(frame_index, stamp, quality, confirmed, box, crop, self.thumbnail_height)
        value = FLOOR if quality is None else quality
        handle = self._next_handle
        self._next_handle += 1
        self._observations[handle] = _Observation(
            crop, box.copy(), None if landmarks is None else landmarks.copy(), frame_index, stamp, value,
            # a copy: ``grey`` is a view of its frame's stack of crops, which it would keep alive
            grey.copy() if self.keep_greys and grey is not None else None, det_score, native,
        )
        self._free(self._store.push(track_id, frame_index, value, handle))
        if self.consensus and grey is not None:
            consensus = self._consensus.get(track_id)
            if consensus is None:
                consensus = self._consensus[track_id] = TrackConsensus(self.consensus_signature, self.consensus_reference)
            rows = self._signature(grey[None]) if signature is None else signature[None]
            consensus.add_signatures(rows)
            if handle in self._observations:  # still held: its row is compared with the reference on close
                self._observations[handle].signature = _held(rows[0], grey)

    def seen_sharpness(self, track_id: int, value: float) -> None:
        """Note the native sharpness of one crop of ``track_id`` (aligned or not): the gate's median."""
        self._sharpness.setdefault(track_id, TrackSharpness()).add(value)

    def finish(self, update, end_of_stream: bool = False) -> list[SelectedTrack]:
        """Discard the dropped tracks of a tracker update and close its closed ones.

        ``end_of_stream``: the update is the tracker's flush, and every track this store holds
        ends: closed when confirmed in the frames this store saw (the tracker's own rule, which
        its flush applies to the frames it saw), discarded otherwise. After a run loop left early
        (``break``, an error, a second Ctrl-C) the tracker has seen more frames: those queued
        between detection and selection, which are dropped. Its flush may then name tracks born in
        them (nothing here to close), confirm a track this store holds as tentative, and leave out
        tracks it ended in them; deciding here keeps what is delivered the same however far
        detection had run ahead."""
        closed = np.asarray(update.closed, dtype=np.int64).tolist()
        dropped = np.asarray(update.dropped, dtype=np.int64).tolist()
        if end_of_stream:
            closed, dropped = self._at_end(closed + dropped)
        for track_id in dropped:
            if track_id in self._store:
                self._free(self._store.discard(track_id))
            self.logs.pop(track_id, None)
            self._consensus.pop(track_id, None)
            self._sharpness.pop(track_id, None)
        return [self._close(t) for t in closed]

    def _at_end(self, named: list[int]) -> tuple[list[int], list[int]]:
        """(closed, dropped): every track held here or ``named`` by the tracker's flush, closed when
        its log says confirmed."""
        ending = list(dict.fromkeys(named + list(self.logs)))  # the flush's order, then the rest
        closed = [t for t in ending if t in self.logs and self.logs[t].confirmed and t in self._store]
        kept = set(closed)
        return closed, [t for t in ending if t not in kept]

    def _final(self, track_id: int, finalists, clip) -> list[Snapshot]:
        """Every finalist rescored, best first by the full score (the earliest frame on ties)."""
        obs = [self._observations[int(t.handle)] for t in finalists]
        marks = None if any(o.landmarks is None for o in obs) else np.stack([o.landmarks for o in obs])
        context = CropContext(np.array([o.det_score for o in obs]), np.stack([o.box for o in obs]), marks,
                              self.frame_shape, np.full(len(obs), track_id, np.int64))
        if any(o.grey is None for o in obs):
            # no grey crops were made: the scorer reads no pixels (ScoreStage.make_greys), blanks of its shape
            greys = np.zeros((len(obs), CROP_SIZE, CROP_SIZE), np.uint8)
        else:
            greys = np.stack([o.grey for o in obs])
        full = np.asarray(self.rescore(greys, context), np.float64)
        order = sorted(range(len(obs)), key=lambda k: (-full[k], obs[k].frame_index))
        return [self._snapshot(track_id, finalists[k], self._window(clip, finalists[k].frame_index) if rank == 0
                               else (), quality=float(full[k]))
                for rank, k in enumerate(order)]

    def _by_consensus(self, consensus: TrackConsensus, ranked: list[Snapshot], finalists, clip,
                      sharpness: TrackSharpness | None = None, centre: int | None = None) -> list[Snapshot]:
        """``ranked`` (best first by the full score) reordered: the finalist whose signature agrees
        most with the track's reference first, the rest as they were. With ``sharpness`` (the
        track's native sharpness seen so far), only among the finalists at least as sharp as its
        median when one is (a finalist not measured, nan, never passes).

        With a clip (``clip_window`` > 0) the store holds only the crops within twice the window
        of the best by value (frame ``centre``), so the choice is among the finalists within the
        window of it, and the clip is cut to the chosen frame's +-``clip_window``, whole: the kept
        crop is always in its own clip, never next to frames around another one."""
        rows = {int(t.frame_index): self._observations[int(t.handle)].signature for t in finalists}
        in_clip = {int(c.frame_index) for c in self._window(clip, centre)}
        scored = [k for k, s in enumerate(ranked) if s.quality > FLOOR and rows[s.frame_index] is not None
                  and (not clip or s.frame_index in in_clip)]
        if len(scored) < 2:
            return ranked
        agreement = consensus.agreement(self._signatures([rows[ranked[k].frame_index] for k in scored]))
        if sharpness is not None and len(sharpness):
            # the gate: only finalists at least as sharp as the track's median crop, if any is
            natives = {int(t.frame_index): self._observations[int(t.handle)].native for t in finalists}
            median = sharpness.median()  # once, not per finalist
            passing = np.array([natives[ranked[k].frame_index] >= median for k in scored])
            if passing.any():
                agreement = np.where(passing, agreement, -np.inf)
        first = scored[int(np.argmax(agreement))]  # ties: the better full score (ranked order)
        if first == 0:
            return ranked
        chosen = next(t for t in finalists if int(t.frame_index) == ranked[first].frame_index)
        around = self._window(clip, chosen.frame_index)
        best = self._snapshot(ranked[first].track_id, chosen, around, quality=ranked[first].quality)
        previous = ranked[0]
        if clip:
            previous = dataclasses.replace(previous, clip=[], clip_frame_indices=[])
        return [best, previous] + [s for k, s in enumerate(ranked[1:], start=1) if k != first]

    def _signatures(self, held: list[np.ndarray]) -> np.ndarray:
        """(M, D) float64 signatures of held crops (:func:`_held`): the rows widened back, the grey
        crops' computed now in one batch."""
        greys = [k for k, h in enumerate(held) if h.dtype == np.uint8]
        made = dict(zip(greys, self._signature(np.stack([held[k] for k in greys])))) if greys else {}
        return np.stack([made[k] if k in made else h.astype(np.float64) for k, h in enumerate(held)])

    def _free(self, handles) -> None:
        for handle in np.asarray(handles, dtype=np.int64).tolist():
            del self._observations[handle]

    def _window(self, clip, frame_index) -> list:
        """The held clip observations within ``clip_window`` frames of ``frame_index``."""
        return [c for c in clip if abs(int(c.frame_index) - int(frame_index)) <= self.clip_window]

    def _snapshot(self, track_id: int, observation, clip=(), quality=None) -> Snapshot:
        obs = self._observations[int(observation.handle)]
        clip_obs = [self._observations[int(c.handle)] for c in clip]
        return Snapshot(
            crop=obs.crop, box=obs.box, landmarks=obs.landmarks, quality=obs.quality if quality is None else quality,
            frame_index=obs.frame_index, timestamp=obs.timestamp, track_id=track_id,
            clip=[c.crop for c in clip_obs], clip_frame_indices=[c.frame_index for c in clip_obs],
        )

    def _close(self, track_id: int) -> SelectedTrack:
        closed = self._store.close(track_id)
        log = self.logs.pop(track_id)
        clip = closed.clip if self.clip_window > 0 else ()
        # The not-a-face vote's candidates are what they are without the consensus pick (its wider
        # choice must not make the vote more lenient): the ``finalists`` best by the full score, or
        # the ``top_k`` best without rescoring.
        if self.rescore is None:
            best = self._snapshot(track_id, closed.best, self._window(clip, closed.best.frame_index))
            ranked = [best if t.handle == closed.best.handle else self._snapshot(track_id, t) for t in closed.top]
            candidates = ranked[: self.top_k]
        else:
            ranked = self._final(track_id, closed.top, clip)
            candidates = ranked[: self.finalists]
        consensus = self._consensus.pop(track_id, None)
        sharpness = self._sharpness.pop(track_id, None)
        if consensus is not None and len(ranked) > 1:
            ranked = self._by_consensus(consensus, ranked, closed.top, clip, sharpness, closed.best.frame_index)
        best, top = ranked[0], ranked[: self.top_k]
        self._free(closed.released)
        self.closed += 1
        thumbs = log.thumbnails
        payloads = log.series.payloads()
        return SelectedTrack(
            track_id=track_id, first_frame=log.first_frame, last_frame=log.last_frame,
            first_timestamp=log.first_timestamp, last_timestamp=log.last_timestamp, best=best,
            qualities=log.series.values(), frame_indices=log.series.frames(),
            boxes=np.stack(payloads).astype(np.float32) if payloads else np.zeros((0, 4), np.float32), top=top,
            candidates=candidates,
            thumbnails=[] if thumbs is None else thumbs.payloads(),
            thumbnail_frames=np.zeros(0, np.int64) if thumbs is None else thumbs.frames(),
        )
