"""A person who leaves the frame by its edge and comes back there, or the next person entering there.

Material for the edge-return long link (issue 23, docs/persons.md "Leaving by the frame's edge and
coming back"), made in memory from the shared single-person clips (never written anywhere): a
**virtual camera**, a crop window moving over a clip like a pan. The window first holds the
person's face, then pans until the face has left the frame by one edge (``"left"``: the window
moves right, the face slides out on the left; ``"right"`` the mirror), stays there for ``gap``
frames, and pans back so that the face re-enters by the same edge:

- **return** (one person): the same clip goes on throughout; the window pans back onto its person;
- **next** (two people: the next person at a doorway): half-way through the gap the clip is
  replaced by another person's clip of the same family, and the window pans back onto that
  person, who so enters by the same edge.

The clip is padded sideways by repeating its border columns (a window reaching past the clip
shows smeared border colours, no mirrored face). The window is 3 face widths wide (at most the
clip's width), 4:3, and resized to ``out_width`` pixels wide. Ground truth from the construction:
the person of each output frame (0 before the replacement, 1 after; all 0 for a return).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

EDGES = ("left", "right")
HOLD = 30
"""Frames the face is held in view before the pan out and after the pan back."""
PAN = 20
"""Frames of each pan."""
WINDOW_FACES = 3.0
"""The window's width in face widths."""


@dataclass
class EdgeClip:
    """One piece of material: ``frames`` (list of (H, W, 3) uint8 BGR), ``owner`` ((N,) int: the
    person of each frame), ``edge``, ``gap`` (frames the window stays off the face), ``kind``
    (``"return"`` or ``"next"``)."""

    frames: list
    owner: np.ndarray
    edge: str
    gap: int
    kind: str


def face_box(detector, frame: np.ndarray) -> np.ndarray | None:
    """(4,) float64 box of the most confident face the detector finds on ``frame``, or None."""
    dets = detector.detect(frame)
    if len(dets) == 0:
        return None
    return np.asarray(dets.boxes[int(np.argmax(dets.scores))], np.float64)


def first_face(detector, frames: list, search: int = 15) -> tuple[list, np.ndarray] | None:
    """``frames`` from the first of their first ``search`` frames with a face, and that face's box
    (None: no face there)."""
    for k, frame in enumerate(frames[:search]):
        box = face_box(detector, frame)
        if box is not None:
            return frames[k:], box
    return None


def _window(shape: tuple, box: np.ndarray) -> tuple[int, int, int]:
    """(width, height, top) of the crop window for a clip of ``shape`` whose face is ``box``."""
    h, w = shape[:2]
    fw, fh = box[2] - box[0], box[3] - box[1]
    width = int(min(w, round(WINDOW_FACES * fw), h * 4 // 3))
    height = width * 3 // 4
    top = int(np.clip(round((box[1] + box[3]) / 2 + 0.25 * fh - height / 2), 0, h - height))
    return width, height, top


def _positions(shape: tuple, box: np.ndarray, width: int, edge: str) -> tuple[float, float]:
    """Window left x (in the padded clip, padded by ``width`` each side) holding the face and
    with the face just out by ``edge``."""
    w = shape[1]
    fw = box[2] - box[0]
    held = float(np.clip((box[0] + box[2]) / 2 - width / 2, 0, w - width)) + width
    if edge == "left":  # the window's left side past the face's right side
        out = box[2] + 0.15 * fw + width
    else:  # the window's right side before the face's left side
        out = box[0] - 0.15 * fw - width + width
    return held, float(np.clip(out, 0, w + width))


def _ease(k: int, count: int) -> float:
    return 0.5 - 0.5 * np.cos(np.pi * k / max(1, count - 1))


def edge_clip(first: list, first_box: np.ndarray, edge: str, gap: int, second: list | None = None,
              second_box: np.ndarray | None = None, out_width: int = 480) -> EdgeClip:
    """The virtual camera over ``first`` (and ``second``: the next person, or None: a return).

    Parameters
    ----------
    first, second : lists of (H, W, 3) uint8 BGR frames of one size; each at least
        ``2 * HOLD + 2 * PAN + gap`` frames long
    first_box, second_box : (4,) the face box on each clip's first frame (the window is placed by it)
    edge : "left" or "right"
    gap : frames the window stays with the face out of view (beyond the pans)
    """
    if edge not in EDGES:
        raise ValueError(f"edge must be one of {EDGES}, got {edge!r}")
    if second is not None and second[0].shape != first[0].shape:
        raise ValueError("second must have the frame size of first")
    total = 2 * HOLD + 2 * PAN + gap
    width, height, top = _window(first[0].shape, first_box)
    held_a, out_a = _positions(first[0].shape, first_box, width, edge)
    held_b = held_a
    if second is not None:
        held_b, _ = _positions(first[0].shape, second_box, width, edge)
    switch = HOLD + PAN + gap // 2  # the next person replaces the first half-way through the gap
    frames, owner = [], np.zeros(total, np.int64)
    for t in range(total):
        if t < HOLD:
            x = held_a
        elif t < HOLD + PAN:
            x = held_a + (out_a - held_a) * _ease(t - HOLD + 1, PAN)
        elif t < HOLD + PAN + gap:
            x = out_a
        elif t < HOLD + 2 * PAN + gap:
            x = out_a + (held_b - out_a) * _ease(t - HOLD - PAN - gap + 1, PAN)
        else:
            x = held_b
        clip = first if second is None or t < switch else second
        owner[t] = 0 if second is None or t < switch else 1
        frame = clip[t if clip is first else t - switch]
        padded = cv2.copyMakeBorder(frame, 0, 0, width, width, cv2.BORDER_REPLICATE)
        x0 = round(x)
        crop = padded[top:top + height, x0:x0 + width]
        frames.append(cv2.resize(crop, (out_width, out_width * 3 // 4), interpolation=cv2.INTER_AREA))
    return EdgeClip(frames, owner, edge, gap, "return" if second is None else "next")
