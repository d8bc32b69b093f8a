"""Intercut material varied the way real TV varies and :mod:`facesel.eval.intercut` does not (issue 23, session 23).

Every variant is made in memory from the shared clips, never written. The base is
:func:`facesel.eval.intercut.material`'s construction (each person's clip continued where their
previous shot stopped, 4:3, 640x480); a variant changes one thing:

- ``default``: A | B | A | B | A | B, hard cuts, 2 s shots (50 frames at 25 fps): the base itself.
- ``shot25``, ``shot100``: the same with 1 s and 4 s shots.
- ``abca``: A | B | C | A | B | C (each person's shot returns after **two** other shots; needs a
  family of at least 3 clips).
- ``fade``: the base with every hard cut replaced by a 6-frame cross-fade (the outgoing shot's
  last frame and the incoming shot's first frame held and blended over 3 frames each side of the
  boundary: a short dissolve, about 0.24 s).
- ``logo``: the base with a static broadcaster's corner logo burned over every frame (a filled
  rectangle and the text "TV1" in the top-right corner, half opaque; a drawn shape and text, no
  face data).
- ``zoom``: the base with A's **returns** (A2, A3) 1.3x larger (the centre 1/1.3 of the frame
  scaled back up: the camera on A came back zoomed in).

Controls (A | B | C, another person at each cut) are made for ``default``, ``shot25``, ``shot100``,
``fade`` and ``logo``; ``abca`` and ``zoom`` are about returns, so they have none.

Ground truth: ``owner[i]`` is the person (0, 1, 2) of frame ``i``; a cross-fade's blended frames
belong to both persons and have ``owner`` -1 (they do not make a join wrong), and ``major[i]`` is the
person with the larger weight there (a snapshot whose best crop is on a blended frame counts for
that person).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facesel.eval.intercut import interview_order, read_person, shots_of

VARIANTS = ("default", "shot25", "shot100", "abca", "fade", "logo", "zoom")
"""The variants :func:`variant_material` makes, in the order they are reported."""

FADE_FRAMES = 6
"""Frames of a cross-fade (half before the boundary, half after)."""

ZOOM = 1.3
"""How much larger A's returns are in the ``zoom`` variant."""


def _shot(variant: str) -> int:
    return {"shot25": 25, "shot100": 100}.get(variant, 50)


def _order(variant: str, kind: str) -> list[int]:
    if kind == "control":
        return [0, 1, 2]
    return [0, 1, 2, 0, 1, 2] if variant == "abca" else interview_order(6)


def cross_fade(frames: list[np.ndarray], owner: list[int], length: int = FADE_FRAMES) -> tuple[list, list, list]:
    """``frames`` with every change of ``owner`` (a hard cut) made a ``length``-frame cross-fade:
    (frames, owner with -1 on the blended frames, major person of every frame). ``frames``: (H, W, 3)
    uint8 each; the outgoing shot's last frame and the incoming shot's first are held through the
    blend (no frame of either shot is dropped or added)."""
    out, own, major = list(frames), list(owner), list(owner)
    half = length // 2
    cuts = [k for k in range(1, len(owner)) if owner[k] != owner[k - 1]]
    for cut in cuts:
        last, first = frames[cut - 1].astype(np.float32), frames[cut].astype(np.float32)
        for k in range(max(0, cut - half), min(len(frames), cut + half)):
            alpha = (k - (cut - half) + 1) / (length + 1)  # the incoming shot's weight, 1/7 .. 6/7
            out[k] = np.clip((1 - alpha) * last + alpha * first + 0.5, 0, 255).astype(np.uint8)
            own[k] = -1
            major[k] = owner[cut] if alpha > 0.5 else owner[cut - 1]
    return out, own, major


def burn_logo(frame: np.ndarray) -> np.ndarray:
    """``frame`` ((H, W, 3) uint8) with a static corner logo drawn over it: a half-opaque white
    rectangle and the text "TV1" in the top-right corner (a drawn shape and text, no face data)."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = w - 22 - w // 8, 16, w - 22, 16 + h // 12
    overlay = frame.copy()
    cv2.rectangle(overlay, (x0, y0), (x1, y1), (235, 235, 235), -1)
    out = cv2.addWeighted(overlay, 0.5, frame, 0.5, 0)
    cv2.putText(out, "TV1", (x0 + 6, y1 - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 200), 2, cv2.LINE_AA)
    return out


def zoomed(frame: np.ndarray, factor: float = ZOOM) -> np.ndarray:
    """``frame`` ((H, W, 3) uint8) ``factor`` times larger about its centre, at its own size."""
    h, w = frame.shape[:2]
    ch, cw = int(round(h / factor)), int(round(w / factor))
    y, x = (h - ch) // 2, (w - cw) // 2
    return cv2.resize(frame[y:y + ch, x:x + cw], (w, h), interpolation=cv2.INTER_LINEAR)


def make(variant: str, kind: str, clips: list[list[np.ndarray]]) -> tuple[list, list, list]:
    """(frames, owner, major) of one interview or control of ``variant`` from each person's frames
    (``clips``, long enough for every shot of theirs; module docstring)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    shot, order = _shot(variant), _order(variant, kind)
    frames, owner = shots_of(clips, order, shot)
    major = list(owner)
    if variant == "zoom":  # A's shots after its first
        for k, person in enumerate(order):
            if person == 0 and k > 0:
                frames[k * shot:(k + 1) * shot] = [zoomed(f) for f in frames[k * shot:(k + 1) * shot]]
    elif variant == "logo":
        frames = [burn_logo(f) for f in frames]
    elif variant == "fade":
        frames, owner, major = cross_fade(frames, owner)
    return frames, owner, major


def variant_material(root: Path, variant: str, families_only=None, kinds=("interview", "control")):
    """Yield (family, kind, clip names, frames, owner, major) of every interview and control of
    ``variant`` (the clip pairing of :func:`facesel.eval.intercut.material`: per family, clip k
    with clip k+1, and k+2 for C)."""
    from facesel.eval.crowds import families

    shot = _shot(variant)
    need = shot * 3  # every person has at most 3 shots
    for family, paths in families(root).items():
        if families_only is not None and family not in families_only:
            continue
        if len(paths) < (3 if variant == "abca" else 2):
            continue
        cache: dict[Path, list] = {}

        def person(path: Path) -> list:
            if path not in cache:
                cache[path] = read_person(path, need)
            return cache[path]

        for k, a in enumerate(paths):
            b, c = paths[(k + 1) % len(paths)], paths[(k + 2) % len(paths)]
            for kind in kinds:
                if kind == "control" and (variant in ("abca", "zoom") or len(paths) < 3):
                    continue
                people = [a, b] if kind == "interview" and variant != "abca" else [a, b, c]
                frames, owner, major = make(variant, kind, [person(p) for p in people])
                yield family, kind, [p.name for p in people], frames, owner, major
        cache.clear()
