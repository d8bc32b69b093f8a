"""ux24: a camera that loses its stream is named in the service's log when it goes down and when
it comes back (before: only "source rtsp://...: cannot connect", the URL and no camera, and a
server that ended its stream was not logged at all until the first failed reconnection)."""

from __future__ import annotations

import logging

import numpy as np
from facesel.serve.camera import Camera
from facesel.sources import EndOfStream, StreamSource
from test_serve import authority, keys, videos  # noqa: F401 - module fixtures
from test_serve_capacity import arcade_camera, serve_config
from test_sources import wait_for


def test_a_camera_that_goes_down_and_comes_back_is_named_in_the_log(videos, authority, keys, tmp_path, caplog):
    config = serve_config(authority, {"door": arcade_camera(videos, tmp_path / "door", keys("door"))})
    camera = Camera(config.cameras["door"])  # not started: the test plays the camera's thread
    caplog.set_level(logging.INFO, logger="facesel.serve")
    camera._set_state("connecting", "")
    camera._set_state("running", "")
    camera._set_state("running", "")  # every frame says so: no line
    assert not [r for r in caplog.records if "camera door" in r.getMessage()]
    why = "cannot open rtsp://127.0.0.1:1/cam: [Errno 111] Connection refused"
    camera._set_state("reconnecting", why)
    camera._set_state("reconnecting", why)  # each failed attempt: one line, at the change
    camera._set_state("running", "")
    lines = [r.getMessage() for r in caplog.records if r.name == "facesel.serve"]
    assert lines == [f"camera door: DOWN, reconnecting ({why})", "camera door: up again after 0 s down"], lines
    assert caplog.records[0].levelno == logging.WARNING


def test_a_camera_that_never_connected_is_named_once(videos, authority, keys, tmp_path, caplog):
    config = serve_config(authority, {"door": arcade_camera(videos, tmp_path / "door", keys("door"))})
    camera = Camera(config.cameras["door"])
    caplog.set_level(logging.INFO, logger="facesel.serve")
    why = "cannot open rtsp://127.0.0.1:1/cam: [Errno 111] Connection refused"
    camera._set_state("connecting", "")
    camera._set_state("reconnecting", why)
    camera._set_state("connecting", "")  # a pipeline restart's new source
    camera._set_state("reconnecting", why)
    lines = [r.getMessage() for r in caplog.records if r.name == "facesel.serve"]
    assert lines == [f"camera door: DOWN, reconnecting ({why})"] * 2, lines


def test_a_stream_its_server_ended_is_logged(caplog):
    caplog.set_level(logging.WARNING, logger="facesel.sources")
    served = []

    class EndsOnce:
        fps = 10.0

        def read(self):
            if not served:
                served.append(1)
                return np.zeros((8, 8, 3), np.uint8), 0.0
            raise EndOfStream()

        def close(self):
            pass

    source = StreamSource("rtsp://user:secret@127.0.0.1:1/cam", lambda: EndsOnce(), live=True).start()
    try:
        wait_for(lambda: source.stats.stream_errors >= 1, timeout=10)
    finally:
        source.stop()
    lines = [r.getMessage() for r in caplog.records]
    assert "source rtsp://***@127.0.0.1:1/cam: the server ended the stream" in lines, lines
