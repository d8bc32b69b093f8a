"""The canonical face crop: one function makes both the crop that is scored and the one that is kept.

The quality model is trained on crops from :func:`align_face` and scores crops from
:func:`align_face`, so training and run time see the same geometry.

Geometry: a similarity transform (rotation, uniform scale, translation) maps the five detected
landmarks onto fixed template positions in a 64x64 image. The template is the widely used
five-point template of the ArcFace/InsightFace 112x112 crop (Deng et al., CVPR 2019), scaled to 64
pixels. When no landmarks are known, the box alone decides: its centre and size are mapped to the
region the template's face occupies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

CROP_SIZE = 64
"""Side of the grey crop that is scored, in pixels."""

# Left eye, right eye, nose tip, left mouth corner, right mouth corner in a 112x112 crop.
_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)
TEMPLATE = (_TEMPLATE_112 * (CROP_SIZE / 112.0)).astype(np.float32)
"""(5, 2) float32: where the five landmarks land in the 64x64 crop."""

# For box-only alignment: where detector boxes fall in landmark-aligned crops. Measured on 60
# padded LFW eval faces (landmarks from MTCNN; median over faces), the longer box side spans
# 58.7 (MTCNN), 56.8 (YuNet) and 54.9 (Haar) of the 64 pixels, centred at y = 37.1, 37.4, 36.1
# and x = 31.5..32.1. So a box's longer side is mapped to 0.89 of the crop, centred 5 pixels
# below the crop centre: box-only crops then match landmark crops in scale within about 5%.
_BOX_FRACTION = 0.89
_BOX_CENTRE = np.array([CROP_SIZE / 2.0, CROP_SIZE / 2.0 + 5.0])

# The template's constant parts of the landmark fit, computed once (the same operations on the
# same values as per call, so every fit is bit for bit what it was; issue 27, per-crop cost).
_DST = TEMPLATE.astype(np.float64)
_DST_MEAN = _DST.mean(axis=0)
_DST_C = _DST - _DST_MEAN
_CORNERS = np.array([[0, 0, 1], [CROP_SIZE, 0, 1], [0, CROP_SIZE, 1], [CROP_SIZE, CROP_SIZE, 1]], np.float64)
"""The crop's four corners (homogeneous), mapped back into the frame to find its footprint."""
_WARP_FLAGS = {"flags": cv2.INTER_LINEAR, "borderMode": cv2.BORDER_REPLICATE}


@dataclass
class AlignedFace:
    """The two crops of one face.

    Attributes
    ----------
    grey : (64, 64) uint8
        Aligned grey crop, the input of the quality model.
    colour : (h, w, 3) uint8
        BGR crop of the box with margin, not resampled (kept as the snapshot).
    transform : (2, 3) float64
        The affine map from frame to grey-crop coordinates.
    """

    grey: np.ndarray
    colour: np.ndarray
    transform: np.ndarray


def similarity_from_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """(2, 3) float64 similarity transform mapping (5, 2) landmarks onto :data:`TEMPLATE`.

    Least squares over all five points, without reflection (Umeyama, IEEE TPAMI 1991, closed
    form). Every point counts: a robust fit (e.g. LMedS) would sometimes drop the nose and make
    the crop geometry depend on which points it kept.
    """
    src = _as_points(landmarks, "landmarks")
    src_mean = src.mean(axis=0)
    src_c = src - src_mean
    src_var = float((src_c**2).sum()) / len(src)
    if src_var < 1e-12:  # all landmarks on one point: no similarity exists
        raise ValueError(f"landmarks are degenerate, cannot align: {src.tolist()}")
    u, singular, vt = np.linalg.svd(_DST_C.T @ src_c / len(src))
    # u and vt are orthogonal (determinant +-1): the sign of the 2x2 products is the sign of the
    # determinant, without LAPACK's call per face.
    u00, u01, u10, u11 = u.ravel().tolist()
    v00, v01, v10, v11 = vt.ravel().tolist()
    if (u00 * u11 - u01 * u10) * (v00 * v11 - v01 * v10) < 0:
        # the best fit would mirror the face: forbid it (diag(1, -1) between u and vt)
        u = u * np.array([1.0, -1.0])
        scale = (float(singular[0]) - float(singular[1])) / src_var
    else:
        scale = (float(singular[0]) + float(singular[1])) / src_var
    rotation = u @ vt
    scaled = scale * rotation
    out = np.empty((2, 3), np.float64)
    out[:, :2] = scaled
    out[:, 2] = _DST_MEAN - scaled @ src_mean
    return out


