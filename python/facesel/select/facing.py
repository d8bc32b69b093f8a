"""Which way a face looks at a fragment's ends, and where its head is then (issue 23, session 18).

Why OTB Girl gets three snapshots (docs/persons.md "A head turned away"): she turns round on her
chair. Her face goes into profile, the detector loses it while the back of her head faces the
camera (0.6 s and 2.7 s), and it comes back **in the other profile**, on the other side of her
head: a profile face box sits at the front of the head, so the same head turning round puts its
face box about one head width further along, and the re-link's position gates (which compare the
face boxes) refuse the pair.

The direction a face looks is read off the detector's five landmarks (x only): a profile shows the
two eyes close together (their horizontal span a small share of the box width) and the nose near
one side of the box. That is head pose, which every head has, not who the person is: no embedding,
no landmark shape kept or compared between people.

Landmarks: (5, 2) float, image-left eye, image-right eye, nose, image-left mouth corner,
image-right mouth corner (YuNet's order, :class:`facesel.detect.yunet.YuNetDetector`).
"""

from __future__ import annotations

import math

PROFILE_EYES = 0.2
"""A face is in profile when its eyes' horizontal span is under this share of the box width
(frontal faces: about 0.4; OTB Girl's profiles before and after her turns: 0.00-0.14)."""

PROFILE_NOSE = 0.25
"""... and the nose lies within this share of the box width from one side of the box (OTB Girl's
profiles: 0.00-0.15 from the left side, 0.94-1.05 across from it, i.e. at the right side)."""

HEAD_BEHIND = 0.5
"""Where the head's centre is behind a profile face box's centre, in box widths (OTB Girl, against
her ground-truth head box: 0.55 before a turn, 0.44-0.5 after it)."""


def facing(box, landmarks) -> int | None:
    """Which way the face of one observation looks.

    Parameters
    ----------
    box : (4,) float, x1, y1, x2, y2
    landmarks : (5, 2) float or None

    Returns
    -------
    int or None
        -1: a profile looking to the image's left (nose at the box's left side); +1: to its right;
        0: not a profile; None: no landmarks, or a box without width, or a value not finite.
    """
    if landmarks is None:
        return None
    x1, x2 = float(box[0]), float(box[2])
    width = x2 - x1
    left_eye, right_eye, nose = float(landmarks[0][0]), float(landmarks[1][0]), float(landmarks[2][0])
    if not (width > 0 and math.isfinite(left_eye + right_eye + nose)):
        return None
    if abs(right_eye - left_eye) >= PROFILE_EYES * width:
        return 0
    across = (nose - x1) / width
    if across <= PROFILE_NOSE:
        return -1
    if across >= 1.0 - PROFILE_NOSE:
        return 1
    return 0


def end_facing(boxes, marks, count: int) -> int | None:
    """The profile an end of a fragment shows: -1 or +1 when at least ``count`` of the observations
    given (one end's, in time order) look that way and none looks the other way, else None.

    Parameters
    ----------
    boxes : sequence of (4,) float
    marks : sequence of (5, 2) float or None, one per box
    count : int >= 1
    """
    seen = [facing(b, m) for b, m in zip(boxes, marks)]
    left, right = seen.count(-1), seen.count(1)
    if left >= count and right == 0:
        return -1
    if right >= count and left == 0:
        return 1
    return None


def head_centre(box, looks: int) -> tuple[float, float]:
    """The centre of the head of a profile face box looking ``looks`` (-1 left, +1 right): the box's
    centre moved :data:`HEAD_BEHIND` box widths the other way (the head is behind the face)."""
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    return (x1 + x2) / 2 - looks * HEAD_BEHIND * (x2 - x1), (y1 + y2) / 2
