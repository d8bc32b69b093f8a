"""Review 8, finding 2: a frame bomb from whoever answers for a camera's URL.

A JPEG of 16000 x 16000 uniform grey is 3 MB and decodes to 768 MB of BGR; FFmpeg's own limit
lets it through, and the pipeline's check (sides up to 16384 pixels) came after the decoding. A
peer that answered for the camera's URL (a compromised camera, a device on its network, a man in
the middle of plain HTTP or RTSP) sent two such frames between ordinary ones and a reader's peak
grew by 1,026,396 KiB, against +23,648 KiB now (``python benchmarks/frame_bomb_memory.py
[--max-frame-pixels 2147483647]``); ``serve`` queues up to ``buffer_frames`` (4) decoded frames a
camera, and all cameras run in one process, which the kernel kills when memory runs out. Now
the decoder is told ``max_frame_pixels`` (default an 8K UHD frame, 33,177,600 pixels) and refuses
a larger picture before allocating it; OpenCV, which passes no decoder option on, refuses it once
decoded. Since review round 11 the probe's decoders are told ``max_frame_pixels`` too, and the
stream's decoder twice the stream's stated size (``tests/test_serve_frame_bounds.py``): a later
frame is refused at that bound. The attacker is a real HTTP MJPEG server on loopback.
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel.sources import make_source
from facesel.sources.backends import OpenCVConnection, PyAVConnection, SourceError
from facesel.sources.frame_limit import MAX_FRAME_PIXELS, check_max_frame_pixels
from mjpeg_server import MJPEGServer

SMALL = np.full((480, 640, 3), 100, np.uint8)


def _shapes_until_refused(connection, reads: int = 12) -> tuple[list, SourceError | None]:
    shapes = []
    try:
        for _ in range(reads):
            shapes.append(connection.read()[0].shape)
    except SourceError as err:
        return shapes, err
    finally:
        connection.close()
    return shapes, None


def test_a_peer_s_frame_above_8k_is_refused_by_the_decoder_before_it_is_allocated():
    bomb = np.full((6000, 8000), 128, np.uint8)  # 48 MP of grey: a 0.5 MB JPEG, 144 MB as BGR
    assert bomb.size > MAX_FRAME_PIXELS == 7680 * 4320
    with MJPEGServer([SMALL, SMALL, SMALL, bomb], fps=50) as server:
        shapes, refused = _shapes_until_refused(PyAVConnection(server.url))
    assert shapes == [(480, 640, 3)] * 3  # the ordinary frames before it, never the bomb
    # since review round 11 the decoder's bound is twice the stated frame (at least 1024 x 1024), not 8K
    assert refused is not None and "beyond its stream's stated size of 640x480 pixels" in str(refused), refused
    # a stream that starts with it: the probe's decoders are bounded too, and it states no size
    with MJPEGServer([bomb], fps=50) as server:
        shapes, refused = _shapes_until_refused(PyAVConnection(server.url))
    assert shapes == [] and f"more than max_frame_pixels = {MAX_FRAME_PIXELS} pixels (its stream states no size)" \
        in str(refused), refused


def test_the_bound_is_a_setting_and_opencv_refuses_the_decoded_frame_before_any_queue():
    larger = np.full((720, 1280, 3), 100, np.uint8)
    with MJPEGServer([larger], fps=50) as server:
        shapes, refused = _shapes_until_refused(PyAVConnection(server.url, max_frame_pixels=1280 * 720), reads=4)
        assert refused is None and shapes == [(720, 1280, 3)] * 4  # at the bound: taken
        shapes, refused = _shapes_until_refused(PyAVConnection(server.url, max_frame_pixels=640 * 480))
        assert shapes == [] and "more than max_frame_pixels = 307200 pixels" in str(refused), refused
    # OpenCV gives every frame at the stream's first size (it scales later ones to it), so only a
    # stream that starts large is seen: refused once decoded, before any queue.
    with MJPEGServer([larger, SMALL], fps=50) as server:
        shapes, refused = _shapes_until_refused(OpenCVConnection(server.url, max_frame_pixels=640 * 480))
    assert shapes == [], shapes
    assert "sent a frame of 1280x720 pixels, more than max_frame_pixels = 307200: refused" in str(refused)


def test_the_setting_is_checked_where_it_is_given():
    for bad in (0, -1, 2**31, 1.5, True, "33177600"):
        with pytest.raises(ValueError, match=f"max_frame_pixels must be a whole number of pixels .* got {bad!r}"):
            check_max_frame_pixels(bad)
    with pytest.raises(ValueError, match="max_frame_pixels"):
        make_source("http://127.0.0.1:9/x.mjpg", max_frame_pixels=0)
    source = make_source("http://127.0.0.1:9/x.mjpg", max_frame_pixels=1000)
    assert source._connect.keywords["max_frame_pixels"] == 1000