def similarities_from_landmarks(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`similarity_from_landmarks` of many faces in one set of array operations.

    Each matrix is bit for bit the one :func:`similarity_from_landmarks` makes of that face alone
    (the same operations in the same order on the same values: a mean over 5 points, a 10-term
    sum, ``matmul`` of each face's 2x5 and 2x2 matrices, LAPACK's SVD face by face; checked on
    thousands of faces, batches of 1 to 20, in tests/test_consensus_cost.py), so a crop aligned in
    a batch is the crop aligned alone. Why: the Selector's consensus pick aligns every crop it
    holds, and the per-face fit cost about a fifth of that alignment in NumPy call overhead.

    Parameters
    ----------
    landmarks : (M, 5, 2) float, finite

    Returns
    -------
    matrices : (M, 2, 3) float64
    fitted : (M,) bool
        False where the landmarks are degenerate (all on one point: :func:`similarity_from_landmarks`
        raises); that face's matrix is meaningless.
    """
    src = np.asarray(landmarks, dtype=np.float64)
    if src.ndim != 3 or src.shape[1:] != (5, 2):
        raise ValueError(f"landmarks must have shape (M, 5, 2), got {src.shape}")
    if not np.all(np.isfinite(src)):
        raise ValueError("landmarks must be finite")
    m = len(src)
    if m == 0:
        return np.zeros((0, 2, 3), np.float64), np.zeros(0, bool)
    src_mean = src.mean(axis=1)
    src_c = src - src_mean[:, None, :]
    src_var = np.square(src_c).reshape(m, 10).sum(axis=1) / len(_DST)
    with np.errstate(divide="ignore", invalid="ignore"):  # degenerate faces divide by 0; flagged below
        u, singular, vt = np.linalg.svd(np.matmul(_DST_C.T, src_c) / len(_DST))
        det_u = u[:, 0, 0] * u[:, 1, 1] - u[:, 0, 1] * u[:, 1, 0]
        det_v = vt[:, 0, 0] * vt[:, 1, 1] - vt[:, 0, 1] * vt[:, 1, 0]
        mirror = det_u * det_v < 0  # the best fit would mirror the face: forbid it, as one face alone
        u = np.where(mirror[:, None, None], u * np.array([1.0, -1.0]), u)
        scale = np.where(mirror, singular[:, 0] - singular[:, 1], singular[:, 0] + singular[:, 1]) / src_var
        scaled = scale[:, None, None] * np.matmul(u, vt)
        out = np.empty((m, 2, 3), np.float64)
        out[:, :, :2] = scaled
        out[:, :, 2] = _DST_MEAN - np.matmul(scaled, src_mean[:, :, None])[:, :, 0]
    return out, src_var >= 1e-12


def similarity_from_box(box: np.ndarray) -> np.ndarray:
    """(2, 3) float64 transform mapping a square around the box onto the template's face region."""
    x1, y1, x2, y2 = _as_box(box)
    side = max(x2 - x1, y2 - y1)
    scale = _BOX_FRACTION * CROP_SIZE / side
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    return np.array(
        [[scale, 0.0, _BOX_CENTRE[0] - scale * cx], [0.0, scale, _BOX_CENTRE[1] - scale * cy]], dtype=np.float64
    )


def _as_points(landmarks, name: str) -> np.ndarray:
    """(5, 2) float64 finite landmarks, or ValueError/TypeError naming the argument."""
    try:
        points = np.asarray(landmarks, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (5, 2) array of numbers, got {landmarks!r}") from None
    if points.shape != (5, 2) and points.size == 10:
        points = points.reshape(5, 2)
    if points.shape != (5, 2):
        raise ValueError(f"{name} must have shape (5, 2), got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError(f"{name} must be finite, got {points.tolist()}")
    return points


def _as_box(box) -> tuple[float, float, float, float]:
    """x1, y1, x2, y2 of a finite box with positive width and height, or an error naming ``box``."""
    try:
        values = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"box must be 4 numbers x1, y1, x2, y2, got {box!r}") from None
    if values.shape != (4,):
        raise ValueError(f"box must be 4 numbers x1, y1, x2, y2, got shape {np.shape(box)}")
    x1, y1, x2, y2 = values.tolist()
    if not math.isfinite(x1 + y1 + x2 + y2) or x2 <= x1 or y2 <= y1:
        raise ValueError(f"box must be finite with positive width and height, got {[x1, y1, x2, y2]}")
    return x1, y1, x2, y2


def warp_to_crop(grey: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(64, 64) uint8 crop of a grey frame under a frame-to-crop affine ``matrix``.

    ``cv2.warpAffine`` has no area interpolation (it silently uses bilinear for INTER_AREA), so a
    large face shrunk to 64 pixels would alias: fine texture would fold into false detail and
    inflate sharpness-like quality scores. When the map shrinks, the region that lands in the crop
    is first reduced with ``cv2.resize(INTER_AREA)`` (area averaging) to about crop resolution and
    only the remaining rotation and small scale are done by the bilinear warp.
    """
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale >= 1.0:
        return cv2.warpAffine(grey, matrix, (CROP_SIZE, CROP_SIZE), **_WARP_FLAGS)
    h, w = grey.shape[:2]
    left, top, right, bottom = _footprint(matrix)
    x0 = int(max(0, math.floor(left) - 2))
    y0 = int(max(0, math.floor(top) - 2))
    x1 = int(min(w, math.ceil(right) + 2))
    y1 = int(min(h, math.ceil(bottom) + 2))
    if x1 - x0 < 2 or y1 - y0 < 2:  # the crop lies (almost) outside the frame: nothing to average
        return cv2.warpAffine(grey, matrix, (CROP_SIZE, CROP_SIZE), **_WARP_FLAGS)
    size = (max(1, int(round((x1 - x0) * scale))), max(1, int(round((y1 - y0) * scale))))
    small = cv2.resize(grey[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
    sx, sy = size[0] / (x1 - x0), size[1] / (y1 - y0)
    # Pixel centres: small pixel q covers frame x0 + (q + 0.5) / sx - 0.5, so p = D^-1 (q + 0.5) + x0 - 0.5.
    shrunk = np.empty((2, 3), np.float64)
    # matrix[:, :2] @ diag(1 / sx, 1 / sy), column by column (the products are exact either way)
    shrunk[:, :2] = matrix[:, :2] * np.array([1.0 / sx, 1.0 / sy])
    shrunk[:, 2] = matrix[:, :2] @ np.array([0.5 / sx + x0 - 0.5, 0.5 / sy + y0 - 0.5]) + matrix[:, 2]
    return cv2.warpAffine(small, shrunk, (CROP_SIZE, CROP_SIZE), **_WARP_FLAGS)


def _footprint(matrix: np.ndarray) -> tuple[float, float, float, float]:
    """Left, top, right, bottom (frame pixels) of the 64x64 crop under the frame-to-crop
    ``matrix``: its corners mapped back into the frame. Python floats, so that the bounds cost no
    NumPy reduction per face. All four are NaN when any corner is not finite."""
    pts = (_CORNERS @ cv2.invertAffineTransform(matrix).T).tolist()
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    if not math.isfinite(sum(xs) + sum(ys)):
        return math.nan, math.nan, math.nan, math.nan
    return min(xs), min(ys), max(xs), max(ys)


def frame_coverage(matrix: np.ndarray, frame_shape: tuple[int, ...]) -> float:
    """Fraction of the 64x64 crop's pixels that come from inside the frame, in [0, 1].

    ``matrix`` is the (2, 3) frame-to-crop map of :class:`AlignedFace`; ``frame_shape`` the frame's
    (H, W[, C]). Pixels whose centre maps outside the frame were filled by replicating the border
    (streaks), so a crop of a face half out of the picture has coverage about 0.5: its missing half
    is made up, whatever its sharpness.
    """
    matrix = np.asarray(matrix, np.float64)
    if matrix.shape != (2, 3) or not np.all(np.isfinite(matrix)):
        raise ValueError(f"matrix must be a finite (2, 3) affine map, got shape {matrix.shape}")
    h, w = int(frame_shape[0]), int(frame_shape[1])
    inverse = cv2.invertAffineTransform(matrix)
    q = np.arange(CROP_SIZE, dtype=np.float64)
    qx, qy = np.meshgrid(q, q)
    fx = inverse[0, 0] * qx + inverse[0, 1] * qy + inverse[0, 2]
    fy = inverse[1, 0] * qx + inverse[1, 1] * qy + inverse[1, 2]
    inside = (fx >= -0.5) & (fx <= w - 0.5) & (fy >= -0.5) & (fy <= h - 0.5)
    return float(inside.mean())


def grey_source(frame: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grey part of ``frame`` that the 64x64 crop under ``matrix`` samples, and the matrix
    from that part to the crop: ``warp_to_crop(*grey_source(frame, m))`` equals
    ``warp_to_crop(to_grey(frame), m)`` but converts a face-sized patch instead of the whole frame
    (a 1080p frame costs about 0.2 ms a face to convert; issue 10).

    The patch holds the crop's footprint plus 4 pixels (the bilinear neighbours and
    :func:`warp_to_crop`'s own 2-pixel margin), clipped to the frame, so the border pixels that
    ``BORDER_REPLICATE`` repeats are the frame's own wherever the crop leaves the frame.
    """
    h, w = frame.shape[:2]
    left, top, right, bottom = _footprint(matrix)
    if math.isnan(left):  # a corner is not finite
        return to_grey(frame), matrix
    x0 = int(min(w, max(0, math.floor(left) - 4)))
    y0 = int(min(h, max(0, math.floor(top) - 4)))
    x1 = int(max(0, min(w, math.ceil(right) + 4)))
    y1 = int(max(0, min(h, math.ceil(bottom) + 4)))
    if x1 - x0 < 2 or y1 - y0 < 2:  # the crop lies (almost) outside the frame: keep the whole frame
        return to_grey(frame), matrix
    shifted = matrix.astype(np.float64, copy=True)
    shifted[:, 2] += shifted[:, :2] @ np.array([x0, y0], np.float64)
    return to_grey(frame[y0:y1, x0:x1]), shifted


def to_grey(image: np.ndarray) -> np.ndarray:
    """(H, W) uint8 grey image from a (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA uint8 image."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"image must be (H, W) grey or (H, W, 3) BGR, got shape {image.shape}")


def margin_crop(frame: np.ndarray, box: np.ndarray, margin: float = 0.25) -> np.ndarray:
    """The box grown by ``margin`` of its size on each side, clipped to the frame; a copy, not a view.

    ``frame``: (H, W[, C]) of any dtype; ``box``: 4 floats x1, y1, x2, y2 in frame pixels. Returns
    (h, w[, C]) of the frame's dtype, C-contiguous; ValueError for a non-finite box or one outside
    the frame."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = np.asarray(box, dtype=np.float64).reshape(4).tolist()
    if not math.isfinite(x1 + y1 + x2 + y2):
        raise ValueError(f"box must be finite, got {[x1, y1, x2, y2]}")
    mx, my = margin * (x2 - x1), margin * (y2 - y1)
    left, top = int(max(0, math.floor(x1 - mx))), int(max(0, math.floor(y1 - my)))
    right, bottom = int(min(w, math.ceil(x2 + mx))), int(min(h, math.ceil(y2 + my)))
    if right <= left or bottom <= top:
        raise ValueError(f"box {[x1, y1, x2, y2]} lies outside the {w}x{h} frame")
    return np.ascontiguousarray(frame[top:bottom, left:right])


def align_face(
    frame: np.ndarray,
    box: np.ndarray | None = None,
    landmarks: np.ndarray | None = None,
    margin: float = 0.25,
) -> AlignedFace:
    """Make the canonical crops of one face.

    Parameters
    ----------
    frame : (H, W, 3) uint8 BGR or (H, W) uint8 grey
    box : (4,) float, optional
        x1, y1, x2, y2. Needed for the colour crop; used for alignment when landmarks are None.
    landmarks : (5, 2) float, optional
        Left eye, right eye, nose, left and right mouth corners.
    margin : float
        Fraction of the box size added on each side of the colour crop.

    Returns
    -------
    AlignedFace
    """
    _check_frame_and_margin(frame, margin)
    if box is None and landmarks is None:
        raise ValueError("align_face needs a box, landmarks, or both; got neither")
    if box is not None:
        box = np.array(_as_box(box))
    if landmarks is not None:
        matrix = similarity_from_landmarks(landmarks)
    else:
        matrix = similarity_from_box(box)
    grey = warp_to_crop(*grey_source(frame, matrix))
    if box is None:  # derive a box from the landmarks' extent for the colour crop
        pts = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
        span = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]))
        cx, cy = pts.mean(axis=0)
        box = np.array([cx - span, cy - span, cx + span, cy + span])
    colour = margin_crop(_colour_source(frame), box, margin)
    return AlignedFace(grey=grey, colour=colour, transform=matrix)


