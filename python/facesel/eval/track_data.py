"""Every aligned crop of every track of a video, with the matcher's embedding of each: the input of
``facesel eval tracks``.

facesel's own detector and tracker run on every frame, with the Selector's defaults (YuNet at
1280 px, boxes of 16 px or more, euclidean association, ``min_hits`` 3, ``max_age`` 10); every
crop of every confirmed track is kept in memory. Crops are never written anywhere.

**Cache**: the detections, track ids and embeddings of a video are numbers and are cached in one
``.npz`` per video (key: the video's bytes, the detector and tracker settings, the matcher's
identity). Embeddings are biometric templates: keep the cache folder private
(:data:`facesel.eval.cache.CACHE_WARNING`). A rerun decodes the video again and rebuilds the crops
from the cached boxes and landmarks, skipping detection and the matcher.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facesel.align import align_face, margin_crop
from facesel.detect.stage import usable
from facesel.types import CropContext

TRACKER_SETTINGS = {"metric": "euclidean", "max_distance": 0.5, "min_iou": 0.3, "min_hits": 3, "max_age": 10,
                    "predict_motion": False}
"""The Selector's default tracker settings."""

MIN_FACE_SIZE = 16.0
MAX_SIDE = 1280


@dataclass
class VideoTracks:
    """The crops of one video's confirmed tracks, in (track, frame) order.

    Attributes
    ----------
    name : str
    crops : (N, 64, 64) uint8
        Aligned grey crops (memory only).
    context : CropContext
        Detector confidence, boxes, landmarks, frame shape and ``track_ids`` of each crop.
    frame_indices : (N,) int64
    embeddings : (N, 128) float32
        Matcher embedding of each crop's face box.
    key : str or None
        The video's cache key (None when nothing was cached): other per-crop caches (e.g.
        :mod:`facesel.eval.track_signals`) key on it.
    fps : float
        Frames per second (the container's; :data:`facesel.video.DEFAULT_FOLDER_FPS` for a
        folder of frames or when unknown): what turns frame indices into seconds for windows.

    ``crops`` is None when the video was loaded with ``with_crops=False``.
    """

    name: str
    crops: np.ndarray | None
    context: CropContext
    frame_indices: np.ndarray
    embeddings: np.ndarray
    key: str | None = None
    fps: float = 25.0

    def track_slices(self) -> list[np.ndarray]:
        """Index arrays of each track's crops, in frame order, tracks in order of their id."""
        ids = self.context.track_ids
        return [np.flatnonzero(ids == t) for t in np.unique(ids)]


def _file_key(path: Path, detector_name: str, matcher_identity: str) -> str:
    h = hashlib.sha256()
    h.update(repr((detector_name, MAX_SIDE, MIN_FACE_SIZE, sorted(TRACKER_SETTINGS.items()), matcher_identity)).encode())
    if path.is_dir():
        for p in sorted(path.iterdir()):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    else:
        h.update(path.read_bytes())
    return h.hexdigest()[:24]


def _align(frame, box, landmarks):
    if landmarks is not None and not np.isfinite(landmarks).all():
        landmarks = None
    try:
        return align_face(frame, box, landmarks).grey
    except ValueError:
        return align_face(frame, box, None).grey


def _detect_and_track(path: Path, detector):
    """Per detection of a confirmed track: frame index, box, score, landmarks, track id; and crops."""
    from facesel.core import Tracker
    from facesel.video import open_source

    tracker = Tracker(**TRACKER_SETTINGS)
    rows, crops, faces, confirmed_ids = [], [], [], set()
    shape = None
    for index, (frame, _stamp) in enumerate(open_source(path)):
        shape = frame.shape[:2]
        dets = usable(detector.detect(frame), frame.shape, MIN_FACE_SIZE)  # the Selector's own filter
        update = tracker.update(np.ascontiguousarray(dets.boxes, dtype=np.float32))
        confirmed_ids.update(int(t) for t in update.closed)
        for i in range(len(dets)):
            lm = None if dets.landmarks is None else dets.landmarks[i]
            rows.append((index, dets.boxes[i], float(dets.scores[i]),
                         np.full((5, 2), np.nan, np.float32) if lm is None else lm, int(update.track_ids[i])))
            crops.append(_align(frame, dets.boxes[i], lm))
            faces.append(margin_crop(frame, dets.boxes[i], 0.0))
    confirmed_ids.update(int(t) for t in tracker.flush().closed)
    keep = [i for i, r in enumerate(rows) if r[4] in confirmed_ids]
    return [rows[i] for i in keep], [crops[i] for i in keep], [faces[i] for i in keep], shape


