"""facesel.serve.pipeline_adapter: the one place serve meets the Selector, today's and the rebuilt one's."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from facesel.serve.pipeline_adapter import PIPELINE_SETTINGS, _closed, check_pipeline_settings, confirmed_tracks


def test_closed_results_from_a_list_or_a_frame_view():
    results = [object(), object()]
    assert _closed(results) == results
    assert _closed(SimpleNamespace(tracks=[], closed=results)) == results
    assert _closed(None) == []


def test_tracks_from_a_frame_view_are_used_when_given():
    view = SimpleNamespace(closed=[], tracks=[
        SimpleNamespace(track_id=7, box=[1, 2, 3, 4], quality=-2.0, confirmed=True),
        SimpleNamespace(track_id=3, box=np.array([5, 6, 7, 8]), quality=-1.0, best_quality=0.5, confirmed=True),
        SimpleNamespace(track_id=9, box=[0, 0, 1, 1], quality=0.0, confirmed=False),
    ])
    states = confirmed_tracks(SimpleNamespace(), view)
    assert [s.track_id for s in states] == [3, 7]
    assert states[0].best_quality == 0.5 and states[1].best_quality == -2.0
    assert states[1].box.dtype == np.float32 and states[1].box.tolist() == [1, 2, 3, 4]


def test_tracks_of_todays_selector(shared_data):
    """Fed a real clip, the confirmed tracks carry boxes inside the frame and their best quality."""
    import cv2
    from facesel.serve.pipeline_adapter import PipelineAdapter

    adapter = PipelineAdapter(check_pipeline_settings({"scorer": "laplacian"}, "test"))
    capture = cv2.VideoCapture(str(shared_data / "videos" / "intel_head_pose_female.gif"))
    seen = []
    for k in range(12):
        ok, frame = capture.read()
        assert ok
        adapter.feed(frame, k / 12.5)
        seen.extend(adapter.tracks())
    capture.release()
    assert seen and adapter.faces >= 12 and adapter.open_tracks >= 1
    for state in seen:
        x1, y1, x2, y2 = state.box
        assert 0 <= x1 < x2 <= 480 and 0 <= y1 < y2 <= 270 and state.quality <= state.best_quality


def test_settings_get_defaults_and_errors_name_the_key():
    full = check_pipeline_settings({"top_k": 2}, "cameras.a.pipeline")
    assert set(full) == set(PIPELINE_SETTINGS) and full["top_k"] == 2 and full["detector"] == "yunet"
    with pytest.raises(ValueError, match=r"cameras.a.pipeline.metric must be one of euclidean, iou"):
        check_pipeline_settings({"metric": "cosine"}, "cameras.a.pipeline")
    with pytest.raises(ValueError, match=r"unknown key 'top-k' \(did you mean 'top_k'\?\)"):
        check_pipeline_settings({"top-k": 2}, "cameras.a.pipeline")
    with pytest.raises(ValueError, match="min_face_size must be a number >= 0.0"):
        check_pipeline_settings({"min_face_size": True}, "cameras.a.pipeline")