def align_faces(frame: np.ndarray, boxes: np.ndarray, landmarks: np.ndarray | None = None,
                margin: float = 0.25) -> tuple[np.ndarray, list[np.ndarray]]:
    """The crops of :func:`align_face` for a frame's faces at once, as the Selector makes them.

    A face's landmarks are used when they are all finite and not all on one point, its box
    otherwise (what :class:`facesel.select.stage.ScoreStage` did face by face: landmarks that
    cannot be fitted fall back to the box). The landmark fits are one batch
    (:func:`similarities_from_landmarks`); each crop is bit for bit :func:`align_face`'s.

    Parameters
    ----------
    frame : (H, W, 3) uint8 BGR or (H, W) uint8 grey
    boxes : (M, 4) float
    landmarks : (M, 5, 2) float or None

    Returns
    -------
    greys : (M, 64, 64) uint8
    colours : list of M (h, w, 3) uint8 BGR crops
    """
    _check_frame_and_margin(frame, margin)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    m = len(boxes)
    matrices = np.empty((m, 2, 3), np.float64)
    fitted = np.zeros(m, bool)
    if landmarks is not None and m:
        points = np.asarray(landmarks, np.float64).reshape(m, 5, 2)
        finite = np.isfinite(points).reshape(m, -1).all(axis=1)
        if finite.sum() == 1:  # one face: the batch's array calls cost more than the face's own fit
            k = int(np.flatnonzero(finite)[0])
            try:
                matrices[k], fitted[k] = similarity_from_landmarks(points[k]), True
            except ValueError:  # degenerate: the box alone
                pass
        elif finite.any():
            fits, ok = similarities_from_landmarks(points[finite])
            matrices[finite], fitted[finite] = fits, ok
    colour_source = _colour_source(frame)
    greys = np.empty((m, CROP_SIZE, CROP_SIZE), np.uint8)
    colours = []
    for k in range(m):
        box = np.array(_as_box(boxes[k]))
        matrix = matrices[k] if fitted[k] else similarity_from_box(box)
        greys[k] = warp_to_crop(*grey_source(frame, matrix))
        colours.append(margin_crop(colour_source, box, margin))
    return greys, colours


