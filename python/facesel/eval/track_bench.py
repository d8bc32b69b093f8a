"""``facesel eval tracks``: how well each selection rule picks within the tracks of real videos.

Per video: :func:`facesel.eval.track_data.collect_tracks` (detector, tracker, embeddings),
:func:`facesel.eval.track_persons.crop_distances` (each crop's distance to its person: the ground
truth, eval only), :func:`facesel.eval.track_signals.video_signals` (every rule's per-crop inputs,
one network pass per video, cached) and :func:`facesel.eval.track_windows.observations` (tracks
cut into windows). Every rule then picks one crop per window and :mod:`facesel.eval.track_metrics`
judges the pick.

Totals are means over the **eligible** windows (two or more crops, one matchable: where the choice
can matter) with **cluster-bootstrap intervals over clips** (windows of one clip are one person);
``rule - random`` and every paired comparison are bootstrapped the same way on per-window
differences. The gate rule's, the rank-sum's and the temporal rule's parameters are chosen
leave-one-source-out and leave-one-clip-out (:mod:`facesel.eval.track_heldout`): only held-out
values are reported for them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facesel.eval import track_metrics as tm

RANDOM = "random (exact expectation)"
GATE_LOSO = "gate, chosen leave-one-source-out"
GATE_LOCO = "gate, chosen leave-one-clip-out"
RANK_LOSO = "rank-sum, chosen leave-one-source-out"
RANK_LOCO = "rank-sum, chosen leave-one-clip-out"
TEMPORAL_LOSO = "temporal, chosen leave-one-source-out"
TEMPORAL_LOCO = "temporal, chosen leave-one-clip-out"
HELD_OUT = (TEMPORAL_LOSO, TEMPORAL_LOCO, GATE_LOSO, GATE_LOCO, RANK_LOSO, RANK_LOCO)
"""The rows whose parameters are chosen on the other folds only."""
SINGLE_SIGNALS = ("detector", "sharpness", "face-size", "frontal")
"""The single signals the chosen rule must beat (the issue's "done when")."""


@dataclass
class TrackRecord:
    """One eligible window of one track: where it comes from, its crop count and the picks."""

    video: str
    source: str
    track_id: int
    window: int
    crops: int
    best_distance: float
    picks: dict = field(default_factory=dict)  # rule -> TrackPick


def clip_source(path) -> str:
    """The repository a clip comes from: the prefix before ``__`` of a ``videos/more`` file name,
    else the ``origin_repo`` of the ``manifest.csv`` next to the clip (or above a frame folder),
    repository name only; else the clip's own name (its own source)."""
    path = Path(path)
    if "__" in path.name:
        return path.name.split("__", 1)[0]
    for folder in (path.parent, path.parent.parent):
        manifest = folder / "manifest.csv"
        if not manifest.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        with manifest.open(newline="") as fh:
            for row in csv.DictReader(fh):
                name, repo = row.get("file", ""), row.get("origin_repo", "")
                if repo and (name == rel or name.startswith(rel + "/")):
                    return repo.rsplit("/", 1)[-1]
    return path.name


def pick_records(observations, views, rules: dict) -> list[TrackRecord]:
    """Apply every rule to every observation (window)."""
    records = []
    for o, view in zip(observations, views):
        rec = TrackRecord(o.clip, o.source, o.track_id, o.window, len(o.rows), float(o.distances.min()))
        for name, rule in rules.items():
            s = np.asarray(rule(view), np.float64).reshape(-1)
            if s.shape != (len(o.rows),):
                raise ValueError(f"rule {name!r} returned {s.shape[0]} scores for {len(o.rows)} crops")
            rec.picks[name] = tm.evaluate_pick(s, o.distances)
        rec.picks[RANDOM] = tm.random_pick(o.distances)
        records.append(rec)
    return records


def summarise(records: list[TrackRecord], n_boot: int = 2000, seed: int = 0, groups=None) -> dict:
    """Per rule and metric: mean with its interval, and ``rule - random`` with its paired interval.

    ``groups``: (T,) group of each record for the cluster bootstrap; default its video (clip)."""
    if not records:
        return {}
    g = np.array([r.video for r in records]) if groups is None else np.asarray(groups)
    names = list(records[0].picks)
    rand = tm.as_table([r.picks[RANDOM] for r in records])
    summary = {}
    for name in names:
        table = tm.as_table([r.picks[name] for r in records])
        entry = {}
        for j, metric in enumerate(tm.METRICS):
            mean, lo, hi = tm.grouped_bootstrap_mean(table[:, j], g, n_boot, seed)
            dmean, dlo, dhi = tm.grouped_bootstrap_mean(table[:, j] - rand[:, j], g, n_boot, seed)
            entry[metric] = {"mean": mean, "low": lo, "high": hi, "minus_random": dmean, "minus_random_low": dlo,
                             "minus_random_high": dhi}
        summary[name] = entry
    return summary


def paired(records: list[TrackRecord], a: str, b: str, metric: str = "smoothed_regret", n_boot: int = 2000,
           seed: int = 0) -> dict:
    """Mean of ``a - b`` over windows and its clip-grouped bootstrap interval."""
    j = tm.METRICS.index(metric)
    d = tm.as_table([r.picks[a] for r in records])[:, j] - tm.as_table([r.picks[b] for r in records])[:, j]
    mean, lo, hi = tm.grouped_bootstrap_mean(d, [r.video for r in records], n_boot, seed)
    return {"a": a, "b": b, "metric": metric, "mean": mean, "low": lo, "high": hi}


@dataclass
class Benchmark:
    """Everything ``run_tracks`` measured (see its docstring)."""

    records: list
    observations: list
    views: list
    windows_seen: dict  # clip -> windows in all (eligible or not)
    sources: dict  # clip -> source
    timing: dict  # summed CPU seconds of the signal passes computed in this run (empty when cached)


def load_benchmark(videos, rules: dict, cache_dir=None, window: float | None = None, progress: bool = False,
                   crops_needed: bool = False, min_crops: int = 2) -> Benchmark:
    """Collect, judge and score every video: the data of every table."""
    from facesel.eval.track_data import collect_tracks
    from facesel.eval.track_persons import crop_distances
    from facesel.eval.track_rules import TrackView
    from facesel.eval.track_signals import has_cached_signals, video_signals
    from facesel.eval.track_windows import observations as video_observations

    all_obs, views, windows_seen, sources, timing = [], [], {}, {}, {}
    for video_path in videos:
        video = collect_tracks(video_path, cache_dir=cache_dir, progress=progress, with_crops=False)
        if video.crops is None and (crops_needed or not has_cached_signals(video.key, cache_dir)):
            # the numbers came from the cache but the pixels are needed: decode the video again
            video = collect_tracks(video_path, cache_dir=cache_dir, progress=progress, with_crops=True)
        run_timing: dict = {}
        signals = video_signals(video, video.key, cache_dir, run_timing)
        for k, v in run_timing.items():
            timing[k] = timing.get(k, 0.0) + v
        distances, _persons = crop_distances(video)
        source = clip_source(video_path)
        obs, total = video_observations(video, distances, source, window, min_crops)
        if video.name in windows_seen:
            raise ValueError(f"two videos are named {video.name!r}: clips are grouped by name")
        windows_seen[video.name], sources[video.name] = total, source
        spans = {}
        for idx in video.track_slices():  # each track's first and last frame (windows are parts of tracks)
            spans[int(video.context.track_ids[idx[0]])] = (int(video.frame_indices[idx[0]]), int(video.frame_indices[idx[-1]]))
        for o in obs:
            crops = None if video.crops is None else video.crops[o.rows]
            views.append(TrackView({k: v[o.rows] for k, v in signals.items()}, crops, video.context[o.rows],
                                   np.asarray(video.frame_indices[o.rows], np.int64), float(video.fps),
                                   spans[o.track_id]))
        all_obs += obs
    records = pick_records(all_obs, views, rules)
    return Benchmark(records, all_obs, views, windows_seen, sources, timing)


def add_held_out_gate(bench: Benchmark) -> dict:
    """Choose the gate's parameters (and, for comparison, a rank-sum's signals) leave-one-source-out
    and leave-one-clip-out; add the held-out picks to the records (:data:`HELD_OUT` rows). Returns
    the choices per fold, and the choice on all windows (what would ship)."""
    from facesel.eval import track_heldout as th
    from facesel.eval.track_rules import gate_rule

    families = {
        "gate": (th.gate_grid(), gate_rule, lambda p: p.describe(), vars, GATE_LOSO, GATE_LOCO),
        "rank-sum": (th.rank_sum_grid(), th.rank_sum_rule, th.describe_rank_sum, list, RANK_LOSO, RANK_LOCO),
        "temporal": (th.temporal_grid(), th.temporal_rule, th.describe_temporal, list, TEMPORAL_LOSO, TEMPORAL_LOCO),
    }
    out = {}
    for family, (grid, make, describe, params_of, loso, loco) in families.items():
        rules = [make(p) for p in grid]
        matrix = th.metric_matrix(rules, bench.observations, bench.views)
        for label, folds in ((loso, [o.source for o in bench.observations]), (loco, [o.clip for o in bench.observations])):
            if len(set(folds)) < 2:
                continue
            chosen, per_fold = th.held_out_choice(matrix[:, :, 0], folds)
            for t, (rec, o, view) in enumerate(zip(bench.records, bench.observations, bench.views)):
                rec.picks[label] = tm.evaluate_pick(rules[chosen[t]](view), o.distances)
            out[label] = {str(f): describe(grid[c]) for f, c in per_fold.items()}
        # the choice on all the data: what would ship (its in-sample figure is not reported as a result)
        best = int(np.argmin(matrix[:, :, 0].mean(axis=1)))
        out[f"{family}, all"] = {"params": params_of(grid[best]), "describe": describe(grid[best]),
                                 "in_sample_smoothed_regret": float(matrix[best, :, 0].mean())}
    return out


def run_tracks(videos, rules: list[str], out, cache_dir=None, n_boot: int = 2000, seed: int = 0,
               progress: bool = False, command: str = "facesel eval tracks ...", window: float | None = None,
               held_out: bool = True) -> dict:
    """Benchmark ``rules`` on ``videos``; writes tracks.md, tracks.json and tracks.png to ``out``.

    Parameters
    ----------
    window : float, optional
        Cut tracks into windows of this many seconds (None: whole tracks).
    held_out : bool
        Add the gate rule chosen leave-one-source-out and leave-one-clip-out (needs two sources or clips).

    Returns
    -------
    dict with ``summary``, ``per_source``, ``comparisons``, ``records``, ``choices`` and the output paths.
    """
    from facesel.eval.track_report import write_report
    from facesel.eval.track_rules import build_rule, needs_crops

    built = {name: build_rule(name) for name in rules}
    bench = load_benchmark(videos, built, cache_dir=cache_dir, window=window, progress=progress,
                           crops_needed=any(needs_crops(n) for n in rules))
    choices = add_held_out_gate(bench) if held_out and bench.records else {}
    result = write_report(bench, choices, rules, Path(out), command, window, n_boot, seed)
    result.update(records=bench.records, choices=choices, benchmark=bench)
    return result
