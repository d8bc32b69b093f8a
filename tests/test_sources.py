"""facesel.sources: files that loop, live HTTP MJPEG and RTSP streams from real local servers,
reconnection, the stall watchdog, newest-frame hand-over with drop counting."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
from facesel.sources import Backoff, is_live_target, make_source, redact
import rtsp_server
from mjpeg_server import MJPEGServer, read_gif


@pytest.fixture(scope="module")
def walking(shared_data):
    return shared_data / "videos" / "intel_face_demographics_walking.gif"


@pytest.fixture(scope="module")
def walking_frames(walking):
    return read_gif(walking)


def wait_for(condition, timeout=60.0, step=0.02):
    """Poll ``condition`` until it is true; False after ``timeout`` s (a bound, not a measurement:
    generous, since a loaded CI machine may stall a thread for seconds; a condition met returns at once)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def test_backoff_grows_to_its_cap_with_jitter_and_resets():
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(1))
    ceilings, delays = [], []
    for _ in range(8):
        ceilings.append(backoff.ceiling())
        delays.append(backoff.next_delay())
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    assert all(0.0 <= d <= c for d, c in zip(delays, ceilings))
    assert len(set(delays)) == len(delays)  # jittered, not a fixed schedule
    backoff.reset()
    assert backoff.ceiling() == 0.5


@pytest.mark.parametrize("settings", [{"base": 0}, {"base": -1.0}, {"base": 2.0, "cap": 1.0}, {"cap": float("nan")}])
def test_backoff_refuses_bad_settings(settings):
    with pytest.raises(ValueError):
        Backoff(**settings)


def test_looping_file_restarts_with_a_new_epoch_and_increasing_time(walking, walking_frames):
    with make_source(walking, loop=True) as source:
        frames = [source.read(5.0) for _ in range(2 * len(walking_frames) + 3)]
    epochs = [f.epoch for f in frames]
    n = len(walking_frames)
    assert epochs == [1] * n + [2] * n + [3] * 3
    stamps = [f.timestamp for f in frames]
    assert all(b > a for a, b in zip(stamps, stamps[1:]))
    # lossless for a file: every frame, in order, equal to a direct read
    for k in (0, n - 1, n, 2 * n + 2):
        assert np.array_equal(frames[k].image, walking_frames[k % n])
    assert source.stats.frames_dropped == 0 and source.stats.reconnects == 0


def test_plain_file_ends(walking, walking_frames):
    source = make_source(walking).start()
    got = []
    while True:
        frame = source.read(5.0)
        if frame is None:
            break
        got.append(frame)
    assert len(got) == len(walking_frames) and source.ended and source.stats.connects == 1


def test_missing_file_and_bad_settings(tmp_path, walking):
    source = make_source(tmp_path / "gone.mp4").start()
    assert source.read(5.0) is None and source.ended
    assert "not found" in source.stats.last_error
    with pytest.raises(ValueError, match="loop"):
        make_source("rtsp://127.0.0.1:1/x", loop=True)
    with pytest.raises(ValueError, match="backend"):
        make_source(walking, backend="gstreamer")
    with pytest.raises(ValueError, match="stall_timeout"):
        make_source(walking, stall_timeout=0)


def test_credentials_are_redacted():
    assert redact("rtsp://admin:secret@10.0.0.5:554/s1") == "rtsp://***@10.0.0.5:554/s1"
    assert make_source("rtsp://admin:secret@127.0.0.1:1/s1").name == "rtsp://***@127.0.0.1:1/s1"


def test_live_source_hands_over_the_newest_frame_and_counts_drops(walking_frames):
    """A consumer slower than the stream gets fresh frames; what it missed is counted as dropped.

    The consumer is slower by a count of frames, not by a sleep: a fixed 0.25 s per take meant
    about 6 frames on a quiet machine but fewer on a loaded one, where the server's thread is
    slowed too, and the drops counted were then compared with a number of takes that had not changed."""
    server = MJPEGServer(walking_frames, fps=25).start()
    try:
        with make_source(server.url, read_timeout=2) as source:
            assert source.read(10.0) is not None
            taken = 1
            for _ in range(6):
                seen = source.stats.frames_received
                # a slow pipeline: 6 frames arrive per frame taken
                assert wait_for(lambda: source.stats.frames_received >= seen + 6, timeout=180)
                frame = source.read(1.0)
                assert frame is not None and frame.sequence >= seen + 5  # the newest, not the next in line
                taken += 1
            server.stop()  # no more frames: the counts below are read at rest, not while one arrives
            assert wait_for(lambda: not source.stats.connected, timeout=180)
            stats, pending = source.stats, source.pending
            assert stats.frames_received == taken + stats.frames_dropped + pending
            assert stats.frames_dropped >= 5 * (taken - 1)  # most frames were replaced by newer ones
            assert pending in (0, 1)
    finally:
        server.stop()


