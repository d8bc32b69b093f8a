"""Leaving ``run_staged`` waits for its front half (detection + tracking) to end, however long its
last call takes: the caller's flush closes the same tracker next. Until session 18 the wait was
bounded (10 s), and a detection still running past it on a loaded machine ran beside the flush.

Deterministic: the front half is held inside a call by the test itself, and the order of what
happened is checked, not how long anything took. The reader's bound is made tiny, so that a
front half bounded like the reader would show at once.
"""

from __future__ import annotations

import _thread
import itertools
import sys
import threading
import time

import pytest
from facesel import pipeline


def _main_thread_in(function_name: str) -> bool:
    frame = sys._current_frames().get(threading.main_thread().ident)
    while frame is not None:
        if frame.f_code.co_name == function_name:
            return True
        frame = frame.f_back
    return False


def _wait(condition, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def tiny_reader_bound(monkeypatch):
    monkeypatch.setattr(pipeline, "READER_JOIN_SECONDS", 0.05)


def _held_front(events: list, release: threading.Event, on_hold=lambda: None):
    """A front half that holds its third call until ``release`` is set, then logs its end."""
    def front(item):
        if item == 2:
            events.append("front held")
            on_hold()
            release.wait(120)
            events.append("front ended")
        return item
    return front


def test_closing_the_run_waits_for_the_front_call_in_progress(tiny_reader_bound):
    events: list[str] = []
    release = threading.Event()
    run = pipeline.run_staged(((i,) for i in itertools.count()), _held_front(events, release), lambda p: p, 1)
    assert [next(run), next(run)] == [0, 1]
    assert _wait(lambda: "front held" in events)

    closer = threading.Thread(target=lambda: (run.close(), events.append("closed")))
    closer.start()
    # 2 s is 40 times the reader's bound: a front half waited for as the reader is would be
    # closed by then (a lower bound for the fault to show, not a measurement)
    closer.join(2.0)
    release.set()
    closer.join(120)
    assert not closer.is_alive()
    assert events == ["front held", "front ended", "closed"]


def test_a_ctrl_c_while_closing_is_raised_once_the_front_call_has_ended(tiny_reader_bound):
    events: list[str] = []
    release = threading.Event()

    def interrupt_the_closing_main_thread():
        # from the front thread: once the main thread waits for it, a Ctrl-C arrives there
        def interrupt():
            assert _wait(lambda: _main_thread_in("_wait_until_set"))
            _thread.interrupt_main()
            # the main thread must go on waiting (2 s: a lower bound for the fault to show)
            _wait(lambda: not _main_thread_in("_wait_until_set"), timeout=2.0)
            release.set()
        threading.Thread(target=interrupt, daemon=True).start()

    run = pipeline.run_staged(((i,) for i in itertools.count()), _held_front(events, release,
                                                                             interrupt_the_closing_main_thread),
                              lambda p: p, 1)
    assert [next(run), next(run)] == [0, 1]
    assert _wait(lambda: "front held" in events)
    with pytest.raises(KeyboardInterrupt):
        try:
            run.close()
        finally:
            events.append("close left")
    assert events == ["front held", "front ended", "close left"]
