"""``benchmarks/serve_frame_cpu.measure``, which docs/performance.md's session 20 figures rest on:
one unpaced serve camera's frames are counted over a window that waits for them, and the profile
covers the service's own threads. Counted, no timing asserted."""

from __future__ import annotations

import pstats
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def test_the_window_counts_frames_and_the_profile_covers_the_camera_threads(shared_data, tmp_path):
    from serve_frame_cpu import measure

    out = tmp_path / "serve.prof"
    row = measure(shared_data / "videos" / "arcade_walkers_1080p.mp4", {"detect_every": 16}, seconds=0.2,
                  warmup=0.0, profile=str(out), min_frames=5)
    assert row["frames"] >= 5 and row["cpu_ms"] > 0
    assert row["cpu_ms_per_frame"] == pytest.approx(row["cpu_ms"] / row["frames"], abs=0.05)  # cpu_ms is rounded
    assert Path(row["facesel"]).name == "facesel"
    called = {name for _, _, name in pstats.Stats(str(out)).stats}
    # the Selector's halves run in the camera's stage threads, decoding in the source's thread
    assert {"_front", "_back", "read"} <= called
