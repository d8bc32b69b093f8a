"""Every extra snapshot and every wrong join of the default on intercut material, accounted for (issue 23, session 23, persons26).

    nice -n 5 python experiments/intercut_account26.py run [--variants default shot25 ...] [--cache DIR]
    python experiments/intercut_account26.py report [--variants ...] [--cache DIR] [--lines]

Material: :mod:`facesel.eval.intercut_variants` (made in memory; ``default`` is ``facesel eval
intercut``'s material). The default Selector (``settings`` none, the Laplacian scorer, as
``facesel eval intercut``), one run per interview / control, instrumented from outside (the
finaliser's ``observe`` and ``add`` and the shot memory's ``record`` are wrapped; nothing the
pipeline decides changes):

- per tracker track: the frames it was seen on (so a snapshot whose single tracker track holds two
  persons' frames is a **tracker-level** join, and one made of two tracks of two persons a
  **link** join, named with the link: ordinary or shot-return, from ``Finaliser.links`` /
  ``shot_returns``);
- every cut the finaliser recorded (frame, the thumbnails before and after);
- for every extra snapshot (a person's second, third, ...: ordered by first frame), the track
  that begins it and the person's track that ended last before it, and which shot-return gate
  refuses that pair, in :meth:`facesel.select.shot_return.ShotMemory.cost`'s order, with the value
  it read: ``not ended at a cut`` (no cut within ``end_seconds`` after the earlier track's last
  observation), ``thumb`` (the cut back's thumbnail more than ``thumb_distance`` from the one
  before the cut away), ``late start`` (the later track starts more than ``start_seconds`` after
  the cut back, or another cut came first), ``size``, ``place``, ``no colours``, ``colours``; or
  ``passes`` (every gate passes: lost to another link, or never asked); and where the later track
  does not start at a shot's first frames, ``within shot`` with the earlier's ``ended_by``;
- for every control person without a snapshot: the snapshot that holds their frames.

Per-run records are cached as JSON in ``--cache`` (default /tmp/intercut-account26), one file per
variant.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

START_FRAMES = 12
"""A track that starts at most this many frames after a shot's first frame starts "at the shot"
(the detector may need a few frames on a new shot; the link's ``start_seconds`` is 0.5 s)."""


class Recorder:
    """Wraps the finaliser's ``observe`` / ``add`` and ShotMemory's ``record`` for one run."""

    def __init__(self) -> None:
        self.frames = defaultdict(list)  # tracker track id -> frames seen
        self.evidence = {}  # tracker track id -> its TrackEvidence at close
        self.cuts = []  # (frame, time, before, after)

    def install(self):
        from facesel.select.finalise import Finaliser
        from facesel.select.shot_return import ShotMemory

        rec = self
        originals = (Finaliser.observe, Finaliser.add, ShotMemory.record)

        def observe(self, packet):
            for t in packet.update.track_ids.tolist():
                rec.frames[int(t)].append(int(packet.index))
            return originals[0](self, packet)

        def add(self, result, now):
            ev = self.evidence.get(int(result.track_id))
            if ev is not None:
                rec.evidence[int(result.track_id)] = ev
            return originals[1](self, result, now)

        def record(self, frame, time_, before, after, *settle):
            rec.cuts.append((int(frame), float(time_), before, after))
            return originals[2](self, frame, time_, before, after, *settle)

        Finaliser.observe, Finaliser.add, ShotMemory.record = observe, add, record
        return originals

    @staticmethod
    def uninstall(originals) -> None:
        from facesel.select.finalise import Finaliser
        from facesel.select.shot_return import ShotMemory

        Finaliser.observe, Finaliser.add, ShotMemory.record = originals


def explain(rule, cuts: list, earlier, later) -> tuple[str, dict]:
    """Which shot-return gate refuses ``later`` continuing ``earlier`` (module docstring), with the
    values read; the gates of :meth:`ShotMemory.cost` in its order, against every recorded cut."""
    from facesel.select.link_ends import _measured, _typical
    from facesel.select.shot_return import Cut, ShotMemory
    from facesel.track_cues import distance as colour_distance
    from facesel.track_cues import moved_difference

    memory = ShotMemory(rule)
    memory.cuts = list(Cut(f, t, b, a) for f, t, b, a in cuts)  # every cut of the run (a run has at most 5)
    values = {}
    after = [c for c in memory.cuts if c.frame > earlier.last_frame]
    away = memory.cut_after(earlier)
    if away is None:
        values["next_cut_after_s"] = None if not after else round(after[0].time - earlier.last_time, 2)
        return "not ended at a cut", values
    values["away"] = away.frame
    back = [c for c in memory.cuts if away.frame < c.frame <= later.first_frame]
    if not back:
        return "no cut back", values
    cut = back[-1]
    values["back"] = cut.frame
    values["thumb"] = round(float(moved_difference(cut.after, away.before)), 1)
    values["start_s"] = round(later.first_time - cut.time, 2)
    if cut.time - away.time > rule.max_seconds:
        return "too long away", values
    if values["start_s"] > rule.start_seconds:
        return "late start", values
    if values["thumb"] > rule.thumb_distance:
        return "thumb", values
    a, b = earlier.last_box, later.first_box
    side_a = math.sqrt(max(a[2] - a[0], 0.0) * max(a[3] - a[1], 0.0))
    side_b = math.sqrt(max(b[2] - b[0], 0.0) * max(b[3] - b[1], 0.0))
    values["size_ratio"] = round(max(side_a, side_b) / max(min(side_a, side_b), 1e-9), 2)
    if values["size_ratio"] > rule.max_size_ratio:
        return "size", values
    centre = np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2)
    values["place"] = round(float(centre) / ((side_a + side_b) / 2), 2)
    if values["place"] > rule.max_distance:
        return "place", values
    tail, head = _measured(earlier, "tail", rule.window), _measured(later, "head", rule.window)
    if not tail or not head:
        return "no colours", values
    values["colours"] = round(float(colour_distance(_typical(tail), _typical(head))), 2)
    if values["colours"] > rule.colour_distance:
        return "colours", values
    return "passes", values


