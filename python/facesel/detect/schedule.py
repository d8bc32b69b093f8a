"""When to run the detector on the whole frame, and searching small regions around tracks between.

Full-frame detection is the costliest stage (about 95 ms a frame for YuNet at 1280x720 on one
core). Between full detections every face that is already tracked is searched for again in a
small square around its last box, shrunk so that the face is about ``region_face_px`` pixels: a
few milliseconds a face, and the boxes and landmarks come from the same detector, so the crops
are made exactly as on a full detection. New faces are found at the next full detection, at most
``detect_every`` frames later, or at once when the scene changes as a whole.

With the motion gate on (``motion_gate`` > 0, issue 27), a full detection that falls due is put off
while nothing changed outside the squares the region search already looks at (a frame difference on
a small grey thumbnail, every frame): a still scene costs the full-frame network only once every
``motion_max_every`` frames, so a face that appears without moving a pixel of the thumbnail (one
that fades in, or grows past the detector's threshold slowly) is found at most that many frames
late.
"""

from __future__ import annotations

import cv2
import numpy as np

from facesel.boxes import pairwise_iou
from facesel.types import Detections

_THUMB_WIDTH = 96
# The motion gate's thumbnail (_motion_thumbnail): 12 frame pixels a thumbnail pixel at 1920 wide,
# so that a 35-pixel face (the smallest the arcade video's tracks start at) covers about 3 x 3 of them.
_MOTION_WIDTH = 160


