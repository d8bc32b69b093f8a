"""benchmarks/governor_model.py: serve's load governor in the queue model of N cameras (issue 27, session 16).

Synthetic costs, no data and no clock: the model's own bookkeeping is checked (every drop and every
taken frame attributed once), and its two ends: cameras with room to spare never step or drop,
cameras too slow for the configured schedule step to the cap.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from burst_model import Costs  # noqa: E402
from governor_model import simulate  # noqa: E402


def costs(ordinary: float, decode: float = 3.0, fine: float = 20.0, coarse: float = 5.0) -> Costs:
    """The same ms at every place of a 100-frame video; a full detection's extra by its tier."""
    return Costs([ordinary] * 100, [decode] * 100, {"fine": [fine], "coarse": [coarse]})


def test_cameras_with_room_to_spare_never_step_and_never_drop():
    out = simulate(costs(5.0), {}, cameras=4, cores=2.0, seconds=20.0, warmup=2.0)
    assert out["dropped"] == 0 and out["steps"] == {} and out["share_at"] == {"4": 1.0}
    assert set(out["trace"]) == {"cam0", "cam1", "cam2", "cam3"}
    # every frame that arrived was taken, at the configured schedule
    assert all(len(cam["frames"]) >= 20 * 25 and {(f[1], f[2]) for f in cam["frames"]} == {(4, False)}
               for cam in out["trace"].values())


def test_cameras_too_slow_for_the_configured_schedule_step_to_the_cap_and_every_drop_is_attributed():
    # 30 ms a frame decoding and work on a quarter of a core each at 4 cameras, 2 cores: 60 ms of a
    # 40 ms interval before any full detection: only far coarser schedules (and drops) can follow
    out = simulate(costs(27.0, fine=80.0, coarse=20.0), {}, cameras=4, cores=2.0, seconds=20.0, warmup=5.0)
    assert out["share_at"].get("16+tiers", 0) > 0.9
    assert out["dropped"] > 0
    assert sum(out["drops_by_schedule"].values()) == out["dropped"]
    assert sum(out["drops_by_last_step"].values()) == out["dropped"]
    # the frames taken after the warm-up, once each: at most what arrived then, and most of it
    taken = sum(out["frames_by_last_step"].values())
    assert out["arrived"] - out["dropped"] - 4 * 4 <= taken <= out["arrived"] - out["dropped"] + 4 * 4


def test_the_rule_is_passed_to_the_governors():
    import pytest

    with pytest.raises(ValueError, match="settle_coarsening"):
        simulate(costs(5.0), {"settle_coarsening": "yes"}, cameras=2, seconds=2.0, warmup=1.0)
    out = simulate(costs(5.0), {"settle_coarsening": True}, cameras=2, seconds=2.0, warmup=1.0)
    assert out["dropped"] == 0 and out["steps"] == {}