def colour_crop(frame: np.ndarray, box: np.ndarray, margin: float = 0.25) -> np.ndarray:
    """The colour crop of :func:`align_face` alone, for the same box: (h, w, 3) uint8 BGR, the
    same pixels and the same errors, without the grey crop's fit and resampling.

    For the Selector when its scorer reads no pixels (the default context rule: pose, detector
    confidence and size), where the grey crop would be made and never looked at (issue 27).
    """
    _check_frame_and_margin(frame, margin)
    return margin_crop(_colour_source(frame), np.array(_as_box(box)), margin)


def _check_frame_and_margin(frame, margin) -> None:
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame must be a (H, W, 3) or (H, W) uint8 numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise TypeError(f"frame must be uint8, got {frame.dtype}")
    if frame.ndim not in (2, 3) or frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"frame must be a non-empty (H, W, 3) or (H, W) image, got shape {frame.shape}")
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.number)) or not 0 <= margin < 10:
        raise ValueError(f"margin must be a number in [0, 10), got {margin!r}")


def _colour_source(frame: np.ndarray) -> np.ndarray:
    """``frame`` as BGR: itself when it is, a grey frame turned into three equal channels."""
    return frame if frame.ndim == 3 and frame.shape[2] == 3 else cv2.cvtColor(to_grey(frame), cv2.COLOR_GRAY2BGR)


def pad_for_detection(image: np.ndarray, fraction: float = 0.5) -> tuple[np.ndarray, int, int]:
    """Pad a tight face crop (like the LFW crops) by ``fraction`` of its size on each side so that
    a detector finds the face; returns the padded image and the (dx, dy) offset of the original.

    ``image``: (H, W[, 3]) uint8; the padded image has its dtype and channels, edges replicated;
    the margin shrinks (to none) so that padding never takes a side past ``MAX_FRAME_SIDE``."""
    from facesel.detect.base import MAX_FRAME_SIDE

    h, w = image.shape[:2]
    # A photo above MAX_FRAME_SIDE / 2 padded by half its size became a frame the detectors refuse:
    # a 9000 px photo was told "frame sides must be at most 16384 pixels, got shape (18000, ...)"
    # (ux16). Its face needs no such margin, so the padding stops at that side.
    room = max(0.0, (MAX_FRAME_SIDE - max(h, w)) / (2.0 * max(h, w)))
    dy, dx = (int(round(h * fraction)), int(round(w * fraction))) if fraction <= room else (int(h * room), int(w * room))
    padded = cv2.copyMakeBorder(image, dy, dy, dx, dx, cv2.BORDER_REPLICATE)
    return padded, dx, dy
