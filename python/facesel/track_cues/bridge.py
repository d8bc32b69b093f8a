"""The visual-continuity bridge: a patch followed through a face's gap, frame by frame, no face needed.

When a track's face stops being detected but the head and shoulders stay in view (a face turned
away, off the frame's edge with the shoulder still in, blurred by motion), a **follower** keeps
looking for the grey patch of the last frame it was seen on (the face box and the band below it,
the switch cues' band: neck, collar, shoulders) by normalised cross-correlation
(``cv2.matchTemplate``, ``TM_CCOEFF_NORMED``) in a window around its last place, on every frame.
The template is taken once and never re-taken. The follower dies on the first frame whose best
match is under the floor (the person left the frame, or went behind someone: the patch no longer
matches), or once its gap is over the limit. When a new track is first seen where a live follower
is at that moment, that is evidence of continuity: a **bridge hint** (earlier segment, later
segment, the smallest match on the way, the gap), which the finaliser may take as a link.

This is what single-object trackers (correlation-filter and template trackers) do: pixels, not
identity. Nothing about who the person is is computed or kept; the template lives only while its
follower does (at most the largest gap), in memory, and is compared only with the same place's
next frames. Two people are told apart only by the chain breaking: one who walks out of the frame
or behind a walker leaves no patch to follow (docs/persons.md, "A patch followed through the gap").

Cost: nothing on a frame where every track is detected; per unmatched track and frame one crop,
one grey conversion, one resize of a window of at most (2 * 32)^2 pixels after scaling, one
``matchTemplate`` (counted in :attr:`Followers.steps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

PATCHES = ("band", "head")


@dataclass(frozen=True)
class BridgeRule:
    """How a follower follows and when a new track arrives at it.

    Attributes
    ----------
    floor : float
        Smallest normalised cross-correlation (-1..1) a follower may show on a frame and live.
    max_gap_seconds : float
        Longest time from the track's last detection a follower lives.
    patch : str
        ``"band"``: the face box and the band below it (a quarter box wider each side, down 1.1 box
        heights below the box); ``"head"``: the face box only.
    side : int
        The template's longer side in pixels after scaling (the frame region is shrunk, never grown).
    window : float
        The search window: the follower's last place grown by this fraction of the patch's width
        and height on every side, each frame.
    arrive : float
        A new track arrives at a follower when its box centre is within this many face-box sides of
        the follower's face box centre ...
    size_ratio : float
        ... and its side within this ratio of the followed face box's.
    """

    floor: float = 0.6
    max_gap_seconds: float = 3.0
    patch: str = "band"
    side: int = 32
    window: float = 0.5
    arrive: float = 0.5
    size_ratio: float = 1.5

    def __post_init__(self) -> None:
        for name, value, low, high in (("floor", self.floor, -1.0, 1.0), ("max_gap_seconds", self.max_gap_seconds, 0.0, 60.0),
                                       ("window", self.window, 0.0, 10.0), ("arrive", self.arrive, 0.0, 10.0),
                                       ("size_ratio", self.size_ratio, 1.0, 100.0)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not low <= value <= high:
                raise ValueError(f"BridgeRule.{name} must be a number in [{low}, {high}], got {value!r}")
        if self.patch not in PATCHES:
            raise ValueError(f"BridgeRule.patch must be one of {PATCHES}, got {self.patch!r}")
        if isinstance(self.side, bool) or not isinstance(self.side, int) or not 8 <= self.side <= 256:
            raise ValueError(f"BridgeRule.side must be an integer in [8, 256], got {self.side!r}")


def patch_region(box, shape, patch: str) -> tuple[int, int, int, int] | None:
    """(x1, y1, x2, y2) ints of the patch of face box ``box`` (4 floats) clipped to a frame of
    ``shape`` (H, W[, C]); None when less than 4 pixels remain in either direction."""
    h, w = shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    if patch == "band":
        bw, bh = x2 - x1, y2 - y1
        x1, x2, y2 = x1 - 0.25 * bw, x2 + 0.25 * bw, y2 + 1.1 * bh
    a, b = int(max(0, math.floor(x1))), int(max(0, math.floor(y1)))
    c, d = int(min(w, math.ceil(x2))), int(min(h, math.ceil(y2)))
    if c - a < 4 or d - b < 4:
        return None
    return a, b, c, d


def _grey(frame: np.ndarray, region, scale: float) -> np.ndarray:
    """(h, w) float32 grey of ``region`` of ``frame`` ((H, W, 3) uint8 BGR or (H, W) uint8), shrunk by ``scale``."""
    a, b, c, d = region
    crop = frame[b:d, a:c]
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    if scale < 1.0:
        size = (max(1, int(round((c - a) * scale))), max(1, int(round((d - b) * scale))))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return grey.astype(np.float32)


class _Follower:
    __slots__ = ("template", "scale", "place", "offset", "face", "last_frame", "worst", "frames")

    def __init__(self, template, scale, place, offset, face, last_frame):
        self.template = template  # (h, w) float32 grey, scaled: the patch on the last detected frame
        self.scale = scale  # template pixels per frame pixel
        self.place = place  # (x, y) float: the patch's top-left corner in frame pixels now
        self.offset = offset  # (dx, dy): the face box's top-left corner relative to the patch's
        self.face = face  # (w, h) of the face box
        self.last_frame = last_frame  # frame number of the track's last detection
        self.worst = 1.0  # the smallest match on the frames followed so far
        self.frames = 0  # frames followed

    def face_box(self) -> np.ndarray:
        x, y = self.place[0] + self.offset[0], self.place[1] + self.offset[1]
        return np.array([x, y, x + self.face[0], y + self.face[1]], np.float64)


class Followers:
    """The followers of one stream's unmatched tracks (:class:`facesel.track.TrackStage` drives it).

    Parameters
    ----------
    rule : BridgeRule
    fps : float
        Frames a second (the gap limit is in seconds); 0 or less: 25.
    """

    def __init__(self, rule: BridgeRule, fps: float = 0.0):
        if not isinstance(rule, BridgeRule):
            raise TypeError(f"rule must be a BridgeRule, got {type(rule).__name__}")
        self.rule = rule
        self.fps = float(fps) if fps and fps > 0 else 25.0
        self._live: dict[int, _Follower] = {}
        self.steps = 0  # matchTemplate calls so far (the cost, counted)
        self.started = 0
        self.died = 0  # under the floor, or out of the frame
        self.expired = 0  # past the gap limit

    @property
    def following(self) -> frozenset:
        """Segment ids followed now."""
        return frozenset(self._live)

    def start(self, segment_id: int, box, frame: np.ndarray, frame_number: int) -> bool:
        """Begin following segment ``segment_id`` from its face box ``box`` (4 floats) on ``frame``
        ((H, W, 3) uint8, the frame of its last detection, number ``frame_number``). False when the
        patch is too small or flat to follow."""
        region = patch_region(box, frame.shape, self.rule.patch)
        if region is None:
            return False
        a, b, c, d = region
        scale = min(1.0, self.rule.side / max(c - a, d - b))
        template = _grey(frame, region, scale)
        if template.shape[0] < 4 or template.shape[1] < 4 or float(template.std()) < 1.0:
            return False  # a flat patch matches anything flat: nothing to follow
        x1, y1, x2, y2 = (float(v) for v in box)
        self._live[int(segment_id)] = _Follower(template, scale, (float(a), float(b)), (x1 - a, y1 - b),
                                                (x2 - x1, y2 - y1), int(frame_number))
        self.started += 1
        return True

    def stop(self, segment_id: int) -> None:
        """Forget segment ``segment_id``'s follower (its track was detected again, or ended by a cue)."""
        self._live.pop(int(segment_id), None)

    def advance(self, frame: np.ndarray, frame_number: int) -> None:
        """Look for every live follower's patch on ``frame`` (number ``frame_number``) in its window;
        a follower under the floor, at a window smaller than its patch or past the gap dies."""
        rule = self.rule
        height, width = frame.shape[:2]
        for segment_id in list(self._live):
            f = self._live[segment_id]
            if (frame_number - f.last_frame) / self.fps > rule.max_gap_seconds:
                del self._live[segment_id]
                self.expired += 1
                continue
            th, tw = f.template.shape
            pw, ph = tw / f.scale, th / f.scale  # the patch's size in frame pixels
            # the margins a whole number of template pixels, so that the shrunk window's grid lies
            # on the template's where the patch has not moved (else a shrink by 2-3x samples the
            # same pixels at another phase and fine texture no longer matches itself)
            mx, my = math.ceil(rule.window * tw) / f.scale, math.ceil(rule.window * th) / f.scale
            a = int(max(0, round(f.place[0] - mx)))
            b = int(max(0, round(f.place[1] - my)))
            c = int(min(width, math.ceil(f.place[0] + pw + mx)))
            d = int(min(height, math.ceil(f.place[1] + ph + my)))
            window = _grey(frame, (a, b, c, d), f.scale) if c > a and d > b else None
            if window is None or window.shape[0] < th or window.shape[1] < tw:
                del self._live[segment_id]
                self.died += 1
                continue
            scores = cv2.matchTemplate(window, f.template, cv2.TM_CCOEFF_NORMED)
            self.steps += 1
            _, best, _, (bx, by) = cv2.minMaxLoc(scores)
            best = float(best) if math.isfinite(best) else -1.0
            if best < rule.floor:
                del self._live[segment_id]
                self.died += 1
                continue
            f.worst = min(f.worst, best)
            f.frames += 1
            f.place = (a + bx / f.scale, b + by / f.scale)

    def arrive(self, box, frame_number: int) -> tuple[int, float, float] | None:
        """A new track first seen at face box ``box`` (4 floats) on frame ``frame_number``: the
        live follower it arrives at, nearest first, as (segment id, smallest match, gap in
        seconds); that follower is spent. None when it arrives at none."""
        x1, y1, x2, y2 = (float(v) for v in box)
        centre, side = np.array([(x1 + x2) / 2, (y1 + y2) / 2]), min(x2 - x1, y2 - y1)
        best, best_distance = None, math.inf
        for segment_id, f in self._live.items():
            if f.frames == 0:
                continue  # not followed on any frame of a gap
            followed = f.face_box()
            own = min(f.face)
            if own <= 0 or not 1.0 / self.rule.size_ratio <= side / own <= self.rule.size_ratio:
                continue
            dist = float(np.hypot(*(centre - (followed[:2] + followed[2:]) / 2))) / own
            if dist <= self.rule.arrive and dist < best_distance:
                best, best_distance = segment_id, dist
        if best is None:
            return None
        f = self._live.pop(best)
        return best, f.worst, (frame_number - f.last_frame) / self.fps

    def clear(self) -> None:
        """Forget every follower (the end of a source)."""
        self._live.clear()
