"""facesel.sources.EpochSegments: a live source cut at each gap, and the threaded pipeline closing
the open tracks between two segments (a real looping file and a real MJPEG server restarted)."""

from __future__ import annotations

import threading

import pytest
from facesel.serve.pipeline_adapter import PipelineAdapter, check_pipeline_settings
from facesel.sinks import CallbackSink
from facesel.sources import Backoff, EpochSegments, make_source
from mjpeg_server import MJPEGServer, read_gif

from test_sources import wait_for


@pytest.fixture(scope="module")
def head_pose(shared_data):
    return shared_data / "videos" / "intel_head_pose_female.gif"


def test_a_looping_file_is_one_segment_per_loop(head_pose):
    n = len(read_gif(head_pose))
    kept = []
    with make_source(head_pose, loop=True) as source:
        segments = EpochSegments(source, stopped=lambda: len(kept) >= 2 * n + 3,
                                 keep=lambda frame: kept.append(frame.epoch) or True)
        got = [(len(list(segment)), segment.gap) for segment in segments]
    assert got == [(n, True), (n, True), (3, False)]  # the last one ended by the stop, not a gap
    assert kept == [1] * n + [2] * n + [3] * 3


def test_a_segment_left_early_ends_the_iteration(head_pose):
    with make_source(head_pose, loop=True) as source:
        segments = iter(EpochSegments(source, stopped=lambda: False))
        first = next(segments)
        next(iter(first))
        assert list(segments) == []


@pytest.mark.parametrize("threads", [1, 2])
def test_server_restart_closes_the_track_at_the_loss_and_a_new_one_follows(head_pose, threads):
    """One person always in view of a live MJPEG stream; the server stops and starts again. The
    track open when the stream went is delivered while the server is still down, on the thread
    running the pipeline, and the person gets a new track after the reconnection."""
    delivered = []  # (result, thread)
    adapter = PipelineAdapter(check_pipeline_settings({"scorer": "laplacian", "threads": threads}, "test"),
                              sinks=[CallbackSink(lambda r: delivered.append((r, threading.get_ident())))])
    gaps, stop, runner = [], threading.Event(), {}
    server = MJPEGServer(read_gif(head_pose), fps=12).start()
    source = make_source(server.url, read_timeout=2, backoff=Backoff(base=0.2, cap=0.5)).start()

    def run():
        runner["thread"] = threading.get_ident()
        for _ in adapter.views(EpochSegments(source, stop.is_set), on_gap=lambda closed: gaps.append(list(closed))):
            pass
        adapter.flush()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert wait_for(lambda: adapter.open_tracks >= 1, timeout=180)
        server.stop()
        assert wait_for(lambda: gaps, timeout=180)
        assert not source.stats.connected  # closed at the loss, not when the stream came back
        server.start()
        assert wait_for(lambda: source.stats.connects == 2 and adapter.open_tracks >= 1, timeout=180)
    finally:
        stop.set()
        thread.join(60)
        source.stop()
        server.stop()
    assert not thread.is_alive()
    assert len(gaps) == 1 and len(gaps[0]) == 1
    before = gaps[0][0]
    after = [r for r, _ in delivered if r is not before]
    assert after and all(r.first_timestamp > before.last_timestamp and r.track_id != before.track_id for r in after)
    assert {t for _, t in delivered} == {runner["thread"]}
    assert source.stats.reconnects == 1
