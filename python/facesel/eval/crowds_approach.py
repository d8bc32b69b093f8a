"""A crowd walking at the camera: faces that grow, move down and outward, and pass behind nearer ones (issue 23).

The issue is judged on a held-out clip of "a crowd walking at the camera". The crossing crowds of
:mod:`facesel.eval.crowds_crossing` keep each person at one depth; here each person **approaches**:
seen by a camera mounted a little above head height, a person walking towards it grows steadily
(2.5-4x over 3.6-4.5 s), moves down the frame and away from its centre (perspective), and a person
who entered earlier is nearer, larger and drawn in front of those behind. Made in memory from the
same single-person shared clips as the other crowds, never written.

Geometry (a pinhole camera; ``s`` is a walker's scale, 1 at the moment it appears):

- all walkers walk towards the camera at one pace, so a walker's distance falls linearly and its
  scale is ``s(t) = 1 / (1 - PACE * (t - entry))``; one pace keeps the depth order fixed (whoever
  entered earlier is nearer at every frame: :class:`Truth.order` holds for the whole crowd);
- its 4:3 rectangle is ``entry_width * s`` px wide, centred at
  ``(CANVAS_W / 2 + (lateral + drift * (t - entry)) * s, TOP + DROP * (s - 1))``: lateral offsets
  grow with ``s`` (outward), the centre drops as the walker nears the camera;
- below its rectangle its body goes on to the frame's bottom (the rectangle's last row repeated:
  the band below a face shows that person's clothes, not the flat background, which made the
  appearance cue split fully visible faces);
- once ``s`` reaches its ``exit_scale`` it stops growing and steps aside, out of the frame by the
  nearer side edge at :data:`ASIDE` px a frame (it walks past the camera); it is absent before its
  ``entry`` frame and after it left (an empty rectangle in the truth).

Ground truth: :class:`facesel.eval.crowds_crossing.Truth` (a box belongs to the nearest walker
whose rectangle holds its centre and 75 % of it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facesel.eval.crowds_crossing import CANVAS, compose_rects, layout_seed

ENTRY_WIDTHS = (100, 65)
"""Pixels: a walker's rectangle width when it appears, by walk number (even walks 100: a talking
head's face is then about 35 px, a signer's about 15; odd walks 65, a farther entry: faces of
10-25 px at first, as in a crowd seen down a street, which the detector finds only as they come
nearer)."""

PACE = 1.0 / 150
"""Fraction of the entry distance walked per frame (at 25 fps the scale triples in 4 s)."""

SPACING = 35
"""Frames between two walkers' entries (1.4 s at 25 fps)."""

ASIDE = 15.0
"""Pixels a frame: how fast a walker steps aside out of the frame once it reached its exit scale
(a person vanishing at once changes a third of the frame: the scene-cut cue fired on it)."""

TOP, DROP = 95.0, 40.0
"""Pixels: a walker's rectangle centre height at entry, and how far it drops per unit of scale."""


@dataclass(frozen=True)
class Approacher:
    """One person walking at the camera: appears at frame ``entry`` (may be negative: already
    on the way when the crowd starts), ``lateral`` px from the frame's centre line at scale 1,
    drifting ``drift`` px a frame sideways (at scale 1), stepping aside out of the frame once its
    scale reaches ``exit_scale``."""

    entry: int
    lateral: float
    drift: float
    exit_scale: float
    entry_width: float = ENTRY_WIDTHS[0]
    pace: float = PACE

    @property
    def exit_frame(self) -> float:
        """The frame at which the walker's scale reaches ``exit_scale``."""
        return self.entry + (1.0 - 1.0 / self.exit_scale) / self.pace

    def scale(self, t: int) -> float | None:
        """The walker's scale at frame ``t`` (None before it enters); held at ``exit_scale`` once
        reached (it then steps aside, :meth:`rect`)."""
        if t < self.entry:
            return None
        return 1.0 / (1.0 - self.pace * (min(t, self.exit_frame) - self.entry))

    def rect(self, t: int, canvas: tuple[int, int] = CANVAS) -> tuple[int, int, int, int]:
        """(x1, y1, x2, y2) at frame ``t``, not clipped to the frame; (0, 0, 0, 0) when absent
        (before its entry, or once it has stepped out of the frame)."""
        s = self.scale(t)
        if s is None:
            return 0, 0, 0, 0
        w = self.entry_width * s
        h = w * 3 / 4
        offset = (self.lateral + self.drift * (min(t, self.exit_frame) - self.entry)) * s
        if t > self.exit_frame:  # walking past the camera: aside, out of the frame (no vanishing)
            offset += np.copysign(ASIDE, offset or self.lateral) * (t - self.exit_frame)
        cx = canvas[0] / 2 + offset
        cy = TOP + DROP * (s - 1.0)
        x1, y1 = round(cx - w / 2), round(cy - h / 2)
        x2, y2 = x1 + round(w), y1 + round(h)
        if x2 <= 0 or x1 >= canvas[0]:
            return 0, 0, 0, 0
        return x1, y1, x2, y2


