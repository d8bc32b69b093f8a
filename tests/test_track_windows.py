"""Windows, clip-grouped intervals and held-out choices of ``facesel eval tracks``, on hand-made tracks."""

import numpy as np
import pytest

from facesel.eval import track_heldout as th
from facesel.eval import track_metrics as tm
from facesel.eval.track_bench import RANDOM, clip_source, paired, pick_records, summarise
from facesel.eval.track_data import VideoTracks
from facesel.eval.track_rules import TrackView
from facesel.eval.track_windows import observations, split_windows
from facesel.types import CropContext


def test_windows_cover_the_track_once_in_order_and_a_short_remnant_joins_the_last_window():
    frames = np.arange(0, 100)  # 100 frames at 10 fps: 10 s
    w = split_windows(frames, fps=10.0, seconds=4.0)
    # 0-3.9 s, 4-7.9 s, and 8-9.9 s (2 s, half a window: kept on its own)
    assert [len(x) for x in w] == [40, 40, 20]
    assert np.array_equal(np.concatenate(w), np.arange(100))
    w = split_windows(np.arange(0, 90), fps=10.0, seconds=4.0)  # the last 1 s joins the window before
    assert [len(x) for x in w] == [40, 50]
    assert [len(x) for x in split_windows(frames, 10.0, None)] == [100]
    assert [len(x) for x in split_windows(frames, 10.0, 60.0)] == [100]


def test_windows_follow_time_not_crop_count_when_frames_are_missing():
    frames = np.array([0, 1, 2, 30, 31, 32, 33])  # a gap: frames 3..29 have no detection
    w = split_windows(frames, fps=10.0, seconds=2.0)
    assert [frames[x].tolist() for x in w] == [[0, 1, 2], [30, 31, 32, 33]]


def test_split_windows_rejects_bad_arguments():
    with pytest.raises(ValueError, match="increasing"):
        split_windows([3, 2, 1], 10.0, 1.0)
    with pytest.raises(ValueError, match="fps"):
        split_windows([0, 1], 0.0, 1.0)
    with pytest.raises(ValueError, match="seconds"):
        split_windows([0, 1], 10.0, -1.0)


def _clip(name, per_track_distances, fps=1.0):
    ids, d, frames = [], [], []
    for t, values in per_track_distances.items():
        ids += [t] * len(values)
        d += values
        frames += list(range(len(values)))
    n = len(ids)
    ctx = CropContext(np.full(n, 0.9), np.tile([0, 0, 40, 40], (n, 1)), None, (100, 100), np.array(ids))
    video = VideoTracks(name, None, ctx, np.array(frames), np.zeros((n, 128), np.float32), None, fps)
    return video, np.array(d)


def test_a_long_track_becomes_several_observations_of_one_clip():
    video, d = _clip("long", {7: [0.3, 0.5, 0.4, 0.7, 0.55, 0.8, 0.9, 0.95]}, fps=1.0)
    obs, total = observations(video, d, "repo", seconds=3.0)
    # windows of 3 crops: [0.3 0.5 0.4], [0.7 0.55 0.8], [0.9 0.95] (2 s >= half: its own window, not matchable)
    assert total == 3
    assert [o.window for o in obs] == [0, 1] and [o.clip for o in obs] == ["long", "long"]
    assert obs[1].distances.tolist() == [0.7, 0.55, 0.8]
    assert all(o.source == "repo" and o.track_id == 7 for o in obs)


def test_grouped_bootstrap_resamples_clips_not_windows():
    # clip a: 10 windows all 1.0; clip b: 10 windows all 0.0. By window the mean looks certain;
    # by clip there are two observations and the interval spans both values.
    v = np.r_[np.ones(10), np.zeros(10)]
    g = np.array(["a"] * 10 + ["b"] * 10)
    mean, lo, hi = tm.grouped_bootstrap_mean(v, g, 2000, 0)
    assert mean == pytest.approx(0.5)
    assert lo == 0.0 and hi == 1.0
    _, wlo, whi = tm.bootstrap_mean(v, 2000, 0)
    assert whi - wlo < 0.5  # the per-window interval is much narrower: the error the grouping avoids
    # one observation per group: the same as the plain bootstrap
    x = np.random.default_rng(3).normal(size=30)
    assert tm.grouped_bootstrap_mean(x, np.arange(30), 500, 1) == pytest.approx(tm.bootstrap_mean(x, 500, 1))
    # one group left (b's NaN dropped): the mean, and no interval (ux22: not one of width 0)
    mean, lo, hi = tm.grouped_bootstrap_mean([np.nan, 2.0], ["a", "b"], 100, 0)
    assert mean == pytest.approx(2.0) and np.isnan(lo) and np.isnan(hi)
    with pytest.raises(ValueError, match="one entry per observation"):
        tm.grouped_bootstrap_mean([1.0, 2.0], ["a"], 10, 0)


