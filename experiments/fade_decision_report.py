"""The registered leave-one-family-out choice of a fade decision and its adoption checks
(experiments/fade_decision_registered.md), from the caches of ``fade_decision_loso.py``:

    python experiments/fade_decision_loso.py loso

Runs whose fires under a candidate equal today's give today's output (the cue's decision is the
only thing a candidate changes), so only runs whose fires differ enter the sums, as differences.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from fade_decision_loso import CANDIDATES

FAMILIES = ("signers", "liveportrait", "retalking", "other")
OTHER_FIRES = Path("/tmp/cut22-fires.pkl")
"""``experiments/cut_decision_loso.py fires``' record of today's cue on the 40 shared videos and
the crowds (made by session 22's cut22; remade by that command)."""


def family_of(material: str, family: str, name: str) -> str:
    """The clip family a run belongs to (a splice's by its first clip)."""
    if material != "splices" or family == "signers":
        return family
    clip = name.split(" ", 1)[1]
    return "liveportrait" if clip.startswith("LivePortrait") else "retalking" if clip.startswith("video-retalking") else "other"


def genuine(material: str, name: str) -> bool:
    """A run of one person throughout: every split there splits a genuine track."""
    return material == "pans" or name.startswith("return") or name.startswith("alone")


def result(row: dict, candidate: str) -> dict:
    """The candidate's pipeline figures on a run (today's where its fires equal today's)."""
    return row["results"].get(candidate, row["results"]["today"])


def totals(changes: dict, candidate: str, families, which) -> dict:
    """Sums over the runs of ``families`` that ``which(material, name)`` keeps."""
    out = {"runs": 0, "fade_splits": 0, "snapshots": 0, "wrong": 0}
    for m, rows in changes.items():
        for row in rows:
            if candidate not in CANDIDATES and candidate not in row["results"]:
                continue  # nofade: measured on some runs only (its fires differ on every run with a fade)
            if family_of(m, row["family"], row["name"]) in families and which(m, row["name"]):
                r = result(row, candidate)
                out["runs"] += 1
                out["fade_splits"] += r["fade_splits"]
                out["snapshots"] += r["snapshots"]
                out["wrong"] += r["wrong"]
    return out


def splice_check(fires: dict, changes: dict, candidate: str) -> list[str]:
    """Cross-fade switches today's fade catches that ``candidate`` loses, and splices whose wrong
    joins rise under it."""
    lost = []
    for row in fires.get("splices", []):
        if not row["name"].startswith("fade"):
            continue
        b = row["cuts"][0]
        near = lambda fs: [f for f in fs if abs(f[0] - b) <= 6]
        if near(row["fires"]["today"]) and not near(row["fires"][candidate]):
            lost.append(f"{row['name']}: no fire at the boundary")
    for row in changes.get("splices", []):
        if result(row, candidate)["wrong"] > row["results"]["today"]["wrong"]:
            lost.append(f"{row['name']}: wrong joins {row['results']['today']['wrong']} -> {result(row, candidate)['wrong']}")
    return lost


def report(fires: dict, changes: dict) -> None:
    order = list(CANDIDATES)
    real = lambda m, n: genuine(m, n)  # noqa: E731
    for c in order + ["nofade"]:
        for m in ("pans", "edge", "splices"):
            g = totals({m: changes.get(m, [])}, c, FAMILIES, real)
            nxt = totals({m: changes.get(m, [])}, c, FAMILIES, lambda m_, n: not genuine(m_, n))
            print(f"{c:7s} {m:7s} one-person runs changed {g['runs']}: fade splits {g['fade_splits']}, snapshots "
                  f"{g['snapshots']}, wrong {g['wrong']}; two-person runs {nxt['runs']}: snapshots {nxt['snapshots']}, "
                  f"wrong joins {nxt['wrong']}, fade splits {nxt['fade_splits']}")

    def choose(families):
        return min(order, key=lambda c: (totals(changes, c, families, real)["fade_splits"],
                                         totals(changes, c, families, real)["snapshots"], order.index(c)))

    held = {"fade_splits": 0, "snapshots": 0}
    base = {"fade_splits": 0, "snapshots": 0}
    wrong_rise = []
    for f in FAMILIES:
        pick = choose([g for g in FAMILIES if g != f])
        got, today = totals(changes, pick, [f], real), totals(changes, "today", [f], real)
        for k in held:
            held[k] += got[k]
            base[k] += today[k]
        w_pick = totals(changes, pick, [f], lambda m, n: not genuine(m, n))["wrong"]
        w_today = totals(changes, "today", [f], lambda m, n: not genuine(m, n))["wrong"]
        if w_pick > w_today:
            wrong_rise.append(f)
        print(f"fold {f}: chosen {pick}; held out genuine fade splits {today['fade_splits']} -> {got['fade_splits']}, "
              f"snapshots {today['snapshots']} -> {got['snapshots']} (on its {got['runs']} changed one-person runs); "
              f"two-person wrong joins {w_today} -> {w_pick}")
    final = choose(list(FAMILIES))
    print(f"held out: {base} -> {held}; chosen on all four families: {final}")
    lost = splice_check(fires, changes, final)
    quiet = "not checked (no record)"
    mine = {m: fires[m] for m in ("shared", "crowds", "intercut", "blanked") if m in fires}
    if mine:  # fade_decision_loso.py fires --only shared crowds intercut blanked
        quiet = {m: f"{len(rows)} runs, {sum(any(k == 'fade' for _, k in r['fires']['today']) for r in rows)} with a "
                    f"fade today, {sum(r['fires'][final] != r['fires']['today'] for r in rows)} whose fires differ under {final}"
                 for m, rows in mine.items()}
    elif OTHER_FIRES.exists():
        other = pickle.loads(OTHER_FIRES.read_bytes())
        quiet = {m: sum(any(k == "fade" for _, k in r["fires"]["today"]) for r in other.get(m, []))
                 for m in ("shared", "crowds", "intercut", "blanked")}
    print(f"(a) held-out genuine fade splits fall: {held['fade_splits'] < base['fade_splits']}; "
          f"(b) families whose wrong joins rise: {wrong_rise}; (c) switches lost: {lost or 'none'}; "
          f"(d) runs with a fade fire today (so possibly changed): {quiet}")
    for c in order[1:]:
        print(f"{c}: switches lost {splice_check(fires, changes, c) or 'none'}")
