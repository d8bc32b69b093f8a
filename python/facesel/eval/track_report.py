"""The files ``facesel eval tracks`` writes: tracks.md (tables), tracks.json (every number and every
window's picks) and tracks.png (bar chart of the totals)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from facesel.eval.track_bench import (GATE_LOSO, HELD_OUT, RANDOM, RANK_LOSO, SINGLE_SIGNALS, TEMPORAL_LOSO, paired,
                                      summarise)


NO_INTERVAL = "[no interval: one clip]"


def _interval(mean: float, low: float, high: float, sign: str = "") -> str:
    """``mean [low, high]``; the bounds are NaN when the values come from one clip only."""
    if np.isnan(low) or np.isnan(high):
        return f"{mean:{sign}.3f} {NO_INTERVAL}"
    return f"{mean:{sign}.3f} [{low:{sign}.3f}, {high:{sign}.3f}]"


def _fmt(e: dict, key: str = "mean") -> str:
    if key == "mean":
        return _interval(e["mean"], e["low"], e["high"])
    return _interval(e["minus_random"], e["minus_random_low"], e["minus_random_high"], "+")


def markdown_table(summary: dict) -> str:
    """One row per rule: smoothed regret, its difference to random, regret, matchable, distance,
    rank correlation; 95 % clip-grouped bootstrap intervals in brackets."""
    lines = [
        "| rule | smoothed regret | smoothed regret - random | mean regret | matchable picks | pick distance | rank corr. (score, distance) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, e in summary.items():
        rc = "-" if name in HELD_OUT else _fmt(e["rank_correlation"])
        lines.append(
            f"| {name} | {_fmt(e['smoothed_regret'])} | {'-' if name == RANDOM else _fmt(e['smoothed_regret'], 'diff')} | "
            f"{_fmt(e['regret'])} | {_fmt(e['matchable'])} | {_fmt(e['distance'])} | {rc} |"
        )
    return "\n".join(lines)


def _ordered(summary: dict) -> dict:
    first = [n for n in HELD_OUT if n in summary]
    rest = [n for n in summary if n not in first and n != RANDOM]
    return {n: summary[n] for n in first + rest + [RANDOM]}


def comparisons(records, rule_names: list[str], n_boot: int, seed: int) -> list[dict]:
    """The paired comparisons the issue asks for (smoothed regret, clip-grouped intervals)."""
    out = []
    have = set(records[0].picks) if records else set()
    for head in (TEMPORAL_LOSO, GATE_LOSO):
        if head not in have:
            continue
        for other in [RANDOM, *SINGLE_SIGNALS, "default", "pick", "dose", RANK_LOSO]:
            if other in have:
                out.append(paired(records, head, other, n_boot=n_boot, seed=seed))
    if RANK_LOSO in have:
        for other in [RANDOM, "detector"]:
            out.append(paired(records, RANK_LOSO, other, n_boot=n_boot, seed=seed))
    # ("pick", "default"): what the VAE terms add to the context rule (the default since issue 22)
    for a, b in (("pick", "default"), ("default", RANDOM), ("pick", RANDOM), ("dose-mu", RANDOM), ("dose", RANDOM),
                 *((("default", s) for s in SINGLE_SIGNALS))):
        if a in have and b in have:
            out.append(paired(records, a, b, n_boot=n_boot, seed=seed))
    return out


def _per_source_table(records, bench, names: list[str], n_boot: int, seed: int) -> str:
    cols = [n for n in names if n in records[0].picks]
    lines = ["| source | clips | eligible windows (of all) | " + " | ".join(c.replace(" (exact expectation)", "") for c in cols) + " |",
             "|---|---|---|" + "---|" * len(cols)]
    for source in sorted(set(bench.sources.values())):
        recs = [r for r in records if r.source == source]
        clips = [c for c, s in bench.sources.items() if s == source]
        total = sum(bench.windows_seen[c] for c in clips)
        if not recs:
            lines.append(f"| {source} | {len(clips)} | 0 (of {total}) |" + " - |" * len(cols))
            continue
        s = summarise(recs, n_boot, seed)
        cells = [f"{s[c]['smoothed_regret']['minus_random']:+.3f}" for c in cols]
        for held in (TEMPORAL_LOSO, GATE_LOSO):
            if held in s and held in cols:
                e = s[held]["smoothed_regret"]
                cells[cols.index(held)] = f"{e['minus_random']:+.3f} [{e['minus_random_low']:+.3f}, {e['minus_random_high']:+.3f}]"
        lines.append(f"| {source} | {len(clips)} | {len(recs)} (of {total}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def eligibility_note(records, n_clips: int) -> list[str]:
    """The lines that say why tracks.md has no tables (no eligible window) or no intervals (the
    eligible windows come from one clip); empty otherwise. Counted over the clips that have an
    eligible window: a second video without one gives no second clip to resample (ux22)."""
    if not records:
        return ["**No eligible window: nothing to compare.** None of the "
                f"{n_clips} clip(s) had a track with at least 2 crops and one crop the matcher can use "
                "(no face found, faces too small or too short-lived, or no frontal frame to find the person on).", ""]
    if len({r.video for r in records}) < 2:
        return ["**One clip with eligible windows: no intervals.** A cluster bootstrap over one clip draws that "
                "clip every time; the figures below are that clip's, with nothing to say how they vary between "
                "clips. Give more videos (or a folder of them) for intervals and held-out choices.", ""]
    return []


def write_report(bench, choices: dict, rules: list[str], out: Path, command: str, window, n_boot: int = 2000,
                 seed: int = 0) -> dict:
    """Write tracks.md, tracks.json and tracks.png; returns their paths and the summaries."""
    from facesel.eval.track_rules import describe

    records = bench.records
    summary = _ordered(summarise(records, n_boot, seed)) if records else {}
    per_source = {s: _ordered(summarise([r for r in records if r.source == s], n_boot, seed))
                  for s in sorted(set(bench.sources.values())) if any(r.source == s for r in records)}
    pairs = comparisons(records, rules, n_boot, seed)
    win = "whole tracks" if window is None else f"windows of {window:g} s"
    md = [f"# Within-track selection: {len(records)} eligible {win} from {len(bench.sources)} clips, "
          f"{len(set(bench.sources.values()))} sources", "", f"Command: `{command}`", "",
          "Observation: one window of one track (long tracks cut into windows; a last window shorter than half "
          "joins the one before). Eligible: at least 2 crops and one crop the matcher can use (distance < 0.6). "
          "Regret: the pick's matcher distance minus the window's best; smoothed: on distances averaged over 5 "
          "consecutive crops. Means over windows; 95 % intervals by a cluster bootstrap over **clips** (windows of "
          "one clip are one person); `- random` and the comparisons are paired per window. The `chosen ...` rows "
          "are held-out: each window is scored by parameters chosen on the other sources (or clips) only. "
          "Ground truth: dlib's matcher distance of each crop to its person's frontal frames elsewhere "
          "in the clip (eval only).", ""]
    md += eligibility_note(records, len(bench.sources))
    if summary:
        md += ["## All clips", "", markdown_table(summary), ""]
    if pairs:
        md += ["## Paired comparisons (smoothed regret, a - b; negative: a picks better)", "",
               "| a | b | mean a - b [95 % CI, clip-grouped] |", "|---|---|---|"]
        md += [f"| {p['a']} | {p['b']} | {_interval(p['mean'], p['low'], p['high'], '+')} |" for p in pairs]
        md += [""]
    if records:
        md += ["## Per source (smoothed regret - random; the temporal and gate columns held out by source, with "
               "their intervals)", "",
               _per_source_table(records, bench, [TEMPORAL_LOSO, GATE_LOSO, "default", "pick", "detector", "sharpness",
                                                  "face-size", "frontal", "dose", "paper"], n_boot, seed), ""]
    if choices:
        md += ["## The parameters chosen per fold", ""]
        for label in HELD_OUT:
            if label in choices:
                distinct: dict = {}
                for fold, d in choices[label].items():
                    distinct.setdefault(d, []).append(fold)
                md += [f"{label}: " + "; ".join(f"`{d}` ({len(f)} folds)" for d, f in distinct.items()), ""]
        for family in ("temporal", "gate", "rank-sum"):
            if f"{family}, all" in choices:
                c = choices[f"{family}, all"]
                md += [f"{family} chosen on all windows (what would ship; in-sample {c['in_sample_smoothed_regret']:.3f}, "
                       f"not a result): `{c['describe']}`", ""]
    if bench.timing.get("crops"):
        t = bench.timing
        md += ["## CPU cost of the pick rule's parts (CPU time; each clip's parts in one process, summed over clips; "
               "ratios only)", "",
               f"{t['crops']} crops: context terms (today's default) {1e3 * t['context_cpu_s'] / t['crops']:.3f} ms a crop, "
               f"the pick rule's VAE terms (one encoder + decoder pass) {1e3 * t['default_vae_cpu_s'] / t['crops']:.2f} ms "
               f"a crop: **{t['default_vae_cpu_s'] / max(t['context_cpu_s'], 1e-9):.0f}x** the context terms; "
               f"dose at L = 10 {1e3 * t['dose_l10_cpu_s'] / t['crops']:.2f} ms a crop.", ""]
    if records:
        from facesel.eval.track_pose import markdown as pose_markdown

        md += ["## Landmark pose against the clips' real head movements", "", pose_markdown(bench.observations, bench.views), ""]
    md += ["## Rules", ""]
    md += [f"- `{n}`: {describe(n)}" for n in rules]
    md += ["- `gate, chosen ...`: facesel.scoring.gate.GateScorer, parameters from "
           "facesel.eval.track_heldout.gate_grid() (2,100 candidates) chosen by the lowest mean smoothed regret on the "
           "other folds",
           "- `rank-sum, chosen ...`: the sum of 1 to 3 signals' within-window ranks "
           "(facesel.eval.track_heldout.rank_sum_grid(), 63 candidates), chosen the same way; an evaluation "
           "comparison (track-relative: not a per-crop scorer)",
           "- `temporal, chosen ...`: facesel.eval.track_heldout.temporal_rule(): a base value (the default, the "
           "detector's confidence or frontal) as is or smoothed over +-1 or +-2 crops (mean or median), ranked "
           "within the window, with crops at least 0, 0.5 or 1 s from their track's ends first (45 candidates, "
           "temporal_grid()), chosen the same way; track-relative (it needs the track's end): an evaluation "
           "comparison, not yet a Selector rule", ""]
    md += ["## Per source", ""]
    for source, s in per_source.items():
        clips = sorted(c for c, src in bench.sources.items() if src == source)
        n = sum(r.source == source for r in records)
        md += [f"### {source}: {n} eligible windows, {len(clips)} clips", "", ", ".join(clips), "", markdown_table(s), ""]
    out.mkdir(parents=True, exist_ok=True)
    (out / "tracks.md").write_text("\n".join(md) + "\n")
    payload = {
        "command": command, "window_s": window, "summary": summary, "per_source": per_source, "comparisons": pairs,
        "choices": choices, "sources": bench.sources, "windows_per_clip": bench.windows_seen, "timing": bench.timing,
        "windows": [{"video": r.video, "source": r.source, "track_id": r.track_id, "window": r.window,
                     "crops": r.crops, "best_distance": r.best_distance,
                     "picks": {k: vars(p) for k, p in r.picks.items()}} for r in records],
    }
    (out / "tracks.json").write_text(json.dumps(payload, separators=(",", ":"), allow_nan=True))  # compact: one entry per window
    plot = plot_summary(summary, out / "tracks.png", f"{len(records)} windows from {len({r.video for r in records})} "
                                                    f"of {len(bench.sources)} clips") if summary else None
    return {"summary": summary, "per_source": per_source, "comparisons": pairs, "report": out / "tracks.md",
            "json": out / "tracks.json", "plot": plot,
            "note": " ".join(eligibility_note(records, len(bench.sources))).replace("**", "").strip()}


def plot_summary(summary: dict, path: Path, title: str) -> Path:
    """Bar chart of the smoothed regret minus random per rule with its interval (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in summary if n != RANDOM]
    x = np.arange(len(names))
    m = np.array([summary[n]["smoothed_regret"]["minus_random"] for n in names])
    lo = np.array([summary[n]["smoothed_regret"]["minus_random_low"] for n in names])
    hi = np.array([summary[n]["smoothed_regret"]["minus_random_high"] for n in names])
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(names)), 4.5))
    if np.isnan(lo).all():  # one clip: no interval to draw (see grouped_bootstrap_mean)
        ax.bar(x, m, 0.6)
        title += " (one clip: no intervals)"
    else:
        ax.bar(x, m, 0.6, yerr=np.vstack([m - lo, hi - m]), capsize=3)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xticks(x, names, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("smoothed regret - random (lower is better)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
