"""Review round 11: the later-frame bomb in ``facesel serve``'s sources, each decoding path bounded.

Review 10a bounded ``facesel run``'s video files; serve's cameras still decoded a later frame far
larger than the stream states: a file camera with OpenCV (its default path: a 16000 x 16000 grey
frame in a 3 MB MJPEG file was decoded whole and came out scaled to 640 x 480), a file camera with
PyAV and a network stream with PyAV up to ``max_frame_pixels`` (an 8K UHD frame, about 100 MB as
BGR, handed on as such). Now every PyAV decoder is told twice the stream's stated size
(:mod:`facesel.sources.bounded_decoder`) and refuses a larger frame before allocating it, and a
frame of another size is refused once decoded, naming both sizes. Each reader runs in a fresh
process; its peak's growth is compared with the same reader on a harmless input of the same
layout in the same run (PyAV's own libraries are in both). The files are grey pictures made in a
tmp folder (``growing_mjpeg``); the stream is a real HTTP MJPEG server on loopback.
"""

from __future__ import annotations

import json
import time

import pytest

from growing_mjpeg import SMALL, growing_mjpeg, jpeg
from mjpeg_server import MJPEGServer
from peak_memory import run_fresh
from test_sources import wait_for

# make_source's reader thread in a fresh process: up to 6 frames, then why the source ended
_READER = """
import json, sys, time
from peak_memory import peak_kib
from facesel.sources import make_source
before = peak_kib()
source = make_source(sys.argv[1], reconnect=False, live=False, buffer_frames=8, **json.loads(sys.argv[2])).start()
shapes, deadline = [], time.monotonic() + 120
while len(shapes) < 6 and time.monotonic() < deadline:
    frame = source.read(timeout=1.0)
    if frame is not None:
        shapes.append("x".join(map(str, frame.image.shape)))
    elif source.ended:
        break
source.stop()
print(json.dumps({"got": shapes, "error": source.stats.last_error, "grown_kib": peak_kib() - before}))
"""


