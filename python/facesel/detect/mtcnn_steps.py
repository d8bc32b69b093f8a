"""The array steps of the MTCNN cascade around its three networks, in NumPy.

They follow the pre- and post-processing of the PyPI package ``mtcnn`` 1.0.0 (the reference whose
weights we use), so that boxes match it: the image pyramid, P-Net's proposals from its output map,
the overlap suppression, squaring, box regression, and patch sampling with TensorFlow's
``crop_and_resize`` conventions. Boxes are (N, 4) float64 x1, y1, x2, y2 in image pixels.
"""

from __future__ import annotations

import numpy as np

PNET_STRIDE = 2
PNET_CELL = 12
"""P-Net sees 12x12 windows with stride 2 (two 3x3 convs and a 2x2 pool; Zhang et al., 2016)."""


def pyramid_scales(height: int, width: int, min_face_size: float, scale_factor: float) -> np.ndarray:
    """(S,) float64 image scales: the first maps ``min_face_size`` to P-Net's 12-pixel window, each
    next one is ``scale_factor`` times smaller. The count follows mtcnn 1.0.0 (it depends on the
    image size only); scales at which the image would be smaller than 12 pixels are left out
    (P-Net has no output there)."""
    min_dim = min(height, width)
    count = int(round(-(np.log(min_dim / PNET_CELL) / np.log(scale_factor) + 1)))
    scales = (PNET_CELL / min_face_size) * scale_factor ** np.arange(max(count, 0))
    # Same size rule as the resize below: truncation.
    keep = (np.floor(height * scales) >= PNET_CELL) & (np.floor(width * scales) >= PNET_CELL)
    return scales[keep]


def order_by_score(scores: np.ndarray) -> np.ndarray:
    """(N,) int64 indices of (N,) float ``scores`` by descending score, with ties in the order
    mtcnn 1.0.0 gives them (a reversed ascending argsort), so that overlap suppression keeps the
    same box of a tie."""
    return np.argsort(scores)[::-1]


def pnet_proposals(regression: np.ndarray, probability: np.ndarray, threshold: float, scale: float):
    """Boxes proposed by P-Net at one pyramid scale.

    Parameters
    ----------
    regression : (4, h, w) float32
        Offsets of x1, y1, x2, y2 in units of the 12-pixel window.
    probability : (2, h, w) float32
        Softmax (not face, face).
    threshold : float
        Windows whose face probability exceeds it become proposals.
    scale : float
        The pyramid scale of this map; boxes are divided by it to reach image pixels.

    Returns
    -------
    boxes : (M, 4) float64, scores : (M,) float64, sorted by descending score.
    """
    face = probability[1]
    ys, xs = np.nonzero(face > threshold)
    # The window of output cell (y, x) spans pixels 2x + 1 .. 2x + 12 in mtcnn 1.0.0 (1-based
    # corners inherited from the MATLAB original), so its size for the regression is 11.
    size = PNET_CELL - 1
    x1 = xs * PNET_STRIDE + 1 + regression[0, ys, xs] * size
    y1 = ys * PNET_STRIDE + 1 + regression[1, ys, xs] * size
    x2 = xs * PNET_STRIDE + PNET_CELL + regression[2, ys, xs] * size
    y2 = ys * PNET_STRIDE + PNET_CELL + regression[3, ys, xs] * size
    boxes = np.stack([x1, y1, x2, y2], axis=1).astype(np.float64) / scale
    scores = face[ys, xs].astype(np.float64)
    order = order_by_score(scores)
    return boxes[order], scores[order]


def suppress(boxes: np.ndarray, threshold: float, method: str = "union", block: int = 512) -> np.ndarray:
    """(K,) int64 indices of the boxes kept by mtcnn 1.0.0's overlap suppression.

    ``boxes``: (N, 4+) float, x1, y1, x2, y2 first, already in priority order. A box is dropped
    when any box before it overlaps it by more than ``threshold`` (intersection over union, or
    over the smaller area when ``method="min"``), even one that was itself dropped: stricter than
    greedy NMS, and what the reference does. Computed in row blocks so that thousands of P-Net
    proposals on a 1080p frame do not need an N x N matrix at once.
    """
    n = len(boxes)
    if n == 0:
        return np.zeros(0, np.int64)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    dropped = np.zeros(n, bool)
    for start in range(0, n, block):
        stop = min(n, start + block)
        later = boxes[start:stop]
        earlier = boxes[:stop]
        iw = np.minimum(later[:, None, 2], earlier[None, :, 2]) - np.maximum(later[:, None, 0], earlier[None, :, 0])
        ih = np.minimum(later[:, None, 3], earlier[None, :, 3]) - np.maximum(later[:, None, 1], earlier[None, :, 1])
        inter = np.maximum(iw, 0) * np.maximum(ih, 0)
        if method == "union":
            denominator = area[start:stop, None] + area[None, :stop] - inter
        elif method == "min":
            denominator = np.minimum(area[start:stop, None], area[None, :stop])
        else:
            raise ValueError(f"method must be 'union' or 'min', got {method!r}")
        with np.errstate(divide="ignore", invalid="ignore"):
            overlap = inter / denominator
        before = np.arange(stop)[None, :] < np.arange(start, stop)[:, None]
        dropped[start:stop] = np.any((overlap > threshold) & before, axis=1)
    return np.nonzero(~dropped)[0]


