"""Scene changes under the tracks: a **cut** (one frame's grey thumbnail against the last one's)
or a **fade** (against the one ``fade_span`` frames back), each only as a spike over the recent
median of the same difference and only when it stands once the camera's own motion is taken out
(up to ``MOVE_REACH`` cells between two frames for a cut, ``SwitchRule.fade_reach`` over a fade's
span: a pan moves the picture further in 6 frames than in one).
"""

from __future__ import annotations

import numpy as np

from facesel import _core
from facesel.track_cues.rule import SwitchRule
from facesel.track_cues.sampling import _gather, _sum

_CORE_TAKE = getattr(_core, "take_levels", None)
_CORE_MEAN_LEVEL = getattr(_core, "mean_level", None)
_THUMB = (48, 27)
"""(width, height) of the scene-change cues' grey thumbnail (:func:`thumbnail`)."""
MOVE_REACH = 3
"""Thumbnail cells (of 48 x 27: about 6 % of the frame) a camera may move between the frames a
scene change compares without it counting as a change."""
BASELINE = 3
"""Differences seen before a scene change may fire (the median of fewer is no baseline)."""
SPREAD_LEVEL = 2.0
"""Grey levels (0-255) by which a thumbnail cell must change to count towards a cut's spread
(``SwitchRule.cut_spread``): above the compression noise of a still picture (0-1)."""
COLOUR_LEVELS = 4
"""Levels per colour channel of the thumbnail grid's colour histogram (``SwitchRule.cut_colours``;
4 x 4 x 4 = 64 bins)."""
REPEATED = 0.5
"""Mean absolute grey difference of a frame's thumbnail to the last one's under which the frame
repeats the last (compression noise only): such frames are left out of the scene-change cues."""


