"""What the re-link measures at a fragment's ends: its first or last observations (times,
centres, sides, colours), their typical colours, and how crowded the place of a gap was.

Helpers of :class:`facesel.select.linking.LinkRule` (and of :mod:`facesel.select.link_explain`,
which reports the same measurements); every name is importable from :mod:`facesel.select.linking`
as before.
"""

from __future__ import annotations

import numpy as np


def crowding(earlier, later, others, radius: float) -> int:
    """How many tracks of ``others`` were near the place of a gap between ``earlier`` and ``later``.

    Near: the track was seen during the gap (its span overlaps the seconds from ``earlier``'s
    last observation to ``later``'s first) and the extent of its centre's path comes within
    ``radius`` box sides (``earlier``'s last side) of ``earlier``'s last centre or ``later``'s
    first. The extent is a rectangle, so a track that crossed the frame counts even if it passed
    the place at another moment: the count errs towards "crowded" (fewer long links).

    Parameters
    ----------
    earlier, later : TrackEvidence
    others : iterable of TrackEvidence (``earlier`` and ``later`` themselves are skipped)
    radius : float

    Returns
    -------
    int
    """
    start, end = earlier.last_time, later.first_time
    reach = radius * _side(earlier.last_box)
    places = np.stack([_centre(earlier.last_box), _centre(later.first_box)])  # (2, 2)
    near = 0
    for other in others:
        if other is earlier or other is later or other.count == 0:
            continue
        if other.first_time > end or other.last_time < start:
            continue
        nearest = np.clip(places, other.centre_min, other.centre_max)
        if np.linalg.norm(places - nearest, axis=1).min() <= reach:
            near += 1
    return near


SMALL_FACE_SIDE = 40.0
"""Pixels: faces whose boxes are smaller get no colours (:attr:`facesel.track_cues.SwitchRule.min_side`)."""


def _small_without_colours(tail, head) -> bool:
    """Whether two ends (:func:`_ends` tuples) are both small faces without colours."""
    return (not tail[2] and not head[2] and float(tail[3].max()) < SMALL_FACE_SIDE
            and float(head[3].max()) < SMALL_FACE_SIDE)


def _typical(colours: list) -> np.ndarray:
    """(2, 64) float32: the element-wise median of (2, 64) histograms, each region
    renormalised to sum 1 (a region absent from all of them stays zeros)."""
    median = np.median(np.stack([np.asarray(c, np.float32) for c in colours]), axis=0)
    total = median.sum(axis=-1, keepdims=True)
    return np.where(total > 0, median / np.maximum(total, 1e-12), 0.0).astype(np.float32)


def _end_observations(evidence, which: str, window: int) -> list:
    """The first (``which`` ``"head"``) or last (``"tail"``) ``window`` of the (time, box, colours)
    observations ``evidence`` keeps at that end, in time order (an empty list: it keeps none)."""
    ends = list(getattr(evidence, which, ()))
    return ends[:window] if which == "head" else ends[-window:]


def _measured(evidence, which: str, window: int) -> list:
    """The colours measured on the first (``head``) or last (``tail``) ``window`` observations of
    ``evidence`` (none: an empty list; no older colours stand in)."""
    ends = _end_observations(evidence, which, window)
    return [c for _, _, c in ends if c is not None]


def _ends(evidence, which: str, window: int, time, box, colours):
    """(times (K,), centres (K, 2), colours list, sides (K,)) of the first (``head``) or last
    (``tail``) ``window`` observations of ``evidence``; the single first/last observation
    (``time``, ``box``, ``colours``) when it keeps none."""
    ends = _end_observations(evidence, which, window)
    if not ends:
        ends = [(time, box, colours)]
    boxes = np.array([np.asarray(b, np.float64) for _, b, _ in ends]).reshape(-1, 4)
    times = np.array([t for t, _, _ in ends], np.float64)
    found = [c for _, _, c in ends if c is not None]
    if not found and colours is not None:
        found = [colours]
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    return times, centres, found, sides


def _side(box) -> float:
    """The shorter side of ``box`` ((4,) x1, y1, x2, y2) in pixels."""
    box = np.asarray(box, dtype=np.float64)
    return float(min(box[2] - box[0], box[3] - box[1]))


def _centre(box) -> np.ndarray:
    """(2,) float64: the centre (x, y) of ``box`` ((4,) x1, y1, x2, y2)."""
    box = np.asarray(box, dtype=np.float64)
    return (box[:2] + box[2:]) / 2
