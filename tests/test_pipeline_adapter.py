"""facesel.serve.pipeline_adapter: the one place serve meets the Selector (settings from
PipelineConfig, tracks from FrameView, tracks closed between the segments of a live input)."""

from __future__ import annotations

from dataclasses import fields
from types import SimpleNamespace

import numpy as np
import pytest
from facesel.config import PipelineConfig
from facesel.serve.pipeline_adapter import (
    NOT_IN_CONFIG,
    SETTING_NAMES,
    PipelineAdapter,
    check_pipeline_settings,
    confirmed_tracks,
    pipeline_config,
    views_by_segment,
)
from facesel.sinks import CallbackSink


def test_tracks_from_a_frame_view():
    view = SimpleNamespace(closed=[], tracks=[
        SimpleNamespace(track_id=7, box=[1, 2, 3, 4], quality=-2.0, best_quality=None, confirmed=True),
        SimpleNamespace(track_id=3, box=np.array([5, 6, 7, 8]), quality=-1.0, best_quality=0.5, confirmed=True),
        SimpleNamespace(track_id=9, box=[0, 0, 1, 1], quality=0.0, best_quality=0.0, confirmed=False),
        SimpleNamespace(track_id=4, box=[0, 0, 1, 1], quality=None, best_quality=None, confirmed=True),
    ])
    states = confirmed_tracks(view)
    assert [s.track_id for s in states] == [3, 4, 7]
    assert states[0].best_quality == 0.5 and states[2].best_quality == -2.0
    assert np.isnan(states[1].quality) and np.isnan(states[1].best_quality)
    assert states[2].box.dtype == np.float32 and states[2].box.tolist() == [1, 2, 3, 4]
    assert confirmed_tracks(None) == []


def test_settings_are_pipeline_configs_fields_with_its_defaults():
    full = check_pipeline_settings({"top_k": 2}, "cameras.a.pipeline")
    assert set(full) == set(SETTING_NAMES) == {"scorer"} | {f.name for f in fields(PipelineConfig)} - set(NOT_IN_CONFIG)
    defaults = PipelineConfig()
    assert full["top_k"] == 2 and full["scorer"] == "default"
    assert all(full[name] == getattr(defaults, name) for name in full if name not in ("top_k", "scorer"))
    assert pipeline_config(full) == defaults.replace(top_k=2)


@pytest.mark.parametrize("settings, message", [
    ({"metric": "cosine"}, "cameras.a.pipeline.metric must be one of euclidean, iou"),
    ({"top-k": 2}, r"unknown key 'top-k' \(did you mean 'top_k'\?\)"),
    ({"fps": 25.0}, "unknown key 'fps'"),
    ({"min_face_size": True}, "cameras.a.pipeline.min_face_size must be a number, got True"),
    ({"min_hits": 0}, r"cameras.a.pipeline.min_hits must be in \[1, inf\], got 0"),
    ({"threads": 3}, r"cameras.a.pipeline.threads must be in \[1, 2\], got 3"),
    ({"scorer": "vae"}, "cameras.a.pipeline.scorer must be one of default, context, laplacian"),
])
def test_setting_errors_name_the_key(settings, message):
    with pytest.raises(ValueError, match=message):
        check_pipeline_settings(settings, "cameras.a.pipeline")


def test_the_context_scorer_setting_builds_the_pick_rule_without_its_vae_terms():
    # issue 27: capacity is reported for the default scorer and for the context rule
    from facesel.scoring import PickScorer
    from facesel.serve.pipeline_adapter import make_scorer

    settings = check_pipeline_settings({"scorer": "context"}, "cameras.a.pipeline")
    scorer = make_scorer(settings["scorer"])
    assert isinstance(scorer, PickScorer)
    assert scorer.weights["dose"] == scorer.weights["eyes"] == scorer.weights["eyes_relative"] == 0.0
    assert any(value != 0.0 for value in scorer.weights.values())  # the context terms still rank


class Gap(list):
    """A segment (list of frames) that ended because the stream broke."""

    gap = True


@pytest.mark.parametrize("threads", [1, 2])
def test_tracks_are_closed_between_segments_on_the_callers_thread(shared_data, threads):
    """A person in view across a reconnection: the track open at the gap is closed (delivered)
    before any frame of the next segment is fed, and a new track starts after it; with two stage
    threads as with one."""
    import threading

    from facesel.video import open_source

    frames = [frame for frame, _ in open_source(shared_data / "videos" / "intel_head_pose_female.gif")]
    delivered = []
    adapter = PipelineAdapter(check_pipeline_settings({"scorer": "laplacian", "threads": threads}, "t"),
                              sinks=[CallbackSink(lambda r: delivered.append((r, threading.get_ident())))])
    half = len(frames) // 2
    first = Gap((f, k / 12.5) for k, f in enumerate(frames[:half]))
    second = [(f, (half + k) / 12.5 + 60.0) for k, f in enumerate(frames[half:])]
    gaps, fed_after_gap = [], []
    for _, stamp, view in adapter.views([first, second], on_gap=lambda closed: gaps.append(list(closed))):
        if gaps and not fed_after_gap:
            fed_after_gap.append(stamp)
        assert view.timestamp == stamp
    assert len(gaps) == 1 and len(gaps[0]) == 1  # the one person's track, closed at the gap
    closed_at_gap = gaps[0][0]
    assert closed_at_gap.last_timestamp < 60.0 and fed_after_gap == [second[0][1]]  # closed before it was fed
    assert adapter.faces >= len(frames) - 4 and adapter.open_tracks == 1
    later = adapter.flush()
    assert len(later) == 1 and later[0].first_timestamp >= 60.0 and later[0].track_id != closed_at_gap.track_id
    assert {thread for _, thread in delivered} == {threading.get_ident()}  # the sinks ran here
    assert [r for r, _ in delivered] == [closed_at_gap, later[0]]


def test_views_by_segment_without_gap_keeps_tracks_open():
    class Recorder:
        def __init__(self):
            self.calls = []

        def run(self, segment):
            for frame, stamp in segment:
                self.calls.append(("frame", stamp))
                yield SimpleNamespace(timestamp=stamp, tracks=[])

        def flush(self):
            self.calls.append(("flush", None))
            return []

    selector = Recorder()
    list(views_by_segment(selector, [[(None, 0.0)], Gap([(None, 1.0)]), [(None, 2.0)]]))
    assert selector.calls == [("frame", 0.0), ("frame", 1.0), ("flush", None), ("frame", 2.0)]


def test_every_config_setting_has_a_facesel_run_flag():
    """``facesel run --config`` fills each pipeline setting into its flag: none may lack one."""
    from facesel.cli import build_parser

    run = build_parser()._subparsers._group_actions[0].choices["run"]
    dests = {action.dest for action in run._actions}
    assert set(SETTING_NAMES) <= dests
