"""A TV-like camera pan over a real clip, with its one person kept in view (issue 23, session 22,
fade22; docs/persons.md "Camera pans and the fade cue").

Made in memory from a shared single-person clip (never written anywhere): a crop window of
:data:`WINDOW` of the frame, placed so that the face stays inside it with a tenth of the window to
spare, is held, panned (eased, at sub-pixel positions as a camera gives them) from its leftmost to
its rightmost such place, held, panned back and held. One person throughout: any track split on it
splits a genuine track. Unlike :mod:`facesel.eval.edge_return` the face never leaves the frame.
"""

from __future__ import annotations

import cv2
import numpy as np

WINDOW = 0.6
"""The pan window's side as a fraction of the clip's frame."""
HOLD = 20
"""Frames held before, between and after the two pans."""


def _ease(k: int, count: int) -> float:
    """Fraction of a pan done after step ``k`` of ``count`` (slow start and stop)."""
    return 0.5 - 0.5 * np.cos(np.pi * k / max(1, count - 1))


def pan_clip(frames: list, box, pan: int, hold: int = HOLD, out_width: int = 480) -> list | None:
    """The pan over ``frames`` whose face is ``box``, or None when the window has no room to pan.

    Parameters
    ----------
    frames : list of (H, W, 3) uint8 frames of one size (played from the start again if too few)
    box : (4,) the face's (x1, y1, x2, y2) on the first frame
    pan : frames each of the two pans takes (12: a fast pan, about 3 thumbnail cells a frame at
        its fastest on a 4:3 clip with room to cross; 30: a slow one)
    out_width : pixels the output frames are wide (their height keeps the window's aspect)

    Returns ``3 * hold + 2 * pan`` (H', ``out_width``, 3) uint8 frames, or None when the room the
    window may pan across is under a fifth of its width.
    """
    if pan < 1 or hold < 0:
        raise ValueError(f"pan must be >= 1 and hold >= 0, got pan={pan!r}, hold={hold!r}")
    h, w = frames[0].shape[:2]
    ww, wh = int(w * WINDOW), int(h * WINDOW)
    margin = 0.1 * ww
    lo = max(0.0, float(box[2]) + margin - ww)
    hi = min(float(w - ww), float(box[0]) - margin)
    if hi - lo < 0.2 * ww:
        return None
    top = int(np.clip((box[1] + box[3]) / 2 - wh / 2, 0, h - wh))
    xs = [lo] * hold + [lo + (hi - lo) * _ease(k + 1, pan) for k in range(pan)] + [hi] * hold
    xs += [hi + (lo - hi) * _ease(k + 1, pan) for k in range(pan)] + [lo] * hold
    out_h = out_width * wh // ww
    scale_x, scale_y = out_width / ww, out_h / wh
    clip = []
    for t, x in enumerate(xs):
        m = np.float32([[scale_x, 0, -x * scale_x], [0, scale_y, -top * scale_y]])
        clip.append(cv2.warpAffine(frames[t % len(frames)], m, (out_width, out_h), flags=cv2.INTER_AREA))
    return clip