def shot_starts(owner: list) -> list:
    """The first frame of every shot (a change of the construction's person; a blend counts as its
    own run of -1 and the shot starts after it)."""
    starts = [0]
    for k in range(1, len(owner)):
        if owner[k] != owner[k - 1] and owner[k] >= 0:
            starts.append(k)
    return starts


CANDIDATES = {"today": {}, "earliest": {"prefer_earliest": True}, "small": {"small_without_colours": True},
              "earliest_small": {"prefer_earliest": True, "small_without_colours": True}}
"""docs/prereg_intercut26.md's candidates: ShotReturnRule fields changed from the default."""


def run_one(frames, owner, major, detector, scorer, fps=25.0, candidate="today") -> dict:
    """One default-Selector run (``candidate``: the shot-return rule of :data:`CANDIDATES`),
    accounted (module docstring): a JSON-able dict."""
    from facesel.eval.intercut import selector_run
    from facesel.select.shot_return import ShotReturnRule

    settings = {}
    if candidate != "today":  # the default finaliser with another shot-return rule (as run_intercut builds it)
        from facesel.config import PipelineConfig
        from facesel.select.faceness import FacenessRule
        from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser

        config = PipelineConfig()
        faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=not config.keep_static)
        settings["post_close"] = [Finaliser.for_scorer(scorer, config.margin, faceness=faceness,
                                                       shot_return=ShotReturnRule(**CANDIDATES[candidate]),
                                                       cut_veto="start")]
    rec = Recorder()
    originals = rec.install()
    try:
        selector, delivered, seconds = selector_run(frames, fps, detector, scorer, **settings)
    finally:
        Recorder.uninstall(originals)
    fin = selector.finaliser
    links = [tuple(map(int, p)) for p in getattr(fin, "links", [])]
    shot_links = {tuple(map(int, p)) for p in getattr(fin, "shot_returns", [])}
    rule = fin.shots.rule if fin.shots is not None else ShotReturnRule()
    persons = sorted({p for p in owner if p >= 0})
    starts = shot_starts(owner)
    track_person = {t: sorted({owner[f] for f in fs if owner[f] >= 0}) for t, fs in rec.frames.items()}
    # whose a track mostly is (a track that slid onto another person at its end is still its first's)
    track_major = {t: max(ps, key=lambda p: sum(owner[f] == p for f in rec.frames[t])) for t, ps in track_person.items() if ps}
    snaps = []
    for r in delivered:
        fset = {int(f) for f in r.frame_indices}
        people = sorted({owner[f] for f in fset if owner[f] >= 0})
        tracks = sorted(t for t, fs in rec.frames.items() if fs and fs[0] in fset and set(fs) <= fset)
        snaps.append({"track": int(r.track_id), "first": int(min(fset)), "last": int(max(fset)),
                      "person": major[int(r.best.frame_index)], "persons": people, "tracks": tracks,
                      "frames_by_person": {str(p): sum(owner[f] == p for f in fset) for p in people}})
    out = {"persons": len(persons), "snapshots": len(snaps), "seconds": round(seconds, 1),
           "cuts": [c[0] for c in rec.cuts], "shot_starts": starts, "links": links,
           "shot_links": sorted(shot_links), "snaps": snaps, "wrong": [], "extra": [], "without": []}
    # wrong joins: a tracker track holding two persons, else the link between two persons' tracks
    for s in snaps:
        if len(s["persons"]) < 2:
            continue
        mixed = [t for t in s["tracks"] if len(track_person.get(t, [])) > 1]
        if mixed:
            t = mixed[0]
            fs = rec.frames[t]
            known = [f for f in fs if owner[f] >= 0]  # a cross-fade's blended frames are both persons'
            switch = next((f for f, g in zip(known, known[1:]) if owner[g] != owner[f]), None)
            out["wrong"].append({"how": "tracker", "track": t, "persons": s["persons"], "frames": [fs[0], fs[-1]],
                                 "switch_at": switch, "frames_by_person": s["frames_by_person"]})
        else:
            pairs = [(a, b) for a, b in links if a in s["tracks"] or b in s["tracks"]]
            bad = [(a, b) for a, b in pairs
                   if track_person.get(a) and track_person.get(b) and track_person[a] != track_person[b]]
            out["wrong"].append({"how": "shot-return link" if any(p in shot_links for p in bad) else "link",
                                 "links": bad or pairs, "persons": s["persons"],
                                 "frames_by_person": s["frames_by_person"]})
    # extra snapshots: each person's snapshots after the first, by first frame
    by_person = defaultdict(list)
    for s in snaps:
        by_person[s["person"]].append(s)
    for person, items in by_person.items():
        items.sort(key=lambda s: s["first"])
        for s in items[1:]:
            later_id = min(s["tracks"], key=lambda t: rec.frames[t][0]) if s["tracks"] else s["track"]
            later = rec.evidence.get(later_id)
            first = rec.frames[later_id][0] if later_id in rec.frames else s["first"]
            shot = max(k for k in starts if k <= first)
            at_shot = first - shot <= START_FRAMES and shot > 0
            mine = [t for t, fs in rec.frames.items() if fs and fs[-1] < first and track_major.get(t) == person
                    and t in rec.evidence]
            row = {"person": person, "later_track": later_id, "starts": first, "shot": shot,
                   "return": at_shot}
            if not mine or later is None:
                row["why"] = "no earlier track of theirs with evidence"
            else:
                earlier_id = max(mine, key=lambda t: rec.frames[t][-1])
                earlier = rec.evidence[earlier_id]
                row["earlier_track"] = earlier_id
                row["earlier_ends"] = rec.frames[earlier_id][-1]
                row["ended_by"] = getattr(earlier, "ended_by", None)
                if at_shot:
                    row["why"], row["values"] = explain(rule, rec.cuts, earlier, later)
                else:
                    row["why"] = "within shot"
            out["extra"].append(row)
    for p in persons:
        if p not in by_person:
            holders = [s for s in snaps if p in s["persons"]]
            out["without"].append({"person": p, "held_by": [{"person": h["person"], "persons": h["persons"],
                                                               "tracks": h["tracks"]} for h in holders]})
    return out