def _median(values) -> float:
    """``statistics.median`` of a few floats (the same value: the middle one, or the mean of the
    two middle ones), without its type checks."""
    ordered = sorted(values)
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


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
        # with fade_quiet: the span differences of the last cut_window frames before the span
        # began, and those of the span itself (the quiet fade's baseline leaves the latter out)
        self._earlier: deque = deque(maxlen=rule.cut_window + rule.fade_span)
        self._pending: tuple | None = None  # a quiet fade's candidate: (span, its cut thumbnails), fired at its peak
        self._quiet = 0  # frames left during which no change fires (one just did)
        self._colours: np.ndarray | None = None  # (64,) the last counted frame's colour histogram (cut_colours)
        self._last_colours: np.ndarray | None = None  # and the one before it
        self.frame_change = 0.0
        """Mean absolute grey difference of the last frame's thumbnail to the one before."""
        self.cut_thumbs: tuple | None = None
        """On a frame where a cut fired: the thumbnails ((27, 48) float32) of the frame before and
        of this one (the shot left and the shot cut to; :mod:`facesel.select.shot_return`); None
        on every other frame. With ``SwitchRule.fade_cut`` also on a fade's frame (the thumbnail
        ``fade_span`` frames back and this one's), and with ``fade_settle`` a third item: the
        frames after which the picture replaces "after" (the dissolve is over)."""
        self.thumb: np.ndarray | None = None
        """The last frame's thumbnail ((27, 48) float32; the one before on a repeated frame), None
        before the first: the shot the picture shows now (the shot-change cut veto,
        :meth:`facesel.select.shot_return.ShotMemory.shot_changed`)."""

    def reset(self) -> None:
        """Forget the frames seen and the baselines (at the end of a source, or when a frame of
        another size arrives)."""
        self._thumbs.clear()
        self._diffs.clear()
        self._spans.clear()
        self._earlier.clear()
        self._pending = None
        self._quiet = 0
        self._colours = self._last_colours = None
        self.thumb = None

    def update(self, frame: np.ndarray) -> tuple[str | None, float]:
        """("cut" | "fade" | None, the difference that fired or 0) for ``frame`` (H, W[, 3]) uint8."""
        rule = self.rule
        self.cut_thumbs = None
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
        self.thumb = thumb
        if rule.cut_colours > 0:
            self._last_colours, self._colours = self._colours, colour_histogram(frame)
        if len(self._thumbs) < 2:
            return None, 0.0
        usual = _median(self._diffs) if self._diffs else 0.0  # 10 floats: cheaper than numpy
        self._diffs.append(diff)
        span = -1.0
        if rule.fade > 0 and len(self._thumbs) == self._thumbs.maxlen:
            span = _mean_level(thumb, self._thumbs[0])
            usual_span = _median(self._spans) if self._spans else 0.0
            self._spans.append(span)
            if rule.fade_quiet > 0:
                self._earlier.append(span)
        if self._quiet > 0:
            self._quiet -= 1
            self._pending = None
            return None, 0.0
        kind, value = None, 0.0
        # A candidate must stand also once the camera's own motion is taken out (the best of
        # small shifts of one thumbnail over the other): a hand-held camera whipped round moves
        # the picture, a cut or a fade replaces it. Computed only for candidates (rare).
        # a spike needs a baseline: the first few frames' differences are that baseline
        if (rule.cut > 0 and len(self._diffs) > BASELINE and diff > rule.cut and diff > rule.cut_ratio * usual
                and self._cut_stands(thumb, max(rule.cut, rule.cut_ratio * usual))):
            kind, value = "cut", diff
            self.cut_thumbs = (self._thumbs[-2], thumb)
        elif (span > rule.fade and len(self._spans) > BASELINE and span > rule.fade_ratio * usual_span
              and self._fade_stands(thumb, max(rule.fade, rule.fade_ratio * usual_span))):
            kind, value = "fade", span
            if rule.fade_cut and (rule.fade_blend <= 0 or blend_residual(list(self._thumbs)) <= rule.fade_blend):
                # the shot before the dissolve began, and the picture now
                self.cut_thumbs = (self._thumbs[0], thumb) + ((rule.fade_span,) if rule.fade_settle else ())
        elif self._pending is not None and span <= self._pending[0]:
            # a quiet fade fires once its span difference has peaked (the dissolve is over): fired
            # while it still rises, the window sliding on would see the rest of it again
            (value, ends), kind = self._pending, "fade"
            if rule.fade_cut:  # its span's frames were mixes of its ends (_quiet_fade)
                self.cut_thumbs = ends + ((rule.fade_span,) if rule.fade_settle else ())
        elif rule.fade_quiet > 0 and span > rule.fade_quiet and self._quiet_fade(thumb, span):
            self._pending = (span, (self._thumbs[0], thumb))
            return None, 0.0
        self._pending = None
        if kind is not None:
            self._quiet = rule.fade_span
        return kind, value

    def _fade_stands(self, thumb: np.ndarray, floor: float) -> bool:
        """Whether a fade candidate (this frame's ``thumb`` against the one ``fade_span`` counted
        frames back) is a fade: once the camera's shift over the span (up to ``rule.fade_reach``
        cells) is taken out its mean difference is still above ``floor``, at least
        ``rule.fade_spread`` of the cells changed, and with ``rule.fade_steps`` the span's
        one-frame differences, each with its own shift taken out, still add up to above ``floor``
        (a pan is a chain of small shifts; a cross-fade is not). Whole-picture statistics only."""
        rule = self.rule
        moved, spread = moved_change(thumb, self._thumbs[0], rule.fade_reach)
        if moved <= floor or spread < rule.fade_spread:
            return False
        if rule.fade_steps:
            thumbs = list(self._thumbs)
            steps = sum(moved_difference(b, a) for a, b in zip(thumbs, thumbs[1:]))
            return steps > floor
        return True

    def _quiet_fade(self, thumb: np.ndarray, span: float) -> bool:
        """Whether this frame ends a **quiet fade** (``SwitchRule.fade_quiet``; ``span``, above
        that floor already, is ``thumb`` against the thumbnail ``fade_span`` counted frames back):
        ``span`` is above ``fade_ratio`` times the median of the span differences seen before the
        span began, the one ending where it began is not above ``fade_quiet`` (the picture was
        settled then), it stands with the camera's shift taken out, and the span's thumbnails are mixes
        of its two ends (``blend_residual`` at most ``fade_blend``). Whole-picture grey levels only."""
        rule = self.rule
        before = list(self._earlier)[:-rule.fade_span]  # the differences ending before the span began
        # the picture was settled when the span began (the span difference ending there is under
        # the floor): not the tail of a dissolve another fire already ended tracks at
        if len(before) <= BASELINE or before[-1] > rule.fade_quiet:
            return False
        floor = max(rule.fade_quiet, rule.fade_ratio * _median(before))
        if span <= floor or not self._fade_stands(thumb, floor):
            return False
        return rule.fade_blend > 0 and blend_residual(list(self._thumbs)) <= rule.fade_blend

    def _cut_stands(self, thumb: np.ndarray, floor: float) -> bool:
        """Whether a cut candidate (this frame's ``thumb`` against the last counted one's) is a
        cut: once the camera's shift is taken out its mean difference is still above ``floor``,
        at least ``rule.cut_spread`` of the cells changed (a cut replaces the whole picture; a
        grey patch, an arm or a ball passing close changes a part of it) and the colours moved by
        at least ``rule.cut_colours``. Whole-picture statistics only: no region, no face."""
        rule = self.rule
        moved, spread = moved_change(thumb, self._thumbs[-2])
        if moved <= floor or spread < rule.cut_spread:
            return False
        if rule.cut_colours > 0 and self._last_colours is not None:
            return colour_distance(self._colours, self._last_colours) >= rule.cut_colours
        return True


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


