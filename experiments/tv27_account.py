"""Cross-fades and zoomed returns on TV-like intercut material (issue 23, tv27; docs/prereg_tv27.md).

    nice -n 5 python experiments/tv27_account.py joins                 # one line per wrong join of `fade`, today
    nice -n 5 python experiments/tv27_account.py run --variant fade --candidate dissolve_cut [--families ...]
    python experiments/tv27_account.py loso                            # the registered choice, held out by family
    nice -n 5 python experiments/tv27_account.py pans --candidate dissolve_cut   # one person panned: false splits
    nice -n 5 python experiments/tv27_account.py splices     # the 75 splices end to end: today, dissolve_blend
    nice -n 5 python experiments/tv27_account.py shared      # OTB Girl, mmaction2 demo: today, zoom + blend

Material: :mod:`facesel.eval.intercut_variants` (made in memory), one default Selector per
interview / control, accounted by ``experiments/intercut_account26.py``'s ``run_one`` (the
finaliser's ``observe`` / ``add`` and ``ShotMemory.record`` wrapped from outside). Candidates
(docs/prereg_tv27.md): ``today`` (the defaults before tv27, given explicitly: ``BEFORE`` and
``scales`` (1.0,); tv27 adopted ``both``), ``dissolve_cut``
(``SwitchRule(fade_cut=True)``), ``zoom_return`` (``ShotReturnRule(scales=SCALES)``), ``both``; and the amendment's ``dissolve_settled``
(``SwitchRule(fade_cut=True, fade_settle=True)``) and amendment 2's ``dissolve_blend`` (the same,
recorded only when the span's frames are mixes of its ends, ``fade_blend`` 0.5).
Records: JSON per (variant, candidate, families, kinds) under ``/tmp/tv27``; today is run again
under this code (persons26's cache was made before its own adoption).

``joins``: for each wrong join of ``fade`` under today, the frames: a link's earlier track's last
frame and why it ended (``ended_by``), the later track's first frame, the scene cue's fires
(frame, cut / fade) within 8 frames, and whether the finaliser recorded a cut between them; a
tracker join's switch frame and the fires near it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import intercut_account26 as acc  # noqa: E402

SCALES = (1.0, 1.15, 1.3, 1.5)
"""``zoom_return``'s zoom factors (docs/prereg_tv27.md)."""
CANDIDATES = ("today", "dissolve_cut", "zoom_return", "both", "dissolve_settled", "dissolve_blend")
CACHE = Path("/tmp/tv27")
BEFORE = {"fade_cut": False, "fade_settle": False, "fade_blend": 0.0}
"""``today``'s fade fields: the rule before tv27 (its defaults since are ``dissolve_blend``'s)."""
FADE_FIELDS = {"today": BEFORE, "zoom_return": BEFORE,
               "dissolve_cut": {"fade_cut": True, "fade_settle": False, "fade_blend": 0.0},
               "both": {"fade_cut": True, "fade_settle": True, "fade_blend": 0.5},  # the fade part: the amendments' winner
               "dissolve_settled": {"fade_cut": True, "fade_settle": True, "fade_blend": 0.0},
               "dissolve_blend": {"fade_cut": True, "fade_settle": True, "fade_blend": 0.5}}
"""The SwitchRule fields of each fade candidate (docs/prereg_tv27.md and its amendments)."""
FAMILIES = ("signers", "liveportrait", "retalking", "other")


def _switch_rule(candidate: str):
    from facesel.track_cues.rule import SwitchRule

    return SwitchRule(**FADE_FIELDS[candidate])


def run_candidate(frames, owner, major, detector, scorer, candidate: str, fires: list | None = None) -> dict:
    """One run under ``candidate`` (module docstring); ``fires``: filled with (frame, kind) of every
    scene-cue fire when given."""
    from facesel.track_cues.scene import SceneChange

    acc.CANDIDATES["zoom_return"] = {"scales": SCALES}
    acc.CANDIDATES["plain"] = {"scales": (1.0,)}  # the shot-return rule before tv27 (explicit: its default since differs)
    shot = "zoom_return" if candidate in ("zoom_return", "both") else "plain"
    rule = _switch_rule(candidate)
    original = SceneChange.update
    counter = [0]

    def update(self, frame):
        kind, value = original(self, frame)
        if kind is not None and fires is not None:
            fires.append((counter[0], kind))
        counter[0] += 1
        return kind, value

    with mock.patch("facesel.track.SwitchRule", lambda: rule), mock.patch.object(SceneChange, "update", update):
        return acc.run_one(frames, owner, major, detector, scorer, candidate=shot)


def path_of(variant: str, candidate: str, families, kinds) -> Path:
    parts = [variant, candidate] + sorted(families or []) + ([] if tuple(kinds) == ("interview", "control") else list(kinds))
    return CACHE / (".".join(parts) + ".json")


