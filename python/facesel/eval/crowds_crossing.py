"""Crowds whose people walk across the frame and pass in front of each other (issue 23).

The tiled crowds of :mod:`facesel.eval.crowds` keep every person in one place and cover faces
with a flat grey bar. In a real crowd at a fixed camera the occluder is another **person**: a
nearer face passes in front of a farther one, the front face's track goes on, the hidden one's
ends under it and comes back on the other side. This material makes that from the same
single-person shared clips, in memory, never written:

- each clip is a **walker**: its 4:3 frames shrunk to the walker's width (its depth: 150-260 px,
  a nearer walker is larger) and moved across a ``640 x 360`` frame at a constant speed (2.5-5 px
  a frame), to the left or the right (alternating), heads at about the same height (a camera at head
  height: a larger walker's rectangle covers a smaller one's whole height);
- walkers are drawn from the farthest (smallest) to the nearest, so a nearer walker hides what
  lies behind it; at the middle frame the walkers are spread evenly across the frame, so walkers
  going opposite ways cross each other before and after it (:func:`crossings` counts the
  crossings where at least half of a walker is hidden by a nearer one).

Ground truth (:class:`Truth`): per walker and frame, its rectangle in the frame and the fraction
of it that is visible (inside the frame and not behind a nearer walker). A box belongs to the
**nearest walker whose rectangle holds its centre and at least 75 % of it** (the one drawn there;
a large face's box reaches past the bottom of its walker's rectangle by up to a fifth), else to
nobody (a box across two walkers' edges).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CANVAS = (640, 360)
"""Width and height of a crossing crowd's frames (the issue's crowd clip is 640 x 360)."""

INSIDE = 0.75
"""Share of a box inside a walker's rectangle for it to be that walker's (:meth:`Truth.person_at`)."""


@dataclass(frozen=True)
class Walker:
    """One person of a crossing crowd: ``width`` px wide (height 3/4 of it), centred at
    ``centre`` px at the middle frame, moving ``speed`` px a frame (negative: to the left)."""

    width: int
    centre: float
    speed: float

    def rect(self, t: int, frames: int, canvas: tuple[int, int] = CANVAS) -> tuple[int, int, int, int]:
        """(x1, y1, x2, y2) at frame ``t``, not clipped to the frame."""
        h = self.width * 3 // 4
        cx = self.centre + self.speed * (t - frames / 2)
        cy = canvas[1] * 0.45 + 0.15 * (self.width - 150)  # nearer: lower (perspective), same head height
        x1, y1 = round(cx - self.width / 2), round(cy - h / 2)
        return x1, y1, x1 + self.width, y1 + h


def walkers_for(count: int, canvas: tuple[int, int] = CANVAS, seed: int = 0) -> list[Walker]:
    """``count`` walkers: distinct widths (depths) 150-260 px, speeds 2.5-5 px a frame, directions
    alternating, spread evenly across the frame at the middle frame; deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    widths = np.linspace(150, 260, count).round().astype(int) if count > 1 else np.array([200])
    widths = rng.permutation(widths)  # depth not tied to the order across the frame
    out = []
    for k in range(count):
        direction = 1.0 if k % 2 == 0 else -1.0
        speed = direction * float(rng.uniform(2.5, 5.0))
        centre = canvas[0] * (k + 0.5) / count
        out.append(Walker(int(widths[k]), centre, speed))
    return out


@dataclass
class Truth:
    """Where each walker is and how much of it shows.

    Attributes
    ----------
    rects : np.ndarray, int32, shape (frames, walkers, 4)
        Each walker's rectangle (x1, y1, x2, y2) per frame, not clipped to the frame.
    visible : np.ndarray, float32, shape (frames, walkers)
        Fraction of the rectangle inside the frame and not behind a nearer walker.
    order : list of int
        Walker indices from the farthest (drawn first) to the nearest.
    """

    rects: np.ndarray
    visible: np.ndarray
    order: list

    def person_at(self, box, t: int, strict: bool = True) -> int | None:
        """The walker a box at frame ``t`` shows: the nearest whose rectangle holds the box's
        centre and (``strict``) at least :data:`INSIDE` of the box; None if none."""
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        area = max(1e-6, (x2 - x1) * (y2 - y1))
        t = min(max(int(t), 0), len(self.rects) - 1)
        for k in reversed(self.order):  # nearest first
            rx1, ry1, rx2, ry2 = self.rects[t, k]
            if not (rx1 <= cx < rx2 and ry1 <= cy < ry2):
                continue
            inter = max(0.0, min(x2, rx2) - max(x1, rx1)) * max(0.0, min(y2, ry2) - max(y1, ry1))
            return k if (not strict or inter >= INSIDE * area) else None
        return None