class DetectionSchedule:
    """Decides, frame by frame, between a full-frame detection and a search around the tracks.

    Parameters
    ----------
    every : int >= 1
        A full detection at least every ``every`` frames (1: every frame, the exhaustive mode).
    scene_change : float >= 0
        Also a full detection when the mean absolute difference between a small grey copy of the
        frame and of the last fully detected frame exceeds this (grey levels); 0 turns it off.
    motion_gate : float >= 0
        0 (off): today's schedule. Otherwise a due full detection is postponed unless, on some
        frame since the last one, a pixel of a ``_MOTION_WIDTH``-wide grey thumbnail outside the
        tracked squares changed by more than this many grey levels from the frame before.
    max_every : int
        With the gate on, a full detection at least every ``max(every, max_every)`` frames
        whatever the motion: the longest a face new to a still scene can go unfound.
    region_scale : float
        Side of the tracked squares masked out of the motion test, in face-box sides (the region
        search's own ``region_scale``: motion inside them is the tracked faces' own).
    """

    def __init__(self, every: int, scene_change: float = 0.0, motion_gate: float = 0.0, max_every: int = 0,
                 region_scale: float = 2.5):
        self.every = int(every)
        self.scene_change = float(scene_change)
        self.motion_gate = float(motion_gate)
        self.max_every = int(max_every)
        self.region_scale = float(region_scale)
        self._since = None  # frames since the last full detection; None before the first
        self.phase = 0  # frames after the first at which the second full detection falls (set_phase)
        self._gap: int | None = None  # frames until the next full detection when not every (the phase)
        self._reference: np.ndarray | None = None
        self._previous: np.ndarray | None = None  # the last frame's motion thumbnail
        self._moved = False  # a change outside the tracked squares since the last full detection
        self.full = 0
        self.by_scene_change = 0
        self.postponed = 0  # frames on which a due full detection was put off by the motion gate
        # with the gate on: whether the last frame decided changed outside the tracked squares
        # (None with the gate off)
        self.moved_now: bool | None = None
        self._requested = False  # request_full was called since the last frame decided
        self.early = False  # whether the last frame decided is a full detection moved early (request_full)
        self.moved_early = 0  # full detections moved early by request_full

    def set_phase(self, phase: int) -> None:
        """Shift the schedule: the first frame is still searched whole (nothing is tracked yet), the
        next full detections fall on frames ``phase``, ``phase + every``, ... after it instead of
        ``every``, ``2 * every``, ... (0, the default: unshifted). Call before the first frame.

        Cameras of one process that start together give their schedules spread phases (``facesel
        serve``: :meth:`facesel.serve.camera.Camera.detection_phase`), so that their full-frame
        detections, the costliest frames, do not all fall on the same frame intervals.
        """
        if isinstance(phase, bool) or not isinstance(phase, int) or phase < 0:
            raise ValueError(f"phase must be an integer >= 0, got {phase!r}")
        if self._since is not None:
            raise RuntimeError("set_phase must be called before the first frame")
        self.phase = phase % self.every if self.every > 0 else 0

    def full_frame(self, frame: np.ndarray, tracked: np.ndarray | None = None) -> bool:
        """True when this frame must be searched whole (call once per frame, in order).

        ``tracked``: (T, 4) float32 boxes (frame pixels) of the faces the region search looks
        after; used only by the motion gate, whose test leaves their squares out.
        """
        thumb = None
        if self.scene_change > 0:
            thumb = _thumbnail(frame)
        due = self._since is None or self._since + 1 >= (self._gap or self.every)
        if not due and thumb is not None and self._reference is not None:
            # a frame of another shape (a stream that reconnected at a new resolution) is a new scene
            if thumb.shape != self._reference.shape or float(cv2.absdiff(thumb, self._reference).mean()) > self.scene_change:
                due = True
                self.by_scene_change += 1
        self.moved_now = None
        if self.motion_gate > 0 and self.every > 1:
            self.moved_now = self._motion_outside(frame, tracked)
            self._moved |= self.moved_now
            longest = max(self.every, self.max_every)
            if due and self._since is not None and not self._moved and self._since + 1 < longest:
                due = False
                self.postponed += 1
        requested, self._requested, self.early = self._requested, False, False
        if not due and requested and self._since is not None and self.every > 1:
            # frames from this one to the full detection the schedule has next (< 1: one the motion
            # gate put off, which a request does not bring back)
            ahead = (self._gap or self.every) - (self._since + 1)
            self.early = 1 <= ahead <= self.every // 2
        if due or self.early:
            if self.early:
                # the moved detection takes the scheduled one's place: the next falls on the grid (the
                # scheduled frame's distance plus every), so the count of full detections stays the same
                self._gap = ahead + self.every
                self.moved_early += 1
            else:
                # with a phase, the gap after the first frame is the phase; the rest are every frames
                self._gap = self.phase if self._since is None and self.phase > 0 else None
            self._since, self._reference = 0, thumb
            self._moved = False
            self.full += 1
        else:
            self._since += 1
        return due or self.early

    def request_full(self) -> None:
        """Ask for the next frame to be searched whole in place of the schedule's next full detection
        (``peak_detect``: a track's quality rose to a new high in its region square). Honoured by the
        next :meth:`full_frame` only when that detection was due at most ``every // 2`` frames later;
        the one after it then stays on the schedule's grid (the count of full detections is the
        schedule's). A request that is not honoured is forgotten. Callable from another thread than
        the one deciding frames (the scoring thread of ``Selector.run`` with two threads): one bool,
        so a request that races a decision lands on the frame after or is lost, and the schedule's
        own detections are never affected either way."""
        self._requested = True

    @property
    def since(self) -> int:
        """Frames since the last full detection (0 on a frame searched whole), once this frame is decided."""
        return 0 if self._since is None else self._since

    def _motion_outside(self, frame: np.ndarray, tracked: np.ndarray | None) -> bool:
        """Whether a thumbnail pixel outside the tracked squares changed by more than
        ``motion_gate`` grey levels since the last frame (True on the first frame)."""
        small = _motion_thumbnail(frame)
        previous, self._previous = self._previous, small
        if previous is None or previous.shape != small.shape:
            return True
        changed = cv2.absdiff(small, previous) > self.motion_gate
        if not changed.any():
            return False
        if tracked is not None and len(tracked):
            factor = small.shape[1] / frame.shape[1]
            for box in np.asarray(tracked, np.float32).reshape(-1, 4):
                if not np.isfinite(box).all():
                    continue
                half = self.region_scale * float(max(box[2] - box[0], box[3] - box[1])) / 2.0
                cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
                x1, y1 = max(0, int((cx - half) * factor)), max(0, int((cy - half) * factor))
                x2, y2 = int(np.ceil((cx + half) * factor)), int(np.ceil((cy + half) * factor))
                changed[y1:y2, x1:x2] = False
        return bool(changed.any())


