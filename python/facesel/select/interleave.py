"""Two tracks on one person at once: fragments alive at the same time, never seen on the same frame.

When a person moves faster than the tracker's association allows (a child jumping on a bed: 3-9
box sides a second), a detection the coasting track cannot take opens a second track on the same
face, and the detector's one box per face then goes to one track or the other, frame by frame:
the two overlap in time but never share a frame. The re-link (:mod:`facesel.select.linking`)
builds single chains (a fragment continues one that ended before it started), so such a pair
ends in two chains, two snapshots of one person (docs/persons.md, "Two tracks on one person at
once").

Two people's tracks are seen together on the frames where both are detected; a pair that never
is, and whose boxes hand over to each other close by and at the same size at every alternation,
is one face the detector saw once a frame. No recognition: frame indices, box positions and sizes,
and (where both have them) the coarse colours of :mod:`facesel.track_cues`.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from facesel.track_cues import distance as colour_distance


@dataclass(frozen=True)
class InterleaveRule:
    """When two time-overlapping fragments are one person's.

    Attributes
    ----------
    max_distance : float
        Largest distance between the two boxes' centres at every hand-over (an observation of one
        fragment followed, in frame order, by one of the other), in box sides (mean of the two
        boxes' shorter sides).
    max_size_ratio : float
        Largest ratio of the two boxes' shorter sides (larger over smaller) at every hand-over.
    max_frames : int
        Largest number of frames between the two observations of a hand-over (a longer one is a
        gap, which the re-link judges).
    max_colour_distance : float
        Largest colour distance between the two fragments' last colours when both have them
        (1 turns the check off).
    """

    max_distance: float = 1.0
    max_size_ratio: float = 1.5
    max_frames: int = 5
    max_colour_distance: float = 0.5

    def __post_init__(self) -> None:
        for name in ("max_distance", "max_colour_distance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        r = self.max_size_ratio
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not math.isfinite(r) or r < 1:
            raise ValueError(f"max_size_ratio must be a finite number >= 1, got {r!r}")
        if isinstance(self.max_frames, bool) or not isinstance(self.max_frames, int) or self.max_frames < 1:
            raise ValueError(f"max_frames must be an integer >= 1, got {self.max_frames!r}")

    def joins(self, a, b, colours_a=None, colours_b=None) -> bool:
        """Whether results ``a`` and ``b`` (each with ``frame_indices`` (K,) int and ``boxes``
        (K, 4) float, x1 y1 x2 y2; False for a result without boxes) are one person's
        interleaved tracks; ``colours_a``, ``colours_b``: their last colours ((2, 64) float32) or None."""
        if getattr(a, "boxes", None) is None or getattr(b, "boxes", None) is None:
            return False
        fa, fb = a.frame_indices, b.frame_indices
        if len(fa) == 0 or len(fb) == 0 or fa[0] > fb[-1] or fb[0] > fa[-1]:
            return False  # one after the other (most pairs): the re-link's, not this rule's
        figures = hand_overs(np.asarray(a.frame_indices, np.int64), np.asarray(a.boxes, np.float64).reshape(-1, 4),
                             np.asarray(b.frame_indices, np.int64), np.asarray(b.boxes, np.float64).reshape(-1, 4),
                             self.max_frames)
        if figures is None:
            return False
        distance, size, frames = figures
        if distance > self.max_distance or size > self.max_size_ratio or frames > self.max_frames:
            return False
        if colours_a is not None and colours_b is not None and self.max_colour_distance < 1:
            return colour_distance(colours_a, colours_b) <= self.max_colour_distance
        return True


def _pieces(frames: np.ndarray, max_frames: int) -> list[slice]:
    """Runs of observations no more than ``max_frames`` apart: a re-linked chain's fragments."""
    cuts = np.flatnonzero(np.diff(frames) > max_frames) + 1
    edges = [0, *cuts.tolist(), len(frames)]
    return [slice(s, e) for s, e in itertools.pairwise(edges)]


def hand_overs(fa: np.ndarray, ba: np.ndarray, fb: np.ndarray, bb: np.ndarray,
               max_frames: int = 5) -> tuple[float, float, int] | None:
    """(largest centre distance in box sides, largest size ratio, largest frame gap) over the
    hand-overs of two fragments that share no observed frame; None when they share one, when no
    hand-over is found, or either is empty.

    Each fragment is cut into pieces at gaps of more than ``max_frames`` frames (a merged result of
    a re-linked chain holds several fragments); for every two pieces of the two fragments whose
    spans overlap, a hand-over is an observation of one followed, in frame order, by one of the
    other, reaching into the span where both pieces are alive (the birth of the second track next
    to the coasting first one, every alternation, the first track's return after the second
    ended). The step from an earlier fragment of a chain into the other track is not one: that
    is a gap, which the re-link judges.

    Parameters
    ----------
    fa, fb : (K,) int64, frame indices of each fragment's observations, ascending
    ba, bb : (K, 4) float64, the boxes (x1, y1, x2, y2) on those frames
    max_frames : int, the largest gap inside one piece
    """
    if len(fa) == 0 or len(fb) == 0 or fa[0] > fb[-1] or fb[0] > fa[-1] or np.intersect1d(fa, fb).size:
        return None
    distance = size = 0.0
    gap, found = 0, False
    for pa in _pieces(fa, max_frames):
        for pb in _pieces(fb, max_frames):
            start, end = max(fa[pa][0], fb[pb][0]), min(fa[pa][-1], fb[pb][-1])
            if start > end:
                continue
            frames = np.concatenate([fa[pa], fb[pb]])
            boxes = np.concatenate([ba[pa], bb[pb]])
            owner = np.concatenate([np.zeros(len(frames) - len(fb[pb]), np.int8), np.ones(len(fb[pb]), np.int8)])
            order = np.argsort(frames, kind="stable")
            frames, boxes, owner = frames[order], boxes[order], owner[order]
            k = np.flatnonzero((owner[1:] != owner[:-1]) & (frames[1:] >= start) & (frames[:-1] <= end))
            if k.size == 0:
                continue
            p, q = boxes[k], boxes[k + 1]
            sp = np.minimum(p[:, 2] - p[:, 0], p[:, 3] - p[:, 1])
            sq = np.minimum(q[:, 2] - q[:, 0], q[:, 3] - q[:, 1])
            if min(sp.min(), sq.min()) <= 0:
                return None
            centre = np.linalg.norm((p[:, :2] + p[:, 2:]) / 2 - (q[:, :2] + q[:, 2:]) / 2, axis=1)
            distance = max(distance, float((centre / ((sp + sq) / 2)).max()))
            size = max(size, float((np.maximum(sp, sq) / np.minimum(sp, sq)).max()))
            gap, found = max(gap, int((frames[k + 1] - frames[k]).max())), True
    return (distance, size, gap) if found else None


def merged_evidence(a, b):
    """One :class:`facesel.select.evidence.TrackEvidence` of two interleaved fragments: counts
    summed, the first observation of the one that started first, the last of the one that ended
    last (``absorb`` assumes the later one also ends later)."""
    first, other = (a, b) if a.first_frame <= b.first_frame else (b, a)
    merged = first.absorb(other)
    if first.last_frame > other.last_frame:  # ``first`` spans ``other``: its end is the end
        last = first
        merged.last_time, merged.last_frame, merged.last_box = last.last_time, last.last_frame, last.last_box
        merged.ended_by, merged.last_score = last.ended_by, last.last_score
        merged.last_id = last.last_id
        if last.last_colours is not None:
            merged.last_colours = last.last_colours
        merged.tail = deque(last.tail, maxlen=merged.tail.maxlen)
        merged.marks_tail = deque(last.marks_tail, maxlen=merged.marks_tail.maxlen)
    return merged
