"""The box's surroundings across a span of frames (issue 23, ring29; docs/prereg_ring29.md).

A dissolve from one shot to the next changes the pixels **around** a face box as mixes of the
ring before and the ring after (each frame of the span fits a * before + (1 - a) * after, with a
falling from 1 to 0); a hand over the face or a head turn changes the face, not its ring, and a
hand passing through the ring or a pan changes it by something that is no such mix. Measured
only (ring29: a stage A measurement, no track rule reads it); grey levels of four strips around
the box, never the face, never compared across tracks: nothing of identity.
"""

from __future__ import annotations

import numpy as np

from facesel.track_cues.sampling import grey_samples_many
from facesel.track_cues.scene import blend_residual

RISE = 0.1
"""How much a span's mix weight may rise from one frame to the next and still count as falling
(a dissolve's weight falls from 1 to 0; a frame's noise moves it a little)."""


def ring_regions(box, scale: float, shape) -> np.ndarray:
    """(K, 4) intp strips (x1, y1, x2, y2) around ``box`` (x1, y1, x2, y2 float): the box enlarged
    by ``scale`` (> 1) about its centre, less the box itself, as left, right, above and below
    strips (above and below as wide as the box), each clipped to a frame of ``shape`` (H, W[, C]);
    strips clipped to nothing are left out, so K is 0 to 4."""
    if not scale > 1:
        raise ValueError(f"scale must be > 1, got {scale!r}")
    x1, y1, x2, y2 = (float(v) for v in np.asarray(box, np.float64).reshape(4))
    h, w = int(shape[0]), int(shape[1])
    cx, cy, half_w, half_h = (x1 + x2) / 2, (y1 + y2) / 2, scale * (x2 - x1) / 2, scale * (y2 - y1) / 2
    X1, Y1, X2, Y2 = cx - half_w, cy - half_h, cx + half_w, cy + half_h
    strips = [(X1, Y1, x1, Y2), (x2, Y1, X2, Y2), (x1, Y1, x2, y1), (x1, y2, x2, Y2)]
    out = []
    for a, b, c, d in strips:
        a, c = min(max(a, 0.0), w), min(max(c, 0.0), w)
        b, d = min(max(b, 0.0), h), min(max(d, 0.0), h)
        if int(c) - int(a) >= 2 and int(d) - int(b) >= 2:  # at least two pixels each way
            out.append((int(a), int(b), int(c), int(d)))
    return np.asarray(out, np.intp).reshape(-1, 4)


def ring_samples(frames, regions: np.ndarray) -> list:
    """One (K * 144,) float32 grey sample vector per frame of ``frames`` ((H, W[, 3]) uint8 each) at
    the fixed ``regions`` (:func:`ring_regions`)."""
    return [grey_samples_many(f, regions).reshape(-1) for f in frames]


def ring_blend(samples: list) -> tuple[float, float, bool]:
    """(change, residual, monotone) of a span's ring samples (at least 3 vectors, the span's ends
    first and last): change the mean |last - first| in grey levels; residual tv27's
    :func:`blend_residual` (0 for exact mixes of the ends, about 1 or more for anything else);
    monotone whether each middle frame's best mix weight of the first end (least squares, clipped
    to [0, 1]) rises by at most :data:`RISE` from one frame to the next, starting from 1."""
    if len(samples) < 3:
        raise ValueError(f"samples must hold at least 3 frames, got {len(samples)}")
    a, b = samples[0], samples[-1]
    d = a - b
    change = float(np.abs(d).mean())
    dd = float((d * d).sum())
    if dd <= 0:
        return change, 0.0, True
    prev, monotone = 1.0, True
    for m in samples[1:-1]:
        alpha = min(max(float(((m - b) * d).sum()) / dd, 0.0), 1.0)
        if alpha > prev + RISE:
            monotone = False
        prev = alpha
    return change, blend_residual(list(samples)), monotone


def ring_fires(samples: list, change_floor: float, residual_ceiling: float) -> bool:
    """Whether a span's ring is a dissolve by :func:`ring_blend`: change at least ``change_floor``
    grey, residual at most ``residual_ceiling``, and the mix weight falling."""
    change, residual, monotone = ring_blend(samples)
    return change >= change_floor and residual <= residual_ceiling and monotone