def compose_crossing(clips: list[list[np.ndarray]], walkers: list[Walker], canvas: tuple[int, int] = CANVAS,
                     background: int = 70) -> tuple[list[np.ndarray], Truth]:
    """The crowd's frames (uint8 BGR, ``canvas`` = (width, height)) and its :class:`Truth`.
    ``clips[k]`` (4:3 frames, any size, as many as the crowd has frames) is walker ``k``."""
    frames = len(clips[0])
    order = sorted(range(len(walkers)), key=lambda k: (walkers[k].width, k))
    rects = np.array([[walkers[k].rect(t, frames, canvas) for k in range(len(walkers))] for t in range(frames)],
                     np.int32).reshape(frames, len(walkers), 4)
    return compose_rects(clips, rects, order, canvas, background)


def compose_rects(clips: list[list[np.ndarray]], rects: np.ndarray, order: list, canvas: tuple[int, int] = CANVAS,
                  background: int = 70, bodies: bool = False) -> tuple[list[np.ndarray], Truth]:
    """Draw ``clips[k][t]`` into ``rects[t, k]`` ((frames, walkers, 4) int, x1, y1, x2, y2, not
    clipped; an empty rectangle: walker ``k`` is not there at frame ``t``), walkers in ``order``
    (farthest first, so the nearer hides the farther). With ``bodies``, each walker's body goes on
    below its rectangle to the frame's bottom (:func:`_body`: its clothes),
    drawn with it, so that what lies below a face is that person and not the flat background
    (the switch cues read the band below a face). The frames (uint8 BGR, ``canvas`` =
    (width, height)) and their :class:`Truth` (``visible`` counts the rectangle only)."""
    import cv2

    frames, count = rects.shape[:2]
    width, height = canvas
    visible = np.zeros((frames, count), np.float32)
    out = []
    for t in range(frames):
        canvas_img = np.full((height, width, 3), background, np.uint8)
        owner = np.full((height, width), -1, np.int16)
        for k in order:
            x1, y1, x2, y2 = (int(v) for v in rects[t, k])
            cx1, cy1, cx2, cy2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
            if x2 <= x1 or y2 <= y1 or cx2 <= cx1 or cy2 <= cy1:
                continue
            image = cv2.resize(clips[k][t], (x2 - x1, y2 - y1), interpolation=cv2.INTER_AREA)
            canvas_img[cy1:cy2, cx1:cx2] = image[cy1 - y1:cy2 - y1, cx1 - x1:cx2 - x1]
            owner[cy1:cy2, cx1:cx2] = k
            if bodies and y2 < height:
                below = max(y2, 0)
                body = _body(image, height - y2)[below - y2:]
                canvas_img[below:, cx1:cx2] = body[:, cx1 - x1:cx2 - x1]
                owner[below:, cx1:cx2] = k
        for k in range(count):
            x1, y1, x2, y2 = (int(v) for v in rects[t, k])
            area = float((x2 - x1) * (y2 - y1))
            inside = owner[max(y1, 0):max(min(y2, height), 0), max(x1, 0):max(min(x2, width), 0)]
            visible[t, k] = np.count_nonzero(inside == k) / area if area > 0 else 0.0
        out.append(canvas_img)
    return out, Truth(np.asarray(rects, np.int32), visible, list(order))


