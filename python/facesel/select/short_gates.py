"""Two gates a short link may add (issue 23, the default short link joining two people).

Measured before this work (docs/persons.md "Crossing crowds", "Leaving by the frame's edge"):
the short link (gap up to 1 s) joined two walkers of the crossing crowds 11 times in 124 persons
and 9 of 38 "next persons" entering by the frame's edge within 1 s. These gates read where the
boxes were and which way they moved, and the coarse colours the link already compares; never who
is in them. Both are off by default (:class:`facesel.select.linking.LinkRule`
``behind_distance``, ``edge_short_colour_distance``); docs/persons.md "The short link's
wrong joins" says what they did when measured.
"""

from __future__ import annotations

import numpy as np


def behind(earlier, later, speed: float) -> float | None:
    """How far ``later``'s first box centre lies **behind** ``earlier``'s last centre along the
    direction ``earlier`` was moving, in ``earlier``'s last box sides (positive: behind), or None
    when ``earlier`` moved slower than ``speed`` box sides per second (a still or barely moving
    face has no "behind").

    A walker last seen moving one way is, a second later, ahead of where they went out of sight
    or where they stopped; someone appearing behind that place is someone else (the one who
    followed, or who was behind the same nearer person).

    Parameters
    ----------
    earlier, later : TrackEvidence
    speed : float, box sides per second (``earlier``'s velocity over its last observations,
        :meth:`TrackEvidence.velocity`)
    """
    a, b = np.asarray(earlier.last_box, np.float64), np.asarray(later.first_box, np.float64)
    side = float(min(a[2] - a[0], a[3] - a[1]))
    v = np.asarray(earlier.velocity(), np.float64)
    norm = float(np.linalg.norm(v))
    if not side > 0 or norm < speed * side or norm == 0:
        return None
    step = (b[:2] + b[2:]) / 2 - (a[:2] + a[2:]) / 2
    return float(-np.dot(step, v / norm) / side)


def at_edge(earlier, later, window: int, margin: float) -> bool:
    """Whether ``earlier`` left the frame by an edge or ``later`` came in by one
    (:func:`facesel.select.linking.edges_crossed`, its ``margin`` in box sides): at the frame's
    edge the next person enters where the last one left, within a second, and the place and size
    gates cannot tell them apart (docs/persons.md "Leaving by the frame's edge")."""
    from facesel.select.linking import edges_crossed

    return bool(edges_crossed(earlier, "tail", window, margin) or edges_crossed(later, "head", window, margin))
