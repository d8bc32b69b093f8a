"""The short link's reach for moving faces (issue 23, session 23b; docs/persons.md "The short
link's reach for moving faces").

The short link predicts where the earlier fragment went with its velocity over its last
observations and allows ``max_distance`` box sides plus ``distance_per_second`` per second of gap
around that place (or around where it was last seen). For a walker, the motion is already in the
prediction: what is left of the distance is the prediction's error, and a walker who keeps walking
is found near the predicted place. On the crossing crowds the short link's wrong joins (another
walker appearing within a second where the first went out of sight, with no rival partner)
sat 0.56-1.22 box sides away. This limit gives an earlier fragment that was **moving** (at least
``moving_speed`` of its box sides a second) a tighter allowance, ``moving_distance`` plus
``moving_per_second`` per second of gap, when that is smaller than the default's.

It reads box centres, sides and times only (the tracker's motion): no pixel, no embedding, no
landmark, nothing that tells two people apart. It can only refuse a link, never make one.
"""

from __future__ import annotations

import numpy as np

from facesel.select.gap_motion import tail_motion


def is_moving(earlier, speed: float) -> bool:
    """Whether ``earlier`` (a TrackEvidence) moved at least ``speed`` of its last box's sides a
    second over its last observations (:func:`facesel.select.gap_motion.tail_motion`); False when
    that cannot be measured (a box side not > 0)."""
    motion = tail_motion(earlier)
    return motion is not None and float(np.linalg.norm(motion)) >= speed


def moving_allowance(earlier, gap: float, distance: float | None, per_second: float, speed: float) -> float | None:
    """The tighter position allowance (box sides) of a short link from ``earlier`` over ``gap``
    seconds: ``distance + per_second * max(gap, 0)`` when ``distance`` is set and ``earlier`` is
    moving (:func:`is_moving` at ``speed`` box sides a second); None (no tighter limit) otherwise.
    The caller takes the smaller of this and its own allowance."""
    if distance is None or not is_moving(earlier, speed):
        return None
    return distance + per_second * max(gap, 0.0)