def cache_path(cache: Path, variant: str, candidate="today", families_only=None, kinds=("interview", "control")) -> Path:
    """``VARIANT[.CANDIDATE][.FAMILIES][.KINDS].json`` under ``cache``."""
    parts = [variant] + ([candidate] if candidate != "today" else []) + (sorted(families_only) if families_only else [])
    parts += [] if tuple(kinds) == ("interview", "control") else list(kinds)
    return cache / (".".join(parts) + ".json")


def for_each_run(path: Path, variant: str, families_only, kinds, one) -> list:
    """The rows of every run of ``variant`` (its families ``families_only``, or all; its ``kinds``),
    cached as JSON at ``path``: read from there when it exists, else ``one(frames, owner, major,
    detector, scorer, family, kind, clips)`` per run (one default detector and Laplacian scorer,
    OpenCV on one thread), its results written there. Shared by the variants' end-to-end scripts
    (this one, ``tv27_account.py``, ``dissolve28_run.py``)."""
    import cv2

    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval.intercut_variants import variant_material
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.selector import default_detector

    if path.is_file():
        return json.loads(path.read_text())
    cv2.setNumThreads(1)
    detector, scorer = default_detector(PipelineConfig()), LaplacianVarianceScorer()
    rows = [one(frames, owner, major, detector, scorer, family, kind, clips)
            for family, kind, clips, frames, owner, major in variant_material(data_root(), variant, families_only, kinds)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows))
    return rows


