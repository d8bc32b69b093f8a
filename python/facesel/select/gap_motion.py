"""Motion through the gap: does the later fragment go on the way the earlier one was going?
(issue 23, the short link joining two walkers; docs/persons.md "Motion through the gap").

A walker who goes behind a nearer one comes out on the far side still walking: the same
direction, about the same speed in their own box sides a second. Another walker who appears
there within a second often walks the other way (the crowd crosses in both directions) or at
another pace. The cue is the tracker's motion only: box centres over time, divided by the box's
own side so that a near (large) and a far (small) walker are measured alike. It says nothing
about who is in the box (no embedding, no landmark, no pixel): two people walking the same way at
the same pace look the same to it, which is why it can only refuse, never make, a link.

At the frame's edge the cue means something else: a person who steps out and turns back comes
in moving the *opposite* way (the selfie), and the next person entering by the same edge moves
exactly as a returner does; so the gate is judged apart for links across the frame's edge and,
unless asked, not applied there (:attr:`facesel.select.linking.LinkRule.motion_at_edge`).
"""

from __future__ import annotations

import numpy as np

MIN_HEAD_OBSERVATIONS = 4
"""The later fragment's first observations needed before its motion is judged (fewer: a velocity
from two or three boxes of a face still coming out from behind someone is mostly the growth of
its visible part; the gate then lets the link through)."""


def _side(box) -> float:
    b = np.asarray(box, np.float64)
    return float(min(b[2] - b[0], b[3] - b[1]))


def head_motion(evidence, window: int = 8) -> np.ndarray | None:
    """(2,) float64 box sides per second of ``evidence``'s centre over its first ``window``
    observations (:attr:`TrackEvidence.head`), each step's side that of the first box; None with
    fewer than :data:`MIN_HEAD_OBSERVATIONS` or no time between them."""
    head = list(getattr(evidence, "head", ()))[:window]
    if len(head) < MIN_HEAD_OBSERVATIONS or head[-1][0] - head[0][0] <= 0:
        return None
    (t0, b0, _), (t1, b1, _) = head[0], head[-1]
    b0, b1 = np.asarray(b0, np.float64), np.asarray(b1, np.float64)
    side = _side(b0)
    if not side > 0:
        return None
    return ((b1[:2] + b1[2:]) - (b0[:2] + b0[2:])) / 2 / (t1 - t0) / side


def tail_motion(evidence) -> np.ndarray | None:
    """(2,) float64 box sides per second of ``evidence``'s centre over its last observations
    (:meth:`TrackEvidence.velocity`, over its last box's side); None when that side is not > 0."""
    side = _side(evidence.last_box)
    if not side > 0:
        return None
    return np.asarray(evidence.velocity(), np.float64) / side


def motion_kept(earlier, later, speed: float, window: int = 8) -> float | None:
    """How much of ``earlier``'s motion ``later`` keeps: ``later``'s velocity along ``earlier``'s
    direction over ``earlier``'s speed (both in their own box sides a second). 1: the same pace
    the same way; 0: stopped or moving across; negative: the other way; 2: twice as fast.

    None (nothing to judge) when ``earlier`` moved slower than ``speed`` box sides a second (a
    still or swaying face has no direction to keep) or ``later`` has too few observations
    (:func:`head_motion`).

    Parameters
    ----------
    earlier, later : TrackEvidence
    speed : float, box sides per second
    window : int, the later fragment's first observations read
    """
    ua, ub = tail_motion(earlier), head_motion(later, window)
    if ua is None or ub is None:
        return None
    norm = float(np.linalg.norm(ua))
    if norm < speed or norm == 0:
        return None
    return float(np.dot(ub, ua / norm) / norm)