def run(variant: str, candidate: str, families=None, kinds=("interview", "control")) -> list:
    """Every run of ``variant`` under ``candidate`` (cached)."""
    from facesel.eval.intercut import clip_label

    def one(frames, owner, major, detector, scorer, family, kind, clips):
        fires: list = []
        row = run_candidate(frames, owner, major, detector, scorer, candidate, fires)
        row.update(family=family, kind=kind, clips=[clip_label(c) for c in clips], fires=fires)
        print(f"{variant} {candidate} {family:12s} {kind:9s} {' | '.join(row['clips'])}: {row['snapshots']} / "
              f"{row['persons']}, wrong {len(row['wrong'])}, without {len(row['without'])}, cuts {row['cuts']}, "
              f"links {row['links']} shot {row['shot_links']}", flush=True)
        return row

    return acc.for_each_run(path_of(variant, candidate, families, kinds), variant, families, kinds, one)


def joins(families=("signers", "liveportrait")) -> None:
    """One line per wrong join of ``fade`` under today (module docstring)."""
    import cv2

    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval.intercut import clip_label
    from facesel.eval.intercut_variants import variant_material
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.selector import default_detector

    cv2.setNumThreads(1)
    detector, scorer = default_detector(PipelineConfig()), LaplacianVarianceScorer()
    seen: list = []
    original_init = acc.Recorder.__init__

    def init(self):
        original_init(self)
        seen.append(self)

    acc.Recorder.__init__ = init
    wanted = None  # only the runs today's record shows with a wrong join (the same runs, run again)
    if path_of("fade", "today", None, ("interview", "control")).is_file():
        wanted = {(r["kind"], tuple(r["clips"])) for r in run("fade", "today") if r["wrong"]}
    for family, kind, clips, frames, owner, major in variant_material(data_root(), "fade", list(families)):
        if wanted is not None and (kind, tuple(clip_label(c) for c in clips)) not in wanted:
            continue
        fires: list = []
        row = run_candidate(frames, owner, major, detector, scorer, "today", fires)
        rec = seen[-1]
        name = f"{family} {kind} {' | '.join(clip_label(c) for c in clips)}"
        for w in row["wrong"]:
            if w["how"] == "tracker":
                at = w["switch_at"]
                near = [f for f in fires if abs(f[0] - at) <= 8]
                print(f"{name}: tracker track {w['track']} frames {w['frames']}, switch at {at}; fires near {near}; "
                      f"blend frames {[k for k in range(at - 4, at + 5) if 0 <= k < len(owner) and owner[k] < 0]}")
                continue
            for a, b in w["links"]:
                ea, eb = rec.frames[a][-1], rec.frames[b][0]
                ended = getattr(rec.evidence.get(a), "ended_by", None)
                near = [f for f in fires if ea - 8 <= f[0] <= eb + 8]
                cut = [c[0] for c in rec.cuts if ea < c[0] <= eb]
                shot_link = [a, b] in row["shot_links"]
                print(f"{name}: link {a} -> {b} ({'shot-return' if shot_link else 'ordinary'}), {a} ends {ea} "
                      f"(ended_by {ended}, person {sorted({owner[f] for f in rec.frames[a] if owner[f] >= 0})}), "
                      f"{b} starts {eb} (person {sorted({owner[f] for f in rec.frames[b] if owner[f] >= 0})}); "
                      f"fires {near}; cut recorded between: {cut or 'none'}")


def loso(variants=("fade", "zoom")) -> None:
    """Per candidate against today, leave one family out (docs/prereg_tv27.md)."""
    pairs = [("fade", "dissolve_cut"), ("fade", "dissolve_blend"), ("zoom", "zoom_return")]
    for variant, cand in pairs:
        if variant not in variants:
            continue
        kinds = ("interview", "control") if variant == "fade" else ("interview",)
        if not all(path_of(variant, c, None, kinds).is_file() for c in ("today", cand)):
            print(f"== {variant}: {cand} not run")
            continue
        rows = {c: run(variant, c, None, kinds) for c in ("today", cand)}
        figs = {c: {f: acc.figures(rs, f) for f in FAMILIES} for c, rs in rows.items()}
        print(f"== {variant}: {cand} against today")
        t, h = acc.held_out(figs, cand, FAMILIES)
        print(f"  held out, all: snapshots {t[0]} -> {h[0]} / {t[1]} ({t[0] / t[1]:.2f} -> {h[0] / h[1]:.2f}), "
              f"wrong {t[2]} -> {h[2]}, without {t[3]} -> {h[3]}")


def pans(candidate: str) -> None:
    """The TV-like pans over every single-person clip (one person: every split is false) under
    today and ``candidate``: snapshots and wrong joins (``experiments/fade_decision_loso.py``'s
    material and measure, its ``run_pipeline`` with the finaliser's cut record on or off)."""
    import cv2

    import fade_decision_loso as fd
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer

    cv2.setNumThreads(1)
    detector, scorer = make_detector(max_side=1280), LaplacianVarianceScorer()
    fd.CANDIDATES[candidate] = FADE_FIELDS[candidate]
    fd.CANDIDATES["today9"] = BEFORE
    total = {"today9": [0, 0], candidate: [0, 0]}
    for _, family, name, frames, owner in fd.material("pans", data_root()):
        owner = owner or [0] * len(frames)
        out = {c: fd.run_pipeline(frames, owner, detector, scorer, c) for c in ("today9", candidate)}
        for c, o in out.items():
            total[c] = [total[c][0] + o["snapshots"], total[c][1] + o["wrong"]]
        print(f"{family:12s} {name}: " + ", ".join(f"{c} {o['snapshots']} snapshots {o['wrong']} wrong "
                                                    f"{o['fade_splits']} fade splits" for c, o in out.items()), flush=True)
    print("total (snapshots, wrong):", total)


