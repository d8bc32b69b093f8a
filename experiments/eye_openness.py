"""Eye openness of a face crop from its two eye landmarks: the measure of session 15 (issue 22).

Nothing the pipeline computed said whether a face's eyes are open, and a blink or a half-closed
eye is a poor frame for any matcher. YuNet gives every detection its two eye centres; this module
cuts a small strip around them from the frame (the eye line made level, 40 pixels per eye
distance, whatever the face's size in the frame) and measures, in a patch around each eye, how
much of what an open eye shows is there:

* ``vedge`` (the measure used): vertical edges in the eye's centre (the sides of the iris and
  pupil against the white and the lids), over the patch's mean brightness. A closed eye leaves a
  lash line and a lid fold, both horizontal: almost no vertical edge;
* ``hedge`` (horizontal edges: lids, lash line) and ``dark`` (the darkest tenth of the patch below
  its median) were the first two ideas; on frames labelled by eye they separate closed from open
  eyes much less well (docs/model_card.md, "Eye openness (session 15)") and are kept only to
  reproduce that comparison.

Each is the mean over the two eyes. Used within a track only, relative to the track's own median
(so skin tone, lighting, resolution and the person's eye shape cancel). It is not a recognition
feature: it says how open the eyes are in this frame, which two different people share and one
person changes every few seconds; it is never compared across tracks.

Cached per clip (numbers only, no pixels) by :func:`video_eye_measures`.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from facesel.align import to_grey

PER_EYE_DISTANCE = 40.0  # strip pixels per eye distance
STRIP_W, STRIP_H = 80, 20  # the strip: 2 eye distances wide, 0.5 high, centred on the eyes' midpoint
EYE_COLUMNS = (20, 60)  # where the two eye centres land in the strip (row (STRIP_H - 1) / 2)
HALF_W = 12  # each eye's patch: columns eye +- 12 (0.3 eye distance), every row
CORE_W = 8  # its centre, where the iris lies: columns eye +- 8 (0.2 eye distance)
DARK_SHARE = 0.10
MEASURES = ("vedge", "hedge", "dark")


def eye_strip(frame: np.ndarray, eyes: np.ndarray) -> np.ndarray | None:
    """(STRIP_H, STRIP_W) float32 grey strip around the two eyes, the eye line level; None when
    the eye points are not finite or coincide.

    frame : (H, W, 3) uint8 BGR or (H, W) uint8 grey; eyes : (2, 2) float, the first and second
    eye landmarks (x, y) in frame pixels. A face larger than 40 pixels an eye distance is first
    shrunk by area averaging (no aliasing into false edges), a smaller one is interpolated.
    """
    e = np.asarray(eyes, np.float64).reshape(2, 2)
    if not np.isfinite(e).all():
        return None
    axis = e[1] - e[0]
    d = float(np.hypot(*axis))
    if d < 1e-6:
        return None
    ex = axis / d
    ey = np.array([-ex[1], ex[0]])  # perpendicular, pointing down the face
    s = d / PER_EYE_DISTANCE  # frame pixels per strip pixel
    a = s * np.stack([ex, ey], axis=1)  # (2, 2): strip (u, v) -> frame offset
    b = 0.5 * (e[0] + e[1]) - a @ np.array([(STRIP_W - 1) / 2.0, (STRIP_H - 1) / 2.0])
    corners = np.array([[0, 0], [STRIP_W, 0], [0, STRIP_H], [STRIP_W, STRIP_H]], np.float64) @ a.T + b
    h, w = frame.shape[:2]
    x0, y0 = (int(max(0, np.floor(corners[:, k].min()) - 3)) for k in (0, 1))
    x1 = int(min(w, np.ceil(corners[:, 0].max()) + 3))
    y1 = int(min(h, np.ceil(corners[:, 1].max()) + 3))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    src = to_grey(frame[y0:y1, x0:x1])
    r = 1.0
    if s > 1.0:  # shrink the region to strip resolution first
        size = (max(2, int(round((x1 - x0) / s))), max(2, int(round((y1 - y0) / s))))
        r_x, r_y = size[0] / (x1 - x0), size[1] / (y1 - y0)
        src = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
        r = np.array([r_x, r_y])
    m = np.empty((2, 3), np.float64)
    scale = np.broadcast_to(np.asarray(r, np.float64), (2,))
    # strip -> region pixel centres: area-resized pixel q covers region x = (q + 0.5) / r - 0.5
    m[:, :2] = a * scale[:, None]
    m[:, 2] = (b - np.array([x0, y0])) * scale + 0.5 * scale - 0.5
    return cv2.warpAffine(src.astype(np.float32), m, (STRIP_W, STRIP_H),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)


def eye_measures(strip: np.ndarray | None) -> np.ndarray:
    """(3,) float64 (``vedge``, ``hedge``, ``dark``) of one :func:`eye_strip`, each the mean over
    the two eyes; NaN for a missing strip. ``vedge`` (the measure the benchmark uses) is the mean
    absolute difference between horizontal neighbours in the eye's central +-8 columns (vertical
    edges: the sides of the iris and pupil; a closed eye's lash line and lid fold are horizontal
    and give almost none), over the patch's mean brightness. ``hedge`` (vertical neighbours, the
    patch's +-12 columns) and ``dark`` (the darkest tenth below the median) are kept for the
    descriptive comparison only."""
    if strip is None:
        return np.full(3, np.nan)
    per_eye = []
    for c in EYE_COLUMNS:
        p = np.asarray(strip[:, c - HALF_W:c + HALF_W], np.float64)
        core = np.asarray(strip[:, c - CORE_W:c + CORE_W], np.float64)
        mean = max(float(p.mean()), 1.0)
        flat = np.sort(p.ravel())
        median = max(float(np.median(flat)), 1.0)
        darkest = flat[:max(1, int(round(DARK_SHARE * flat.size)))].mean()
        per_eye.append((float(np.abs(np.diff(core, axis=1)).mean()) / max(float(core.mean()), 1.0),
                        float(np.abs(np.diff(p, axis=0)).mean()) / mean,
                        (median - float(darkest)) / median))
    return np.mean(np.array(per_eye), axis=0)


def relative_to_track(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(N,) a track's measure over the median of its ``reference`` (bool (N,)) crops' finite values;
    NaN stays NaN; all NaN when no reference value is finite or positive."""
    v = np.asarray(values, np.float64)
    ref = v[np.asarray(reference, bool) & np.isfinite(v)]
    med = float(np.median(ref)) if ref.size else np.nan
    if not np.isfinite(med) or med <= 0:
        return np.full(len(v), np.nan)
    return v / med


def video_eye_measures(video_path: Path, cache_dir: Path, eye_cache: Path) -> np.ndarray:
    """(N, 3) :func:`eye_measures` of every crop of ``video_path``'s tracks in VideoTracks order
    (track by track, frame order within a track, as ``collect_tracks`` returns them), cached in
    ``eye_cache`` (numbers only) by the first call."""
    from facesel.eval.track_data import collect_tracks
    from facesel.eval.track_native import decoded_crop_rows

    video = collect_tracks(video_path, cache_dir=cache_dir, with_crops=False)
    eye_cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    out_file = eye_cache / f"eyes-{video.key}.npy"
    if out_file.is_file():
        return np.load(out_file)
    z = np.load(Path(cache_dir) / f"tracks-{video.key}.npz", allow_pickle=False)
    frames, lms, ids = z["frames"], z["landmarks"], z["track_ids"]
    order = np.lexsort((frames, ids))
    out = np.full((len(frames), len(MEASURES)), np.nan)
    for frame, row in decoded_crop_rows(video_path, frames):
        out[row] = eye_measures(eye_strip(frame, lms[row][:2]))
    out = out[order]
    tmp = out_file.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, out)
    os.replace(tmp, out_file)
    return out