def held_out(figs: dict, candidate: str, families) -> tuple[list, list]:
    """Leave one family out, ``candidate`` against ``"today"``: each fold chooses by the other
    families' figures (fewer wrong joins, then fewer snapshots, then fewer persons without; ties to
    today) and prints its held-out family's figures. ``figs``: {candidate: {family: :func:`figures`}}.
    Returns the totals (snapshots, persons, wrong, without) of today and of the chosen."""
    total = {"today": [0, 0, 0, 0], "chosen": [0, 0, 0, 0]}
    for held in families:
        def key(c):
            fs = [figs[c][f] for f in families if f != held]
            return (sum(x["wrong"] for x in fs), sum(x["snapshots"] for x in fs), sum(x["without"] for x in fs),
                    c != "today")
        choice = min(("today", candidate), key=key)
        t, h = figs["today"][held], figs[choice][held]
        for name, f in (("today", t), ("chosen", h)):
            total[name] = [a + b for a, b in zip(total[name], (f["snapshots"], f["persons"], f["wrong"], f["without"]))]
        print(f"  {held:12s} chooses {choice:12s}: snapshots {t['snapshots']} -> {h['snapshots']} / {t['persons']}, "
              f"wrong {t['wrong']} -> {h['wrong']}, without {t['without']} -> {h['without']}")
    return total["today"], total["chosen"]


def run_variant(variant: str, cache: Path, families_only=None, candidate="today",
                kinds=("interview", "control")) -> list:
    """Every run of ``variant`` under ``candidate`` (cached, :func:`cache_path`)."""
    from facesel.eval.intercut import clip_label

    def one(frames, owner, major, detector, scorer, family, kind, clips):
        row = run_one(frames, owner, major, detector, scorer, candidate=candidate)
        row.update(family=family, kind=kind, clips=[clip_label(c) for c in clips])
        print(f"{variant} {candidate} {family:12s} {kind:9s} {' | '.join(row['clips'])}: {row['snapshots']} / {row['persons']}, "
              f"wrong {len(row['wrong'])}, extra {len(row['extra'])}, without {len(row['without'])} "
              f"({row['seconds']} s)", flush=True)
        return row

    return for_each_run(cache_path(cache, variant, candidate, families_only, kinds), variant, families_only, kinds, one)