def test_mjpeg_server_restart_is_one_reconnect(walking_frames):
    server = MJPEGServer(walking_frames, fps=25).start()
    source = make_source(server.url, read_timeout=2, backoff=Backoff(base=0.2, cap=0.5)).start()
    try:
        first = source.read(10.0)
        assert first is not None and first.epoch == 1
        server.stop()
        assert wait_for(lambda: not source.stats.connected)
        # down for a while: an attempt in between fails (waited for, not slept: a loaded machine may
        # not make one within a fixed second)
        assert wait_for(lambda: source.stats.connect_failures >= 1, timeout=180)
        server.start()
        assert wait_for(lambda: source.stats.connects == 2)
        assert wait_for(lambda: (f := source.read(1.0)) is not None and f.epoch == 2)
        assert source.stats.reconnects == 1 and source.stats.connect_failures >= 1
        assert source.stats.stream_errors == 1
    finally:
        source.stop()
        server.stop()


def test_silent_server_trips_the_timeout_and_is_retried(walking_frames):
    with MJPEGServer(walking_frames, mode="silent") as server:
        source = make_source(server.url, open_timeout=1, read_timeout=1, stall_timeout=1,
                             backoff=Backoff(base=0.1, cap=0.2)).start()
        try:
            assert wait_for(lambda: source.stats.connect_failures + source.stats.stalls >= 2)
            assert source.read(0.1) is None and not source.ended
        finally:
            source.stop()


def test_rtsp_server_restart_is_one_reconnect(walking):
    rtsp_server.require()
    server = rtsp_server.RTSPServer(walking).start()
    source = make_source(server.url, read_timeout=2, backoff=Backoff(base=0.2, cap=0.5)).start()
    try:
        first = source.read(15.0)
        assert first is not None and first.image.shape == (270, 480, 3)
        server.stop()
        assert wait_for(lambda: not source.stats.connected)
        server.start()
        assert wait_for(lambda: source.stats.connects == 2, timeout=180)
        assert wait_for(lambda: (f := source.read(1.0)) is not None and f.epoch == 2)
        assert source.stats.reconnects == 1
    finally:
        source.stop()
        server.stop()


def test_hls_stream_over_http(walking_frames, tmp_path):
    """An HLS playlist with H.264 segments served over HTTP: every frame arrives (lossless hand-over
    here, to count them) with the clip's size; the end of a VOD playlist is the end of the stream."""
    from hls_server import HLSServer, write_hls

    write_hls(walking_frames, tmp_path)
    with HLSServer(tmp_path) as server:
        source = make_source(server.url, live=False, reconnect=False, read_timeout=5).start()
        got = []
        while (frame := source.read(10.0)) is not None:
            got.append(frame)
    assert len(got) == len(walking_frames) and got[0].image.shape == walking_frames[0].shape
    # H.264 is lossy: the frames are close to the originals, not equal
    assert np.abs(got[10].image.astype(int) - walking_frames[10]).mean() < 10
    assert source.stats.connects == 1 and source.stats.stream_errors == 0


def test_absent_webcam_is_retried_not_raised():
    source = make_source("97", backoff=Backoff(base=0.05, cap=0.1)).start()
    try:
        assert wait_for(lambda: source.stats.connect_failures >= 2)
        assert source.read(0.1) is None and not source.ended and source.name == "97"
        assert "cannot open" in source.stats.last_error
    finally:
        source.stop()


def test_reader_survives_an_unexpected_decoder_error(walking_frames):
    """Whatever a decoder raises, the reader counts it, reconnects and goes on."""
    from facesel.sources import StreamSource

    opened = []

    class FlakyConnection:
        def __init__(self):
            opened.append(self)
            self.reads = 0

        def read(self):
            self.reads += 1
            if len(opened) == 1 and self.reads == 3:
                raise TypeError("a decoder bug")
            return walking_frames[self.reads % len(walking_frames)], None

        def close(self):
            pass

    source = StreamSource("flaky", FlakyConnection, live=False, backoff=Backoff(base=0.01, cap=0.02)).start()
    try:
        epochs = [source.read(5.0).epoch for _ in range(6)]
    finally:
        source.stop()
    assert epochs == [1, 1, 2, 2, 2, 2]
    assert source.stats.stream_errors == 1 and source.stats.last_error == "TypeError: a decoder bug"
    assert source.stats.reconnects == 1


@pytest.mark.parametrize("target", ["99999999999", 2**31])
def test_a_webcam_index_opencv_cannot_take_is_refused_at_once(target):
    # Before: the reader retried OpenCV's "integer won't fit into a C int" overload error for ever.
    with pytest.raises(ValueError, match=r"source: a webcam index must be in \[0, 2147483647\]"):
        make_source(target)


def test_a_digit_that_is_not_a_number_is_a_file_not_a_webcam():
    # "²".isdigit() is True: it was a webcam, and int("²") raised "invalid literal for int()".
    assert not is_live_target("²")
