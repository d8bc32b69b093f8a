"""One result from two re-linked fragments of a person's track: the best crop of both."""

from __future__ import annotations

import dataclasses

import numpy as np

from facesel.types import TrackResult


def merge_results(earlier: TrackResult, later: TrackResult) -> TrackResult:
    """The result of ``earlier`` continued by ``later``.

    The merged result keeps the earlier track's id (the person's first appearance), spans both,
    carries the better of the two best snapshots (the earlier on a tie, as the best-crop store
    decides), the union of their series in frame order, the ``top`` observations of both ranked
    again, and every finalist (``candidates``) of both, best first. Fields a plain :class:`TrackResult` lacks are merged only when both have them.

    Parameters
    ----------
    earlier, later : TrackResult (or its subclass SelectedTrack)

    Returns
    -------
    TrackResult of the type of ``earlier``
    """
    if not isinstance(earlier, TrackResult) or not isinstance(later, TrackResult):
        raise TypeError(f"both must be TrackResult, got {type(earlier).__name__} and {type(later).__name__}")
    track_id = earlier.track_id
    best = earlier.best if earlier.best.quality >= later.best.quality else later.best
    changes = {
        "track_id": track_id,
        "first_frame": min(earlier.first_frame, later.first_frame),
        "last_frame": max(earlier.last_frame, later.last_frame),
        "first_timestamp": min(earlier.first_timestamp, later.first_timestamp),
        "last_timestamp": max(earlier.last_timestamp, later.last_timestamp),
        "best": dataclasses.replace(best, track_id=track_id),
    }
    frames = np.concatenate([np.asarray(earlier.frame_indices, np.int64), np.asarray(later.frame_indices, np.int64)])
    order = np.argsort(frames, kind="stable")
    changes["frame_indices"] = frames[order]
    changes["qualities"] = np.concatenate([np.asarray(earlier.qualities, np.float64),
                                           np.asarray(later.qualities, np.float64)])[order]
    if hasattr(earlier, "boxes") and hasattr(later, "boxes"):
        changes["boxes"] = np.concatenate([np.asarray(earlier.boxes, np.float32).reshape(-1, 4),
                                           np.asarray(later.boxes, np.float32).reshape(-1, 4)])[order]
    for name in ("top", "candidates"):
        if hasattr(earlier, name) and hasattr(later, name):
            mine, theirs = list(getattr(earlier, name)), list(getattr(later, name))
            pool = sorted(mine + theirs, key=lambda s: -s.quality)
            if name == "top":
                pool = pool[: max(len(mine), len(theirs))]
            # ``candidates`` (each fragment's finalists) are what the not-a-face vote scores on its
            # own scale: all of them are kept, so that the selection rule's scale does not decide
            # which fragment's finalists the vote sees (issue 22: with the context rule a head seen
            # from behind lost the vote when its better-scored fragment's three crops pushed out the
            # other fragment's face-like ones).
            changes[name] = [changes["best"] if s is best else dataclasses.replace(s, track_id=track_id) for s in pool]
    if hasattr(earlier, "thumbnails") and hasattr(later, "thumbnails"):
        changes["thumbnails"] = list(earlier.thumbnails) + list(later.thumbnails)
        changes["thumbnail_frames"] = np.concatenate([np.asarray(earlier.thumbnail_frames, np.int64),
                                                      np.asarray(later.thumbnail_frames, np.int64)])
    return dataclasses.replace(earlier, **changes)