def approachers_for(count: int, frames: int, seed: int = 0, entry_width: float = ENTRY_WIDTHS[0],
                    pace: float = PACE) -> list[Approacher]:
    """``count`` walkers entering one every :data:`SPACING` frames (at most: fewer when ``count``
    walkers would not all enter by ``frames * 0.6``) from ``-frames / 4`` (in a random order,
    with a few frames of jitter: about three walkers in the frame at once), lateral offsets within
    +-110 px (people in overlapping lanes: the nearer hides the farther), drifts within +-0.3 px a
    frame, exit scales 2.5-4; deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    spacing = min(SPACING, (frames * 0.6 + frames / 4) / max(1, count - 1))
    starts = -frames / 4 + spacing * np.arange(count)
    starts = rng.permutation(starts) + rng.integers(-5, 6, count)
    return [Approacher(int(starts[k]), float(rng.uniform(-110, 110)), float(rng.uniform(-0.3, 0.3)),
                       float(rng.uniform(2.5, 4.0)), float(entry_width), float(pace)) for k in range(count)]


def compose_approach(clips: list[list[np.ndarray]], walkers: list[Approacher], canvas: tuple[int, int] = CANVAS,
                     background: int = 70):
    """The crowd's frames (uint8 BGR, ``canvas`` = (width, height)) and its
    :class:`facesel.eval.crowds_crossing.Truth`; ``clips[k]`` (4:3 frames, as many as the crowd has
    frames) is walker ``k``. Drawn from the last to enter (the farthest) to the first."""
    frames = len(clips[0])
    rects = np.array([[walkers[k].rect(t, canvas) for k in range(len(walkers))] for t in range(frames)],
                     np.int32).reshape(frames, len(walkers), 4)
    order = sorted(range(len(walkers)), key=lambda k: (-walkers[k].entry, k))
    return compose_rects(clips, rects, order, canvas, background, bodies=True)


def approach_crowd(clips, frames: int = 200, layout: int = 0, skip: int = 10, pace: float = PACE):
    """The frames and truth of walk number ``layout`` of the approaching crowd of ``clips``
    (paths), in memory (seeded by the clips' names and ``layout``, as the crossing crowds; entry
    width :data:`ENTRY_WIDTHS` by the walk's parity)."""
    from facesel.eval.crowds import read_tile

    tiles = [read_tile(p, frames, skip=skip) for p in clips]
    width = ENTRY_WIDTHS[layout % len(ENTRY_WIDTHS)]
    return compose_approach(tiles, approachers_for(len(clips), frames, seed=layout_seed(clips, layout) + 1,
                                                   entry_width=width, pace=pace))


def evaluate_approach(root, *, layouts: int = 1, frames: int = 200, pace: float = PACE, **kwargs) -> list:
    """Every crowd of :func:`facesel.eval.crowds.crowds_of` walking at the camera
    (:func:`facesel.eval.crowds_crossing.evaluate_walks`, ``occlusion = "approach"``) at ``pace``."""
    from functools import partial

    from facesel.eval.crowds_crossing import evaluate_walks

    return evaluate_walks(root, partial(approach_crowd, pace=pace), "approach", layouts=layouts, frames=frames, **kwargs)
