"""The evaluation's tables: ``report.md`` (for people) and ``results.json`` (for programs)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from facesel.eval.analysis import GRID, LIMITS
from facesel.eval.cache import CACHE_WARNING
from facesel.eval.matcher import MATCHER_NOTE
from facesel.eval.protocol import REFERENCE_RULE

MIN_ERRORS = 20
"""Below this many false non-matches a curve's gains are flagged as unreliable."""

NORMALISATION_NOTE = (
    "pAUC is the exact area under the step curve from 0 to the discard limit, divided by the limit "
    "(= the mean FNMR over that range; lower is better). gain = (pAUC_random - pAUC) / "
    "(pAUC_random - pAUC_ideal): 0 = no better than random rejection, 1 = ideal (rejecting by the "
    "true distance), negative = worse than random. Random rejection's pAUC is its exact expectation "
    "(initial FNMR x limit); the mean of the seeded random orderings is in results.json and the plots. Discards go by quality level (ties kept or "
    "dropped together), so the x axis is the actual fraction discarded."
)
CI_NOTE = (
    "[a, b] = 95% percentile bootstrap interval over subjects (thresholds fixed from the full set). "
    "A difference inside the intervals is not a win."
)
DEGRADE_NOTE = (
    "Every probe (never a reference) is degraded in memory by one kind drawn uniformly from "
    "facesel.eval.degrade.KINDS at a severity drawn uniformly from [0, 1], seeded."
)


def _fmt(x: float) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _cell(row: dict, key: str) -> str:
    text = _fmt(row[key])
    if f"{key}_ci" in row:
        lo, hi = row[f"{key}_ci"]
        text += f" [{_fmt(lo)}, {_fmt(hi)}]"
    return text