def report(variant: str, rows: list, lines: bool) -> None:
    """Per family: interviews and controls (snapshots / persons, wrong joins, without), and one line
    per extra snapshot, wrong join and person without."""
    fams = sorted({r["family"] for r in rows})
    print(f"== {variant}")
    for kind in ("interview", "control"):
        total = [0, 0, 0, 0]
        for fam in fams + ["all"]:
            rs = [r for r in rows if r["kind"] == kind and (fam == "all" or r["family"] == fam)]
            if not rs:
                continue
            t = [sum(r["snapshots"] for r in rs), sum(r["persons"] for r in rs), sum(len(r["wrong"]) for r in rs),
                 sum(len(r["without"]) for r in rs)]
            if fam != "all":
                total = [a + b for a, b in zip(total, t)]
            print(f"  {kind:9s} {fam:12s} {t[0]:3d} / {t[1]:3d} = {t[0] / t[1]:.2f}  wrong {t[2]}  without {t[3]}")
    whys = defaultdict(int)
    for r in rows:
        for e in r["extra"]:
            skipped = e["why"] == "passes" and any(a == e.get("earlier_track") and b != e["later_track"]
                                                   for a, b in r["shot_links"])
            whys[(r["kind"], "passes, skipped" if skipped else e["why"])] += 1
    print("  extras by cause:", dict(sorted(whys.items())))
    if not lines:
        return
    for r in rows:
        head = f"  {r['family']:12s} {r['kind']:9s} {' | '.join(r['clips'])}"
        for e in r["extra"]:
            if e["why"] == "passes":  # every gate passes: did the earlier's chain go on to a later return?
                onward = [b for a, b in r["shot_links"] if a == e.get("earlier_track") and b != e["later_track"]]
                e["why"] = f"passes; skipped: its chain went on by a shot return to track {onward[0]}" if onward \
                    else "passes; not asked"
            print(f"{head}: EXTRA person {'ABC'[e['person']]} track {e['later_track']} from frame {e['starts']} "
                  f"(shot at {e['shot']}{', a return' if e['return'] else ''}); earlier track "
                  f"{e.get('earlier_track')} ended {e.get('earlier_ends')} (ended_by {e.get('ended_by')}): "
                  f"{e['why']} {e.get('values', '')}")
        for w in r["wrong"]:
            print(f"{head}: WRONG JOIN {w}")
        for w in r["without"]:
            print(f"{head}: WITHOUT person {'ABC'[w['person']]}: held by {w['held_by']}")


def figures(rows: list, family: str) -> dict:
    """A family's interview snapshots and persons, wrong joins (interviews + controls), persons
    without a snapshot (interviews + controls)."""
    rs = [r for r in rows if r["family"] == family]
    iv = [r for r in rs if r["kind"] == "interview"]
    return {"snapshots": sum(r["snapshots"] for r in iv), "persons": sum(r["persons"] for r in iv),
            "wrong": sum(len(r["wrong"]) for r in rs), "without": sum(len(r["without"]) for r in rs)}


