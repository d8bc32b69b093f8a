"""The one place where ``facesel serve`` (and ``facesel run``'s extras) meet the Selector.

Everything else in :mod:`facesel.serve` talks to :class:`PipelineAdapter` and the helpers here,
so that a change of the Selector's interface is absorbed here.

The pipeline settings a config file may give (``[cameras.NAME.pipeline]``) are the fields of
:class:`facesel.config.PipelineConfig` (every default is written there, once), less
:data:`NOT_IN_CONFIG`, plus ``scorer`` (which scorer to build: not a PipelineConfig field).

Reconnections and the threaded pipeline: ``Selector.run`` reads frames in its own threads, so
closing the open tracks from the reading side would race with them. Live inputs are therefore
split into segments, one per connection epoch (:class:`facesel.sources.EpochSegments`), each run
through ``Selector.run`` on its own; :func:`views_by_segment` flushes the Selector between two
segments, on the caller's thread, when no stage thread is running.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from facesel.config import PipelineConfig

SCORERS = ("default", "context", "laplacian")
"""The ``scorer`` setting: ``default`` (the package's default scorer, :func:`facesel.selector.default_scorer`),
``context`` (``facesel.scoring.default_scorer("context")``: the pick rule on the detector's context
alone, no VAE pass for a crop with context; issue 27 reports capacity for both) or ``laplacian``."""

NOT_IN_CONFIG = ("fps", "thumbnails")
"""PipelineConfig fields a config file may not set, as ``facesel run`` has no flag for them:
every source dates its frames itself, and thumbnails only serve ``--report`` with plaintext."""

CONFIG_FIELDS = tuple(f.name for f in fields(PipelineConfig) if f.name not in NOT_IN_CONFIG)
SETTING_NAMES = ("scorer", *CONFIG_FIELDS)
"""The keys of a camera's ``pipeline`` table."""


def check_pipeline_settings(settings: dict, where: str) -> dict:
    """Every setting (``scorer`` and the PipelineConfig fields), defaults filled in from
    PipelineConfig; ValueError naming ``where`` and the key otherwise.

    Parameters
    ----------
    settings : dict
        Keys of :data:`SETTING_NAMES`.
    where : str
        Prefix of error messages, e.g. ``"cameras.entrance.pipeline"``.
    """
    from facesel.serve.suggest import check_known_keys

    if not isinstance(settings, dict):
        raise ValueError(f"{where} must be a table, got {type(settings).__name__}")
    check_known_keys(settings, where, SETTING_NAMES)
    scorer = settings.get("scorer", "default")
    if scorer not in SCORERS:
        raise ValueError(f"{where}.scorer must be one of {', '.join(SCORERS)}, got {scorer!r}")
    given = {key: value for key, value in settings.items() if key != "scorer"}
    try:
        config = PipelineConfig(**given)
    except (TypeError, ValueError) as err:  # PipelineConfig's message starts with the field's name
        raise ValueError(f"{where}.{err}") from None
    return {"scorer": scorer, **{name: getattr(config, name) for name in CONFIG_FIELDS}}


def pipeline_config(settings: dict) -> PipelineConfig:
    """The :class:`PipelineConfig` of checked settings (:func:`check_pipeline_settings`)."""
    return PipelineConfig(**{name: settings[name] for name in CONFIG_FIELDS if name in settings})


class PipelineAdapter:
    """A Selector built from pipeline settings, with the small interface serve needs.

    Parameters
    ----------
    settings : dict
        Checked by :func:`check_pipeline_settings`.
    sinks : sequence of Sink
        Where the results go (:mod:`facesel.sinks`).
    detector, scorer : optional
        Ready-made stages (tests); built from ``settings`` when absent.
    """

    def __init__(self, settings: dict, sinks=(), detector=None, scorer=None):
        from facesel.selector import Selector, default_detector

        config = pipeline_config(settings)
        detector = default_detector(config) if detector is None else detector
        scorer = make_scorer(settings.get("scorer", "default"), config) if scorer is None else scorer
        self.selector = Selector(detector, scorer, config=config, sinks=sinks)
        # Written by the thread that runs the pipeline, read by metrics from others: plain
        # numbers, so that a scrape never walks the Selector's dicts while they change.
        self.faces = 0
        self.open_tracks = 0
        self._last_view = None

    def hold_limits_at(self, fps) -> bool:
        """The tracker's frame-counted limits held to their seconds at the stream's rate ``fps``,
        once the source has said it, before the first frame (:meth:`facesel.Selector.hold_limits_at`)."""
        return self.selector.hold_limits_at(fps)

    def views(self, segments, need_frames: bool = False, on_gap=lambda closed: None, before_gap=lambda: None):
        """``(frame, timestamp, FrameView)`` per frame of ``segments`` (:func:`views_by_segment`),
        keeping the counts of :attr:`faces` and :attr:`open_tracks`."""
        for frame, stamp, view in views_by_segment(self.selector, segments, need_frames, self._after_gap(on_gap),
                                                   before_gap):
            self.faces += len(view.tracks)
            self.open_tracks = self.selector.open_tracks
            self._last_view = view
            yield frame, stamp, view

    def _after_gap(self, on_gap):
        def after(closed):
            self.open_tracks = self.selector.open_tracks
            on_gap(closed)
        return after

    def flush(self) -> list:
        """Close every open track (results go to the sinks); the results."""
        closed = self.selector.flush()
        self.open_tracks = self.selector.open_tracks
        return closed

    @property
    def timings(self) -> dict:
        """``{"frames", "total", stage: seconds}`` summed so far."""
        return dict(self.selector.timings)

    @property
    def work(self) -> dict:
        """The Selector's counts of work done so far (:attr:`facesel.Selector.work`: full-frame
        detections, scene changes, squares searched, crops seen/gated/screened/aligned/scored)."""
        return dict(self.selector.work)

    def all_tracks(self) -> list[TrackState]:
        """Every track on the last frame, confirmed or not (the privacy-safe view hides them all)."""
        return confirmed_tracks(self._last_view, confirmed_only=False)

    def tracks(self) -> list[TrackState]:
        """The confirmed tracks on the last frame (see :func:`confirmed_tracks`)."""
        return confirmed_tracks(self._last_view)


def views_by_segment(selector, segments, need_frames: bool = False, on_gap=lambda closed: None,
                     before_gap=lambda: None):
    """Run ``segments`` through ``selector``; yield ``(frame, timestamp, FrameView)`` per frame.

    Parameters
    ----------
    selector : Selector
    segments : iterable of iterables of ``(frame, timestamp)``
        A file is one segment; a live source one per connection epoch
        (:class:`facesel.sources.EpochSegments`). A segment whose ``gap`` attribute is true ended
        because the stream broke: the open tracks are then closed (``selector.flush()``, results
        to the sinks, then ``on_gap(results)``) before the next segment starts.
    need_frames : bool
        Run frame by frame (``feed``) and hand each frame out (the preview needs them); otherwise
        ``Selector.run`` runs its stage threads and the frame is None.
    before_gap : callable () -> None
        Called after a segment that ended in a gap, just before its tracks are closed (a camera
        lets its source queue more frames while the flush holds the pipeline).
    """
    for segment in segments:
        if need_frames:
            for frame, stamp in segment:
                yield frame, stamp, selector.feed(frame, stamp)
        else:
            # a live source's segment drops by itself: the stages then take frames only when free
            live = getattr(segment, "keeps_newest", False) is True
            for view in selector.run(segment, live=True) if live else selector.run(segment):
                yield None, view.timestamp, view
        # Selector.run has joined its threads when its loop ends: flushing here is safe.
        if getattr(segment, "gap", False):
            before_gap()
            on_gap(selector.flush())


@dataclass(frozen=True)
class TrackState:
    """What is known of a confirmed track on a frame: metadata, no pixels."""

    track_id: int
    box: np.ndarray
    """(4,) float32 x1, y1, x2, y2: this frame's detection."""
    quality: float
    """The track's latest quality value (NaN before the first)."""
    best_quality: float
    """Best quality value so far (NaN before the first)."""


def confirmed_tracks(view, confirmed_only: bool = True) -> list[TrackState]:
    """The confirmed tracks detected on a frame, by track id.

    Parameters
    ----------
    view : FrameView or None
        What ``Selector.feed`` returned (or ``Selector.run`` yielded); None gives no tracks.
    """
    states = []
    for track in getattr(view, "tracks", None) or ():
        if confirmed_only and not track.confirmed:
            continue
        quality = float("nan") if track.quality is None else float(track.quality)
        best = quality if track.best_quality is None else float(track.best_quality)
        states.append(TrackState(int(track.track_id), np.asarray(track.box, dtype=np.float32).reshape(4), quality, best))
    return sorted(states, key=lambda state: state.track_id)


def make_scorer(name: str, config: PipelineConfig | None = None):
    """The scorer named by the ``scorer`` setting (:data:`SCORERS`)."""
    from facesel import scoring
    from facesel.selector import default_scorer

    if name not in SCORERS:
        raise ValueError(f"scorer must be one of {', '.join(SCORERS)}, got {name!r}")
    if name == "laplacian":
        return scoring.LaplacianVarianceScorer()
    if name == "context":
        threads = (PipelineConfig() if config is None else config).onnx_threads
        return scoring.default_scorer("context", threads=threads)
    return default_scorer(config)
