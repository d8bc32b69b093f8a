"""How far a fast-moving face can get in a gap: the short link's reach from the earlier fragment's
own motion (issue 23, the children on the bed; docs/persons.md "A bouncing child's reach").

The short link predicts where the earlier fragment went with its velocity over its last few
observations and allows 0.75 box sides plus 1 box side a second of gap around that place (or
around where it was last seen). A child jumping on a bed moves 5-13 of its own box sides a second,
up and down and sideways: the velocity a few frames before the gap says little about where the
face is after it, and the next fragment starts 1.5-2.7 box sides away. A walker moves 0.3-1.3 box
sides a second, steadily.

The cue here is the **path speed** of the earlier fragment's last observations: the length of the
path its box centre took (the sum of its steps, so that an oscillation counts in full where the
net velocity cancels), over their time span, in that fragment's own box sides. A face that moved
that fast could be that much further away after the gap, in any direction. It reads box centres
and times only: no pixel, no embedding, no landmark, nothing that tells two people apart.
"""

from __future__ import annotations

import numpy as np

MIN_TAIL_OBSERVATIONS = 3
"""Observations at the earlier fragment's end needed to measure its path speed (fewer: none)."""


def path_speed(evidence, window: int = 8) -> float | None:
    """Box sides per second along the path of ``evidence``'s centre over its last ``window``
    observations (:attr:`TrackEvidence.tail`): the sum of the centre's steps (pixels) over the
    time from the first to the last of them (seconds), over their mean box side (pixels).

    Returns
    -------
    float or None
        None with fewer than :data:`MIN_TAIL_OBSERVATIONS` observations, no time between them, or
        a box side not > 0.
    """
    tail = list(getattr(evidence, "tail", ()))[-window:]
    if len(tail) < MIN_TAIL_OBSERVATIONS:
        return None
    span = float(tail[-1][0]) - float(tail[0][0])
    boxes = np.array([np.asarray(b, np.float64) for _, b, _ in tail]).reshape(-1, 4)
    sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    if not span > 0 or not sides.min() > 0:
        return None
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    path = float(np.linalg.norm(np.diff(centres, axis=0), axis=1).sum())
    return path / span / float(sides.mean())


def reach(evidence, gap: float, per_speed: float, least_speed: float, most: float | None,
          window: int = 8) -> float:
    """Box sides added to the short link's position allowance for ``evidence`` over ``gap``
    seconds: ``per_speed`` times its :func:`path_speed` times the gap, when that speed is at
    least ``least_speed`` box sides a second, at most ``most`` (None: no cap); 0 otherwise (a
    negative gap, an overlap, adds nothing)."""
    speed = path_speed(evidence, window)
    if speed is None or speed < least_speed or gap <= 0:
        return 0.0
    extra = per_speed * speed * gap
    return extra if most is None else min(extra, most)
