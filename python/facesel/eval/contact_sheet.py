"""A contact sheet of kept snapshots: one labelled tile per snapshot. CONTAINS FACE PIXELS.

Written only into folders that already hold plaintext faces for testing (``facesel run
--plaintext-out``), never next to a vault.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

# BGR colours of the audit's categories, so that a glance at the sheet shows the verdicts.
CATEGORY_COLOURS = {
    "match": (60, 160, 40),
    "poor": (0, 150, 230),
    "unmatched_face": (150, 150, 150),
    "head": (190, 120, 170),
    "non_face": (40, 40, 210),
    "person": (160, 90, 20),
    "missed": (40, 40, 210),
}


def _tile(image: np.ndarray, label: str, colour, size: int) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    h, w = image.shape[:2]
    scale = size / max(h, w, 1)
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    tile = np.full((size + 18, size, 3), 255, np.uint8)
    y, x = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
    tile[y:y + small.shape[0], x:x + small.shape[1]] = small
    cv2.rectangle(tile, (0, 0), (size - 1, size - 1), colour, 3)
    cv2.putText(tile, label[:16], (2, size + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.36, colour, 1, cv2.LINE_AA)
    return tile


def draw_sheet(images, labels, categories, path, *, size: int = 96, columns: int = 8, title: str = "") -> Path:
    """Write a grid of labelled tiles as a PNG.

    Parameters
    ----------
    images : list of (h, w, 3) uint8 BGR (or (h, w) grey)
    labels : list of str
        Text under each tile.
    categories : list of str
        Keys of :data:`CATEGORY_COLOURS` (frame colour of each tile).
    path : path of the PNG
    size : int >= 16
        Tile side in pixels.
    columns : int >= 1
    title : str
        A line of text above the grid.

    Returns
    -------
    Path
    """
    if not (len(images) == len(labels) == len(categories)):
        raise ValueError(f"images, labels and categories must have one entry each, got {len(images)}, {len(labels)}, {len(categories)}")
    if size < 16 or columns < 1:
        raise ValueError(f"size must be >= 16 and columns >= 1, got size={size!r}, columns={columns!r}")
    unknown = sorted(set(categories) - set(CATEGORY_COLOURS))
    if unknown:
        raise ValueError(f"unknown categories {unknown}; known: {sorted(CATEGORY_COLOURS)}")
    tiles = [_tile(i, t, CATEGORY_COLOURS[c], size) for i, t, c in zip(images, labels, categories)]
    blank = np.full((size + 18, size, 3), 255, np.uint8)
    rows = [tiles[k:k + columns] for k in range(0, max(len(tiles), 1), columns)] or [[]]
    grid = np.vstack([np.hstack(row + [blank] * (columns - len(row))) for row in rows])
    header = np.full((24, grid.shape[1], 3), 255, np.uint8)
    cv2.putText(header, title[:160], (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    path = Path(path)
    if not cv2.imwrite(str(path), np.vstack([header, grid])):
        raise RuntimeError(f"could not write {path}")
    return path