def _read(target, **options) -> dict:
    done = run_fresh(_READER, target, json.dumps(options), timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _bounded(row: dict, baseline: dict, bomb: tuple[int, int]) -> None:
    """The bomb was refused before decoding: the three frames before it, the refusal's words,
    and the peak grew by less than half the bomb's luma more than the harmless input's."""
    assert baseline["got"] == ["480x640x3"] * 6 and baseline["error"] == "", baseline
    assert row["got"] == ["480x640x3"] * 3, row
    assert "holds a frame beyond its stream's stated size of 640x480 pixels: FFmpeg's decoder refused it before " \
           "allocating it (max_pixels = 1048576)" in row["error"], row
    assert row["grown_kib"] - baseline["grown_kib"] < bomb[0] * bomb[1] // 1024 // 2, (row, baseline)


@pytest.mark.parametrize("options, bomb", [
    ({}, (16000, 16000)),  # the default file camera (OpenCV on main: +270 MB, six 640x480 frames)
    # a file camera decoded by PyAV (a decoder option asked for): main's bound was max_frame_pixels,
    # so an 8K UHD frame went through whole and was handed on at 7680 x 4320
    ({"skip_loop_filter": "noref"}, (7680, 4320)),
], ids=["file-default", "file-pyav"])
def test_a_file_camera_refuses_a_later_frame_bomb_before_it_is_decoded(tmp_path, options, bomb):
    row = _read(growing_mjpeg(tmp_path / "bomb.mjpeg", bomb), **options)
    baseline = _read(growing_mjpeg(tmp_path / "plain.mjpeg", SMALL), **options)
    _bounded(row, baseline, bomb)


def test_a_pyav_stream_refuses_a_later_frame_bomb_before_it_is_decoded():
    """On main the 8K UHD frame, within ``max_frame_pixels``, was decoded and handed on."""
    bomb = (7680, 4320)
    small, large = jpeg(*SMALL, 100), jpeg(*bomb, 128)
    with MJPEGServer([], fps=50) as server:
        server.jpegs = [small] * 3 + [large] + [small] * 2
        row = _read(server.url)
        server.jpegs = [small] * 6
        baseline = _read(server.url)
    _bounded(row, baseline, bomb)


@pytest.mark.parametrize("options", [{}, {"skip_loop_filter": "noref"}], ids=["file-default", "file-pyav"])
def test_a_frame_of_another_size_is_refused_naming_both_sizes(tmp_path, options):
    """Within the decoder's bound, a 320 x 240 frame is refused once decoded (on main: OpenCV gave
    it scaled to 640 x 480, PyAV gave it at 320 x 240)."""
    odd = growing_mjpeg(tmp_path / "odd.mjpeg", (320, 240))
    row = _read(odd, **options)
    assert row["got"] == ["480x640x3"] * 3, row
    assert row["error"] == (f"video file {odd}: frame 3 is 320x240 pixels, but its stream states 640x480: refused (the "
                            "frames of one video must keep one size; OpenCV scaled such a frame to the first one's "
                            "size without a word)")


def test_a_stream_frame_of_another_size_is_refused_and_the_stream_reopened():
    """A live source goes on: the refusal ends the connection, and the next one's probe states the
    size again (a camera whose resolution was changed on purpose costs one reconnection)."""
    from facesel.sources import Backoff, make_source

    small, odd = jpeg(*SMALL, 100), jpeg(320, 240, 128)
    with MJPEGServer([], fps=50) as server:
        server.jpegs = [small] * 3 + [odd]
        source = make_source(server.url, backoff=Backoff(base=0.05, cap=0.1)).start()
        try:
            assert wait_for(lambda: source.stats.connects >= 2 and source.stats.frames_received >= 4, timeout=120)
        finally:
            source.stop()
    assert source.stats.stream_errors >= 1
    assert ": frame 3 is 320x240 pixels, but its stream states 640x480: refused" in source.stats.last_error


# -- facesel serve: the camera ends cleanly or goes on, and its status says why -------------------

def test_serve_file_cameras_end_or_go_on_and_say_why(tmp_path):
    """A file camera that does not loop ends at the refused frame, its status naming the refusal
    (on main: "the video file ended", after the bomb was decoded); a looping one refuses it at
    every pass and goes on with the next; the service keeps running and stops cleanly."""
    from facesel.serve.config import parse_config
    from facesel.serve.service import Service
    from facesel.vault import create_authority, enrol_camera

    create_authority(tmp_path / "authority", shares=3, threshold=2, epoch_seconds=86400.0,
                     retention_seconds=7 * 86400.0, horizon_seconds=2 * 86400.0, start=time.time(), kdf_level="min")
    shares = sorted((tmp_path / "authority" / "shares").iterdir())[:2]
    bomb = growing_mjpeg(tmp_path / "bomb.mjpeg", (16000, 16000))
    odd = growing_mjpeg(tmp_path / "odd.mjpeg", (320, 240))
    cameras = {}
    for name, source, loop in (("once", bomb, False), ("looped", odd, True)):
        enrol_camera(tmp_path / "authority", tmp_path / f"key-{name}", name, shares)
        cameras[name] = {"source": str(source), "vault": str(tmp_path / f"vault-{name}"),
                         "camera_key": str(tmp_path / f"key-{name}"), "loop": loop, "reconnect_max_delay": 1,
                         "pipeline": {"scorer": "laplacian"}}
    config = parse_config({"serve": {"listen": "127.0.0.1:0"},
                           "defaults": {"authority": str(tmp_path / "authority" / "authority.pub")},
                           "cameras": cameras})
    service = Service(config).start()
    try:
        once, looped = service.cameras["once"], service.cameras["looped"]
        assert wait_for(lambda: once.state == "ended", timeout=180)
        reason = once.health()["reason"]
        assert reason.startswith(f"the video file ended early: video file {bomb} holds a frame beyond its "
                                 "stream's stated size of 640x480 pixels"), reason
        assert wait_for(lambda: looped.source is not None and looped.source.stats.stream_errors >= 2
                        and looped.processed >= 6, timeout=180)
        assert looped.state in ("running", "reconnecting", "connecting"), looped.health()
        assert "frame 3 is 320x240 pixels, but its stream states 640x480" in looped.source.stats.last_error
        assert looped.pipeline_restarts == 0 and once.pipeline_restarts == 0
    finally:
        assert service.stop() == []


def test_the_opencv_backend_is_said_to_be_unbounded(caplog):
    """OpenCV takes no decoder option and scales a later frame to the first one's size with no sign
    (its ``CAP_PROP_FRAME_WIDTH`` unchanged), so ``backend = "opencv"`` cannot be bounded: the
    choice is to keep it and say so each time such a source is made (on main: nothing said)."""
    import logging

    from facesel.sources import make_source

    with caplog.at_level(logging.WARNING, logger="facesel.sources"):
        make_source("rtsp://admin:secret@127.0.0.1:9/cam", backend="opencv")
        make_source("rtsp://127.0.0.1:9/cam")  # the default backend bounds every frame: no warning
    warned = [record.getMessage() for record in caplog.records if record.name == "facesel.sources"]
    assert warned == ['source rtsp://***@127.0.0.1:9/cam: backend = "opencv" does not bound the frames after the '
                      "stream's first one (OpenCV takes no decoder option: a later, larger frame is decoded whole, as "
                      "large as FFmpeg's own limit lets through, e.g. 16000x16000); backend = \"pyav\" bounds every "
                      "frame"], warned
