"""``facesel.video.open_source`` decodes URLs, and probes files, with the bounded PyAV reader (ops22).

Before, a URL given to ``open_source`` was opened by OpenCV, whose decoder takes no size bound
(review 10's open item: a later frame of 16000 x 16000 was decoded whole and scaled to the first
frame's size), and ``facesel run`` asked OpenCV for a video file's frame rate and frame count
(decoding its first frame, unbounded). Now both go through FFmpeg by PyAV with the
``max_frame_pixels`` bound (:mod:`facesel.sources.bounded_decoder`), as serve's streams and
``run``'s file frames already did; OpenCV opens only a URL PyAV cannot open, with a warning.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from facesel import video
from facesel.sources import backends
from facesel.video import open_source
from mjpeg_server import MJPEGServer

SMALL = np.full((480, 640, 3), 100, np.uint8)


def test_a_urls_later_frame_bomb_is_refused_before_it_is_decoded():
    bomb = np.full((6000, 8000), 128, np.uint8)  # 48 MP of grey: above 8K, and far above the stated 640 x 480
    with MJPEGServer([SMALL, SMALL, SMALL, bomb], fps=50) as server:
        source = open_source(server.url, max_frames=8)
        shapes = []
        with pytest.raises(ValueError) as err:
            for frame, _ in source:
                shapes.append(frame.shape)
    # on main OpenCV gave 8 frames of 640 x 480, the bomb among them, decoded whole and scaled down
    assert shapes == [(480, 640, 3)] * 3, shapes
    assert "beyond its stream's stated size of 640x480 pixels" in str(err.value), err.value
    assert server.url in str(err.value)


def test_a_url_is_read_with_its_frames_times_and_every(monkeypatch):
    def no_opencv(*args, **kwargs):
        raise AssertionError("OpenCV opened a URL PyAV can open")

    monkeypatch.setattr(cv2, "VideoCapture", no_opencv)
    marked = [np.full((480, 640, 3), level, np.uint8) for level in (40, 120, 200)]
    with MJPEGServer(marked, fps=50) as server:
        source = open_source(server.url, every=2, max_frames=5)
        assert source.kind == "url" and source.frame_count == 5
        frames = list(source)
    assert len(frames) == 5 and all(frame.shape == (480, 640, 3) for frame, _ in frames)
    stamps = [stamp for _, stamp in frames]
    assert stamps[0] == 0.0 and stamps == sorted(stamps)
    # one in two of a repeating 40, 120, 200 sequence: consecutive kept frames differ in level
    levels = [int(np.argmin([abs(float(frame.mean()) - level) for level in (40, 120, 200)])) for frame, _ in frames]
    assert all(a != b for a, b in zip(levels, levels[1:])), levels


def test_a_url_pyav_cannot_open_goes_to_opencv_with_a_warning_and_is_checked_once_decoded(monkeypatch, caplog):
    def refuse(url, **kwargs):
        raise backends.SourceError(f"cannot open {url}: Protocol not found")

    monkeypatch.setattr(backends, "PyAVConnection", refuse)
    larger = np.full((720, 1280, 3), 100, np.uint8)
    with MJPEGServer([larger], fps=50) as server:
        with caplog.at_level(logging.WARNING, logger="facesel.video"):
            source = open_source(server.url, max_frames=2, max_frame_pixels=640 * 480)
        warned = [r.getMessage() for r in caplog.records]
        assert any("opening it with OpenCV instead, whose decoder takes no size bound" in m for m in warned), warned
        with pytest.raises(ValueError, match="more than max_frame_pixels = 307200"):
            list(source)
        assert [f.shape for f, _ in open_source(server.url, max_frames=2)] == [(720, 1280, 3)] * 2


@pytest.mark.parametrize("name, fps, count", [("arcade_walkers_1080p.mp4", 25.0, 105),
                                              ("intel_head_pose_female.gif", 12.5, 23),
                                              ("more/sample-videos__asl_gestures_no.mkv", None, None)])
def test_a_files_rate_and_count_come_from_pyav_as_opencv_gave_them(shared_data, monkeypatch, name, fps, count):
    path = shared_data / "videos" / name
    expected = None
    if fps is None:  # OpenCV's own answer, read before OpenCV is taken away
        probe = cv2.VideoCapture(str(path))
        expected = (probe.get(cv2.CAP_PROP_FPS), int(probe.get(cv2.CAP_PROP_FRAME_COUNT)))
        probe.release()
        fps, count = expected

    def no_opencv(*args, **kwargs):
        raise AssertionError("OpenCV probed a video file")

    monkeypatch.setattr(cv2, "VideoCapture", no_opencv)  # on main: raised in _open_file
    source = open_source(path)
    assert (source.fps, source.frame_count) == (fps, count)
    assert open_source(path, every=3, max_frames=7).frame_count == min(7, -(-count // 3))


def test_a_file_that_holds_no_decodable_frame_and_one_ffmpeg_cannot_open_are_named(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="the file is empty"):
        open_source(empty)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00garbage" * 4096)
    with pytest.raises(ValueError, match="not a video format it can decode, or the file is damaged or cut short"):
        open_source(junk)


def test_the_module_no_longer_probes_files_with_opencv():
    # what a reader of facesel.video finds: the file probe is PyAV's (a guard against a revert)
    import inspect

    assert "VideoCapture" not in inspect.getsource(video._open_file)
