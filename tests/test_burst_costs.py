"""``benchmarks/burst_costs.measure``'s accounting, which docs/performance.md's session 15 figures
rest on: a dropped frame is decoded but never seen by the pipeline, its decoding is charged to the
next taken frame, and each taken frame carries its thread's counts. Counted, no timing asserted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

SETTINGS = {"mode": "sparse", "detect_every": 16, "threads": 1, "coarse_max_side": 640, "fine_every": 4}


@pytest.fixture()
def reads(monkeypatch):
    """Counts the PyAV connection's reads (frames decoded)."""
    from facesel.sources import backends

    count = [0]
    read = backends.PyAVFileConnection.read

    def counted(connection):
        count[0] += 1
        return read(connection)

    monkeypatch.setattr(backends.PyAVFileConnection, "read", counted)
    return count


def test_dropped_frames_are_decoded_and_charged_to_the_next_taken_one(shared_data, reads):
    from burst_costs import measure

    video = shared_data / "videos" / "arcade_walkers_1080p.mp4"
    frames, _ = measure(video, 10, SETTINGS, drop=0.5, seed=3)
    assert len(frames) == 10  # ``frames`` counts frames taken, however many were dropped
    assert all(f["decoded"] >= 1 for f in frames)
    assert sum(f["decoded"] for f in frames) == reads[0]
    assert reads[0] > 10  # at a chance of 0.5 some frame was dropped (seed 3: a fixed draw)
    for f in frames:
        assert f["faults"] >= 0 and f["waits"] >= 0 and f["preempted"] >= 0 and f["sys_ms"] >= 0


def test_without_drops_every_decoded_frame_is_taken(shared_data, reads):
    from burst_costs import measure

    frames, _ = measure(shared_data / "videos" / "arcade_walkers_1080p.mp4", 6, SETTINGS)
    assert [f["decoded"] for f in frames] == [1] * 6
    assert reads[0] == 6
    assert [f["index"] for f in frames] == list(range(6))
