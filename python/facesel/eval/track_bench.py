"""``facesel eval tracks``: how well each selection rule picks within the tracks of real videos.

Per video: :func:`facesel.eval.track_data.collect_tracks` (detector, tracker, crops, embeddings),
:func:`facesel.eval.track_persons.crop_distances` (each crop's distance to its person), then every
rule scores each track's crops and :mod:`facesel.eval.track_metrics` judges its pick. Totals are
means over the **eligible** tracks (those with at least one matchable crop and two or more crops:
where the choice can matter), with bootstrap intervals over tracks; ``rule - random`` is bootstrapped
on the per-track differences (paired).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facesel.eval import track_metrics as tm

RANDOM = "random (exact expectation)"


@dataclass
class TrackRecord:
    """One eligible track: where it comes from, its crop count and the distances."""

    video: str
    track_id: int
    crops: int
    best_distance: float
    picks: dict = field(default_factory=dict)  # rule -> TrackPick


def score_tracks(video, distances, rules: dict, min_crops: int = 2) -> list[TrackRecord]:
    """Apply every rule to every eligible track of one video."""
    records = []
    for idx in video.track_slices():
        d = distances[idx]
        if len(idx) < min_crops or not np.isfinite(d).all() or not (d < tm.MATCH_THRESHOLD).any():
            continue
        rec = TrackRecord(video.name, int(video.context.track_ids[idx[0]]), len(idx), float(d.min()))
        crops, context = video.crops[idx], video.context[idx]
        for name, rule in rules.items():
            s = np.asarray(rule(crops, context), np.float64).reshape(-1)
            if s.shape != (len(idx),):
                raise ValueError(f"rule {name!r} returned {s.shape[0]} scores for {len(idx)} crops")
            rec.picks[name] = tm.evaluate_pick(s, d)
        rec.picks[RANDOM] = tm.random_pick(d)
        records.append(rec)
    return records


def summarise(records: list[TrackRecord], n_boot: int = 2000, seed: int = 0) -> dict:
    """Per rule and metric: mean with its bootstrap interval, and ``rule - random`` with its interval."""
    if not records:
        return {}
    names = list(records[0].picks)
    rand = tm.as_table([r.picks[RANDOM] for r in records])
    summary = {}
    for name in names:
        table = tm.as_table([r.picks[name] for r in records])
        entry = {}
        for j, metric in enumerate(tm.METRICS):
            mean, lo, hi = tm.bootstrap_mean(table[:, j], n_boot, seed)
            dmean, dlo, dhi = tm.bootstrap_mean(table[:, j] - rand[:, j], n_boot, seed)
            entry[metric] = {"mean": mean, "low": lo, "high": hi, "minus_random": dmean, "minus_random_low": dlo,
                             "minus_random_high": dhi}
        summary[name] = entry
    return summary


def _fmt(e: dict, key: str = "mean") -> str:
    if key == "mean":
        return f"{e['mean']:.3f} [{e['low']:.3f}, {e['high']:.3f}]"
    return f"{e['minus_random']:+.3f} [{e['minus_random_low']:+.3f}, {e['minus_random_high']:+.3f}]"


def markdown_table(summary: dict) -> str:
    """The within-track table: one row per rule, 95 % bootstrap intervals in brackets."""
    lines = [
        "| rule | mean regret | smoothed regret | smoothed regret - random | matchable picks | pick distance | rank corr. (score, distance) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, e in summary.items():
        lines.append(
            f"| {name} | {_fmt(e['regret'])} | {_fmt(e['smoothed_regret'])} | "
            f"{'-' if name == RANDOM else _fmt(e['smoothed_regret'], 'diff')} | {_fmt(e['matchable'])} | "
            f"{_fmt(e['distance'])} | {_fmt(e['rank_correlation'])} |"
        )
    return "\n".join(lines)


def plot_summary(summary: dict, path: Path, title: str) -> Path:
    """Bar chart of the smoothed and raw regret per rule with their intervals (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(names)), 4))
    for offset, metric, label in ((-0.2, "regret", "regret"), (0.2, "smoothed_regret", "smoothed regret")):
        m = np.array([summary[n][metric]["mean"] for n in names])
        lo = np.array([summary[n][metric]["low"] for n in names])
        hi = np.array([summary[n][metric]["high"] for n in names])
        ax.bar(x + offset, m, 0.4, yerr=np.vstack([m - lo, hi - m]), capsize=3, label=label)
    ax.set_xticks(x, [n.replace(" (exact expectation)", "") for n in names], rotation=30, ha="right")
    ax.set_ylabel("matcher distance above the track's best")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_tracks(videos, rules: list[str], out, cache_dir=None, n_boot: int = 2000, seed: int = 0,
               progress: bool = False, command: str = "facesel eval tracks ...") -> dict:
    """Benchmark ``rules`` on ``videos``; writes tracks.md, tracks.json and tracks.png to ``out``.

    Returns
    -------
    dict with ``summary``, ``per_video`` (video -> summary), ``records`` and the output paths.
    """
    from facesel.eval.track_data import collect_tracks
    from facesel.eval.track_persons import crop_distances
    from facesel.eval.track_rules import build_rule, describe

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    built = {name: build_rule(name) for name in rules}
    records: list[TrackRecord] = []
    tracks_seen = {}
    for video_path in videos:
        video = collect_tracks(video_path, cache_dir=cache_dir, progress=progress)
        distances, _persons = crop_distances(video)
        tracks_seen[video.name] = len(video.track_slices())
        records += score_tracks(video, distances, built)
    summary = summarise(records, n_boot, seed)
    per_video = {v: summarise([r for r in records if r.video == v], n_boot, seed) for v in tracks_seen}
    md = [f"# Within-track selection: {len(records)} eligible tracks", "", f"Command: `{command}`", "",
          "Eligible: at least 2 crops and one crop the matcher can use (distance < 0.6). Regret: the pick's "
          "matcher distance minus the track's best; smoothed: on distances averaged over 5 consecutive crops. "
          "95 % bootstrap intervals over tracks in brackets; `- random` is paired per track.", "",
          markdown_table(summary), "", "## Rules", ""]
    md += [f"- `{n}`: {describe(n)}" for n in rules]
    md += ["", "## Per video", ""]
    for v, s in per_video.items():
        n = sum(r.video == v for r in records)
        md += [f"### {v}: {n} eligible of {tracks_seen[v]} tracks", ""]
        md += [markdown_table(s), ""] if s else ["(none eligible)", ""]
    (out / "tracks.md").write_text("\n".join(md) + "\n")
    payload = {
        "command": command, "summary": summary, "per_video": per_video, "tracks_per_video": tracks_seen,
        "tracks": [{"video": r.video, "track_id": r.track_id, "crops": r.crops, "best_distance": r.best_distance,
                    "picks": {k: vars(p) for k, p in r.picks.items()}} for r in records],
    }
    (out / "tracks.json").write_text(json.dumps(payload, indent=1, allow_nan=True))
    plot = plot_summary(summary, out / "tracks.png", f"{len(records)} tracks, {len(tracks_seen)} videos") if summary else None
    return {"summary": summary, "per_video": per_video, "records": records, "report": out / "tracks.md",
            "json": out / "tracks.json", "plot": plot}
