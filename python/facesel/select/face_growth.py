"""How fast a fragment's face grows at its end: a person walking at the camera (issue 23, session 19).

A face coming nearer grows steadily (2.5-4x in a few seconds in a crowd walking at the camera);
after a gap the same person's face is larger than when it was last seen, and someone else who
happens to have the earlier face's last size is not. :func:`grown` predicts the earlier
fragment's sides at the later one's times from its own end observations. Box sizes and times
only: no identity.
"""

from __future__ import annotations

import numpy as np

MOST_GROWTH = 1.0
"""Largest rate (log side a second, either way) used: e^1 = 2.7x a second, beyond anything a
walker's face does; a few jittery end observations cannot predict more."""

MIN_SPAN = 0.1
"""Seconds the end observations must span for a rate to be measured (else 0: no growth)."""


def growth_rate(times: np.ndarray, sides: np.ndarray) -> float:
    """The slope of log(side) over ``times`` ((K,) float64 seconds, (K,) float64 pixels > 0) by
    least squares, clipped to +-:data:`MOST_GROWTH`; 0 with fewer than 3 observations or when
    they span under :data:`MIN_SPAN` s."""
    times = np.asarray(times, np.float64)
    sides = np.asarray(sides, np.float64)
    if len(times) < 3 or float(times.max() - times.min()) < MIN_SPAN or np.any(sides <= 0):
        return 0.0
    t = times - times.mean()
    slope = float(np.dot(t, np.log(sides) - np.log(sides).mean()) / np.dot(t, t))
    return float(np.clip(slope, -MOST_GROWTH, MOST_GROWTH))


def grown(times: np.ndarray, sides: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """(A, B) float64: each of the earlier fragment's end ``sides`` ((A,) at ``times`` (A,))
    grown at the fragment's own :func:`growth_rate` over ``dt`` ((A, B) seconds from that
    observation to each of the later fragment's first observations)."""
    rate = growth_rate(times, sides)
    return np.asarray(sides, np.float64)[:, None] * np.exp(rate * np.asarray(dt, np.float64))
