"""The one place where ``facesel serve`` (and ``facesel run``'s extras) meet the Selector.

Everything else in :mod:`facesel.serve` talks to :class:`PipelineAdapter` only, so that a change
of the Selector's interface is absorbed here. Today ``Selector.feed`` returns the list of tracks
that closed on the frame; a :class:`FrameView` with ``.closed`` (and ``.tracks``) is accepted too.

The pipeline settings a config file may give (``[cameras.NAME.pipeline]``) are the keys of
:data:`PIPELINE_SETTINGS`, named like ``facesel run``'s flags.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SCORERS = ("default", "laplacian")


def _detector_names() -> tuple[str, ...]:
    from facesel.detectors import DETECTOR_NAMES

    return tuple(DETECTOR_NAMES)


# name -> (kind, default, lower bound or choices)
PIPELINE_SETTINGS: dict[str, tuple[str, object, object]] = {
    "detector": ("choice", "yunet", _detector_names),
    "max_side": ("int", 1280, 0),
    "scorer": ("choice", "default", lambda: SCORERS),
    "min_hits": ("int", 3, 1),
    "max_age": ("int", 10, 0),
    "metric": ("choice", "euclidean", lambda: ("euclidean", "iou")),
    "predict_motion": ("bool", False, None),
    "min_face_size": ("float", 16.0, 0.0),
    "top_k": ("int", 1, 1),
    "clip_window": ("int", 0, 0),
}
"""Pipeline settings of a camera: kind, default and bound (or a function giving the choices)."""


def check_pipeline_settings(settings: dict, where: str) -> dict:
    """The settings with defaults filled in; ValueError naming ``where`` and the key otherwise.

    Parameters
    ----------
    settings : dict
        Keys of :data:`PIPELINE_SETTINGS`.
    where : str
        Prefix of error messages, e.g. ``"cameras.entrance.pipeline"``.
    """
    from facesel.serve.suggest import unknown_key_message

    if not isinstance(settings, dict):
        raise ValueError(f"{where} must be a table, got {type(settings).__name__}")
    full = {}
    for key, value in settings.items():
        if key not in PIPELINE_SETTINGS:
            raise ValueError(unknown_key_message(where, key, PIPELINE_SETTINGS))
    for key, (kind, default, bound) in PIPELINE_SETTINGS.items():
        value = settings.get(key, default)
        name = f"{where}.{key}"
        if kind == "choice":
            choices = bound()
            if value not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}")
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < bound:
                raise ValueError(f"{name} must be an integer >= {bound}, got {value!r}")
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < bound:
                raise ValueError(f"{name} must be a number >= {bound}, got {value!r}")
            value = float(value)
        full[key] = value
    return full


class _CountingDetector:
    """Passes detections through and counts them (faces seen, for metrics: a number, no pixels)."""

    def __init__(self, detector):
        self.detector = detector
        self.faces = 0

    def detect(self, frame):
        found = self.detector.detect(frame)
        self.faces += len(found)
        return found


class PipelineAdapter:
    """A Selector built from pipeline settings, with the small interface serve needs.

    Parameters
    ----------
    settings : dict
        Checked by :func:`check_pipeline_settings`.
    detector, scorer : optional
        Ready-made stages (tests); built from ``settings`` when absent.
    """

    def __init__(self, settings: dict, detector=None, scorer=None):
        from facesel.selector import Selector

        if detector is None:
            from facesel.detectors import make_detector

            extra = {"max_side": settings["max_side"]} if settings["max_side"] else {}
            detector = make_detector(settings["detector"], **extra)
        if scorer is None:
            scorer = _make_scorer(settings["scorer"])
        self._detector = _CountingDetector(detector)
        self._last_view = None
        self.selector = Selector(
            self._detector, scorer, None, min_hits=settings["min_hits"], max_age=settings["max_age"],
            metric=settings["metric"], predict_motion=settings["predict_motion"], top_k=settings["top_k"],
            clip_window=settings["clip_window"], min_face_size=settings["min_face_size"],
        )

    def feed(self, image: np.ndarray, timestamp: float) -> list:
        """Run one frame; the tracks that closed on it (results to seal)."""
        self._last_view = self.selector.feed(image, timestamp)
        return _closed(self._last_view)

    def flush(self) -> list:
        """Close every open track; their results."""
        return _closed(self.selector.flush())

    @property
    def open_tracks(self) -> int:
        return int(self.selector.open_tracks)

    @property
    def faces(self) -> int:
        """Faces detected so far (all frames)."""
        return self._detector.faces

    @property
    def timings(self) -> dict:
        """``{"frames", "total", stage: seconds}`` summed so far."""
        return dict(self.selector.timings)

    def tracks(self) -> list[TrackState]:
        """The confirmed open tracks (see :func:`confirmed_tracks`)."""
        return confirmed_tracks(self.selector, self._last_view)


@dataclass(frozen=True)
class TrackState:
    """What is known of an open track after a frame: metadata, no pixels."""

    track_id: int
    box: np.ndarray
    """(4,) float32 x1, y1, x2, y2 at the track's last kept detection (the per-track series is
    decimated after ``series_capacity`` points, so on a very long track a recent one)."""
    quality: float
    """Quality of its last detection."""
    best_quality: float
    """Best quality so far (the crop kept if the track closed now)."""
    last_frame: int


def confirmed_tracks(selector, view=None) -> list[TrackState]:
    """The confirmed open tracks after the last frame, by track id.

    Parameters
    ----------
    selector : Selector
    view : optional
        What ``selector.feed`` returned. When it has ``.tracks`` (the rebuilt Selector's
        ``FrameView``), those are used; today's Selector returns a plain list and has no public
        per-frame view, so its per-track logs are read instead.
    """
    tracks = getattr(view, "tracks", None)
    if tracks is not None:
        states = []
        for track in tracks:
            if not getattr(track, "confirmed", True):
                continue
            quality = float(getattr(track, "quality", float("nan")))
            states.append(TrackState(int(track.track_id), np.asarray(track.box, dtype=np.float32).reshape(4), quality,
                                     float(getattr(track, "best_quality", quality)),
                                     int(getattr(track, "last_frame", -1))))
        return sorted(states, key=lambda state: state.track_id)
    states = []
    for track_id, log in sorted(getattr(selector, "_logs", {}).items()):
        if not getattr(log, "confirmed", False):
            continue
        boxes, values = log.series.payloads(), log.series.values()
        if boxes:
            states.append(TrackState(int(track_id), np.asarray(boxes[-1], dtype=np.float32), float(values[-1]),
                                     float(values.max()), int(log.last_frame)))
    return states


def _closed(returned) -> list:
    # Today a list of SelectedTrack; after the Selector's rebuild a FrameView with .closed.
    closed = getattr(returned, "closed", returned)
    return list(closed or [])


def _make_scorer(name: str):
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.selector import default_scorer

    return LaplacianVarianceScorer() if name == "laplacian" else default_scorer()