def _thumbnail(frame: np.ndarray) -> np.ndarray:
    """Small grey copy of ``frame``, ``_THUMB_WIDTH`` pixels wide, for the scene-change test.

    Averaged over every ``step``-th pixel of every ``step``-th row rather than over all of them:
    the area average of a 1080p frame cost 1.8 ms a frame (issue 10), and a scene change moves the
    mean difference of a thumbnail by tens of grey levels either way.
    """
    h, w = frame.shape[:2]
    step = max(1, w // (4 * _THUMB_WIDTH))
    size = (_THUMB_WIDTH, max(1, round(h * _THUMB_WIDTH / w)))
    blocks = _whole_blocks(frame, step, size)
    if blocks is not None:
        # a 1080p (or 4K) frame: the sample shrinks by 4 x 4, OpenCV's generic whole-factor area
        # path, and the core makes the same grey bytes in one pass over the frame (issue 27,
        # session 25: 2.6 million instructions a frame in numpy, cv2.resize twice and cvtColor)
        return _sampled_grey(frame, step, *blocks)
    sparse = sampled(frame, step)
    # area_shrink: OpenCV's INTER_AREA pixels; a 720p frame's 427-pixel sample shrinks to 96 by a
    # fractional factor, OpenCV's scalar uint8 path there (session 22)
    return cv2.cvtColor(area_shrink(sparse, size), cv2.COLOR_BGR2GRAY)


def _whole_blocks(frame: np.ndarray, step: int, size: tuple[int, int]) -> tuple[int, int] | None:
    """(block_x, block_y) where the core's ``sampled_block_grey`` makes ``_thumbnail``'s bytes for
    ``frame``: a BGR uint8 frame of 3 adjacent bytes a pixel whose sample ``frame[::step, ::step]``
    shrinks to ``size`` by whole factors (OpenCV's whole-factor INTER_AREA path), not 2 x 2 (OpenCV
    rounds that one half up) and not 1 x 1; None otherwise (and with a core built before it)."""
    if _sampled_grey is None or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8 or not _packed(frame):
        return None
    rows, cols = -(-frame.shape[0] // step), -(-frame.shape[1] // step)
    if cols % size[0] or rows % size[1]:
        return None
    block_x, block_y = cols // size[0], rows // size[1]
    if (block_x, block_y) in ((1, 1), (2, 2)):
        return None
    return block_x, block_y


def sampled(frame: np.ndarray, step: int) -> np.ndarray:
    """``frame[::step, ::step]`` as a C-contiguous array: the same pixels, copied cheaply.

    numpy copies a strided (H, W, 3) uint8 view element by element, 3 bytes at a time, and OpenCV
    needs a contiguous image anyway: 0.39-0.46 CPU ms for the scene-change thumbnail's 216 x 384
    samples of a 1080p frame, which every frame pays (issue 27, session 14). Seen as one 3-byte
    item a pixel (a void dtype) the same copy moves whole pixels: about 0.18 ms. Any other layout
    (a grey frame, a view whose pixels are not 3 adjacent bytes) is copied the plain way.

    Where ``step`` divides both sides (a 1080p frame's step 5) OpenCV's nearest-neighbour resize to
    (W / step, H / step) gathers the same pixels, about half that CPU again (0.058 against 0.11 ms,
    session 20): it reads source column ``floor(x * (1 / (W' / W)))``, which is ``x * step`` exactly
    when that reciprocal comes back to ``step`` in floating point (checked here as OpenCV computes
    it; not so for a few steps such as 49).

    Parameters
    ----------
    frame : (H, W, C) or (H, W) uint8
    step : int >= 1

    Returns
    -------
    (ceil(H / step), ceil(W / step)[, C]) uint8, C-contiguous, equal to ``frame[::step, ::step]``
    """
    if (frame.ndim == 3 and frame.dtype == np.uint8 and frame.shape[2] > 0 and frame.strides[2] == 1
            and frame.strides[1] == frame.shape[2]):
        if _gathers_exactly(frame, step):
            h, w, channels = frame.shape[0] // step, frame.shape[1] // step, frame.shape[2]
            return cv2.resize(frame, (w, h), interpolation=cv2.INTER_NEAREST).reshape(h, w, channels)
        edged = _gathered_with_edges(frame, step)
        if edged is not None:
            return edged
        pixels = frame.view(np.dtype((np.void, frame.shape[2])))[:, :, 0]  # (H, W): one item a pixel
        picked = np.ascontiguousarray(pixels[::step, ::step])
        return picked.view(np.uint8).reshape(*picked.shape, frame.shape[2])
    return np.ascontiguousarray(frame[::step, ::step])


def _gathered_with_edges(frame: np.ndarray, step: int) -> np.ndarray | None:
    """``frame[::step, ::step]`` (H, W, C) uint8 of adjacent bytes where ``step`` does not divide a side:
    OpenCV's exact nearest-neighbour gather of the largest part whose sides it divides, then the
    last column and row that part leaves out, copied the plain way (a few hundred pixels). None where
    that part is empty or OpenCV would not read exactly every ``step``-th pixel of it.

    A 720p frame's scene thumbnail (step 3, which does not divide 1280) was copied item by item:
    7.39 million instructions a frame, 4.2 % of a 720p frame at serve's defaults, against 2.60 for a
    1080p frame's whole thumbnail (callgrind, issue 27 session 22, docs/performance.md)."""
    h, w, channels = frame.shape
    rows, cols = h // step, w // step
    if step <= 1 or rows == 0 or cols == 0:
        return None
    core = frame[:rows * step, :cols * step]
    if not _gathers_exactly(core, step):
        return None
    out = np.empty((-(-h // step), -(-w // step), channels), np.uint8)
    out[:rows, :cols] = cv2.resize(core, (cols, rows), interpolation=cv2.INTER_NEAREST).reshape(rows, cols, channels)
    if out.shape[1] > cols:  # the last column (every step-th row of it, the last row's pixel included)
        out[:, cols:] = frame[::step, cols * step::step]
    if out.shape[0] > rows:  # the last row, less that column's pixel
        out[rows:, :cols] = frame[rows * step::step, :cols * step:step]
    return out


def _gathers_exactly(frame: np.ndarray, step: int) -> bool:
    """Whether OpenCV's nearest-neighbour resize of ``frame`` (H, W, C) uint8, whole pixels of adjacent
    bytes, to (W / step, H / step) reads exactly every ``step``-th row and column from the first: both
    sides divisible by ``step``, 1 to 4 channels, rows of non-negative stride, and the source
    step OpenCV derives (``1 / (W' / W)`` in double, each side) equal to ``step``."""
    h, w, channels = frame.shape
    if step <= 1 or h % step or w % step or not 1 <= channels <= 4 or frame.strides[0] < w * channels:
        return False
    return 1.0 / ((w // step) / w) == step and 1.0 / ((h // step) / h) == step


def _motion_thumbnail(frame: np.ndarray) -> np.ndarray:
    """Grey thumbnail about ``_MOTION_WIDTH`` pixels wide for the motion gate, made every frame.

    Every ``step``-th pixel of every ``step``-th row (twice the thumbnail's width), then 2 x 2
    averages (INTER_AREA by a whole factor): 0.34 CPU ms a 1080p frame against 1.4 ms for
    :func:`_thumbnail` at this width (one thread, issue 27). The four samples averaged keep a
    still camera's noise (sd 2 grey levels a pixel) far under the gate's levels; a single sample
    a pixel (0.13 ms) would cross 10 levels on a few pixels of every frame.
    """
    w = frame.shape[1]
    step = max(1, w // (2 * _MOTION_WIDTH))
    grey = cv2.cvtColor(sampled(frame, step), cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, (max(1, grey.shape[1] // 2), max(1, grey.shape[0] // 2)), interpolation=cv2.INTER_AREA)


AREA_PATHS = ("exact", "exact+numpy", "float", "uint8")
AREA_PATH = "exact"
"""How :func:`area_shrink` (region squares) and :func:`frame_shrink` (the full-frame shrink) shrink:
``"exact"`` (the default since issue 27's session 17): where the sizes are a small odd ratio (3:2,
3:1, ...: a 1080p frame to 1280x720 or 640x360, a 192-pixel square to 128) the C++ core's integer
average (``_core.area_shrink_exact``), the same pixels as OpenCV's INTER_AREA bit for bit, about a
quarter of its CPU; other region squares by the core's copy of OpenCV's float32 path
(``_core.area_shrink_float``, session 18: the same operations in the same order, four rows at a
time in SIMD lanes, no float32 copy; the same pixels as ``"float"``, about 0.7x its CPU).
``"exact+numpy"``: session 17's, the integer average where it applies, other squares as ``"float"``.
``"float"``: region squares averaged through a
float32 copy (session 14; the same pixels, about 0.7x OpenCV's uint8 CPU), frames by OpenCV.
``"uint8"``: OpenCV on the uint8 pixels, as before session 14. A switch for A/B runs
(``benchmarks/frame_costs.py --area-path``, ``benchmarks/capacity.py --variant lazy+skip+s16shrink``)."""


def exact_shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray | None:
    """``cv2.resize(image, size, interpolation=cv2.INTER_AREA)`` by the C++ core's integer average,
    or None where it does not apply: ``AREA_PATH`` is neither ``"exact"`` nor ``"exact+numpy"``, the image is not uint8 with
    1 or 3 channels of adjacent bytes, or a side's ratio is not one the core reproduces exactly
    (``_core.area_shrink_exact_ratio``: p:q in lowest terms with p odd and at most 9; with an odd
    area the exact average is never halfway between two grey levels, so it rounds as OpenCV's
    float32 one; tests/test_exact_shrink.py compares them bit for bit).

    Parameters
    ----------
    image : (h, w, 3) or (h, w) uint8, rows at any stride
    size : (width, height) of the result, each at most the image's

    Returns
    -------
    (height, width[, 3]) uint8, C-contiguous, or None
    """
    if AREA_PATH not in ("exact", "exact+numpy") or image.dtype != np.uint8 or _exact is None:
        return None
    h, w = image.shape[:2]
    width, height = int(size[0]), int(size[1])
    channels = image.shape[2] if image.ndim == 3 else 1
    if (image.ndim not in (2, 3) or channels not in (1, 3) or image.strides[1] != channels
            or (image.ndim == 3 and image.strides[2] != 1) or image.strides[0] < w * channels):
        return None
    if not (_exact_ratio(w, width) and _exact_ratio(h, height)):
        return None
    return _exact(image, width, height)


def _core_exact():
    """The core's exact shrink, its ratio test and its float32 area path, or None for each that a
    core built before them lacks."""
    try:
        from facesel import _core
    except ImportError:
        return None, None, None
    return (getattr(_core, "area_shrink_exact", None), getattr(_core, "area_shrink_exact_ratio", None),
            getattr(_core, "area_shrink_float", None))


_exact, _exact_ratio, _float_core = _core_exact()


def _core_sampled_grey():
    try:
        from facesel import _core
    except ImportError:
        return None
    return getattr(_core, "sampled_block_grey", None)


_sampled_grey = _core_sampled_grey()
"""The core's one-pass scene-change thumbnail (``_core.sampled_block_grey``), or None in a core built before it."""


def _packed(image: np.ndarray) -> bool:
    """Whether ``image`` is (h, w) or (h, w, 1..4) with each pixel's channels adjacent bytes and rows
    at a stride of at least a row: the layouts the core's shrinks read (a crop of a frame is one)."""
    channels = image.shape[2] if image.ndim == 3 else 1
    return (image.ndim in (2, 3) and 1 <= channels <= 4 and image.strides[1] == channels
            and (image.ndim == 2 or image.strides[2] == 1) and image.strides[0] >= image.shape[1] * channels)


def frame_shrink(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A whole frame shrunk to ``size`` (width, height) as OpenCV's INTER_AREA shrinks it: by
    :func:`exact_shrink` where it applies (a 1080p frame to 1280x720: about 1.4 against 5.1 CPU ms,
    to 640x360 0.4 against 1.8, one thread), else by OpenCV (whole frames not through float32:
    session 14 measured that slower)."""
    small = exact_shrink(frame, size)
    return small if small is not None else cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def area_shrink(region: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``cv2.resize(region, size, interpolation=cv2.INTER_AREA)``, the same pixels, cheaper.

    With ``AREA_PATH`` ``"exact"`` a square whose sides shrink by a small odd ratio (1080p's
    192-pixel squares to 128: 0.024 against 0.080 CPU ms through float32) goes to
    :func:`exact_shrink`. Otherwise OpenCV averages by a fractional factor on its general path,
    which accumulates in float32 whatever the input and rounds once at the end. With ``"exact"``
    (session 18) the C++ core runs that path's float32 operations in their order on the uint8 square
    (``_core.area_shrink_float``: 0.15-0.23 against 0.20-0.31 CPU ms a 245- to 400-pixel square to
    160, the same pixels on 2,966 random crops of arcade frames and in tests/test_area_shrink_float.py;
    session 22 took its instructions from 282.8M to 126.0M for 60 arcade squares, callgrind,
    docs/performance.md). Before it (``"exact+numpy"``, ``"float"``), and for a layout the core does not read: for uint8
    input OpenCV's path is not vectorised, for float32 it is. So the square is averaged as
    float32 and rounded back by ``convertScaleAbs`` (the same rounding, ``saturate_cast``): 0.13
    against 0.18 CPU ms a 192 -> 128 square, 0.43 against 0.56 for 400 -> 160 (one thread, issue 27
    session 14), equal bit for bit on every square of ``tests/test_area_shrink.py``. A shrink by a
    whole factor on both axes (OpenCV's integer fast path, which rounds its own way), an enlargement
    or a non-uint8 image go to OpenCV as they are.

    Parameters
    ----------
    region : (h, w, C) or (h, w) uint8, any strides
    size : (width, height) of the result

    Returns
    -------
    (height, width[, C]) uint8
    """
    w, h = int(size[0]), int(size[1])
    src_h, src_w = region.shape[:2]
    shrinking = src_w >= w and src_h >= h and (src_w, src_h) != (w, h)
    if shrinking:
        small = exact_shrink(region, (w, h))
        if small is not None:
            return small
    fractional = shrinking and not (src_w % w == 0 and src_h % h == 0)
    if AREA_PATH == "exact" and fractional and region.dtype == np.uint8 and _float_core is not None \
            and _packed(region):
        return _float_core(region, w, h)
    if AREA_PATH in ("exact", "exact+numpy", "float") and fractional and region.dtype == np.uint8:
        return cv2.convertScaleAbs(cv2.resize(region.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA))
    return cv2.resize(region, (w, h), interpolation=cv2.INTER_AREA)


REGION_PATHS = ("core", "python")
"""Who does the region search's work around the detector (a detector's ``region_search``): the C++
core (planning the squares, padding them into the network's batches, mapping the faces back and
suppressing across squares, each with the GIL released; for detectors with ``detect_squares``) or
the Python reference, with the same results bit for bit (tests/test_region_search.py)."""


def search_regions(detector, frame: np.ndarray, boxes: np.ndarray, *, scale: float, face_px: float,
                   min_px: int, base_shrink: float = 1.0, nms_iou: float = 0.5, fast: bool = False) -> Detections:
    """Find each of ``boxes``' face again in a square around it, mapped back to frame pixels.

    With a detector whose ``region_search`` is ``"core"`` and that has ``detect_squares`` (YuNet on
    ONNX Runtime), the work around the network is done by the C++ core (:func:`_search_core`);
    otherwise by the Python reference below. Both give the same detections bit for bit. Boxes
    with a non-finite value or centre get no square.

    Parameters
    ----------
    detector : object with ``detect(image) -> Detections``
    frame : (H, W, 3) uint8 BGR
    boxes : (T, 4) float32
        Where each tracked face is expected (x1, y1, x2, y2, frame pixels).
    scale : float >= 1
        Side of each square, in box sides (the face may have moved or grown).
    face_px : float
        Each square is shrunk so that a box of the expected size is at most this many pixels.
    min_px : int
        Smallest square side handed to the detector, in its own (shrunk) pixels; smaller squares
        are widened around their centre, since a detector needs context around a small face.
    base_shrink : float in (0, 1]
        The shrink factor of the full-frame detection (``max_side`` / the frame's longer side):
        a region is never searched at a finer scale than the whole frame is, so that the region
        search finds the faces the full-frame detection finds, not smaller ones.
    fast : bool
        Shrink each square with :func:`cut_square`'s ``fast`` path (``region_shrink = "fast"``).
    nms_iou : float
        Of two detections (from overlapping squares) overlapping more than this, the more
        confident is kept.

    Returns
    -------
    Detections
        At most one per box (the detection in its square that overlaps it most), in frame
        pixels; landmarks when the detector gives them.
    """
    path = getattr(detector, "region_search", "python")
    if path not in REGION_PATHS:
        raise ValueError(f"the detector's region_search must be one of {REGION_PATHS}, got {path!r}")
    if path == "core" and callable(getattr(detector, "detect_squares", None)):
        found = _search_core(detector, frame, boxes, scale=scale, face_px=face_px, min_px=min_px,
                             base_shrink=base_shrink, nms_iou=nms_iou, fast=fast)
        if found is not None:
            return found
    h, w = frame.shape[:2]
    squares = []  # (box, region pixels, corner, back-scale) per searched box
    for box in np.asarray(boxes, np.float32).reshape(-1, 4):
        if not np.isfinite(box).all():
            continue
        side = float(max(box[2] - box[0], box[3] - box[1]))
        if not np.isfinite(side) or side <= 0:
            continue
        shrink = min(base_shrink, face_px / side)
        half = max(scale * side, min_px / shrink) / 2.0
        # float32 (numpy scalars with Python floats), as are cx - half and cx + half
        cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
        if not (np.isfinite(cx) and np.isfinite(cy)):
            continue
        x1, y1 = int(max(0, cx - half)), int(max(0, cy - half))
        x2, y2 = int(min(w, cx + half)), int(min(h, cy + half))
        if x2 - x1 < 8 or y2 - y1 < 8:
            continue
        if fast and shrink < 1.0 and int(1.0 / shrink) > min(x2 - x1, y2 - y1):
            continue  # the fast path's whole factor would trim the square to nothing
        squares.append((box, *cut_square(frame, x1, y1, x2, y2, shrink, fast=fast)))
    # All squares in one call when the detector can take several images (YuNet on ONNX Runtime
    # batches squares of one padded size: about 0.4 ms of per-call work saved a square).
    many = getattr(detector, "detect_many", None)
    regions = [s[1] for s in squares]
    found = many(regions) if callable(many) else [detector.detect(r) for r in regions]
    found_boxes, found_scores, found_marks = [], [], []
    with_marks = True
    for (box, _, offset, back), dets in zip(squares, found):
        if len(dets) == 0:
            continue
        mapped = dets.boxes * np.tile(back, 2) + np.tile(offset, 2)
        # Only the face this region was searched for: another face in the square is often cut
        # by its border, and its clipped box would open a second track beside the face's own.
        # Faces new to the scene are left to the next full-frame detection.
        overlap = pairwise_iou(mapped, box[None])[:, 0]
        pick = int(np.argmax(overlap))
        if not overlap[pick] > 0:
            continue
        found_boxes.append(mapped[pick : pick + 1])
        found_scores.append(dets.scores[pick : pick + 1])
        if dets.landmarks is None:
            with_marks = False
        else:
            found_marks.append(dets.landmarks[pick : pick + 1] * back + offset)
    if not found_boxes:
        return Detections.empty(with_landmarks=with_marks)
    merged = Detections(np.concatenate(found_boxes), np.concatenate(found_scores),
                        np.concatenate(found_marks) if with_marks else None)
    return merged[_nms(merged.boxes, merged.scores, nms_iou)]


def _search_core(detector, frame: np.ndarray, boxes: np.ndarray, *, scale: float, face_px: float, min_px: int,
                 base_shrink: float, nms_iou: float, fast: bool) -> Detections | None:
    """:func:`search_regions` with the C++ core around the network: ``_core.region_plan`` plans the
    squares, :func:`shrink_squares` cuts and shrinks them (OpenCV, as :func:`cut_square`), the
    detector's ``detect_squares`` pads them into batches and runs the network
    (``_core.region_batches``, ``_core.yunet_decode``), and ``_core.region_merge`` maps each
    square's faces back, keeps the one over its searched box and suppresses across squares.
    None when the detector cannot take these squares (then the Python path runs)."""
    from facesel import _core

    plan = _core.region_plan(np.asarray(boxes, np.float32).reshape(-1, 4), frame.shape[:2], scale, face_px, min_px,
                             base_shrink, bool(fast))
    faces = detector.detect_squares(shrink_squares(frame, plan.cuts, fast))
    if faces is None:
        return None
    return Detections(*_core.region_merge(plan, faces, nms_iou))


def shrink_squares(frame: np.ndarray, cuts: np.ndarray, fast: bool = False) -> list[np.ndarray]:
    """The squares of a ``_core.region_plan`` (its ``cuts``: (S, 7) int64 x1, y1, x2, y2, step,
    width, height) cut from ``frame`` and shrunk exactly as :func:`cut_square` does: area-averaged
    by ``step`` when it is >= 2 (the fast path), then resized to width x height when not already
    that size (bilinearly on the fast path, else INTER_AREA).

    Returns
    -------
    list of (height, width, 3) uint8 (views of ``frame`` where no resize was needed)
    """
    regions = []
    for x1, y1, x2, y2, step, width, height in cuts.tolist():
        region = frame[y1:y2, x1:x2]
        if step >= 2:
            region = cv2.resize(region, ((x2 - x1) // step, (y2 - y1) // step), interpolation=cv2.INTER_AREA)
        if region.shape[1] != width or region.shape[0] != height:
            region = (cv2.resize(region, (width, height), interpolation=cv2.INTER_LINEAR) if fast
                      else area_shrink(region, (width, height)))
        regions.append(region)
    return regions


def cut_square(frame: np.ndarray, x1: int, y1: int, x2: int, y2: int, shrink: float, fast: bool = False):
    """``frame[y1:y2, x1:x2]`` as the detector gets it.

    ``fast``: OpenCV's INTER_AREA by a fractional factor takes its general path (0.26-0.77 ms a
    square from a 1080p frame, issue 27); by a whole factor ``k`` it averages k x k blocks (a few
    hundredths of a ms). So the square is trimmed to a multiple of ``k`` (at most ``k - 1`` pixels
    off its right and bottom edges), averaged by ``k`` and shrunk the rest of the way (a factor
    in (0.5, 1]) bilinearly: 1.2-4.1 grey levels from the fractional area shrink on average
    (tests/test_region_shrink.py), the same faces found around the arcade video's tracks.

    Returns
    -------
    region : (h, w, 3) uint8, C-contiguous
        Resized by ``shrink`` (< 1: INTER_AREA, which averages rather than aliases; at least 8
        pixels a side).
    corner : (2,) float32
        (x1, y1): where the region's origin lies in the frame.
    back : (2,) float32
        Per-axis factors from region pixels back to frame pixels.
    """
    if fast and shrink < 1.0:
        k = int(1.0 / shrink)
        if k >= 2:
            x2, y2 = x1 + (x2 - x1) // k * k, y1 + (y2 - y1) // k * k
        region = frame[y1:y2, x1:x2]
        size = (max(8, round((x2 - x1) * shrink)), max(8, round((y2 - y1) * shrink)))
        if k >= 2:
            region = cv2.resize(region, ((x2 - x1) // k, (y2 - y1) // k), interpolation=cv2.INTER_AREA)
        if region.shape[1::-1] != size:
            region = cv2.resize(region, size, interpolation=cv2.INTER_LINEAR)
        back = np.array([(x2 - x1) / region.shape[1], (y2 - y1) / region.shape[0]], np.float32)
        return np.ascontiguousarray(region), np.array([x1, y1], np.float32), back
    region = frame[y1:y2, x1:x2]
    if shrink < 1.0:
        size = (max(8, round((x2 - x1) * shrink)), max(8, round((y2 - y1) * shrink)))
        region = area_shrink(region, size)
    back = np.array([(x2 - x1) / region.shape[1], (y2 - y1) / region.shape[0]], np.float32)
    return np.ascontiguousarray(region), np.array([x1, y1], np.float32), back


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, most confident first."""
    order = np.argsort(-scores, kind="stable")
    iou = pairwise_iou(boxes, boxes)
    kept: list[int] = []
    for i in order:
        if all(iou[i, j] <= threshold for j in kept):
            kept.append(int(i))
    return np.array(sorted(kept), np.int64)
