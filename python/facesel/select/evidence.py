"""What the pipeline saw of each track besides its crops, in constant memory per track.

The finaliser judges a closed track ("is it a face?", "does it continue in a later track?") from
these summaries: detector confidence, landmark layout, how the box moved, and how often the track's
box overlapped a detection of a surer track (higher mean detector confidence so far). Nothing here
looks at identity.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from facesel import _core
from facesel.select.faceness import landmark_residual
from facesel.track_cues import LIVE_GREY

# Observations kept for the end-of-track velocity: enough to average out box jitter, few enough
# to follow a turn.
_VELOCITY_WINDOW = 8
# Observations kept at each end of a track for the re-link (issue 23): about a third of a second,
# enough to reach back past the frames on which a passer-by covered part of the face.
_ENDS_WINDOW = 8
# Observations with colours kept at each end, with their detector confidence, for the re-link's
# colour sample (issue 23, occluded crowds: the better-seen half of them, select/link_colours.py).
_SEEN_WINDOW = 16
# Overlap (of the smaller box's area) at which two boxes of one frame are taken as one head.
_SHADOW_OVERLAP = 0.1
# A box of another track is a possible **cover** of a face (issue 23, crossing crowds: a nearer
# person passing in front) when it is at least this much larger (shorter sides) ...
COVER_MIN_RATIO = 1.1
# ... and its centre lies within this many of its own sides of the face's centre (a nearer
# person's head and shoulders reach about 1.5 face widths either side of their face, arms held
# out more). The re-link applies its own limits (LinkRule.cover_reach, cover_size_ratio); these
# only bound what is recorded.
COVER_MAX_REACH = 5.0


@dataclass
class TrackEvidence:
    """Running summary of one track.

    Attributes
    ----------
    count : int
        Observations (detections) so far.
    det_max, det_sum : float
        Best and summed detector confidence.
    best_landmark_residual : float
        Smallest :func:`facesel.select.faceness.landmark_residual` seen (inf without landmarks).
    shadowed : int
        Observations whose box overlapped, on the same frame, a detection of a track with a higher mean
        detector confidence so far.
    first_time, last_time : float
        Seconds of the first and last observation; ``first_frame``, ``last_frame`` likewise.
    first_box, last_box : (4,) float64
        Boxes (x1, y1, x2, y2) of the first and last observation.
    centre_min, centre_max : (2,) float64
        Extent of the box centre's path; ``side_min``, ``side_max`` of the box's shorter side.
    ended_by : str or None
        The switch cue that ended this track (:attr:`facesel.track.TrackStage.switches`), or None.
    first_colours, last_colours : (2, 64) float32 or None
        Colours of the box and the band below it (:func:`facesel.track_cues.appearance`) of the
        first and last observation that had them: the re-link compares the end of one fragment
        with the start of the next.
    still : int
        Observations on which the pixels under the track's previous box did not change
        (:attr:`facesel.track.TrackStage.still`): a logo, a watermark, a picture on a wall.
    measured, lively : int
        Observations on which that change was measured (:attr:`facesel.track.TrackStage.change`),
        and those on which it reached :data:`facesel.track_cues.LIVE_GREY`: what the box shows
        moved (a face blinks, talks, breathes; a poster does not).
    marks_head, marks_tail : list / deque of (5, 2) float landmarks or None
        The landmarks of the observations in ``head`` and ``tail``, one for one (issue 23, session
        18): which way the face looks at each end (:mod:`facesel.select.facing`: a head turned
        away and back). Kept whatever the landmark vote: a reference to the detector's row.
    head, tail : list / deque of (time, box (4,) float64, colours (2, 64) float32 or None)
        The first and the last few observations (issue 23, crowds): the re-link compares the two
        ends of fragments over several observations, because the last ones before a face is
        hidden (and the first ones after) show it partly covered: a box shrunk to the visible
        part, colours of the passer-by in front.
    seen_head, seen_tail : list / deque of (detector confidence, colours (2, 64) float32, observation number)
        The first and the last :data:`_SEEN_WINDOW` observations that had colours, with the
        detector's confidence on each and which observation of the track it was (1-based; issue
        23, occluded crowds): a face partly covered by an occluder is detected with less
        confidence, so the re-link can take its colour sample from the observations on which the
        face was seen best, and leave out colours measured long before an end
        (:mod:`facesel.select.link_colours`).
    last_score : float
        Detector confidence of the last observation.
    first_id, last_id : int
        The track (segment) id of the first and of the last fragment this summary covers (-1:
        not told): the continuity bridge's hints name segments (:mod:`facesel.track_cues.bridge`).
    frame_shape : (H, W) or None
        The frame's size in pixels, when the book was told it (:attr:`EvidenceBook.frame_shape`):
        whether a box touches the frame's edge (the edge-return long link and the link veto, issue 23).
    cover_head, cover_tail : tuple or None
        The nearest larger box of another track on the same frame (issue 23, crossing crowds:
        who was in front): ``(track id, centre distance in that box's sides, its side over this
        box's side, observation number)``, of the first observation among the first
        :data:`_ENDS_WINDOW` that had one (``cover_head``) and of the last observation that had
        one (``cover_tail``; the re-link asks whether it is among the last :data:`_ENDS_WINDOW`).
        Larger: at least :data:`COVER_MIN_RATIO`; near: within :data:`COVER_MAX_REACH` sides.
        None: no such box.
    """

    count: int = 0
    det_max: float = 0.0
    det_sum: float = 0.0
    best_landmark_residual: float = float("inf")
    shadowed: int = 0
    first_time: float = 0.0
    last_time: float = 0.0
    first_frame: int = 0
    last_frame: int = 0
    first_box: np.ndarray = field(default_factory=lambda: np.zeros(4))
    last_box: np.ndarray = field(default_factory=lambda: np.zeros(4))
    centre_min: np.ndarray = field(default_factory=lambda: np.full(2, np.inf))
    centre_max: np.ndarray = field(default_factory=lambda: np.full(2, -np.inf))
    side_min: float = float("inf")
    side_max: float = 0.0
    recent: deque = field(default_factory=lambda: deque(maxlen=_VELOCITY_WINDOW))
    ended_by: str | None = None
    still: int = 0
    measured: int = 0
    lively: int = 0
    first_colours: np.ndarray | None = None
    last_colours: np.ndarray | None = None
    head: list = field(default_factory=list)
    tail: deque = field(default_factory=lambda: deque(maxlen=_ENDS_WINDOW))
    marks_head: list = field(default_factory=list)
    marks_tail: deque = field(default_factory=lambda: deque(maxlen=_ENDS_WINDOW))
    seen_head: list = field(default_factory=list)
    seen_tail: deque = field(default_factory=lambda: deque(maxlen=_SEEN_WINDOW))
    last_score: float = 0.0
    frame_shape: tuple | None = None
    cover_head: tuple | None = None
    cover_tail: tuple | None = None
    first_id: int = -1
    last_id: int = -1

    def add(self, box, score: float, landmarks, timestamp: float, frame_index: int, shadowed: bool,
            centre=None, side: float | None = None) -> None:
        """One observation. ``centre`` ((2,) float64, the box's centre) and ``side`` (its shorter
        side) may be given when computed already for a whole frame (:meth:`EvidenceBook.observe_frame`):
        the same values as computed here from ``box``."""
        box = np.asarray(box, dtype=np.float64).reshape(4)
        if centre is None:
            centre = (box[:2] + box[2:]) / 2
        if side is None:
            side = float(min(box[2] - box[0], box[3] - box[1]))
        cx, cy = np.asarray(centre, dtype=np.float64).reshape(2).tolist()
        self._add(box, float(score), landmarks, float(timestamp), int(frame_index), bool(shadowed),
                  cx, cy, float(side), landmarks)

    def _add(self, box: np.ndarray, score: float, landmarks, timestamp: float, frame_index: int,
             shadowed: bool, cx: float, cy: float, side: float, marks=None) -> None:
        """:meth:`add` of arguments already in their types (``box`` (4,) float64, the centre's
        two values and the rest as Python scalars): what :meth:`EvidenceBook.observe_frame`
        converts once for a whole frame. ``landmarks`` feed the landmark vote (None: not used);
        ``marks`` are kept at the ends for which way the face looks (:attr:`marks_tail`)."""
        if self.count == 0:
            self.first_time, self.first_frame, self.first_box = timestamp, frame_index, box
        self.count += 1
        self.det_max = max(self.det_max, score)
        self.det_sum += score
        self.last_score = score
        if landmarks is not None:
            self.best_landmark_residual = min(self.best_landmark_residual, landmark_residual(landmarks))
        self.shadowed += shadowed
        self.last_time, self.last_frame, self.last_box = timestamp, frame_index, box
        # the extent of the path: a new array only where the centre is not strictly inside it
        # (strictly: where it equals an end, np.minimum / np.maximum decide, as they always did)
        low, high = self.centre_min, self.centre_max
        if not (cx > low[0] and cy > low[1]):
            self.centre_min = np.minimum(low, (cx, cy))
        if not (cx < high[0] and cy < high[1]):
            self.centre_max = np.maximum(high, (cx, cy))
        self.side_min, self.side_max = min(self.side_min, side), max(self.side_max, side)
        self.recent.append((timestamp, cx, cy))
        end = (timestamp, box, None)
        if len(self.head) < _ENDS_WINDOW:
            self.head.append(end)
            self.marks_head.append(marks)
        self.tail.append(end)
        self.marks_tail.append(marks)

    def colour_last(self, colours) -> None:
        """The colours of the observation just added (:meth:`add`)."""
        if self.first_colours is None:
            self.first_colours = colours
        self.last_colours = colours
        t, box, _ = self.tail[-1]
        self.tail[-1] = (t, box, colours)
        if len(self.head) == self.count:  # the observation is also among the first ones
            self.head[-1] = (t, box, colours)
        seen = (self.last_score, colours, self.count)
        if len(self.seen_head) < _SEEN_WINDOW:
            self.seen_head.append(seen)
        self.seen_tail.append(seen)

    @property
    def duration(self) -> float:
        """Seconds from the first observation to the last."""
        return self.last_time - self.first_time

    @property
    def travel(self) -> float:
        """Largest extent (x or y) of the centre's path, in pixels."""
        return float((self.centre_max - self.centre_min).max()) if self.count else 0.0

    @property
    def still_fraction(self) -> float:
        """Share of the steps between observations on which the box did not move."""
        return self.still / (self.count - 1) if self.count > 1 else 0.0

    @property
    def lively_fraction(self) -> float:
        """Of the observations whose pixel change was measured, the fraction on which what the
        box shows moved (nan when none was measured: the switch cues off, or no frames)."""
        return self.lively / self.measured if self.measured else float("nan")

    @property
    def shadowed_fraction(self) -> float:
        """Share of the observations whose box overlapped a surer track's detection (see ``shadowed``)."""
        return self.shadowed / self.count if self.count else 0.0

    def velocity(self) -> np.ndarray:
        """(2,) float64 pixels per second of the centre over the last few observations."""
        if len(self.recent) < 2:
            return np.zeros(2)
        (t0, x0, y0), (t1, x1, y1) = self.recent[0], self.recent[-1]
        if t1 - t0 <= 0:
            return np.zeros(2)
        return np.array([(x1 - x0) / (t1 - t0), (y1 - y0) / (t1 - t0)])

    def absorb(self, later: TrackEvidence) -> TrackEvidence:
        """This track followed by ``later`` (a re-linked fragment), as one summary."""
        merged = TrackEvidence(
            count=self.count + later.count, det_max=max(self.det_max, later.det_max),
            det_sum=self.det_sum + later.det_sum,
            best_landmark_residual=min(self.best_landmark_residual, later.best_landmark_residual),
            shadowed=self.shadowed + later.shadowed,
            first_time=self.first_time, last_time=later.last_time, first_frame=self.first_frame,
            last_frame=later.last_frame, first_box=self.first_box, last_box=later.last_box,
            centre_min=np.minimum(self.centre_min, later.centre_min),
            centre_max=np.maximum(self.centre_max, later.centre_max),
            side_min=min(self.side_min, later.side_min), side_max=max(self.side_max, later.side_max),
            ended_by=later.ended_by, still=self.still + later.still,
            measured=self.measured + later.measured, lively=self.lively + later.lively,
            first_colours=self.first_colours if self.first_colours is not None else later.first_colours,
            last_colours=later.last_colours if later.last_colours is not None else self.last_colours,
            frame_shape=later.frame_shape if later.frame_shape is not None else self.frame_shape,
            first_id=self.first_id, last_id=later.last_id,
        )
        merged.recent.extend(later.recent)
        merged.head = (list(self.head) + list(later.head))[:_ENDS_WINDOW]  # the first of the two, then the later's
        merged.tail.extend(self.tail)  # the last of the two (maxlen keeps the newest)
        merged.tail.extend(later.tail)
        merged.marks_head = (list(self.marks_head) + list(later.marks_head))[:_ENDS_WINDOW]
        merged.marks_tail.extend(self.marks_tail)
        merged.marks_tail.extend(later.marks_tail)
        # observation numbers of the merged track: the later fragment's follow the earlier's
        shifted = [(s, c, n + self.count) for s, c, n in later.seen_head]
        merged.seen_head = (list(self.seen_head) + shifted)[:_SEEN_WINDOW]
        merged.seen_tail.extend(self.seen_tail)
        merged.seen_tail.extend((s, c, n + self.count) for s, c, n in later.seen_tail)
        merged.last_score = later.last_score
        merged.cover_head = self.cover_head
        if merged.cover_head is None and later.cover_head is not None and self.count + later.cover_head[3] <= _ENDS_WINDOW:
            merged.cover_head = later.cover_head[:3] + (later.cover_head[3] + self.count,)
        merged.cover_tail = (later.cover_tail[:3] + (later.cover_tail[3] + self.count,)
                             if later.cover_tail is not None else self.cover_tail)
        return merged

    def covered_at_end(self) -> tuple | None:
        """:attr:`cover_tail` when it is among the last :data:`_ENDS_WINDOW` observations, else None."""
        c = self.cover_tail
        return c if c is not None and self.count - c[3] < _ENDS_WINDOW else None

    def _cover(self, cover: tuple | None) -> None:
        """The cover ``(track id, distance, ratio)`` of the observation just added, or None."""
        if cover is None:
            return
        entry = tuple(cover) + (self.count,)
        if self.cover_head is None and self.count <= _ENDS_WINDOW:
            self.cover_head = entry
        self.cover_tail = entry


def shadowed_mask(boxes: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Which boxes of one frame overlap a box with a higher detector confidence.

    Parameters
    ----------
    boxes : (N, 4) float
    scores : (N,) float

    Returns
    -------
    (N,) bool
        True where some other box of higher score covers at least 10 % of the smaller box's area.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    n = len(boxes)
    if n < 2:
        return np.zeros(n, bool)
    if n <= _FEW:
        shadow = _shadowed_few(boxes.tolist(), scores.tolist())
        if shadow is not None:
            return np.array(shadow, bool)
    # (N, N, 2) corners of each pair's intersection, then its (N, N) area
    sides = np.maximum(np.minimum(boxes[:, None, 2:], boxes[None, :, 2:]) - np.maximum(boxes[:, None, :2], boxes[None, :, :2]), 0.0)
    inter = sides[..., 0] * sides[..., 1]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    smaller = np.minimum(area[:, None], area[None, :])
    overlapping = inter >= _SHADOW_OVERLAP * np.maximum(smaller, 1e-9)
    surer = scores[None, :] > scores[:, None]  # never a box itself (its diagonal is False)
    return (overlapping & surer).any(axis=1)


_FEW = 16
"""Boxes up to which :func:`shadowed_mask` compares a frame's pairs in Python: on a few dozen
pairs that costs less than its dozen numpy calls, most of all right after the detector has
filled the caches (docs/persons.md, speed)."""


_CORE_SHADOWED = getattr(_core, "shadowed_pairs", None)
"""The C++ core's :func:`_shadowed_few` (``_core.shadowed_pairs``: the same sum's finiteness check
and float64 pairs, one call for the frame); None in a core built before it."""


def _shadowed_few(boxes: list, scores: list) -> list | None:
    """:func:`_shadowed_pairs` of boxes and scores that are all finite; None otherwise (numpy's
    nan and inf rules then apply: :func:`shadowed_mask`'s numpy path). A sum is finite only when
    every term is (one that overflows goes to numpy too)."""
    if math.isfinite(sum(scores) + sum(map(sum, boxes))):
        return _shadowed_pairs(boxes, scores)
    return None


def _shadowed_pairs(boxes: list, scores: list) -> list:
    """(N,) bools: :func:`shadowed_mask` of N finite boxes (lists x1, y1, x2, y2) and scores,
    pair by pair, with the same float64 operations in the same order. A pair whose intersection
    has a side <= 0 is skipped: numpy's ``max(side, 0)`` makes its area 0, under the floor
    (at least a tenth of 1e-9); otherwise the sides are the same differences (``min`` and ``max``
    written as comparisons: of finite floats, the same values). The overlap is symmetric, so
    each pair is computed once."""
    areas = [(x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in boxes]
    out = [False] * len(boxes)
    for i, (ax1, ay1, ax2, ay2) in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            bx1, by1, bx2, by2 = boxes[j]
            if scores[i] == scores[j] or ax2 <= bx1 or bx2 <= ax1 or ay2 <= by1 or by2 <= ay1:
                continue  # neither is surer, or they do not meet
            w = (ax2 if ax2 < bx2 else bx2) - (ax1 if ax1 > bx1 else bx1)
            h = (ay2 if ay2 < by2 else by2) - (ay1 if ay1 > by1 else by1)
            if w <= 0.0 or h <= 0.0:
                continue
            smaller = areas[i] if areas[i] < areas[j] else areas[j]
            if w * h >= _SHADOW_OVERLAP * (smaller if smaller > 1e-9 else 1e-9):
                if scores[j] > scores[i]:
                    out[i] = True
                else:
                    out[j] = True
    return out


def covers(boxes: list, track_ids: list) -> list:
    """Per box of one frame, the nearest larger box of another track (see
    :attr:`TrackEvidence.cover_tail`): ``(track id, centre distance in that box's shorter sides,
    its side over this box's side)`` or None.

    Parameters
    ----------
    boxes : list of (x1, y1, x2, y2) floats
    track_ids : list of int (negative: no track; such a box covers nothing)
    """
    sides = [min(x2 - x1, y2 - y1) for x1, y1, x2, y2 in boxes]
    centres = [((x1 + x2) / 2, (y1 + y2) / 2) for x1, y1, x2, y2 in boxes]
    out = [None] * len(boxes)
    for i, (cx, cy) in enumerate(centres):
        side = sides[i]
        if not side > 0:
            continue
        best = None
        for j, (ox, oy) in enumerate(centres):
            other = sides[j]
            if j == i or track_ids[j] < 0 or track_ids[j] == track_ids[i] or not other >= COVER_MIN_RATIO * side:
                continue
            reach = math.hypot(ox - cx, oy - cy) / other
            if reach <= COVER_MAX_REACH and (best is None or reach < best[1]):
                best = (int(track_ids[j]), reach, other / side)
        out[i] = best
    return out


class EvidenceBook:
    """The :class:`TrackEvidence` of every track the tracker has (open, tentative or just closed)."""

    def __init__(self, landmark_residuals: bool = True, covers: bool = False) -> None:
        self._tracks: dict[int, TrackEvidence] = {}
        # Who was in front of whom (TrackEvidence.cover_head / cover_tail): recorded only for a
        # re-link that asks (LinkRule.covered_gap_seconds), so it costs nothing otherwise.
        self.covers = bool(covers)
        # The landmark geometry (a Procrustes fit per detection) is the second vote only of a
        # rule without a quality vote; the default finaliser has one and skips it.
        self.landmark_residuals = bool(landmark_residuals)
        # (H, W) of the frames, when known (Finaliser.observe): stamped on each new track's evidence
        self.frame_shape: tuple | None = None

    def observe_frame(self, track_ids, detections, timestamp: float, frame_index: int, colours=None,
                      still=None, change=None) -> None:
        """Record one frame's detections under the track each was assigned to.

        Parameters
        ----------
        track_ids : (N,) int
            The tracker's assignment of each detection.
        detections : Detections
            ``boxes`` (N, 4), ``scores`` (N,), ``landmarks`` (N, 5, 2) or None.
        colours : sequence of (2, 64) float32 or None, optional
            Per detection, its colours (:attr:`facesel.track.TrackStage.appearances`).
        still : sequence of bool, optional
            Per detection, whether the pixels under its track's previous box stayed the same.
        change : sequence of float, optional
            Per detection, how much they changed (nan: not measured).
        """
        track_ids = np.asarray(track_ids, dtype=np.int64).reshape(-1)
        if len(track_ids) != len(detections):
            raise ValueError(f"track_ids must have one entry per detection ({len(detections)}), got {len(track_ids)}")
        # Which of two overlapping boxes is the head's own is judged by their tracks' mean
        # confidence so far, not by this frame's scores: two boxes on one head (the face and the
        # top of a bowed head) swap which is surer from frame to frame (arcade, frames 84-104:
        # 0.66 / 0.84, then 0.76 / 0.69, 0.72 / 0.67), so per frame neither was mostly shadowed.
        scores = np.asarray(detections.scores, np.float64).reshape(-1).tolist()
        ids = track_ids.tolist()
        surety = [self._mean_score(t, s) for t, s in zip(ids, scores)]
        # the frame's boxes at once (the same values as box by box)
        boxes = np.asarray(detections.boxes, np.float64).reshape(-1, 4)
        rows = boxes.tolist()
        shadow = None
        if len(rows) <= _FEW:  # shadowed_mask's Python path: the pairs in the C++ core when it has them
            shadow = _CORE_SHADOWED(boxes, surety, _SHADOW_OVERLAP) if _CORE_SHADOWED is not None else _shadowed_few(rows, surety)
        if shadow is None:
            shadow = shadowed_mask(boxes, np.array(surety)).tolist()
        marks = detections.landmarks
        with_landmarks = marks is not None and self.landmark_residuals
        # converted once for the frame, not once per box (TrackEvidence._add takes them as they are)
        timestamp, frame_index = float(timestamp), int(frame_index)
        box_rows = list(boxes)
        # who may be in front of whom (only with two boxes or more)
        cover = covers(rows, ids) if self.covers and len(rows) > 1 else None
        for i, (track_id, (x1, y1, x2, y2)) in enumerate(zip(ids, rows)):
            evidence = self._tracks.get(track_id)
            if evidence is None:
                evidence = self._tracks[track_id] = TrackEvidence(frame_shape=self.frame_shape, first_id=int(track_id),
                                                                  last_id=int(track_id))
            landmarks = detections.landmarks[i] if with_landmarks else None
            # the centre and the shorter side in float64 as numpy computes them (np.minimum's
            # nan: the width's or the height's)
            w, h = x2 - x1, y2 - y1
            side = w if w <= h or w != w else h
            evidence._add(box_rows[i], scores[i], landmarks, timestamp, frame_index, shadow[i],
                          (x1 + x2) / 2, (y1 + y2) / 2, side, None if marks is None else marks[i])
            if cover is not None:
                evidence._cover(cover[i])
            if colours is not None and i < len(colours) and colours[i] is not None:
                evidence.colour_last(colours[i])
            if still is not None and i < len(still) and still[i]:
                evidence.still += 1
            if change is not None and i < len(change) and math.isfinite(change[i]):
                evidence.measured += 1
                evidence.lively += int(change[i] >= LIVE_GREY)

    def _mean_score(self, track_id: int, score: float) -> float:
        """The track's mean detector confidence including ``score`` (this frame's)."""
        evidence = self._tracks.get(track_id)
        if evidence is None or evidence.count == 0:
            return score
        return (evidence.det_sum + score) / (evidence.count + 1)

    def get(self, track_id: int) -> TrackEvidence | None:
        """The evidence of ``track_id`` so far, or None when the book has none."""
        return self._tracks.get(int(track_id))

    def pop(self, track_id: int) -> TrackEvidence:
        """Take a closed track's evidence out of the book (an empty one when it has none)."""
        return self._tracks.pop(int(track_id), None) or TrackEvidence()

    def discard(self, track_id: int) -> None:
        """Forget a track that died tentative."""
        self._tracks.pop(int(track_id), None)

    def items(self):
        """The (track id, :class:`TrackEvidence`) pairs the book holds (tracks not popped yet)."""
        return self._tracks.items()

    def __len__(self) -> int:
        return len(self._tracks)
