"""The observations of ``facesel eval tracks``: tracks cut into windows of a few seconds.

A 30-second talking-head clip is one track, but the pipeline's choice among its frames is made
many times over in a stream (a snapshot per track, tracks broken by occlusion, a camera's sparse
mode keeping a few finalists): cutting long tracks into windows of ``seconds`` each gives one
observation per window. Windows of one clip show one person in one setting, so they are never
counted as independent: every interval and every fit groups them by clip (``Observation.clip``),
and the leave-one-source-out tables by the repository the clip came from (``Observation.source``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def split_windows(frame_indices, fps: float, seconds: float | None) -> list[np.ndarray]:
    """Positions (into ``frame_indices``) of each window of one track, in frame order.

    Parameters
    ----------
    frame_indices : (M,) int, increasing
        Frames of the track's crops.
    fps : float > 0
    seconds : float > 0 or None
        Window length; None (or longer than the track) keeps the track whole. Windows start at the
        track's first frame and cover ``seconds * fps`` frames each; a last window shorter than half
        a window joins the one before it, so no observation is a short remnant.

    Returns
    -------
    list of (m,) int64 arrays covering 0..M-1 once each, in order.
    """
    f = np.asarray(frame_indices, dtype=np.int64).reshape(-1)
    if len(f) and (np.diff(f) <= 0).any():
        raise ValueError("frame_indices must be strictly increasing (one crop per frame of a track)")
    if seconds is None:
        return [np.arange(len(f))]
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"seconds must be a positive number or None, got {seconds!r}")
    if len(f) == 0:
        return []
    span = seconds * fps
    label = np.floor((f - f[0]) / span).astype(np.int64)
    last = label.max()
    if last > 0 and (f[-1] - f[0] + 1) - last * span < 0.5 * span:
        label[label == last] = last - 1
    return [np.flatnonzero(label == k) for k in np.unique(label)]


@dataclass
class Observation:
    """One window of one track: the unit every table counts.

    Attributes
    ----------
    clip : str
        The video's name (the bootstrap and leave-one-clip-out group).
    source : str
        Where the clip came from (the leave-one-source-out group).
    track_id, window : int
    rows : (m,) int64
        Indices of the window's crops in its video's arrays, in frame order.
    distances : (m,) float64
        Matcher distance of each crop to its person (the ground truth; eval only).
    """

    clip: str
    source: str
    track_id: int
    window: int
    rows: np.ndarray
    distances: np.ndarray


def observations(video, distances, source: str, seconds: float | None, min_crops: int = 2) -> tuple[list[Observation], int]:
    """The eligible windows of one video, and how many windows it has in all.

    Eligible: at least ``min_crops`` crops, finite distances and one crop the matcher can use
    (distance below :data:`facesel.eval.track_metrics.MATCH_THRESHOLD`): where the choice matters.
    """
    from facesel.eval.track_metrics import MATCH_THRESHOLD

    out, total = [], 0
    for idx in video.track_slices():
        for k, pos in enumerate(split_windows(video.frame_indices[idx], video.fps, seconds)):
            total += 1
            rows = idx[pos]
            d = np.asarray(distances, dtype=np.float64)[rows]
            if len(rows) < min_crops or not np.isfinite(d).all() or not (d < MATCH_THRESHOLD).any():
                continue
            out.append(Observation(video.name, source, int(video.context.track_ids[rows[0]]), k, rows, d))
    return out, total
