"""Re-linking of track fragments by position, time, size and coarse colours (StrongSORT's AFLink in spirit).

A person's track splits when the detector misses them for longer than the tracker waits, or when
the head turns. The fragment that starts soon after, near where the closed one was heading and
with a compatible size and colours of the box and the band below it that are not far apart, is
taken as its continuation. No recognition embedding: the boxes, their times and a 64-bin colour
histogram (:class:`facesel.select.evidence.TrackEvidence`, :mod:`facesel.track_cues`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facesel.track_cues import distance as colour_distance


@dataclass(frozen=True)
class LinkRule:
    """When a later track continues an earlier one.

    Attributes
    ----------
    max_gap_seconds : float
        Longest time from the earlier track's last observation to the later one's first.
    max_overlap_seconds : float
        The later track may start this much before the earlier one's last observation (a new
        track opened on a turned head while the old one still coasted on a stray box).
    max_distance : float
        Largest distance of the later track's first box centre from the earlier track's
        predicted centre or from its last seen centre (whichever is nearer: a person hidden
        behind another may have stopped or turned), in box sides, at a gap of 0 ...
    distance_per_second : float
        ... growing by this many box sides per second of gap (the prediction's uncertainty).
    max_size_ratio : float
        Largest ratio of the two box sides (larger over smaller).
    max_colour_distance : float
        Largest colour distance (:func:`facesel.track_cues.distance`, gain-normalised histograms
        of the box and the band below it) from the earlier track's last colours to the later
        one's first, when both have them: someone else stepping into the place (a turnstile, a
        doorway) wears other clothes. 1 turns the check off.
    """

    max_gap_seconds: float = 1.0
    max_overlap_seconds: float = 0.2
    max_distance: float = 0.75
    distance_per_second: float = 1.0
    max_size_ratio: float = 1.5
    max_colour_distance: float = 0.6

    def __post_init__(self) -> None:
        for name in ("max_gap_seconds", "max_overlap_seconds", "max_distance", "distance_per_second", "max_colour_distance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if isinstance(self.max_size_ratio, bool) or not isinstance(self.max_size_ratio, (int, float)) or not self.max_size_ratio >= 1:
            raise ValueError(f"max_size_ratio must be a number >= 1, got {self.max_size_ratio!r}")

    def cost(self, earlier, later) -> float | None:
        """How well ``later`` continues ``earlier`` (lower is better), or None when it cannot.

        Parameters
        ----------
        earlier, later : TrackEvidence

        Returns
        -------
        float or None
            Distance from the predicted position in box sides (None outside the gates).
        """
        if earlier.count == 0 or later.count == 0:
            return None
        if getattr(earlier, "ended_by", None) is not None:
            return None  # a switch cue ended it: what follows at its place is someone else
        a, b = getattr(earlier, "last_colours", None), getattr(later, "first_colours", None)
        if a is not None and b is not None and colour_distance(a, b) > self.max_colour_distance:
            return None
        gap = later.first_time - earlier.last_time
        if gap > self.max_gap_seconds or gap < -self.max_overlap_seconds:
            return None
        if later.first_frame <= earlier.first_frame:
            return None  # not later at all
        side_a = _side(earlier.last_box)
        side_b = _side(later.first_box)
        if min(side_a, side_b) <= 0 or max(side_a, side_b) / min(side_a, side_b) > self.max_size_ratio:
            return None
        last = _centre(earlier.last_box)
        predicted = last + earlier.velocity() * max(gap, 0.0)
        start = _centre(later.first_box)
        distance = float(min(np.linalg.norm(start - predicted), np.linalg.norm(start - last))) / ((side_a + side_b) / 2)
        if distance > self.max_distance + self.distance_per_second * max(gap, 0.0):
            return None
        return distance


def _side(box) -> float:
    box = np.asarray(box, dtype=np.float64)
    return float(min(box[2] - box[0], box[3] - box[1]))


def _centre(box) -> np.ndarray:
    box = np.asarray(box, dtype=np.float64)
    return (box[:2] + box[2:]) / 2
