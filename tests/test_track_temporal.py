"""The temporal rules of ``facesel eval tracks`` (issue 22) on hand-made tracks: smoothing within
the track, the margin from the track's ends, and their held-out choice."""

import numpy as np
import pytest
from facesel.eval import track_heldout as th
from facesel.eval import track_metrics as tm
from facesel.eval.track_bench import RANDOM, pick_records, summarise
from facesel.eval.track_rules import TrackView
from facesel.eval.track_windows import Observation


def _view(det, frames=None, fps=10.0, span=None, **signals):
    det = np.asarray(det, np.float64)
    n = len(det)
    s = {"det": det, "default_context": det.copy(), "yaw": np.zeros(n), "roll": np.zeros(n), "pitch": np.zeros(n)}
    s.update({k: np.asarray(v, np.float64) for k, v in signals.items()})
    frames = np.arange(n) if frames is None else np.asarray(frames)
    return TrackView(s, None, None, frames, fps, span)


def test_smoothing_moves_the_pick_from_a_lone_spike_to_the_stable_good_stretch():
    # crop 1 is the single best value but sits between two bad crops; crops 5..9 are all good
    det = [0.2, 0.99, 0.2, 0.3, 0.3, 0.9, 0.92, 0.93, 0.92, 0.9]
    view = _view(det)
    assert int(np.argmax(th.temporal_rule(("det", 0, "mean", 0.0))(view))) == 1  # as is: the spike
    for how in ("mean", "median"):
        for k in (1, 2):
            pick = int(np.argmax(th.temporal_rule(("det", k, how, 0.0))(view)))
            assert 5 <= pick <= 9, (k, how, pick)
    # and on the metric's own terms: the distances follow the stretch, the spike's neighbours are far
    d = np.array([0.7, 0.35, 0.7, 0.6, 0.6, 0.4, 0.38, 0.36, 0.38, 0.4])
    smoothed = tm.evaluate_pick(th.temporal_rule(("det", 1, "median", 0.0))(view), d).smoothed_regret
    raw = tm.evaluate_pick(th.temporal_rule(("det", 0, "mean", 0.0))(view), d).smoothed_regret
    assert smoothed < raw


def test_smooth_within_keeps_length_order_and_a_constant():
    v = np.array([1.0, 5.0, 2.0, 8.0])
    assert th.smooth_within(v, 0).tolist() == v.tolist()
    assert th.smooth_within(v, 1, "mean") == pytest.approx([3.0, 8 / 3, 5.0, 5.0])
    assert th.smooth_within(v, 1, "median") == pytest.approx([3.0, 2.0, 5.0, 5.0])
    assert th.smooth_within(np.full(6, 0.4), 2, "median").tolist() == [0.4] * 6
    with pytest.raises(ValueError):
        th.smooth_within(v, 1, "max")


def test_the_end_margin_prefers_crops_away_from_the_track_ends_and_falls_back_when_none_are():
    # the best value is the track's first crop (a face entering the frame); 10 fps
    det = [0.99, 0.5, 0.6, 0.7, 0.6, 0.5, 0.4, 0.98]
    view = _view(det, span=(0, 7))
    assert int(np.argmax(th.temporal_rule(("det", 0, "mean", 0.0))(view))) == 0
    assert int(np.argmax(th.temporal_rule(("det", 0, "mean", 0.2))(view))) == 3  # >= 2 frames from both ends
    # a window in the middle of a long track is not near the track's ends: nothing is held back
    inner = _view(det, frames=np.arange(100, 108), span=(0, 500))
    assert inner.seconds_from_track_ends().min() == pytest.approx(10.0)
    assert int(np.argmax(th.temporal_rule(("det", 0, "mean", 1.0))(inner))) == 0
    # a track shorter than twice the margin: the crops farthest from its ends are the only candidates
    short = _view([0.9, 0.2, 0.3, 0.8], span=(0, 3))
    assert int(np.argmax(th.temporal_rule(("det", 0, "mean", 1.0))(short))) == 2
    with pytest.raises(ValueError, match="frame"):
        TrackView({"det": np.zeros(2)}, None, None).seconds_from_track_ends()


def test_a_constant_base_gives_the_random_value_and_the_grid_is_the_documented_one():
    rng = np.random.default_rng(1)
    obs, views = [], []
    for c in range(4):
        d = rng.uniform(0.2, 0.8, 12)
        obs.append(Observation(f"c{c}", f"s{c % 2}", 1, 0, np.arange(12), d))
        views.append(_view(np.full(12, 0.5), frames=np.arange(100, 112), span=(0, 1000)))
    rules = {f"temporal {p}": th.temporal_rule(p) for p in [("det", 0, "mean", 0.0), ("det", 2, "median", 1.0)]}
    s = summarise(pick_records(obs, views, rules), n_boot=50)
    for name in rules:  # far from the track's ends and a constant value: every crop ties
        assert s[name]["smoothed_regret"]["mean"] == pytest.approx(s[RANDOM]["smoothed_regret"]["mean"])
    grid = th.temporal_grid()
    assert len(grid) == len(set(grid)) == 3 * 5 * 3 and grid[0] == ("default", 0, "mean", 0.0)
    assert th.describe_temporal(("det", 2, "median", 1.0)) == "det median over +-2 crops, crops >= 1 s from the track's ends first"
