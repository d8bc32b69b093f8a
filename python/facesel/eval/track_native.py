"""Per crop of ``facesel eval tracks``: the consensus signatures and the face's sharpness in its
native frame, computed in one decoding pass per video and cached as numbers.

What is cached per video (one ``native-<key>.npz`` beside the track cache, rows in the order of
:class:`facesel.eval.track_data.VideoTracks`): each aligned crop's gradient-orientation histogram
(:func:`facesel.scoring.consensus.hog_signatures`, float16) and edge signature
(:func:`facesel.scoring.consensus.edge_signatures`, float16), the 64x64 crop's sharpness, and the
native-frame sharpness measures (:data:`facesel.scoring.native_blur.MEASURES`) plus the selfie test's
own measure (variance of the Laplacian of the box resized to 128x128), kept for comparison only.
Signatures are not images and no pixel is written; still, keep the folder private like the
track cache (:data:`facesel.eval.cache.CACHE_WARNING`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from facesel.scoring.consensus import edge_signatures, hog_signatures
from facesel.scoring.native_blur import MEASURES, face_box_grey

FIELDS = ("hog", "edges", "sharp64", "laplacian_128", *MEASURES)


def laplacian_128(frame: np.ndarray, box) -> float:
    """tests/test_selector_videos.py's sharpness: variance of the Laplacian of the box resized to 128x128.

    ``frame``: (H, W, 3) uint8 BGR; ``box``: 4 floats x1, y1, x2, y2 (clipped to the frame)."""
    from facesel.align import to_grey

    h, w = frame.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    face = cv2.resize(to_grey(frame[y1:y2, x1:x2]), (128, 128), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(face, cv2.CV_64F).var())


def decoded_crop_rows(video_path, frames: np.ndarray) -> Iterator[tuple[np.ndarray, int]]:
    """Decode ``video_path`` once and yield ``(frame, row)`` for each cached crop: ``frames`` (N,)
    int holds the frame index of each row of a track cache (``tracks-<key>.npz``). Frames come in
    decoding order, a frame's rows in row order; the frame is (H, W, 3) uint8 BGR as
    :func:`facesel.video.open_source` gives it, shared by its rows (do not keep it). Decoding stops
    after the last frame a row needs."""
    from facesel.video import open_source

    wanted: dict[int, list[int]] = {}
    for row, f in enumerate(np.asarray(frames).tolist()):
        wanted.setdefault(f, []).append(row)
    last = max(wanted) if wanted else -1
    for index, (frame, _stamp) in enumerate(open_source(Path(video_path))):
        for row in wanted.get(index, []):
            yield frame, row
        if index >= last:
            break


def native_features(video_path, cache_dir) -> dict:
    """{field: (N,) or (N, D) array} for every crop of ``video_path``'s confirmed tracks, in
    :class:`VideoTracks` order (cached; the first call decodes the video once)."""
    from facesel.eval.track_data import _align, collect_tracks

    video = collect_tracks(video_path, cache_dir=cache_dir, with_crops=False)
    cache = Path(cache_dir) / f"native-{video.key}.npz"
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        if set(FIELDS) <= set(z.files):  # a cache written with other field names is rebuilt
            return {k: z[k] for k in FIELDS}
    z = np.load(Path(cache_dir) / f"tracks-{video.key}.npz", allow_pickle=False)
    frames, boxes, lms, ids = z["frames"], z["boxes"], z["landmarks"], z["track_ids"]
    order = np.lexsort((frames, ids))
    n = len(frames)
    greys = np.zeros((n, 64, 64), np.uint8)
    values = {k: np.full(n, np.nan) for k in ("laplacian_128", *MEASURES)}
    for frame, row in decoded_crop_rows(video_path, frames):
        lm = None if np.isnan(lms[row]).all() else lms[row]
        greys[row] = _align(frame, boxes[row], lm)
        face = face_box_grey(frame, boxes[row])
        for name, measure in MEASURES.items():
            values[name][row] = measure(face)
        values["laplacian_128"][row] = laplacian_128(frame, boxes[row])
    out = {"hog": hog_signatures(greys).astype(np.float16), "edges": edge_signatures(greys).astype(np.float16),
           "sharp64": np.array([np.log1p(cv2.Laplacian(g, cv2.CV_64F).var()) for g in greys])}
    out.update(values)
    out = {k: v[order] for k, v in out.items()}
    tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **out)
    os.replace(tmp, cache)
    return out