def to_square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box's shorter side to its longer one about the same centre: (N, 4+) float
    x1, y1, x2, y2 -> (N, 4) of the same dtype."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    x1 = boxes[:, 0] + 0.5 * w - 0.5 * side
    y1 = boxes[:, 1] + 0.5 * h - 0.5 * side
    return np.stack([x1, y1, x1 + side, y1 + side], axis=1)


def refine(boxes: np.ndarray, regression: np.ndarray) -> np.ndarray:
    """Apply R-/O-Net's box regression: offsets in units of the box size, with mtcnn's
    inclusive-pixel size (x2 - x1 + 1). ``boxes``: (N, 4) float x1, y1, x2, y2; ``regression``:
    (N, 4) float; returns (N, 4) float64."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    return boxes + regression.astype(np.float64) * np.stack([w, h, w, h], axis=1)


def place_landmarks(boxes: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(N, 5, 2) landmark pixels from O-Net's (N, 10) output (five x, then five y, as fractions of
    the input box, which is the box before O-Net's regression)."""
    w = boxes[:, 2:3] - boxes[:, 0:1] + 1
    h = boxes[:, 3:4] - boxes[:, 1:2] + 1
    xs = w * landmarks[:, 0:5] + boxes[:, 0:1] - 1
    ys = h * landmarks[:, 5:10] + boxes[:, 1:2] - 1
    return np.stack([xs, ys], axis=2)


def crop_and_resize(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Bilinear patches of ``image`` under ``boxes``, as TensorFlow's ``crop_and_resize`` makes them
    (the reference's sampler): box corners are normalised by the image size and sampled on a
    ``size`` x ``size`` grid over [0, H - 1] x [0, W - 1]; samples outside the image are 0, which is
    mid-grey after normalisation.

    Parameters
    ----------
    image : (H, W, C) float32
    boxes : (N, 4) float64
    size : int

    Returns
    -------
    (N, size, size, C) float32
    """
    height, width = image.shape[:2]
    steps = np.arange(size, dtype=np.float64) / (size - 1)
    y1 = boxes[:, 1:2] / height * (height - 1)
    y2 = boxes[:, 3:4] / height * (height - 1)
    x1 = boxes[:, 0:1] / width * (width - 1)
    x2 = boxes[:, 2:3] / width * (width - 1)
    ys = y1 + steps[None, :] * (y2 - y1)  # (N, size)
    xs = x1 + steps[None, :] * (x2 - x1)
    y_ok = (ys >= 0) & (ys <= height - 1)
    x_ok = (xs >= 0) & (xs <= width - 1)
    top = np.clip(np.floor(ys), 0, height - 1).astype(np.int64)
    bottom = np.clip(np.ceil(ys), 0, height - 1).astype(np.int64)
    left = np.clip(np.floor(xs), 0, width - 1).astype(np.int64)
    right = np.clip(np.ceil(xs), 0, width - 1).astype(np.int64)
    fy = (ys - np.floor(ys)).astype(np.float32)[:, :, None, None]
    fx = (xs - np.floor(xs)).astype(np.float32)[:, None, :, None]
    tl = image[top[:, :, None], left[:, None, :]]
    tr = image[top[:, :, None], right[:, None, :]]
    bl = image[bottom[:, :, None], left[:, None, :]]
    br = image[bottom[:, :, None], right[:, None, :]]
    upper = tl + (tr - tl) * fx
    lower = bl + (br - bl) * fx
    patches = upper + (lower - upper) * fy
    inside = (y_ok[:, :, None] & x_ok[:, None, :])[:, :, :, None]
    return np.where(inside, patches, np.float32(0)).astype(np.float32)
