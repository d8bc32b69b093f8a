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

# For box-only alignment: detector boxes (MTCNN, YuNet) run from the brows to the chin, so a box
# of side s is mapped to this fraction of the crop, centred slightly below the crop centre.
_BOX_FRACTION = 0.80
_BOX_CENTRE = np.array([CROP_SIZE / 2.0, CROP_SIZE / 2.0 + 2.0])


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

    Least squares (Umeyama) without reflection, through OpenCV's estimateAffinePartial2D with
    all points as inliers.
    """
    src = np.asarray(landmarks, dtype=np.float32).reshape(5, 2)
    if not np.all(np.isfinite(src)):
        raise ValueError(f"landmarks must be finite, got {src.tolist()}")
    matrix, _ = cv2.estimateAffinePartial2D(src, TEMPLATE, method=cv2.LMEDS)
    if matrix is None:  # degenerate landmarks (all on one point): no similarity exists
        raise ValueError(f"landmarks are degenerate, cannot align: {src.tolist()}")
    return matrix.astype(np.float64)


def similarity_from_box(box: np.ndarray) -> np.ndarray:
    """(2, 3) float64 transform mapping a square around the box onto the template's face region."""
    x1, y1, x2, y2 = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    side = max(x2 - x1, y2 - y1)
    if not np.isfinite(side) or side <= 0:
        raise ValueError(f"box must have positive width and height, got {[x1, y1, x2, y2]}")
    scale = _BOX_FRACTION * CROP_SIZE / side
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    return np.array(
        [[scale, 0.0, _BOX_CENTRE[0] - scale * cx], [0.0, scale, _BOX_CENTRE[1] - scale * cy]], dtype=np.float64
    )


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
    """The box grown by ``margin`` of its size on each side, clipped to the frame; a copy, not a view."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    mx, my = margin * (x2 - x1), margin * (y2 - y1)
    left, top = int(max(0, np.floor(x1 - mx))), int(max(0, np.floor(y1 - my)))
    right, bottom = int(min(w, np.ceil(x2 + mx))), int(min(h, np.ceil(y2 + my)))
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
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise TypeError(f"frame must be uint8, got {frame.dtype}")
    if box is None and landmarks is None:
        raise ValueError("align_face needs a box, landmarks, or both; got neither")
    if landmarks is not None:
        matrix = similarity_from_landmarks(landmarks)
    else:
        matrix = similarity_from_box(box)
    grey = cv2.warpAffine(
        to_grey(frame), matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )
    if box is None:  # derive a box from the landmarks' extent for the colour crop
        pts = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
        span = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]))
        cx, cy = pts.mean(axis=0)
        box = np.array([cx - span, cy - span, cx + span, cy + span])
    colour_source = frame if frame.ndim == 3 and frame.shape[2] == 3 else cv2.cvtColor(to_grey(frame), cv2.COLOR_GRAY2BGR)
    colour = margin_crop(colour_source, box, margin)
    return AlignedFace(grey=grey, colour=colour, transform=matrix)


def pad_for_detection(image: np.ndarray, fraction: float = 0.5) -> tuple[np.ndarray, int, int]:
    """Pad a tight face crop (like the LFW crops) by ``fraction`` of its size on each side so that
    a detector finds the face; returns the padded image and the (dx, dy) offset of the original."""
    h, w = image.shape[:2]
    dy, dx = int(round(h * fraction)), int(round(w * fraction))
    padded = cv2.copyMakeBorder(image, dy, dy, dx, dx, cv2.BORDER_REPLICATE)
    return padded, dx, dy
