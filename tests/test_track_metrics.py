"""The within-track metrics of ``facesel eval tracks`` on hand-made tracks."""

import numpy as np
import pytest

from facesel.eval import track_metrics as tm
from facesel.eval.track_bench import RANDOM, pick_records, summarise
from facesel.eval.track_data import VideoTracks
from facesel.eval.track_rules import TrackView
from facesel.eval.track_windows import observations
from facesel.types import CropContext


def test_smooth_is_a_centred_moving_average_shortened_at_the_ends():
    d = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    s = tm.smooth(d, 5)
    assert s == pytest.approx([2.0, 2.5, 3.0, 4.0, 4.5, 5.0])
    assert tm.smooth(d, 1) == pytest.approx(d)
    with pytest.raises(ValueError, match="window"):
        tm.smooth(d, 4)


def test_a_perfect_score_has_zero_regret_and_picks_the_best():
    d = np.array([0.7, 0.3, 0.5, 0.65, 0.4])
    pick = tm.evaluate_pick(-d, d)
    assert pick.regret == 0.0
    assert pick.distance == 0.3
    assert pick.matchable == 1.0
    assert pick.rank_correlation == pytest.approx(-1.0)
    # perfect on the smoothed distances: zero smoothed regret
    assert tm.evaluate_pick(-tm.smooth(d), d).smoothed_regret == pytest.approx(0.0)


def test_a_constant_score_gets_exactly_the_random_expectation():
    d = np.array([0.7, 0.3, 0.5, 0.65, 0.4])
    const = tm.evaluate_pick(np.full(5, 2.0), d)
    rand = tm.random_pick(d)
    assert const.distance == pytest.approx(d.mean())
    assert const.regret == pytest.approx(d.mean() - 0.3)
    assert const.matchable == pytest.approx(3 / 5)
    assert const.smoothed_regret == pytest.approx(tm.smooth(d).mean() - tm.smooth(d).min())
    assert (rand.distance, rand.regret, rand.matchable) == pytest.approx((const.distance, const.regret, const.matchable))
    assert np.isnan(const.rank_correlation) and rand.rank_correlation == 0.0


def test_ties_at_the_top_are_averaged():
    d = np.array([0.2, 0.8, 0.5])
    pick = tm.evaluate_pick(np.array([1.0, 1.0, 0.0]), d)
    assert pick.distance == pytest.approx(0.5)
    assert pick.matchable == pytest.approx(0.5)


def test_the_worst_pick_has_the_largest_regret():
    d = np.array([0.7, 0.3, 0.5])
    assert tm.evaluate_pick(d, d).regret == pytest.approx(0.4)


def test_bootstrap_interval_brackets_the_mean_and_shrinks_to_a_point_for_constants():
    rng = np.random.default_rng(1)
    v = rng.normal(size=50)
    mean, lo, hi = tm.bootstrap_mean(v, 500, 0)
    assert lo < mean < hi
    assert tm.bootstrap_mean(np.full(10, 0.25), 200, 0) == pytest.approx((0.25, 0.25, 0.25))
    assert tm.bootstrap_mean([np.nan, 1.0, 3.0], 100, 0)[0] == pytest.approx(2.0)


def _fake_video(name="fake"):
    """Three tracks with hand-made distances; track 3 has no matchable crop (not eligible)."""
    dists = {1: [0.5, 0.3, 0.45, 0.7], 2: [0.9, 0.55, 0.62], 3: [0.8, 0.9, 0.7]}
    ids, d = [], []
    for t, values in dists.items():
        ids += [t] * len(values)
        d += values
    n = len(ids)
    ctx = CropContext(np.full(n, 0.9), np.tile([0, 0, 40, 40], (n, 1)), None, (100, 100), np.array(ids))
    video = VideoTracks(name, np.zeros((n, 64, 64), np.uint8), ctx, np.arange(n), np.zeros((n, 128), np.float32))
    return video, np.array(d)


def _views(video, d, obs):
    # the "oracle" signal is minus the true distance: a perfect rule
    return [TrackView({"oracle": -d[o.rows], "const": np.zeros(len(o.rows))}, video.crops[o.rows], video.context[o.rows])
            for o in obs]


def test_the_benchmark_gives_the_ideal_for_a_perfect_and_random_for_a_constant_rule():
    video, d = _fake_video()
    obs, total = observations(video, d, "src", None)
    assert total == 3 and [o.track_id for o in obs] == [1, 2]  # track 3 is not eligible
    rules = {"perfect": lambda v: v.signals["oracle"], "constant": lambda v: v.signals["const"]}
    records = pick_records(obs, _views(video, d, obs), rules)
    s = summarise(records, n_boot=200, seed=0, groups=[r.track_id for r in records])
    assert s["perfect"]["regret"]["mean"] == 0.0
    assert s["perfect"]["matchable"]["mean"] == 1.0
    assert s["perfect"]["distance"]["mean"] == pytest.approx((0.3 + 0.55) / 2)
    for metric in ("distance", "regret", "smoothed_regret", "matchable"):
        assert s["constant"][metric]["mean"] == pytest.approx(s[RANDOM][metric]["mean"])
        assert s["constant"][metric]["minus_random"] == pytest.approx(0.0)
        assert s["constant"][metric]["minus_random_low"] == pytest.approx(0.0)
        assert s["constant"][metric]["minus_random_high"] == pytest.approx(0.0)
    assert s[RANDOM]["regret"]["mean"] == pytest.approx((np.mean([0.5, 0.3, 0.45, 0.7]) - 0.3 + np.mean([0.9, 0.55, 0.62]) - 0.55) / 2)
    assert s["perfect"]["regret"]["minus_random_high"] < 0


def test_a_rule_returning_the_wrong_number_of_scores_is_an_error():
    video, d = _fake_video()
    obs, _ = observations(video, d, "src", None)
    with pytest.raises(ValueError, match="returned 1 scores"):
        pick_records(obs, _views(video, d, obs), {"bad": lambda v: np.zeros(1)})