def _bench(clips):
    obs, views = [], []
    for name, source, tracks in clips:
        video, d = _clip(name, tracks)
        o, _ = observations(video, d, source, None)
        obs += o
        views += [TrackView({"oracle": -x.distances, "anti": x.distances, "const": np.zeros(len(x.rows))}, None, None)
                  for x in o]
    return obs, views


CLIPS = [("c1", "s1", {1: [0.3, 0.5, 0.7], 2: [0.6, 0.4, 0.45]}),
         ("c2", "s1", {1: [0.2, 0.5, 0.55]}),
         ("c3", "s2", {1: [0.58, 0.4, 0.9, 0.3]})]


def test_perfect_constant_and_worst_rules_bracket_random_in_every_grouping():
    obs, views = _bench(CLIPS)
    rules = {"perfect": lambda v: v.signals["oracle"], "constant": lambda v: v.signals["const"],
             "worst": lambda v: v.signals["anti"]}
    records = pick_records(obs, views, rules)
    s = summarise(records, n_boot=300, seed=0)  # grouped by clip
    assert s["perfect"]["regret"]["mean"] == 0.0 and s["perfect"]["matchable"]["mean"] == 1.0
    assert s["constant"]["regret"]["minus_random"] == pytest.approx(0.0)
    assert s["worst"]["regret"]["mean"] > s[RANDOM]["regret"]["mean"] > 0.0
    p = paired(records, "perfect", "worst", "regret", n_boot=300)
    assert p["high"] < 0.0


def test_one_clip_gets_no_interval_rather_than_one_of_width_zero(tmp_path):
    # ux22: `facesel eval tracks` on one video printed every figure as `0.039 [0.039, 0.039]`,
    # a 95 % interval that read as certainty; a cluster bootstrap over one clip has nothing to vary.
    from facesel.eval.track_report import markdown_table, plot_summary

    obs, views = _bench(CLIPS[:1])  # clip c1: two tracks, one clip
    rules = {"perfect": lambda v: v.signals["oracle"], "worst": lambda v: v.signals["anti"]}
    records = pick_records(obs, views, rules)
    s = summarise(records, n_boot=300, seed=0)
    assert s["worst"]["regret"]["mean"] > 0.0
    assert np.isnan(s["worst"]["regret"]["low"]) and np.isnan(s["worst"]["regret"]["minus_random_high"])
    table = markdown_table(s)
    assert "[no interval: one clip]" in table and "nan" not in table
    p = paired(records, "perfect", "worst", "regret", n_boot=300)
    assert p["mean"] < 0.0 and np.isnan(p["low"])
    assert plot_summary(s, tmp_path / "t.png", "1 clip").stat().st_size > 0
    # two clips: intervals again
    both = summarise(pick_records(*_bench(CLIPS[:2]), rules), n_boot=300, seed=0)
    assert not np.isnan(both["worst"]["regret"]["low"]) and "no interval" not in markdown_table(both)


def test_the_report_says_why_it_has_no_table_or_no_interval():
    # ux22: a video without faces gave a tracks.md with empty sections and no word why; a second
    # video without an eligible window left one clip to resample, and no note said so.
    from facesel.eval.track_report import eligibility_note

    assert "No eligible window" in " ".join(eligibility_note([], 1))
    obs, views = _bench(CLIPS[:1])
    records = pick_records(obs, views, {"perfect": lambda v: v.signals["oracle"]})
    assert "no intervals" in " ".join(eligibility_note(records, 2))  # two clips given, one with windows
    records = pick_records(*_bench(CLIPS[:2]), {"perfect": lambda v: v.signals["oracle"]})
    assert eligibility_note(records, 2) == []


