"""Review round 11 (attack20), finding 4: ``view.jpg`` rendered anew for every request.

Each render of a camera's privacy-safe view runs the face detector twice on a full frame, and the
still picture had no bound (the streams have two places): any client of the status port, or any
web page the operator opened (``<img src="http://127.0.0.1:PORT/cameras/NAME/view.jpg">`` in a
loop passes the browser check, a GET with a loopback Host), kept the status port's workers
rendering without pause beside the cameras. Now a camera's view is rendered at most once per
:data:`facesel.serve.view.MIN_RENDER_SECONDS`, whoever asks.

The renderer's clock is the module's ``time``, replaced here by one that moves only when told;
the detector is counted (and finds nothing) so the test needs no model.
"""

from __future__ import annotations

import threading
import types

import numpy as np
from facesel.serve import view


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


def _renderer(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(view, "time", types.SimpleNamespace(monotonic=clock.monotonic, sleep=lambda s: None))
    frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    camera = types.SimpleNamespace(newest_frame=frame, adapter=None, config=types.SimpleNamespace(name="door"),
                                   zones=types.SimpleNamespace(draw=lambda image, scale: None))
    renderer = view.ViewRenderer(camera)
    calls = []
    monkeypatch.setattr(renderer, "_detect", lambda image: calls.append(image.shape) or np.zeros((0, 4)))
    return renderer, clock, calls


def test_many_requests_for_the_view_render_it_once_per_interval(monkeypatch):
    renderer, clock, calls = _renderer(monkeypatch)
    pictures = {renderer.render() for _ in range(20)}
    assert len(calls) == 2 and len(pictures) == 1  # one render (two detector passes), answered 20 times
    clock.now += 1.0 / view.STREAM_FPS  # a stream's next frame
    renderer.render()
    assert len(calls) == 4  # rendered again from the newest frame


def test_concurrent_requests_share_one_render(monkeypatch):
    renderer, _, calls = _renderer(monkeypatch)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(renderer.render())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 8 and len(set(answers)) == 1 and len(calls) == 2


def test_a_stream_still_gets_a_new_picture_each_frame():
    assert view.MIN_RENDER_SECONDS < 1.0 / view.STREAM_FPS
