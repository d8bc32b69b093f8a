"""Cues that a track's box has moved from one person onto another, with no identity computed.

A tracker associates boxes by position and size only, so when one person steps into the place
another has just left (a doorway, a turnstile, a cut between two shots of a TV programme), the
track slides onto the second person and that person never gets a snapshot of their own. These
cues look for what no head does between two frames:

- **scene cut**: the whole frame changes at once (mean absolute difference of a tiny grey
  thumbnail against the previous frame's);
- **fade**: the whole frame changes over a few frames (the thumbnail against the one
  ``fade_span`` frames back): a cross-fade or a dissolve, where no two consecutive frames differ
  much but the picture before and after does;
- **size / aspect jump**: the box's size or its width-to-height ratio jumps;
- **appearance jump**: a coarse colour histogram of the box and of the band below it (neck,
  collar, clothes) moves away from the track's own running histogram.

None of them is a recognition feature: a colour histogram of 4 x 4 x 4 bins over a few hundred
sampled pixels says "mostly dark blue below a mostly pink blob", which two strangers share and
one person loses by taking off a coat; it is compared only with the same track's last second, never
stored, and never compared across tracks except in the finaliser's re-link of two fragments that
already touch in space and time (``docs/persons.md``). Each cue costs microseconds a box
(:func:`appearance`: two fixed grids of 12 x 12 pixels, one ``bincount``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facesel import _core
from facesel.setting_checks import check_at_least


def _native(frame: np.ndarray, ranks: tuple) -> bool:
    """Whether the core samples ``frame`` as it is: C-contiguous uint8, of a rank in ``ranks``
    (2: (H, W); 3: (H, W, 3)); the core never copies a frame."""
    return (frame.dtype == np.uint8 and frame.flags.c_contiguous and frame.ndim in ranks
            and (frame.ndim == 2 or frame.shape[2] == 3))


GRID = 12
"""Pixels sampled per side of each region (GRID x GRID per region)."""
BINS = 4
"""Levels per colour channel of the histogram (BINS ** 3 bins)."""

# The C++ core's samplers (cpp/src/cue_samples.cpp), used when its grid and bins are these; None
# in a core built before them, whose callers then take the numpy definitions (the same values).
_SAME_GRID = (getattr(_core, "CUE_GRID", None), getattr(_core, "CUE_BINS", None)) == (GRID, BINS)
_CORE_HISTOGRAMS = getattr(_core, "colour_histograms", None) if _SAME_GRID else None
_CORE_GREY = getattr(_core, "grey_samples", None) if _SAME_GRID else None
_CORE_PINNED = getattr(_core, "pinned_patches", None) if _SAME_GRID else None
_CORE_JUMPS = getattr(_core, "box_jumps", None)
_CORE_TAKE = getattr(_core, "take_levels", None)
_CORE_CROWDED = getattr(_core, "crowded", None)
_CORE_MEAN_LEVEL = getattr(_core, "mean_level", None)
_THUMB = (48, 27)
"""(width, height) of the scene-change cues' grey thumbnail (:func:`thumbnail`)."""
MOVE_REACH = 3
"""Thumbnail cells (of 48 x 27: about 6 % of the frame) a camera may move between the frames a
scene change compares without it counting as a change."""
BASELINE = 3
"""Differences seen before a scene change may fire (the median of fewer is no baseline)."""
REPEATED = 0.5
"""Mean absolute grey difference of a frame's thumbnail to the last one's under which the frame
repeats the last (compression noise only): such frames are left out of the scene-change cues."""
STILL_GREY = 2.0
"""Mean absolute grey difference (0-255) of the pixels under a box between two frames below
which they did not change: compression noise on a pasted logo (measured: docs/persons.md);
a living face blinks, talks and sways."""
LIVE_GREY = 1.0
"""Mean absolute grey difference (0-255) of the pixels under a box between two observations at
which what it shows moved: a face pasted into a video changed by at most 1.93 on any step, and on
at most 2.9 % of its steps by 1 or more (still scenes, docs/persons.md); a person sitting still
before a webcam or a plain wall changed by 1 or more on 26-85 % of them (blinks, lips, breath)."""
SCENE_MOVES = 1.0
"""... counted only on frames whose thumbnail changed by at least this (mean absolute grey
difference) and by 4 times the box's change: a still box in a still scene (a calm speaker before
a plain wall: box 0.5-1.1, frame 0.2-0.7 on LivePortrait's clips) says nothing."""