def test_held_out_choice_never_uses_the_fold_it_scores():
    # candidate 0 is best on fold a only, candidate 1 on folds b and c
    values = np.array([[0.0, 0.0, 5.0, 5.0, 5.0],
                       [1.0, 1.0, 0.0, 0.0, 0.0]])
    folds = np.array(["a", "a", "b", "b", "c"])
    chosen, per_fold = th.held_out_choice(values, folds)
    assert per_fold == {"a": 1, "b": 1, "c": 1}  # fold a's own preference is never seen when a is held out
    assert chosen.tolist() == [1, 1, 1, 1, 1]
    assert th.take(values[:, :, None], chosen)[:, 0].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]
    values = np.array([[0.0, 9.0], [1.0, 0.0]])
    chosen, _ = th.held_out_choice(values, np.array(["x", "y"]))
    assert chosen.tolist() == [1, 0]
    with pytest.raises(ValueError, match="two folds"):
        th.held_out_choice(values, np.array(["x", "x"]))


def test_fast_metrics_agree_with_evaluate_pick():
    rng = np.random.default_rng(0)
    for _ in range(20):
        d = rng.uniform(0.2, 0.9, size=rng.integers(2, 12))
        s = np.round(rng.normal(size=len(d)), 1)  # ties included
        p = tm.evaluate_pick(s, d)
        assert th.fast_metrics(s, d, tm.smooth(d)) == pytest.approx((p.smoothed_regret, p.regret, p.matchable))


def test_clip_source_is_the_repository(tmp_path):
    assert clip_source(tmp_path / "LivePortrait__assets_d10.mp4") == "LivePortrait"
    (tmp_path / "manifest.csv").write_text("file,origin_repo,origin_path\nwalk.gif,intel-iot-devkit/sample-videos,x\n"
                                           "girl/img/%04d.jpg,masa-nudt/KCFDP,y\n")
    assert clip_source(tmp_path / "walk.gif") == "sample-videos"
    (tmp_path / "girl" / "img").mkdir(parents=True)
    assert clip_source(tmp_path / "girl" / "img") == "KCFDP"
    assert clip_source(tmp_path / "other.mp4") == "other.mp4"


def test_rank_sum_adds_within_window_ranks_and_one_signal_picks_like_that_signal():
    s = {"det": np.array([0.9, 0.5, 0.7]), "size": np.array([10.0, 90.0, 50.0]), "sharpness": np.zeros(3),
         "yaw": np.array([0.0, 0.3, np.nan]), "pitch": np.zeros(3), "roll": np.zeros(3), "dose_mu": np.zeros(3)}
    view = TrackView(s, None, None)
    assert int(np.argmax(th.rank_sum_rule(("det",))(view))) == 0
    # det ranks 1, 0, 0.5 and size ranks 0, 1, 0.5: a tie everywhere; -|yaw| breaks it (NaN yaw is worst)
    both = th.rank_sum_rule(("det", "size"))(view)
    assert both == pytest.approx([1.0, 1.0, 1.0])
    assert int(np.argmax(th.rank_sum_rule(("det", "size", "-|yaw|"))(view))) == 0
    assert len(th.rank_sum_grid()) == 7 + 21 + 35


def test_the_cli_reads_window_lengths_and_expands_a_folder_of_videos(tmp_path):
    import argparse

    from facesel.cli.eval import _expand_videos, _seconds

    assert _seconds("4s") == 4.0 and _seconds("2.5") == 2.5 and _seconds("none") is None
    for bad in ("-1s", "abc", "inf"):
        with pytest.raises(argparse.ArgumentTypeError):
            _seconds(bad)
    videos = tmp_path / "more"
    videos.mkdir()
    for name in ("b.mkv", "a.mp4", "manifest.csv"):
        (videos / name).write_bytes(b"")
    frames = tmp_path / "img"
    frames.mkdir()
    (frames / "0001.jpg").write_bytes(b"")
    single = tmp_path / "x.gif"
    assert _expand_videos([videos, frames, single]) == [videos / "a.mp4", videos / "b.mkv", frames, single]