def shared() -> None:
    """The two shared videos where the cut cue fires (OTB Girl, the mmaction2 demo), first 600
    frames, as ``experiments/intercut26_shared_check.py`` runs them, under today and under
    ``zoom_return`` with ``dissolve_blend`` together (each acts only where its cue or a cut back
    is; one run of both for time): snapshots, links, cuts."""
    import cv2

    import crowds_shared as cs
    import facesel.select.finalise as finalise
    from facesel.data import data_root
    from facesel.select.linking import LinkRule
    from facesel.select.shot_return import ShotReturnRule
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    class Zoom(ShotReturnRule):
        def __init__(self, **fields):
            super().__init__(**{"scales": SCALES, **fields})

    class Plain(ShotReturnRule):  # the rule before tv27
        def __init__(self, **fields):
            super().__init__(**{"scales": (1.0,), **fields})

    cv2.setNumThreads(1)
    scorer = default_scorer()
    for path, _people in cs.videos(data_root()):
        if path.name not in ("img", "mmaction2__demo_demo.mp4"):
            continue
        frames = [f for f, _ in open_source(path, max_frames=600)]
        fps = cs.fps_of(path)
        min_face = 8.0 if path.name == "img" else 16.0
        for name, rule, switch in (("today", Plain, "today"), ("zoom+blend", Zoom, "dissolve_blend")):
            finalise.ShotReturnRule = rule
            try:
                with mock.patch("facesel.track.SwitchRule", lambda: _switch_rule(switch)):
                    out = cs.run_one(frames, fps, default_detector(), scorer, LinkRule(), None, min_face)
            finally:
                finalise.ShotReturnRule = ShotReturnRule
            print(f"{path.name} {name}: snapshots {out['snapshots']} links {out['link_pairs']} cuts {out['cuts']}",
                  flush=True)


def splices(candidate: str = "dissolve_blend") -> None:
    """The 75 splices of ``facesel eval switches`` end to end (``experiments/switches_end_to_end.py``'s
    default Selector, Laplacian scorer) under today and ``candidate``: a splice where today's
    fade cue never fires (the scene cue alone, run first) is unchanged by construction (the
    candidate only records a fade as a cut); the others are run under both. Snapshots, snapshots
    spanning both people, people without a snapshot of their own."""
    import cv2

    import switches_end_to_end as e2e
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import switches as sw
    from facesel.track_cues import SceneChange
    from facesel.track_cues.rule import SwitchRule

    cv2.setNumThreads(1)
    detector = make_detector(max_side=1280)
    sources = sw.load_sources(data_root(), detector, 40, 5)
    totals = {c: [0, 0, 0, 0] for c in ("today", candidate)}
    unchanged = 0
    for clips in sources.values():
        for a, b in sw.pairs_of(clips):
            for kind in sw.KINDS:
                frames, _, owner = sw.splice(a, b, kind, 40, 5, detector)
                scene = SceneChange(SwitchRule())
                if not any(scene.update(f)[0] == "fade" for f in frames):
                    unchanged += 1
                    continue
                for c in totals:
                    with mock.patch("facesel.track.SwitchRule", lambda c=c: _switch_rule(c)):
                        selector = e2e._selector(detector, False, True)
                        results = []
                        for k, frame in enumerate(frames):
                            results += selector.feed(frame, k / 30.0).closed
                        results += selector.flush()
                    spanning = sum(1 for r in results if {owner[int(f)] for f in r.frame_indices} >= {0, 1})
                    without = 2 - len({owner[int(r.best.frame_index)] for r in results} & {0, 1})
                    t = totals[c]
                    t[0], t[1], t[2], t[3] = t[0] + len(results), t[1] + spanning, t[2] + 2, t[3] + without
                    print(f"{a.name} -> {b.name} {kind} {c}: {len(results)} snapshots, {spanning} spanning, "
                          f"{without} without", flush=True)
    print(f"splices with no fade fire (unchanged by construction): {unchanged}")
    for c, (n, span, people, without) in totals.items():
        print(f"{c}: {n} snapshots for {people} people, {span} spanning two, {without} without")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("joins", "run", "loso", "pans", "shared", "splices"))
    parser.add_argument("--variant", default="fade")
    parser.add_argument("--candidate", default="today", choices=CANDIDATES)
    parser.add_argument("--families", nargs="+", default=None)
    parser.add_argument("--kinds", nargs="+", default=["interview", "control"])
    args = parser.parse_args()
    if args.what == "joins":
        joins()
    elif args.what == "run":
        run(args.variant, args.candidate, args.families, tuple(args.kinds))
    elif args.what == "loso":
        loso()
    elif args.what == "splices":
        splices()
    elif args.what == "shared":
        shared()
    else:
        pans(args.candidate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