def candidate_rows(cache: Path, variant: str, candidate: str) -> tuple[list, list]:
    """(rows, notes): ``candidate``'s runs of ``variant``, where a run was not made under it, the
    run that it equals by construction (docs/prereg_intercut26.md): controls have no cut back to
    a shot left, so no candidate changes them (today's); ``small`` acts only where both ends are
    small faces without colours (only the juggler, family other, was run under it): elsewhere
    ``small`` is today's and ``earliest_small`` is ``earliest``'s."""
    path = cache_path(cache, variant)
    if not path.is_file():  # a variant run for its interviews only (shot100: no controls, for time)
        path = cache_path(cache, variant, kinds=("interview",))
    today = json.loads(path.read_text())
    if candidate == "today":
        return today, []
    notes = ["controls: today's"]
    rows = [r for r in today if r["kind"] == "control"]
    if candidate == "earliest":
        rows += json.loads(cache_path(cache, variant, "earliest", None, ("interview",)).read_text())
        return rows, notes
    other = json.loads(cache_path(cache, variant, candidate, ["other"], ("interview",)).read_text())
    rest = candidate_rows(cache, variant, "earliest" if candidate == "earliest_small" else "today")[0]
    rows += other + [r for r in rest if r["kind"] == "interview" and r["family"] != "other"]
    notes.append(f"not other: {'earliest' if candidate == 'earliest_small' else 'today'}'s")
    return rows, notes


def loso(cache: Path, variants: list) -> None:
    """The pre-registered choice, leave one family out, and its held-out figures (docs/prereg_intercut26.md)."""
    order = list(CANDIDATES)
    runs = {}
    for variant in variants:
        for cand in order:
            try:
                runs[variant, cand] = candidate_rows(cache, variant, cand)[0]
            except FileNotFoundError:
                pass
    have = [v for v in variants if all((v, c) in runs for c in order)]
    print(f"variants with every candidate: {have}")
    fams = sorted({r["family"] for r in runs[have[0], "today"]})
    per = {(v, c, f): figures(runs[v, c], f) for v in have for c in order for f in fams}
    for v in have:
        print(f"== {v}")
        for c in order:
            cells = [f"{f} {per[v, c, f]['snapshots']}/{per[v, c, f]['persons']} w{per[v, c, f]['wrong']} "
                     f"o{per[v, c, f]['without']}" for f in fams]
            print(f"  {c:15s} " + "; ".join(cells))
    held = {"today": defaultdict(int), "chosen": defaultdict(int)}
    for f in fams:
        train = [g for g in fams if g != f]

        def key(c):
            t = [sum(per[v, c, g][k] for v in have for g in train) for k in ("wrong", "snapshots", "without")]
            return (*t, order.index(c))
        chosen = min(order, key=key)
        print(f"held out {f:12s}: chosen {chosen} (training wrong, snapshots, without: "
              f"{ {c: key(c)[:3] for c in order} })")
        for v in have:
            a, b = per[v, "today", f], per[v, chosen, f]
            print(f"    {v:8s} interviews {a['snapshots']} -> {b['snapshots']} / {b['persons']}, wrong {a['wrong']} -> "
                  f"{b['wrong']}, without {a['without']} -> {b['without']}")
            for k in ("snapshots", "persons", "wrong", "without"):
                held["today"][k] += a[k]
                held["chosen"][k] += b[k]
    for k, t in held.items():
        print(f"held out, all folds and variants, {k:6s}: interview snapshots {t['snapshots']} / {t['persons']} = "
              f"{t['snapshots'] / max(1, t['persons']):.3f}, wrong joins {t['wrong']}, without {t['without']}")


def main() -> int:
    from facesel.eval.intercut_variants import VARIANTS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("run", "report", "loso"))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--families", nargs="+", default=None)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/intercut-account26"))
    parser.add_argument("--candidate", default="today", choices=tuple(CANDIDATES))
    parser.add_argument("--kinds", nargs="+", default=["interview", "control"], choices=("interview", "control"))
    parser.add_argument("--lines", action="store_true", help="one line per extra snapshot, wrong join, person without")
    args = parser.parse_args()
    if args.what == "loso":
        loso(args.cache, args.variants)
        return 0
    for variant in args.variants:
        if args.what == "run":
            run_variant(variant, args.cache, args.families, args.candidate, tuple(args.kinds))
        else:
            path = cache_path(args.cache, variant, args.candidate, args.families, args.kinds)
            if path.is_file():
                report(variant, json.loads(path.read_text()), args.lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
