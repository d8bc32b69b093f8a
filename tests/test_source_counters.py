"""A source's counters read while its reader thread runs (``StreamSource.snapshot``): every frame
received is taken, dropped or still waiting, at every read, whatever the speed of the reader, the
consumer or the machine; and ``facesel serve``'s counters (``camera._live_counters``) are read
from such a snapshot.

No clock is measured: the connection hands over frames as fast as it is asked, a consumer thread
takes them and holds back until the full queue has pushed frames out (so that every count moves),
and the test reads the counters as often as it can meanwhile; every CHECKPOINT frames the
connection waits for two more reads, so that reads fall while frames come and go on any machine.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from facesel.serve.camera import _live_counters
from facesel.sources import EndOfStream, StreamSource

from test_sources import wait_for

FRAMES = 5000
BUFFER = 3
CHECKPOINT = 50


class CountedFrames:
    """A finite connection: ``count`` tiny frames, each as soon as it is asked for; before every
    ``CHECKPOINT``-th one it calls ``checkpoint()`` (when given)."""

    finite = True

    def __init__(self, count: int, checkpoint=None):
        self.count, self.made, self.checkpoint = count, 0, checkpoint
        self.pixels = np.zeros((2, 2, 3), np.uint8)

    def __call__(self):
        return self

    def read(self):
        if self.made >= self.count:
            raise EndOfStream()
        if self.checkpoint is not None and self.made % CHECKPOINT == CHECKPOINT - 1:
            self.checkpoint()
        self.made += 1
        return self.pixels, None

    def close(self):
        pass


@pytest.fixture(autouse=True)
def frequent_thread_switches():
    """Switch threads every microsecond instead of every 5 ms: a read that is not of one moment
    is then caught in the act (field-by-field reads of ``stats``, as before the snapshot, were
    inconsistent in 39 of 175,375 reads over 5 runs of this file's loop; snapshots in 0 of 181,527)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _consume(source, taken: list) -> None:
    """Take frames; every 8th frame, hold back until the queue has pushed one out (a consumer that
    falls behind now and then), so that frames are both taken and dropped on any machine."""
    while not source.ended:
        if len(taken) % 8 == 7:
            dropped = source.stats.frames_dropped
            wait_for(lambda: source.stats.frames_dropped > dropped or source.stats.ended, timeout=60, step=0.001)
        frame = source.read(timeout=0.05)
        if frame is not None:
            taken.append(frame.sequence)


def _run_with_reads(read_counters) -> tuple[StreamSource, list, list]:
    """Start a live source on :class:`CountedFrames` and a consumer; ``read_counters(source)``
    as often as possible until the source has ended. Returns (source, sequences taken, reads)."""
    taken, reads = [], []

    def two_more_reads():
        seen = len(reads)
        assert wait_for(lambda: len(reads) >= seen + 2, timeout=60, step=0.0005)

    source = StreamSource("counted", CountedFrames(FRAMES, two_more_reads), live=True, reconnect=False,
                          buffer_frames=BUFFER)
    consumer = threading.Thread(target=_consume, args=(source, taken), daemon=True)
    source.start()
    consumer.start()
    try:
        while not source.ended:
            reads.append(read_counters(source))
        consumer.join(60)
        assert not consumer.is_alive()
    finally:
        source.stop()
    return source, taken, reads


def test_every_snapshot_counts_each_frame_received_as_taken_dropped_or_waiting():
    source, taken, snapshots = _run_with_reads(lambda s: s.snapshot())
    final = source.snapshot()
    # the run did what it had to: frames taken and frames dropped, with reads in between
    assert final.frames_received == FRAMES and len(taken) == final.frames_taken
    assert final.frames_taken > 0 and final.frames_dropped > 0 and final.frames_waiting == 0
    assert final.frames_taken + final.frames_dropped == FRAMES
    assert len(snapshots) >= 2 * (FRAMES // CHECKPOINT)
    for snap in snapshots:
        assert snap.frames_received == snap.frames_taken + snap.frames_dropped + snap.frames_waiting, snap
        assert 0 <= snap.frames_waiting <= BUFFER
    # counts never go back from one read to the next
    for name in ("frames_received", "frames_taken", "frames_dropped"):
        values = [getattr(snap, name) for snap in snapshots]
        assert values == sorted(values), name
    # and the frames taken came in order, each sequence number once
    assert taken == sorted(set(taken))


def test_serve_counters_of_a_running_source_are_of_one_moment():
    # _live_counters has no frames_taken: bracket it by the counts taken just before and after.
    def read(source):
        before = source.stats.frames_taken
        counts = _live_counters(source, None)
        return before, counts, source.stats.frames_taken

    source, _, reads = _run_with_reads(read)
    assert source.stats.frames_dropped > 0 and len(reads) >= 2 * (FRAMES // CHECKPOINT)
    for before, counts, after in reads:
        not_dropped = counts["frames_received"] - counts["frames_dropped"]  # taken or waiting
        assert before <= not_dropped <= after + BUFFER, (before, counts, after)
        assert counts["frames_skipped"] <= counts["frames_dropped"]


def test_a_file_source_stopped_while_waiting_for_room_keeps_its_waiting_frames_in_order():
    # not live: the reader waits for room instead of dropping; stopped then, it hands the frame it
    # holds to no one and loses none of the waiting ones
    source = StreamSource("file", CountedFrames(FRAMES), live=False, reconnect=False, buffer_frames=BUFFER).start()
    try:
        assert wait_for(lambda: source.pending == BUFFER and source._connect.made == BUFFER + 1, timeout=60)
    finally:
        assert source.stop()
    final = source.snapshot()
    assert final.frames_dropped == 0 and final.frames_received == BUFFER == final.frames_waiting
    assert [source.read(0).sequence for _ in range(BUFFER)] == list(range(BUFFER))
    assert source.ended and source.snapshot().frames_taken == BUFFER
