"""Real-time pacing of file sources (issue 26, item 5): a looping file arrives at its frame rate.

No wall-clock thresholds: the pacer is checked on an injected clock, and a real source by the
ratio of frames delivered to the frames its own frame rate allows over the elapsed time (within
one run), against the same file read unpaced in the same run.
"""

from __future__ import annotations

import time

import pytest
from facesel.sources import Pacer, make_source


class FakeClock:
    """A clock that only moves when someone waits (or the test moves it)."""

    def __init__(self):
        self.now = 100.0
        self.waits = []

    def __call__(self):
        return self.now

    def wait(self, seconds):
        self.waits.append(seconds)
        self.now += seconds
        return False


def test_pacer_holds_each_frame_until_its_stream_time():
    clock = FakeClock()
    pacer = Pacer(fps=25.0, clock=clock, wait=clock.wait)
    handed = []
    for stamp in (3.0, 3.04, 3.08, 3.12):
        assert pacer.pace(stamp)
        handed.append(clock.now - 100.0)
    assert handed == pytest.approx([0.0, 0.04, 0.08, 0.12])
    assert pacer.behind == 0.0


def test_pacer_never_skips_and_reports_lag_when_behind():
    clock = FakeClock()
    pacer = Pacer(fps=10.0, clock=clock, wait=clock.wait)
    assert pacer.pace(0.0)
    clock.now += 0.35  # the consumer held the reader for 3.5 frame times
    assert pacer.pace(0.1) and pacer.behind == pytest.approx(0.25)
    assert pacer.pace(0.2) and pacer.behind == pytest.approx(0.15)
    waits = len(clock.waits)
    assert pacer.pace(0.4)  # back ahead of schedule: waits again
    assert len(clock.waits) == waits + 1 and clock.now - 100.0 == pytest.approx(0.4)


def test_pacer_without_timestamps_uses_the_frame_rate_and_restarts_on_reset():
    clock = FakeClock()
    pacer = Pacer(fps=20.0, clock=clock, wait=clock.wait)
    for _ in range(5):
        pacer.pace(None)
    assert clock.now - 100.0 == pytest.approx(0.2)
    pacer.reset()
    start = clock.now
    pacer.pace(50.0)  # a new connection: its first frame is due at once, whatever its time
    pacer.pace(50.05)
    assert clock.now - start == pytest.approx(0.05)


def test_pacer_stops_when_its_wait_is_cut():
    pacer = Pacer(fps=1.0, clock=lambda: 0.0, wait=lambda seconds: True)
    assert pacer.pace(0.0)  # due at once: no wait to cut
    assert not pacer.pace(1.0)


@pytest.mark.parametrize("fps", [0, -1.0, float("nan"), True, "25"])
def test_pacer_refuses_a_bad_rate(fps):
    with pytest.raises(ValueError, match="fps"):
        Pacer(fps=fps)


def test_realtime_is_for_files_only():
    with pytest.raises(ValueError, match="realtime applies to video files only"):
        make_source("rtsp://127.0.0.1:1/x", realtime=True)


def _deliveries(path, realtime, seconds):
    """(frames taken, stream seconds they span, elapsed seconds, seconds between the first and the
    last frame's arrival in the source's queue, fps, seconds the pacer waited or None unpaced) over
    ``seconds`` of a looping file."""
    with make_source(path, loop=True, realtime=realtime) as source:
        first = source.read(60.0)
        assert first is not None
        start, count, last = time.monotonic(), 0, first
        while time.monotonic() - start < seconds:
            frame = source.read(1.0)
            if frame is not None:
                count, last = count + 1, frame
        elapsed = time.monotonic() - start
        fps = source.stats.fps
        waited = None if source.pacer is None else source.pacer.waited
    return count, last.timestamp - first.timestamp, elapsed, last.arrived - first.arrived, fps, waited


def test_a_paced_looping_file_delivers_its_frame_rate(shared_data):
    path = shared_data / "videos" / "intel_face_demographics_walking.gif"  # 35 frames at 12.5 fps
    paced, span, elapsed, arrivals, fps, waited = _deliveries(path, True, 4.0)
    # The pacer's own hand-over times (each frame's arrival in the queue), not this thread's clock:
    # the pacer's schedule starts when it hands over the first frame, and this thread may wake to
    # take it 80 ms (a frame) later on a loaded machine and then find the frames due meanwhile
    # waiting; measured from its own start, the stream then looked up to a frame ahead of the clock
    # (session 18: 35 of the 80 ms slack left at load 16).
    # Never ahead of the stream: frame k is due k / fps after the first (+1 for the frame in hand).
    assert paced <= fps * arrivals + 1
    # And never held back longer than its schedule asks: all the pacer's waits together are no more
    # than the stream time it handed over (what was taken, plus the frame in the queue and the one
    # the reader waits to hand over). It used to be "at least 0.6 of the frames the clock allows",
    # which is the decoder's and the scheduler's speed too, not only the pacer's: a bound a loaded
    # machine may break; this one holds at any speed, and still fails a pacer that waits too long.
    assert 0 < waited <= span + 2.0 / fps + 1e-6
    # Stream time advances with the clock, across the loop's restarts (4 s is more than one pass).
    assert span <= arrivals + 1.0 / fps
    unpaced, _, unpaced_elapsed, _, _, _ = _deliveries(path, False, 1.0)
    # The same file unpaced runs far faster than its frame rate: what the pacing is for.
    assert unpaced / unpaced_elapsed > 3 * paced / elapsed