def blend_residual(thumbs: list) -> float:
    """How far the thumbnails between the first and the last of ``thumbs`` ((H, W) float32 each, at
    least 3) are from mixes of those two: the largest over the middle ones of the mean absolute
    residual after the best mix alpha * first + (1 - alpha) * last (alpha in [0, 1], least
    squares), divided by the mean |first - last|. A cross-fade: near 0 (its frames are such
    mixes); a pan's shifted pictures or an unrelated one: near 1 or above. Whole-picture grey
    levels only."""
    a, b = thumbs[0], thumbs[-1]
    d = a - b
    scale = float(np.abs(d).mean())
    if scale <= 0:
        return 0.0
    dd = float((d * d).sum())
    worst = 0.0
    for m in thumbs[1:-1]:
        alpha = min(max(float(((m - b) * d).sum()) / dd, 0.0), 1.0)
        worst = max(worst, float(np.abs(m - b - alpha * d).mean()))
    return worst / scale


def moved_difference(a: np.ndarray, b: np.ndarray, reach: int = MOVE_REACH) -> float:
    """The smallest mean absolute difference of two (H, W) thumbnails over shifts of one against
    the other by up to ``reach`` cells each way (their overlap only): what is left of the change
    once a camera pan or shake is taken out."""
    return moved_change(a, b, reach)[0]


def moved_change(a: np.ndarray, b: np.ndarray, reach: int = MOVE_REACH,
                 level: float = SPREAD_LEVEL) -> tuple[float, float]:
    """(:func:`moved_difference`, the fraction of the overlap's cells that differ by more than
    ``level`` grey at that best shift) of two (H, W) float32 thumbnails: how much of the picture
    changed once the camera's shift is taken out (a cut: nearly all of it)."""
    h, w = a.shape
    best, spread = np.inf, 1.0
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            pa = a[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
            pb = b[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
            diff = np.abs(pa - pb)
            mean = float(diff.mean())
            if mean < best:
                best, spread = mean, float(np.count_nonzero(diff > level)) / diff.size
    return best, spread


def colour_histogram(frame: np.ndarray) -> np.ndarray:
    """(64,) float32 fractions of the thumbnail grid's samples of ``frame`` (H, W[, 3]) uint8 in
    each of :data:`COLOUR_LEVELS` ^ 3 colour bins (a grey frame: its level in all three channels).
    The picture's colours as a whole, nothing of where they are."""
    h, w = frame.shape[:2]
    ys = np.linspace(0, h - 1, _THUMB[1]).astype(np.intp)
    xs = np.linspace(0, w - 1, _THUMB[0]).astype(np.intp)
    sample = frame[ys[:, None], xs[None, :]]
    if sample.ndim == 2:
        sample = np.repeat(sample[..., None], 3, axis=2)
    q = sample[..., :3].astype(np.intp) * COLOUR_LEVELS // 256
    index = (q[..., 0] * COLOUR_LEVELS + q[..., 1]) * COLOUR_LEVELS + q[..., 2]
    return np.bincount(index.ravel(), minlength=COLOUR_LEVELS ** 3).astype(np.float32) / index.size


def colour_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Half the L1 distance of two :func:`colour_histogram` results: 0 the same colours, 1 none shared."""
    return 0.5 * float(np.abs(a - b).sum())


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