@dataclass(frozen=True)
class SwitchRule:
    """Thresholds of the switch cues (``docs/persons.md`` gives how each was measured).

    A cue that fires splits the track at once (the new segment must be confirmed again); except at
    a scene cut, the split is then **verified** on the new segment's first ``confirm``
    observations: when their colours are back near the old segment's (a hand passed in front of
    the collar, a head turned for an instant) the split is withdrawn and the finaliser re-links
    the two segments; otherwise it stands.

    Attributes
    ----------
    cut : float
        Mean absolute grey difference (0-255) of two consecutive frames' thumbnails above which
        the frame is a scene cut, if it is also ``cut_ratio`` times the median difference of the
        last ``cut_window`` frames (a shaking hand-held camera changes every frame; a cut is a
        spike); 0 turns the cut cue off.
    cut_ratio : float
    cut_window : int
    fade : float
        Mean absolute grey difference of the thumbnail to the one ``fade_span`` frames back above
        which the frame ends a **fade** (a cross-fade, a dissolve), if it is also ``fade_ratio``
        times the median of the last ``cut_window`` such differences; 0 turns the fade cue off.
        A track under a fade is split like one under a cut, its colours compared with those
        ``fade_span`` observations back (before the fade began). After a cut or a fade no other
        fires for ``fade_span`` frames (the same change seen again as the window slides).
    fade_span : int
    fade_ratio : float
    cut_appearance : float
        After a cut or a fade, a track whose next box's colours are at least this far from the track's
        (histogram distance) is split, unverified; one that still sees the same thing (a jump
        cut of a speaker) is kept whole, and so is a track with no colours (a face under
        ``min_side``, or in a crowd): nothing says that the scene changed under it.
    max_size_jump : float
        Largest ratio (larger over smaller) of the box size (sqrt(w * h)) to the track's last.
    max_aspect_jump : float
        Largest ratio of the box's width-to-height ratio to the track's last.
    appearance : float
        Histogram distance (1 - intersection, in [0, 1]; the larger of the face's and the band's)
        from the colours ``history`` observations back above which the track is split.
    history : int
        Observations back that the colours are compared with (a fade of a few frames is a jump
        over this span; one frame's difference is not).
    confirm : int
        Observations of the new segment on which a split is verified.
    confirm_appearance : float
        The split stands when the median distance of those observations to the old colours is
        above this.
    min_side : float
        Faces smaller than this (pixels, the box's shorter side) get no colour cues: a 12 x 12
        grid over a face of 32-35 pixels reads mostly compression blocks and hair, and OTB Girl's
        turning head moved its histograms by 0.64 (a genuine track split).
    """

    cut: float = 15.0
    cut_ratio: float = 3.0
    cut_window: int = 10
    fade: float = 15.0
    fade_span: int = 6
    fade_ratio: float = 3.0
    cut_appearance: float = 0.1
    max_size_jump: float = 2.0
    max_aspect_jump: float = 2.0
    appearance: float = 0.6
    history: int = 4
    confirm: int = 5
    confirm_appearance: float = 0.6
    min_side: float = 40.0

    def __post_init__(self) -> None:
        check_at_least(self, ("cut", "fade", "cut_appearance", "appearance", "confirm_appearance", "min_side"), 0)
        check_at_least(self, ("max_size_jump", "max_aspect_jump", "cut_ratio", "fade_ratio"), 1, finite=False)
        for name in ("history", "confirm", "cut_window", "fade_span"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")


_CROWD_SCALE = np.array([-0.25, 0.0, 0.25, 1.1])


def _twice(pairs: np.ndarray) -> np.ndarray:
    """(N, 2) -> (N, 4): each row twice over (w, h, w, h); ``np.tile`` without its Python."""
    return np.concatenate([pairs, pairs], axis=1)


def _median(values) -> float:
    """``statistics.median`` of a few floats (the same value: the middle one, or the mean of the
    two middle ones), without its type checks."""
    ordered = sorted(values)
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def crowded(boxes: np.ndarray) -> np.ndarray:
    """(N,) bool: boxes whose face and band (:func:`regions`) overlap another box's: in a crowd
    the band shows someone else's clothes, so the colour cues are not asked there.

    Parameters
    ----------
    boxes : (N, 4) float x1, y1, x2, y2
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(boxes)
    if n < 2:
        return np.zeros(n, bool)
    if _CORE_CROWDED is not None:  # _touching's test in C++ (``_core.crowded``): one call, any n
        return _CORE_CROWDED(boxes)
    return crowded_numpy(boxes)


def crowded_numpy(boxes: np.ndarray) -> np.ndarray:
    """:func:`crowded` without the C++ core ((N, 4) float64, N >= 2): pair by pair in Python up
    to ``_FEW`` boxes, else in numpy; the definitions the core's test is checked against."""
    n = len(boxes)
    if n <= _FEW:  # the regions below, value for value (the same float64 operations)
        return np.array(_touching([(x1 + (x2 - x1) * -0.25, y1 + (y2 - y1) * 0.0, x2 + (x2 - x1) * 0.25,
                                    y2 + (y2 - y1) * 1.1) for x1, y1, x2, y2 in boxes.tolist()]), bool)
    # x1 - w / 4, y1, x2 + w / 4, y2 + 1.1 h
    r = boxes + _twice(boxes[:, 2:] - boxes[:, :2]) * _CROWD_SCALE
    ix = np.minimum(r[:, None, 2], r[None, :, 2]) - np.maximum(r[:, None, 0], r[None, :, 0])
    iy = np.minimum(r[:, None, 3], r[None, :, 3]) - np.maximum(r[:, None, 1], r[None, :, 1])
    touch = (ix > 0) & (iy > 0)
    np.fill_diagonal(touch, False)
    return touch.any(axis=1)


_FEW = 16
"""Boxes up to which a frame's pairs are compared in Python: a handful of numpy calls on a few
dozen pairs costs more than the pairs themselves, most of all right after the detector has
filled the caches (docs/persons.md, speed)."""


def _touching(regions: list) -> list:
    """(N,) bools: :func:`crowded`'s test on regions (N sequences x1, y1, x2, y2, float) pair by
    pair. ``min(a, b) - max(c, d) > 0`` is written as the four comparisons ``a > c``, ``a > d``,
    ``b > c``, ``b > d``: the same truth for every float (a difference of two floats is > 0
    exactly when the first is larger; either is false with a nan, as the difference is nan)."""
    wide = [x2 > x1 and y2 > y1 for x1, y1, x2, y2 in regions]
    out = [False] * len(regions)
    for i, (ax1, ay1, ax2, ay2) in enumerate(regions):
        if not wide[i]:
            continue
        for j in range(i + 1, len(regions)):
            bx1, by1, bx2, by2 = regions[j]
            if wide[j] and ax2 > bx1 and bx2 > ax1 and ay2 > by1 and by2 > ay1:
                out[i] = out[j] = True
    return out


class SceneChange:
    """Whether the whole picture changed under the tracks, frame by frame: a **cut** (this
    frame's thumbnail against the last one's) or a **fade** (against the one ``fade_span`` frames
    back), each only as a spike over the recent median of the same difference (a hand-held camera
    or a waving signer changes every frame; a cut or a fade is a change far above that).

    Parameters
    ----------
    rule : SwitchRule
    """

    def __init__(self, rule: SwitchRule):
        from collections import deque

        self.rule = rule
        self._thumbs: deque = deque(maxlen=rule.fade_span + 1)
        self._diffs: deque = deque(maxlen=rule.cut_window)  # recent one-frame differences
        self._spans: deque = deque(maxlen=rule.cut_window)  # recent fade_span-frame differences
        self._quiet = 0  # frames left during which no change fires (one just did)
        self.frame_change = 0.0
        """Mean absolute grey difference of the last frame's thumbnail to the one before."""

    def reset(self) -> None:
        """Forget the frames seen and the baselines (at the end of a source, or when a frame of
        another size arrives)."""
        self._thumbs.clear()
        self._diffs.clear()
        self._spans.clear()
        self._quiet = 0

    def update(self, frame: np.ndarray) -> tuple[str | None, float]:
        """("cut" | "fade" | None, the difference that fired or 0) for ``frame`` (H, W[, 3]) uint8."""
        rule = self.rule
        thumb = thumbnail(frame)
        if self._thumbs and self._thumbs[-1].shape != thumb.shape:
            self.reset()
        if self._thumbs:
            diff = _mean_level(thumb, self._thumbs[-1])
            self.frame_change = diff
            if diff < REPEATED:
                # A repeated frame (a stream at a lower rate than its container's, a duplicate
                # for a dropped frame): it says nothing about how much the picture usually
                # changes, and the median of a clip with every other frame repeated would be ~0.
                return None, 0.0
        self._thumbs.append(thumb)
        if len(self._thumbs) < 2:
            return None, 0.0
        usual = _median(self._diffs) if self._diffs else 0.0  # 10 floats: cheaper than numpy
        self._diffs.append(diff)
        span = -1.0
        if rule.fade > 0 and len(self._thumbs) == self._thumbs.maxlen:
            span = _mean_level(thumb, self._thumbs[0])
            usual_span = _median(self._spans) if self._spans else 0.0
            self._spans.append(span)
        if self._quiet > 0:
            self._quiet -= 1
            return None, 0.0
        kind, value = None, 0.0
        # A candidate must stand also once the camera's own motion is taken out (the best of
        # small shifts of one thumbnail over the other): a hand-held camera whipped round moves
        # the picture, a cut or a fade replaces it. Computed only for candidates (rare).
        # a spike needs a baseline: the first few frames' differences are that baseline
        if (rule.cut > 0 and len(self._diffs) > BASELINE and diff > rule.cut and diff > rule.cut_ratio * usual
                and moved_difference(thumb, self._thumbs[-2]) > max(rule.cut, rule.cut_ratio * usual)):
            kind, value = "cut", diff
        elif (span > rule.fade and len(self._spans) > BASELINE and span > rule.fade_ratio * usual_span
              and moved_difference(thumb, self._thumbs[0]) > max(rule.fade, rule.fade_ratio * usual_span)):
            kind, value = "fade", span
        if kind is not None:
            self._quiet = rule.fade_span
        return kind, value


_sum, _max = np.add.reduce, np.maximum.reduce
"""``ndarray.sum`` and ``ndarray.max`` without their Python wrappers (the same reductions)."""


def _mean_level(a: np.ndarray, b: np.ndarray) -> float:
    """``float(np.abs(a - b).mean())`` of two float32 thumbnails of whole grey levels: their sum
    is exact in float32 (at most 1,296 x 255), so dividing it by the count as ``mean`` does gives
    the same value, without ``mean``'s Python (in the C++ core, ``_core.mean_level``, when the
    thumbnails are C-contiguous float32: one call instead of four; :func:`_mean_level_numpy`)."""
    if _CORE_MEAN_LEVEL is not None and a.dtype == b.dtype == np.float32 and a.shape == b.shape \
            and a.flags.c_contiguous and b.flags.c_contiguous:
        return _CORE_MEAN_LEVEL(a, b)
    return _mean_level_numpy(a, b)


def _mean_level_numpy(a: np.ndarray, b: np.ndarray) -> float:
    """:func:`_mean_level` in numpy: the definition the core's is checked against."""
    return float(_sum(np.abs(a - b), None) / np.float32(a.size))


def moved_difference(a: np.ndarray, b: np.ndarray, reach: int = MOVE_REACH) -> float:
    """The smallest mean absolute difference of two (H, W) thumbnails over shifts of one against
    the other by up to ``reach`` cells each way (their overlap only): what is left of the change
    once a camera pan or shake is taken out."""
    h, w = a.shape
    best = np.inf
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            pa = a[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
            pb = b[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
            best = min(best, float(np.abs(pa - pb).mean()))
    return best


_THUMB_INDEX: dict = {}  # frame (h, w) -> rows, cols of the thumbnail's samples, their flat byte indices (colour, grey)


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """(27, 48) float32 grey levels of ``frame`` (its green channel, near enough to grey) sampled
    on a fixed grid (no filtering: a cut moves the mean difference by tens of grey levels,
    sampling noise by a few)."""
    h, w = frame.shape[:2]
    index = _THUMB_INDEX.get((h, w))
    if index is None:
        ys = np.linspace(0, h - 1, _THUMB[1]).astype(np.intp)
        xs = np.linspace(0, w - 1, _THUMB[0]).astype(np.intp)
        rows, cols = ys[:, None], xs[None, :]
        flat = rows * w + cols
        # the flat index of each sample's grey byte in a contiguous frame, made once per shape
        index = _THUMB_INDEX[(h, w)] = (rows, cols, flat * 3 + 1, flat)
    rows, cols, colour_bytes, grey_bytes = index
    if not frame.flags.c_contiguous or (frame.ndim == 3 and frame.shape[2] != 3):
        return _gather(frame, rows, cols, 1 if frame.ndim == 3 else None).astype(np.float32)
    if _CORE_TAKE is not None and frame.dtype == np.uint8:  # one call instead of a take and a cast
        return _CORE_TAKE(frame, colour_bytes if frame.ndim == 3 else grey_bytes)
    return frame.reshape(-1).take(colour_bytes if frame.ndim == 3 else grey_bytes).astype(np.float32)


_STEPS = np.arange(GRID)


def _grid(lo: int, hi: int) -> np.ndarray:
    """GRID indices spread evenly over [lo, hi - 1] (integer arithmetic: cheaper than linspace)."""
    return lo + (_STEPS * max(0, hi - 1 - lo)) // (GRID - 1)


def _grids(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """:func:`_grid` of every pair of an array of ``lo`` and one of ``hi`` (int, any shape S):
    (*S, GRID) indices."""
    return lo[..., None] + (_STEPS * np.maximum(0, hi - 1 - lo)[..., None]) // (GRID - 1)


def _sample_axes(shape, region) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols), GRID each, of the sample grid over ``region`` (x1, y1, x2, y2) clipped to the frame."""
    h, w = shape[:2]
    x1, y1, x2, y2 = region
    x1, y1 = max(0, min(w - 1, x1)), max(0, min(h - 1, y1))
    x2, y2 = max(x1 + 1, min(w, x2)), max(y1 + 1, min(h, y2))
    return _grid(y1, y2), _grid(x1, x2)


def grey_samples(frame: np.ndarray, *regions) -> np.ndarray:
    """Levels of ``frame``'s green channel (its grey, near enough) on a GRID x GRID grid over each
    region (x1, y1, x2, y2, clipped to the frame): (GRID * GRID,) float32 for one region,
    (len(regions), GRID * GRID) for several (one gather)."""
    plane = frame[..., 1] if frame.ndim == 3 else frame
    axes = [_sample_axes(frame.shape, r) for r in regions]
    if len(axes) == 1:
        rows, cols = axes[0]
        return plane[rows[:, None], cols[None, :]].astype(np.float32).reshape(-1)
    rows = np.stack([a[0] for a in axes])[:, :, None]
    cols = np.stack([a[1] for a in axes])[:, None, :]
    return plane[rows, cols].astype(np.float32).reshape(len(axes), -1)


def _gather(frame: np.ndarray, rows: np.ndarray, cols: np.ndarray, channel: int | None = None) -> np.ndarray:
    """``frame[rows, cols]`` (or of one ``channel``) for broadcastable int index arrays: one
    ``take`` on the flat frame when it is contiguous (cheaper than indexing by two arrays)."""
    if not frame.flags.c_contiguous:
        plane = frame if channel is None or frame.ndim == 2 else frame[..., channel]
        return plane[rows, cols]
    flat = rows * frame.shape[1] + cols
    if frame.ndim == 2:
        return frame.reshape(-1).take(flat)
    channels = frame.shape[2]
    if channel is None:  # whole pixels: a take of rows along axis 0 (numpy 2.4: about 3 times
        # cheaper than a take of single bytes by their own indices, and no (..., C) index array)
        return frame.reshape(-1, channels).take(flat, axis=0)
    return frame.reshape(-1).take(flat * channels + channel)


def _clip_regions(regions: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """((..., 2) lo, (..., 2) hi) intp: regions (..., 4) x1, y1, x2, y2 (int or float) clipped to
    a frame of ``shape`` as :func:`regions` and :func:`_sample_axes` clip them (at least one
    pixel; a float truncated towards zero after clipping, as ``int`` does)."""
    h, w = shape[:2]
    lo = np.maximum(0, np.minimum((w - 1, h - 1), regions[..., :2])).astype(np.intp)
    hi = np.maximum(lo + 1, np.minimum((w, h), regions[..., 2:])).astype(np.intp)
    return lo, hi


def grey_samples_many(frame: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """:func:`grey_samples` of many regions at once, with no Python per region: (K, 4) int
    regions (x1, y1, x2, y2) -> (K, GRID * GRID) float32, row k equal to ``grey_samples(frame,
    regions[k])`` (the same clipping and grid, integer arithmetic). A C-contiguous uint8 frame
    (H, W) or (H, W, 3) is sampled by the C++ core (``_core.grey_samples``: one pass, no numpy
    call; the same values), any other by :func:`grey_samples_numpy`."""
    regions = np.asarray(regions, np.intp).reshape(-1, 4)
    if _CORE_GREY is not None and _native(frame, (2, 3)):
        return _CORE_GREY(frame, regions)
    return grey_samples_numpy(frame, regions)


def grey_samples_numpy(frame: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """:func:`grey_samples_many` in numpy ((K, 4) intp regions): the definition the C++ core's
    samples are checked against (``tests/test_cue_samples_core.py``), and the path of frames the
    core does not take (a view with strides, another dtype)."""
    lo, hi = _clip_regions(regions, frame.shape)
    axes = _grids(lo, hi)  # (K, 2, GRID): the columns, then the rows
    samples = _gather(frame, axes[:, 1, :, None], axes[:, 0, None, :], 1 if frame.ndim == 3 else None)
    return samples.astype(np.float32).reshape(len(regions), -1)


def middle_regions(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) intp: the middle of each box, a fifth in from each side (x1, y1, x2, y2 truncated
    towards zero, as ``int``), where the pinned-logo cue samples the box (a box larger than the
    logo it sits on shows the moving scene at its edges). ``boxes``: (N, 4) float."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    inset = _twice(0.2 * (b[:, 2:] - b[:, :2]))  # dx, dy, dx, dy
    return (b + inset * _INWARD).astype(np.intp)


def pinned_patches(frame: np.ndarray, boxes: np.ndarray, previous_regions: np.ndarray,
                   previous_patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pinned-logo cue's samples of one frame, in one pass: (regions, patches, under).

    Parameters
    ----------
    frame : (H, W[, 3]) uint8
    boxes : (N, 4) float32, this frame's boxes
    previous_regions : (K, 4) intp, regions sampled on an earlier frame
    previous_patches : (K, GRID * GRID) float32, their samples then (whole grey levels)

    Returns
    -------
    regions : (N, 4) intp, :func:`middle_regions` of ``boxes``
    patches : (N, GRID * GRID) float32, their :func:`grey_samples_many`
    under : (K,) float32, the mean absolute difference of each previous region's samples on this
        frame to its patch (the sum of whole grey levels is exact, so each row's mean is the one
        of that row alone)

    A C-contiguous uint8 frame and finite float32 boxes go to the C++ core
    (``_core.pinned_patches``; the same values), others to :func:`pinned_patches_numpy`.
    """
    if _CORE_PINNED is not None and boxes.dtype == np.float32 and _native(frame, (2, 3)):
        try:
            return _CORE_PINNED(frame, boxes, previous_regions, previous_patches)
        except ValueError:  # a non-finite box: numpy's own (nan -> integer) rules apply
            pass
    return pinned_patches_numpy(frame, boxes, previous_regions, previous_patches)


def pinned_patches_numpy(frame, boxes, previous_regions, previous_patches):
    """:func:`pinned_patches` in numpy: the definition the C++ core's are checked against."""
    regions = middle_regions(boxes)
    k = len(previous_regions)
    if not k:
        return regions, grey_samples_many(frame, regions), np.zeros(0, np.float32)
    samples = grey_samples_many(frame, np.concatenate([np.asarray(previous_regions, np.intp).reshape(-1), regions.reshape(-1)]))
    under = np.abs(samples[:k] - previous_patches).sum(axis=1) / np.float32(previous_patches.shape[1])
    return regions, samples[k:], under


_INWARD = np.array([1.0, 1.0, -1.0, -1.0])
# the band below the face (regions()): x1 - bw / 4, y2 + bh / 10, x2 + bw / 4, y2 + 1.1 bh
_BAND_FROM = np.array([0, 3, 2, 3])
_BAND_SCALE = np.array([-0.25, 0.1, 0.25, 1.1])


def regions(box, shape) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """The face region (the box) and the band below it (from just under the chin down one box
    height, a quarter box wider each side: neck, collar, shoulders), clipped to the frame (at
    least one pixel row), as (x1, y1, x2, y2)."""
    h, w = shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    bw, bh = x2 - x1, y2 - y1
    face = (x1, y1, x2, y2)
    band = (x1 - 0.25 * bw, y2 + 0.1 * bh, x2 + 0.25 * bw, y2 + 1.1 * bh)
    out = []
    for a, b, c, d in (face, band):
        a, b = int(max(0, min(w - 1, a))), int(max(0, min(h - 1, b)))
        c, d = int(max(a + 1, min(w, c))), int(max(b + 1, min(h, d)))
        out.append((a, b, c, d))
    return out[0], out[1]


_CODE_WEIGHTS = np.array([BINS * BINS, BINS, 1], np.intp)


def histogram(frame: np.ndarray, region) -> np.ndarray:
    """(BINS**3,) float32 colour histogram (sums to 1) of GRID x GRID pixels of ``region``."""
    x1, y1, x2, y2 = region
    pixels = frame[_grid(y1, y2)[:, None], _grid(x1, x2)[None, :]].reshape(-1, frame.shape[2] if frame.ndim == 3 else 1)
    # Gain-normalised: a change of exposure or of the light on the whole region is not a change
    # of what is there. The mean goes to the middle of a bin (160 of 128-191), so that a flat
    # region never sits on a bin edge.
    gain = (160.0 * BINS / 256.0) / max(1.0, float(pixels.mean()))
    q = np.minimum((pixels * gain).astype(np.intp), BINS - 1)
    if q.shape[1] == 1:
        codes = q[:, 0] * (BINS * BINS + BINS + 1)
    else:
        codes = q @ _CODE_WEIGHTS
    hist = np.bincount(codes, minlength=BINS ** 3).astype(np.float32)
    return hist / hist.sum()


def appearance(frame: np.ndarray, box) -> np.ndarray:
    """(2, BINS**3) float32: the histograms of the face region and of the band below it
    (:func:`histogram` of each, computed together: one gather, one count)."""
    if frame.ndim != 3:
        face, band = regions(box, frame.shape)
        return np.stack([histogram(frame, face), histogram(frame, band)])
    return appearances(frame, np.asarray(box, np.float64).reshape(1, 4))[0]


_OFFSETS: dict = {}  # boxes N -> (N, 2, 1) intp: the first bin of each region in appearances()' count


def appearances(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N, 2, BINS**3) float32: :func:`appearance` of every box of one frame at once (one gather,
    one count for all; row k equal to ``appearance(frame, boxes[k])`` bit for bit: the same
    regions, the same integer grid, gains and counts).

    Parameters
    ----------
    frame : (H, W, 3) uint8 BGR (an (H, W) grey frame is done box by box)
    boxes : (N, 4) float, finite x1, y1, x2, y2
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(boxes)
    if frame.ndim != 3 or n == 0:
        return np.stack([appearance(frame, b) for b in boxes]) if n else np.zeros((0, 2, BINS ** 3), np.float32)
    if _CORE_HISTOGRAMS is not None and _native(frame, (3,)):
        # one pass in C++ (``_core.colour_histograms``): inside the pipeline the numpy calls below
        # cost several times their arithmetic (docs/persons.md, speed); the same values
        return _CORE_HISTOGRAMS(frame, boxes)
    return appearances_numpy(frame, boxes)


def appearances_numpy(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """:func:`appearances` in numpy ((H, W, 3) frame, (N, 4) float64 boxes, N >= 1): the
    definition the C++ core's histograms are checked against (``tests/test_cue_samples_core.py``),
    and the path of frames the core does not take (a view with strides, another dtype)."""
    n = len(boxes)
    # (N, 2, 4): the face (the box), then the band below it, placed and clipped as regions() does
    band = boxes[:, _BAND_FROM] + _twice(boxes[:, 2:] - boxes[:, :2]) * _BAND_SCALE
    lo, hi = _clip_regions(np.concatenate([boxes, band], axis=1).reshape(n, 2, 4), frame.shape)
    axes = _grids(lo, hi)  # (N, 2, 2, GRID): the columns, then the rows
    # (N, 2, GRID, GRID, C) -> (N, 2, GRID * GRID, C)
    pixels = _gather(frame, axes[:, :, 1, :, None], axes[:, :, 0, None, :]).reshape(n, 2, -1, frame.shape[2])
    # the mean of each region's samples (an integer sum, divided as ``mean`` does)
    gain = (160.0 * BINS / 256.0) / np.maximum(1.0, _sum(pixels, (2, 3)) / (pixels.shape[2] * pixels.shape[3]))
    q = np.minimum((pixels * gain[..., None, None]).astype(np.intp), BINS - 1)
    offsets = _OFFSETS.get(n)
    if offsets is None:  # each region's bins after the previous region's
        offsets = _OFFSETS[n] = (np.arange(2 * n) * BINS ** 3).reshape(n, 2, 1)
    codes = q @ _CODE_WEIGHTS + offsets
    hist = np.bincount(codes.reshape(-1), minlength=2 * n * BINS ** 3).astype(np.float32).reshape(n, 2, -1)
    # every region counts GRID * GRID samples: its sum, exact in float32, is that number
    return hist / np.float32(GRID * GRID)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """The larger over the regions of 1 - histogram intersection (0: the same colours, 1: none
    shared); a region left out (all zeros) in either is not compared."""
    a, b = np.asarray(a), np.asarray(b)
    present = (a.sum(axis=-1) > 0) & (b.sum(axis=-1) > 0)
    if not present.any():
        return 0.0
    return float((1.0 - np.minimum(a, b).sum(axis=-1))[present].max())


def distance_whole(a: np.ndarray, b: np.ndarray) -> float:
    """:func:`distance` of two colours that have every region (as :func:`appearance` gives
    them: each region sums to 1), without the check for left-out regions."""
    return float(_max(1.0 - _sum(np.minimum(a, b), -1), None))


def box_jumps(previous: np.ndarray, boxes: np.ndarray) -> tuple[list, list]:
    """:func:`size_jump` and :func:`aspect_jump` of many pairs at once: (N, 4) float32 previous
    boxes and boxes -> two lists of N floats, each equal to the function's value for that pair
    (the same float32 areas and float64 ratios; both sets of boxes in one pass when they share a
    dtype, as the tracker's do). Two C-contiguous float32 arrays (the tracker's) go to the C++
    core (``_core.box_jumps``: the same operations, no numpy call), others to
    :func:`box_jumps_numpy`."""
    if (_CORE_JUMPS is not None and previous.dtype == boxes.dtype == np.float32 and previous.flags.c_contiguous
            and boxes.flags.c_contiguous):
        return _CORE_JUMPS(previous, boxes)
    return box_jumps_numpy(previous, boxes)


def box_jumps_numpy(previous: np.ndarray, boxes: np.ndarray) -> tuple[list, list]:
    """:func:`box_jumps` in numpy: the definition the C++ core's jumps are checked against
    (``tests/test_cue_samples_core.py``)."""
    n = len(previous)
    if previous.dtype == boxes.dtype:
        ratios = _size_aspect(np.concatenate([previous, boxes]))  # (2, 2N): sizes, aspects
        a, b = ratios[:, :n], ratios[:, n:]
    else:
        a, b = _size_aspect(previous), _size_aspect(boxes)
    jumps = (np.maximum(a, b) / np.minimum(a, b)).tolist()
    return jumps[0], jumps[1]


def _size_aspect(b: np.ndarray) -> np.ndarray:
    """(2, N) float64: each box's size sqrt(w * h) (the area in the boxes' dtype, as
    :func:`size_jump` computes it from float32 boxes) and its width-to-height ratio."""
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    area = w * h
    out = np.empty((2, len(b)))
    out[0] = np.where(area > 1e-9, np.sqrt(area).astype(np.float64), np.sqrt(1e-9))
    np.divide(np.maximum(1e-9, w.astype(np.float64)), np.maximum(1e-9, h.astype(np.float64)), out=out[1])
    return out


def size_jump(previous, box) -> float:
    """Ratio (>= 1) of the two boxes' sizes sqrt(w * h)."""
    a = float(np.sqrt(max(1e-9, (previous[2] - previous[0]) * (previous[3] - previous[1]))))
    b = float(np.sqrt(max(1e-9, (box[2] - box[0]) * (box[3] - box[1]))))
    return max(a, b) / min(a, b)


def aspect_jump(previous, box) -> float:
    """Ratio (>= 1) of the two boxes' width-to-height ratios."""
    a = max(1e-9, float(previous[2] - previous[0])) / max(1e-9, float(previous[3] - previous[1]))
    b = max(1e-9, float(box[2] - box[0])) / max(1e-9, float(box[3] - box[1]))
    return max(a, b) / min(a, b)
