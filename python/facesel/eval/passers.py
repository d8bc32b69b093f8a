"""Two people at one place: another person's real face passing in front of a face (issue 23).

Material (made in memory from the shared data, never written anywhere) for the merge of two tracks
alive at once (:mod:`facesel.select.interleave`), whose failure would be joining two people: on
one person's clip, a second person's face (the detector's box on that person's own frame, padded
by a quarter of its width, scaled to the first face's size) slides across in front of the first
face, from ``reach`` box sides left of it to ``reach`` right in ``frames`` frames, level with it or
``dy`` box sides lower. Both faces are partly covered while they overlap, and the detector may find
one, the other or both: the way two people's tracks could alternate in a real crowd.

Ground truth: per frame, the centre of the first face (the detector's largest box on the clean
frame) and of the passing face (where it was pasted), so each box is the nearer one's.
"""

from __future__ import annotations

import numpy as np


def largest_face(detector, frame: np.ndarray) -> np.ndarray | None:
    """The largest detection's box (4,) float64 (x1, y1, x2, y2) on ``frame``, or None."""
    boxes = np.asarray(detector.detect(frame).boxes, np.float64).reshape(-1, 4)
    if not len(boxes):
        return None
    return boxes[np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))]


def pass_in_front(host: list, passer: list, detector, dy: float = 0.0, frames: int = 60, lead: int = 15,
                  reach: float = 2.5) -> tuple[list, list]:
    """(frames, centres): ``host``'s first ``lead + frames`` frames (BGR uint8, one size) with
    ``passer``'s face crossing in front from frame ``lead`` on; ``centres[t]`` = (host face centre
    (2,) or None, passing face centre (2,) or None) on frame ``t``."""
    import cv2

    out, centres = [], []
    for t in range(min(len(host), len(passer), lead + frames)):
        frame = host[t].copy()
        mine, theirs = largest_face(detector, host[t]), largest_face(detector, passer[t])
        centre_a = None if mine is None else (mine[:2] + mine[2:]) / 2
        centre_b = None
        if t >= lead and mine is not None and theirs is not None:
            side = min(mine[2] - mine[0], mine[3] - mine[1])
            x1, y1, x2, y2 = theirs
            pad = 0.25 * (x2 - x1)
            h, w = passer[t].shape[:2]
            crop = passer[t][max(0, int(y1 - pad)):min(h, int(y2 + pad)), max(0, int(x1 - pad)):min(w, int(x2 + pad))]
            scale = side / max(1.0, min(x2 - x1, y2 - y1))
            crop = cv2.resize(crop, None, fx=scale, fy=scale)
            cx = centre_a[0] + side * (-reach + 2 * reach * (t - lead) / max(1, frames - 1))
            cy = centre_a[1] + dy * side
            ch, cw = crop.shape[:2]
            left, top = round(cx - cw / 2), round(cy - ch / 2)
            hh, ww = frame.shape[:2]
            fx1, fy1, fx2, fy2 = max(0, left), max(0, top), min(ww, left + cw), min(hh, top + ch)
            if fx2 > fx1 and fy2 > fy1:
                frame[fy1:fy2, fx1:fx2] = crop[fy1 - top:fy2 - top, fx1 - left:fx2 - left]
                centre_b = np.array([cx, cy])
        out.append(frame)
        centres.append((centre_a, centre_b))
    return out, centres


def owner(centres: list, indices, boxes) -> int:
    """0 (the host) or 1 (the passing face): whose centre is nearer the boxes (K, 4) on most of
    their frames ``indices`` (K,); -1 when no frame has the host's face."""
    votes = []
    for f, box in zip(indices, boxes):
        ca, cb = centres[min(int(f), len(centres) - 1)]
        if ca is None:
            continue
        c = (np.asarray(box[:2], np.float64) + np.asarray(box[2:], np.float64)) / 2
        votes.append(int(cb is not None and np.linalg.norm(c - cb) < np.linalg.norm(c - ca)))
    return int(np.round(np.mean(votes))) if votes else -1