def _per_kind_table(heading: str, intro: str, values: dict, fmt) -> list[str]:
    """A markdown section: ``heading``, ``intro``, then a table of one row per degradation kind
    (sorted) and one column per method, in ``values``' order ({method: {kind: float}}; a kind a
    method lacks is NaN), each cell ``fmt(value)``; a blank line after."""
    names = list(values)
    lines = [heading, "", intro, "", "| kind | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for k in sorted({k for v in values.values() for k in v}):
        lines.append(f"| {k} | " + " | ".join(fmt(values[n].get(k, float("nan"))) for n in names) + " |")
    return lines + [""]


def write_report(out: Path, meta: dict, results: dict, families: dict, unavailable: dict, kinds: dict | None, notes: list,
                 kind_rho: dict | None = None) -> tuple[Path, Path]:
    """Write ``report.md`` and ``results.json`` into ``out``; returns their paths."""
    out = Path(out)
    lines = [f"# facesel eval erc: {meta['dataset']}{' (degraded probes, seed %d)' % meta['degrade_seed'] if meta['degrade_seed'] is not None else ''}", ""]
    lines += [
        f"- Command: `{meta['command']}`",
        f"- Data: `{meta['data']}`: {meta['subjects']} subjects, {meta['images']} images, {meta['probes']} probes "
        f"(face found by the aligner in {meta['detected']} of {meta['images']} images; else the whole image was the box)",
        f"- {MATCHER_NOTE}",
        f"- {REFERENCE_RULE}",
    ]
    if meta["degrade_seed"] is not None:
        lines.append(f"- {DEGRADE_NOTE}")
    lines += [f"- {NORMALISATION_NOTE}", f"- {CI_NOTE}", f"- {CACHE_WARNING} Cache: `{meta['cache']}`", ""]
    header = "| method | family | " + " | ".join(f"pAUC@{L:.0%} | gain@{L:.0%}" for L in LIMITS) + " |"
    rule = "|---|---|" + "---|---|" * len(LIMITS)
    for res in results.values():
        lines += [
            f"## {res.title}",
            "",
            f"Threshold {res.threshold:.4f}; initial FNMR {res.initial_error:.4f} ({res.n_errors} of {res.n_comparisons} comparisons fail).",
            "",
        ]
        if res.n_errors < MIN_ERRORS:
            lines += [
                f"**Only {res.n_errors} false non-matches: this curve turns on a handful of comparisons. Its "
                "gains and intervals are not reliable; draw no conclusion from it.**",
                "",
            ]
        lines += [
            header,
            rule,
        ]
        for name, row in res.rows.items():
            family = families.get(name, "control" if name == "random" else "oracle (true distance)")
            cells = " | ".join(f"{_cell(row, f'pauc@{L:g}')} | {_cell(row, f'gain@{L:g}')}" for L in LIMITS)
            lines.append(f"| {name} | {family} | {cells} |")
        for name, why in unavailable.items():
            lines.append(f"| {name} | {families.get(name, '')} | not available: {why} |" + " |" * (2 * len(LIMITS) - 1))
        lines.append("")
    vae = [n for n in families if n.startswith("vae") and n not in unavailable]
    others = [n for n in families if not n.startswith("vae") and n not in unavailable]
    if vae and others:
        lines += [
            "## Does the VAE beat the baselines? (paired bootstrap, gain at 20% discard)",
            "",
            "Gain difference VAE - baseline [95% interval, same resamples]; `yes` (VAE better) or `no` (baseline better) only where the "
            "interval excludes 0, else `tie` (not distinguishable on this data).",
            "",
        ]
        for res in results.values():
            lines += [f"**{res.name}**", "", "| VAE method | " + " | ".join(others) + " |", "|---|" + "---|" * len(others)]
            for a in vae:
                cells = []
                for b in others:
                    entry = res.paired.get(f"{a} vs {b}@0.2") or res.paired.get(f"{b} vs {a}@0.2")
                    sign = 1.0 if f"{a} vs {b}@0.2" in res.paired else -1.0
                    d = sign * entry["gain_difference"]
                    lo, hi = sorted(sign * np.asarray(entry["ci"]))
                    verdict = "yes" if lo > 0 else "no" if hi < 0 else "tie"
                    if res.n_errors < MIN_ERRORS:
                        verdict = "(too few errors to say)"
                    cells.append(f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}] {verdict}")
                lines.append(f"| {a} | " + " | ".join(cells) + " |")
            lines.append("")
    if kinds:
        lines += _per_kind_table(
            "## Which degradations each method notices",
            "Mean percentile rank of the probes of each kind among all probes (0.5 = not noticed; lower = "
            "scored as worse). The `ideal` column ranks by the true distance: it shows which kinds hurt the matcher.",
            kinds, _fmt)
    if kind_rho:
        lines += _per_kind_table(
            "## Does each method fall with each degradation's severity?",
            "Spearman(severity, quality) over the probes of each kind (each probe one face at its own severity, "
            "pooled over faces; -1 = the quality falls as the degradation grows, 0 = unrelated). The `ideal` column "
            "uses minus the true distance: how much each kind's severity hurts the matcher. n/a: the quality is constant within the kind.",
            kind_rho, lambda v: "n/a" if np.isnan(v) else f"{v:+.2f}")
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    md = out / "report.md"
    md.write_text("\n".join(lines))

    payload = {
        "meta": meta,
        "notes": {"matcher": MATCHER_NOTE, "reference_rule": REFERENCE_RULE, "normalisation": NORMALISATION_NOTE, "ci": CI_NOTE, "other": notes},
        "families": families,
        "unavailable": unavailable,
        "grid": GRID.tolist(),
        "protocols": {
            name: {
                "title": r.title,
                "threshold": r.threshold,
                "initial_error": r.initial_error,
                "n_comparisons": r.n_comparisons,
                "n_errors": r.n_errors,
                "rows": r.rows,
                "curves": {k: v.tolist() for k, v in r.curves.items()},
                "paired": r.paired,
            }
            for name, r in results.items()
        },
        "kind_ranks": kinds,
        "kind_spearman": kind_rho,
    }
    js = out / "results.json"
    js.write_text(json.dumps(payload, indent=1, allow_nan=True))
    return md, js
