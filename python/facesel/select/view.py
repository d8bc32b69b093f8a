"""What :meth:`facesel.Selector.feed` returns for each frame: the tracks in view and those that closed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facesel.select.tracklog import SelectedTrack


@dataclass
class TrackView:
    """One track detected on this frame.

    Attributes
    ----------
    track_id : int
    box : (4,) float32
        x1, y1, x2, y2 in frame pixels, this frame's detection.
    confirmed : bool
        Whether the track has reached ``min_hits`` (only confirmed tracks yield results).
    quality : float or None
        The track's latest quality value (on this frame or before): the full score, or in the
        sparse mode with a screening scorer the screen value (the full score runs on close);
        None before the first.
    best_quality : float or None
        The best of those values so far.
    scored : bool
        Whether this frame's crop of the track got a quality value (was screened or scored).
    """

    track_id: int
    box: np.ndarray
    confirmed: bool
    quality: float | None
    best_quality: float | None
    scored: bool


@dataclass
class FrameView:
    """One frame's outcome.

    Attributes
    ----------
    frame_index : int
    timestamp : float
    tracks : list of TrackView
        The tracks detected on this frame (tracks carried unseen are not listed).
    closed : list of SelectedTrack
        The tracks whose results were delivered on this frame (usually none).
    full_detection : bool
        Whether the detector searched the whole frame (else only regions around the tracks).
    """

    frame_index: int
    timestamp: float
    tracks: list[TrackView] = field(default_factory=list)
    closed: list[SelectedTrack] = field(default_factory=list)
    full_detection: bool = True