def _body(image: np.ndarray, rows: int) -> np.ndarray:
    """(rows, W, 3) uint8: what lies below a walker's rectangle ``image`` ((H, W, 3) uint8): its
    lowest eighth (neck, collar, clothes) mirrored downwards, again and again (a body with the
    texture of its clothes; mirroring the lower half put upside-down chins and mouths there, which
    the detector found as faces)."""
    half = image[image.shape[0] * 7 // 8:]
    period = np.concatenate([half[::-1], half])
    reps = -(-rows // len(period))
    return np.concatenate([period] * max(1, reps))[:rows]


def crossings(truth: Truth, hidden: float = 0.5) -> list[tuple[int, int, int]]:
    """(front walker, hidden walker, first frame) for every pair where the hidden walker, while
    inside the frame, is at least ``hidden`` covered by the front one (counted once per pair and
    passage)."""
    frames, count = truth.visible.shape
    out = []
    rank = {k: i for i, k in enumerate(truth.order)}
    for a in range(count):
        for b in range(count):
            if rank[a] <= rank[b]:
                continue  # a must be nearer than b
            covering = False
            for t in range(frames):
                ax1, ay1, ax2, ay2 = truth.rects[t, a]
                bx1, by1, bx2, by2 = truth.rects[t, b]
                inside_b = max(0, min(bx2, CANVAS[0]) - max(bx1, 0)) * max(0, min(by2, CANVAS[1]) - max(by1, 0))
                inter = max(0, min(ax2, bx2, CANVAS[0]) - max(ax1, bx1, 0)) * max(0, min(ay2, by2) - max(ay1, by1))
                now = inside_b > 0.5 * (bx2 - bx1) * (by2 - by1) and inter >= hidden * (bx2 - bx1) * (by2 - by1)
                if now and not covering:
                    out.append((a, b, t))
                covering = now
    return out


def layout_seed(clips, layout: int = 0) -> int:
    """The walkers' seed of walk number ``layout`` of ``clips`` (paths): from their names, so a
    crowd walks the same whichever other crowds are made with it."""
    import zlib

    return zlib.crc32("|".join(Path(p).name for p in clips).encode()) + 7919 * int(layout)


def crossing_crowd(clips, frames: int = 200, layout: int = 0, skip: int = 10):
    """The frames and :class:`Truth` of walk number ``layout`` of the crossing crowd of ``clips``
    (paths), in memory."""
    from facesel.eval.crowds import read_tile

    tiles = [read_tile(p, frames, skip=skip) for p in clips]
    return compose_crossing(tiles, walkers_for(len(clips), seed=layout_seed(clips, layout)))


def evaluate_crossing(root, *, size: int = 6, frames: int = 200, fps: float = 25.0, settings: dict | None = None,
                      detector=None, scorer=None, link=None, families_only=None, layouts: int = 1, log=print,
                      step: int = 1, scale: float = 1.0) -> list:
    """Every crowd of :func:`facesel.eval.crowds.crowds_of` as a crossing crowd; one default
    Selector each (``settings``: PipelineConfig changes), each group of clips walked ``layouts`` times. :class:`facesel.eval.crowds.CrowdResult`
    rows with ``occlusion = "crossing"``; ``extra["crossings"]``: the crossings that hide at
    least half a walker. ``step``, ``scale``: :func:`facesel.eval.crowds.run_crowd` (every
    ``step``-th frame at ``fps / step``, resized by ``scale``)."""
    return evaluate_walks(root, crossing_crowd, "crossing", size=size, frames=frames, fps=fps, settings=settings,
                          detector=detector, scorer=scorer, link=link, families_only=families_only, layouts=layouts,
                          log=log, step=step, scale=scale)


def evaluate_walks(root, make, kind: str, *, size: int = 6, frames: int = 200, fps: float = 25.0,
                   settings: dict | None = None, detector=None, scorer=None, link=None, families_only=None,
                   layouts: int = 1, log=print, step: int = 1, scale: float = 1.0) -> list:
    """Every crowd of :func:`facesel.eval.crowds.crowds_of` made by ``make(clips, frames,
    layout=...) -> (frames, Truth)`` (a crossing or an approaching crowd), ``layouts`` walks per
    group of clips, one default Selector each: :class:`facesel.eval.crowds.CrowdResult` rows with
    ``occlusion = kind``; ``extra["crossings"]``: the passages that hide at least half a walker."""
    from facesel.config import PipelineConfig
    from facesel.eval.crowds import CrowdResult, crowds_of, families, run_crowd
    from facesel.selector import default_detector, default_scorer

    detector = default_detector(PipelineConfig(**(settings or {}))) if detector is None else detector
    scorer = default_scorer() if scorer is None else scorer
    fams = families(Path(root))
    if families_only is not None:
        fams = {k: v for k, v in fams.items() if k in families_only}
    results = []
    for layout, (family, clips) in itertools.product(range(layouts), crowds_of(fams, size)):
        crowd, truth = make(clips, frames, layout=layout)
        out = run_crowd(crowd, (1, 1), 1, fps, detector, scorer, link=link, truth=truth, step=step, scale=scale,
                        **(settings or {}))
        per_tile = [out["per_tile"].get(k, 0) for k in range(len(clips))]
        persons = sum(1 for k in range(len(clips)) if k in out["tracked_tiles"])
        result = CrowdResult(family, [p.name for p in clips], kind, persons, out["snapshots"], per_tile,
                             out["wrong_joins"], out["links"], out["seconds"],
                             {"finaliser": out["finaliser"], "crossings": len(crossings(truth)),
                              "unplaced": out["per_tile"].get(-1, 0), "joins": out["joins"],
                              "without": sorted(set(out["tracked_tiles"]) - set(out["per_tile"]))})
        log(f"{family:12s} {kind} (walk {layout}) persons {persons} snapshots {result.snapshots} ({result.per_person:.2f}/person) "
            f"per walker {per_tile} unplaced {result.extra['unplaced']} wrong joins {result.wrong_joins} "
            f"links {result.links} crossings {result.extra['crossings']} cpu {result.seconds:.1f}s")
        results.append(result)
    return results