def _rebuild_crops(path: Path, frame_indices, boxes, landmarks):
    """Crops from cached boxes and landmarks (the video is decoded again; nothing was stored)."""
    from facesel.video import open_source

    wanted: dict[int, list[int]] = {}
    for row, f in enumerate(frame_indices.tolist()):
        wanted.setdefault(f, []).append(row)
    crops = [None] * len(frame_indices)
    shape = None
    for index, (frame, _stamp) in enumerate(open_source(path)):
        shape = frame.shape[:2]
        for row in wanted.get(index, []):
            lm = None if np.isnan(landmarks[row]).all() else landmarks[row]
            crops[row] = _align(frame, boxes[row], lm)
    return crops, shape


def _first_frame_shape_and_fps(path: Path) -> tuple[tuple[int, int], float]:
    from facesel.video import DEFAULT_FOLDER_FPS, open_source

    source = open_source(path)
    shape = (0, 0)
    for frame, _stamp in source:
        shape = frame.shape[:2]
        break
    fps = source.fps if source.fps and np.isfinite(source.fps) and source.fps > 0 else DEFAULT_FOLDER_FPS
    return shape, float(fps)


def collect_tracks(path, detector=None, matcher=None, cache_dir=None, detector_name: str = "yunet",
                   progress: bool = False, with_crops: bool = True) -> VideoTracks:
    """Run detector and tracker on every frame of ``path`` and embed every crop of every confirmed track.

    Parameters
    ----------
    path : path-like
        A video file or a folder of frames.
    detector : Detector, optional
        Default: ``make_detector(detector_name, max_side=1280)`` (what ``facesel run`` uses).
    matcher : object with ``embed`` and ``identity``, optional
        Default :class:`facesel.eval.matcher.DlibMatcher`.
    cache_dir : path-like, optional
        Folder of the number cache (see the module notes); None caches nothing.
    with_crops : bool
        False: when the numbers are cached, do not decode the video again to rebuild the crops
        (``crops`` is then None); rules that read only cached signals need no pixels.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"video not found: {path}")
    if matcher is None:
        from facesel.eval.matcher import DlibMatcher

        matcher = DlibMatcher()
    cache_file, key = None, None
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
        key = _file_key(path, detector_name, matcher.identity)
        cache_file = Path(cache_dir) / f"tracks-{key}.npz"
    first_shape, fps = _first_frame_shape_and_fps(path)
    if cache_file is not None and cache_file.is_file():
        z = np.load(cache_file, allow_pickle=False)
        frames, boxes, scores, lms, ids, emb = (z[k] for k in ("frames", "boxes", "scores", "landmarks", "track_ids", "embeddings"))
        if with_crops:
            crops, shape = _rebuild_crops(path, frames, boxes, lms)
        else:
            crops, shape = None, first_shape
    else:
        if detector is None:
            from facesel.detectors import make_detector

            detector = make_detector(detector_name, max_side=MAX_SIDE)
        rows, crops, faces, shape = _detect_and_track(path, detector)
        frames = np.array([r[0] for r in rows], np.int64)
        boxes = np.array([r[1] for r in rows], np.float32).reshape(-1, 4)
        scores = np.array([r[2] for r in rows], np.float32)
        lms = np.array([r[3] for r in rows], np.float32).reshape(-1, 5, 2)
        ids = np.array([r[4] for r in rows], np.int64)
        iterator = faces
        if progress:
            from tqdm import tqdm

            iterator = tqdm(faces, desc=f"embedding {path.name}", unit="crop")
        emb = np.array([matcher.embed(f) for f in iterator], np.float32).reshape(-1, 128)
        del faces
        if cache_file is not None:
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, frames=frames, boxes=boxes, scores=scores, landmarks=lms, track_ids=ids, embeddings=emb)
            os.replace(tmp, cache_file)
    order = np.lexsort((frames, ids))  # group by track, frame order inside
    has_lm = ~np.isnan(lms).all(axis=(1, 2))
    context = CropContext(scores[order], boxes[order], lms[order] if has_lm.all() else None,
                          shape if shape is not None else (0, 0), ids[order])
    if crops is None:
        crop_array = None
    else:
        crop_array = np.stack([crops[i] for i in order]) if len(order) else np.zeros((0, 64, 64), np.uint8)
    return VideoTracks(path.name, crop_array, context, frames[order], emb[order], key, fps)
