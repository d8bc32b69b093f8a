"""Motion through the gap (issue 23, session 15): does the later fragment of a short link go on the
way the earlier one was going? Pre-registered candidates chosen leave-one-family-out on the
short link's material (docs/persons.md "Motion through the gap").

    python experiments/motion_gap_loso.py --families other --table /tmp/cross15-table-other.pkl \
        --edge-e2e /tmp/cross15-edge-other.pkl        # one family at a time (a cache per family)
    python experiments/motion_gap_loso.py --combine /tmp/cross15-table-*.pkl   # totals, held-out choice

Candidates (:data:`CANDIDATES`, written down before any figure of them was seen;
:class:`facesel.select.linking.LinkRule` settings, every other gate the default's;
:func:`facesel.select.gap_motion.motion_kept` is the share of the earlier fragment's motion,
in box sides a second, that the later one keeps along its direction):

- ``motion``: ``motion_keep`` 0.5, ``motion_speed`` 1.0, not at the frame's edge;
- ``motion_back``: ``motion_keep`` 0.0 (a later face walking back; one standing or crossing keeps
  about 0, on the limit);
- ``motion_slow``: ``motion_keep`` 0.5 from ``motion_speed`` 0.5 (a slower earlier walker judged too);
- ``motion_pace``: ``motion_keep`` 0.5 and ``motion_most`` 2.0 (another pace either way);
- ``motion_all``: ``motion``, also across the frame's edge (``motion_at_edge``: edge exits and
  occlusions judged apart: this is the edge's figure).

Reference, never chosen: ``edge_short`` (session 14) and ``motion + edge_short``.

``--set hedge`` (session 17, :data:`HEDGE_CANDIDATES`, pre-registered: hedged links, docs/persons.md
"Hedged links"): ``Finaliser(hedge=HedgeRule(...))`` settings; every link is made as by the default,
a doubtful one delivers each side's best crop. Selection per held-out family: the fewest persons
without a snapshot (no delivered best crop shows them) on the other three's crossing and occluded
tiled crowds, then the fewest snapshots per person on both; ties to ``off``. The table's fifth
number is those persons (for the edge: people of the end-to-end runs).

``--set reach`` (session 16, :data:`REACH_CANDIDATES`, pre-registered the same way: a bouncing
child's reach, docs/persons.md): the short link's position allowance grows by ``reach_per_speed``
x the earlier fragment's path speed (box sides a second, from ``reach_speed`` up, at most
``reach_most``) x the gap: ``reach`` (1.0 from 3.0), ``reach_half`` (0.5 from 3.0), ``reach_cap``
(1.0 from 3.0, at most 1.5 sides), ``reach_slow`` (1.0 from 1.5: walkers' jitter too),
``reach_all`` (1.0 from 0). The same selection; these only loosen, so "genuine links refused" is 0
and the edge's return snapshots and the crossing snapshots per person carry the gain. Held out,
the default changes only if the choice adds no wrong join in any held-out family (crossing, tiled,
edge next persons), no splice of ``crowds_switches.py`` spans more people, and no shared video
other than the bed loses a snapshot to a join of two people (each shared video whose count falls
is looked at on a contact sheet under /tmp).

``--set turn`` (session 18, :data:`TURN_CANDIDATES`, pre-registered: a head turned away and back,
docs/persons.md): ``LinkRule.turn_distance`` (0.75, 1.0, 1.5 box sides between the heads' centres)
with ``turn_count`` 3 or 2. The same selection per held-out family (these only add links). The
default changes only to a candidate that, on every held-out family, adds no wrong join and refuses
no genuine link on the crossing crowds, the occluded tiled crowds and the edge material (next
persons joined, return snapshots), spans no more people in ``crowds_switches.py``'s splices and
joins no more replacements, and on the 40 shared videos (``motion_gap_shared.py --set turn``) gives
no video a snapshot more and joins only one person's fragments where a count falls (OTB Girl by
her ground-truth box, the others on the audit's contact sheet under /tmp); of those, the one with
the fewest shared-video snapshots, then the tightest (smaller distance, then count 3). Else off.

``--set ambiguity`` (session 23, :data:`AMBIGUITY_CANDIDATES`, pre-registered in
``experiments/link_ambiguity_registered.md``: the short link's ambiguity test, docs/persons.md):
``LinkRule.ambiguity_ratio`` 0.5 / 0.7 / 0.8 x ``ambiguity_sides`` ``later`` / ``both``, and the
same with ``ambiguity_exclusive`` (the second registration). The same selection as ``motion``;
the adoption rule is the registration's.

``--set moving`` (session 23b, :data:`MOVING_CANDIDATES`, pre-registered in
``experiments/short_link_reach_registered.md``: the short link's reach for moving faces,
docs/persons.md): ``LinkRule.moving_distance`` 0.5 / 0.75 box sides with ``moving_per_second`` 0
or 0.5 for an earlier fragment moving at least 0.5 box sides a second. The same selection as
``motion``; the adoption rule is the registration's.

The harness is ``experiments/short_link_loso.py``'s (its crossing and occluded tiled crowds per
family, recorded once through the default Selector and replayed per candidate; the edge material's
5-frame gaps end to end, ``--edge-e2e``; both print every wrong link of the default with its facts,
here with the motion kept). Selection, per held-out family: the fewest wrong joins on the other
three (crossing, tiled, edge next persons joined end to end), then the fewest genuine links refused
(crossing and tiled) and return snapshots over one per return (edge), then the fewest snapshots per
person on their crossing crowds; ties to ``off``. The cache keeps counts and summaries, never pixels.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import short_link_loso as sll  # noqa: E402
from facesel.select.hedging import HedgeRule  # noqa: E402

CANDIDATES = {
    "off": {},
    "motion": {"motion_keep": 0.5, "motion_speed": 1.0},
    "motion_back": {"motion_keep": 0.0, "motion_speed": 1.0},
    "motion_slow": {"motion_keep": 0.5, "motion_speed": 0.5},
    "motion_pace": {"motion_keep": 0.5, "motion_speed": 1.0, "motion_most": 2.0},
    "motion_all": {"motion_keep": 0.5, "motion_speed": 1.0, "motion_at_edge": True},
}
REFERENCE = {"edge_short": {"edge_short_colour_distance": 0.3},
             "motion+edge_short": {"motion_keep": 0.5, "motion_speed": 1.0, "edge_short_colour_distance": 0.3}}
REACH_CANDIDATES = {
    # A bouncing child's reach (session 16; docs/persons.md "A bouncing child's reach"): the short
    # link's position allowance grows with the earlier fragment's own path speed
    # (LinkRule.reach_per_speed, facesel.select.motion_reach). Written down before any figure of
    # them was seen on the held-out material (the bed, a development clip, was looked at).
    "off": {},
    "reach": {"reach_per_speed": 1.0, "reach_speed": 3.0},
    "reach_half": {"reach_per_speed": 0.5, "reach_speed": 3.0},
    "reach_cap": {"reach_per_speed": 1.0, "reach_speed": 3.0, "reach_most": 1.5},
    "reach_slow": {"reach_per_speed": 1.0, "reach_speed": 1.5},
    "reach_all": {"reach_per_speed": 1.0, "reach_speed": 0.0},
}
ORDER_CANDIDATES = {"off": {"await_predecessor": False}, "await_predecessor": {"await_predecessor": True}}
"""The order of release (session 16; a Finaliser setting, docs/persons.md "A bouncing child's reach");
named explicitly both ways, the pipeline's finaliser having it on since."""
HEDGE_CANDIDATES = {
    # Hedged links (session 17; docs/persons.md "Hedged links"; Finaliser(hedge=HedgeRule(...))): a
    # short link is made, but when doubtful each side keeps its own snapshot. Written down before any
    # held-out figure of them was seen; the fractions were read off experiments/hedge_margins.py's
    # ranges on all families (the wrong joins' position 0.57-0.92 of the allowance, colours 0.29-0.99
    # of the limit), so they are not blind: the held-out choice guards only which of them is taken.
    "off": {},
    "pos50": {"hedge": HedgeRule(position=0.5)},
    "pos60": {"hedge": HedgeRule(position=0.6)},
    "pos70": {"hedge": HedgeRule(position=0.7)},
    "col60": {"hedge": HedgeRule(colour=0.6)},
    "col70": {"hedge": HedgeRule(colour=0.7)},
    "pos50_col60": {"hedge": HedgeRule(position=0.5, colour=0.6)},
    "pos60_col70": {"hedge": HedgeRule(position=0.6, colour=0.7)},
    "crowd1": {"hedge": HedgeRule(crowd=1)},
}
TURN_CANDIDATES = {
    # A head turned away and back (session 18; docs/persons.md "A head turned away and back";
    # LinkRule.turn_distance, facesel.select.link_turns): a pair the default refuses is linked when
    # the earlier fragment ends in one profile and the later starts in the other, the heads' centres
    # (behind the profile boxes) within the distance in box sides, nobody near. Written down before
    # any held-out figure of them was seen; only OTB Girl (the development clip whose turns the
    # constants in facesel.select.facing were read off) was looked at. 0.75 is the long link's
    # still_distance, 1.0 and 1.5 the short link's allowance at 0.25 s and 0.75 s; turn_count 2 as
    # well as 3 because OTB Girl's third fragment starts with 2 profile observations of 8.
    "off": {},
    "turn75": {"turn_distance": 0.75},
    "turn100": {"turn_distance": 1.0},
    "turn150": {"turn_distance": 1.5},
    "turn75_2": {"turn_distance": 0.75, "turn_count": 2},
    "turn100_2": {"turn_distance": 1.0, "turn_count": 2},
    "turn150_2": {"turn_distance": 1.5, "turn_count": 2},
}
AMBIGUITY_CANDIDATES = {
    # The short link's ambiguity test (session 23; docs/persons.md "The short link's ambiguity
    # test"; LinkRule.ambiguity_ratio / ambiguity_sides, facesel.select.link_ambiguity): a short
    # link is not made when another track is a comparably plausible partner (a ratio test).
    # Written down before any figure of them was seen: experiments/link_ambiguity_registered.md.
    "off": {},
    **{f"amb{round(r * 100)}_{side}": {"ambiguity_ratio": r, "ambiguity_sides": side}
       for side in ("later", "both") for r in (0.5, 0.7, 0.8)},
    # the second registration (written after the first family's figures; see the .md): only
    # competitors seen during the partner they would replace (two people at once)
    **{f"amb{round(r * 100)}_{side}_excl": {"ambiguity_ratio": r, "ambiguity_sides": side, "ambiguity_exclusive": True}
       for side in ("later", "both") for r in (0.5, 0.7, 0.8)},
}
MOVING_CANDIDATES = {
    # The short link's reach for moving faces (session 23b; docs/persons.md "The short link's reach
    # for moving faces"; LinkRule.moving_distance / moving_per_second, facesel.select.moving_limit):
    # a tighter position allowance when the earlier fragment was moving (0.5 box sides a second).
    # Written down before any figure of them was seen: experiments/short_link_reach_registered.md.
    "off": {},
    "mov50": {"moving_distance": 0.5},
    "mov75": {"moving_distance": 0.75},
    "mov50_gap": {"moving_distance": 0.5, "moving_per_second": 0.5},
    "mov75_gap": {"moving_distance": 0.75, "moving_per_second": 0.5},
}
BRIDGE_CANDIDATES = {
    # The visual-continuity bridge (persons25; docs/prereg_continuity_bridge.md, written before any
    # figure): the track stage's follower recorded at floor 0.6, gap 3 s (BRIDGE_RECORDING); each
    # candidate takes the hints at its own floor and gap (a follower's path does not depend on the floor).
    "off": {},
    "b60": {"bridge": ("band", 0.6, 2.0)},
    "b70": {"bridge": ("band", 0.7, 2.0)},
    "b80": {"bridge": ("band", 0.8, 2.0)},
    "b70_3s": {"bridge": ("band", 0.7, 3.0)},
}
BRIDGE_RECORDING = {"continuity_bridge": 0.6, "continuity_bridge_gap": 3.0, "continuity_bridge_patch": "band"}
BRIDGE_HEAD_CANDIDATES = {"off": {}, "h70": {"bridge": ("head", 0.7, 2.0)}}  # the registered head-box-only candidate
SETS = {"motion": (CANDIDATES, REFERENCE), "reach": (REACH_CANDIDATES, {}), "order": (ORDER_CANDIDATES, {}),
        "hedge": (HEDGE_CANDIDATES, {}), "turn": (TURN_CANDIDATES, {}), "ambiguity": (AMBIGUITY_CANDIDATES, {}),
        "moving": (MOVING_CANDIDATES, {}), "bridge": (BRIDGE_CANDIDATES, {}),
        "bridge_head": (BRIDGE_HEAD_CANDIDATES, {})}
"""Candidate families (``--set``): each its candidates and references, judged by the same protocol."""
KINDS = ("crossing", "occluded", "edge")


SET = "motion"


def use(name: str) -> None:
    """Judge the candidate family ``name`` of :data:`SETS` (this module's and short_link_loso's)."""
    global CANDIDATES, REFERENCE, SET
    CANDIDATES, REFERENCE = SETS[name]
    SET = name
    sll.CANDIDATES, sll.REFERENCE, sll.facts = CANDIDATES, REFERENCE, facts
    if name in ("bridge", "bridge_head"):  # the follower needs the frames: every material is recorded with it on
        import edge_return_loso as erl
        from facesel.track_cues.bridge import BridgeRule

        sll.RECORD_SETTINGS = erl.RECORD_SETTINGS = {**BRIDGE_RECORDING,
                                                     "continuity_bridge_patch": "head" if name == "bridge_head" else "band"}
        for settings in CANDIDATES.values():
            if isinstance(settings.get("bridge"), tuple):
                patch, floor, gap = settings["bridge"]
                settings["bridge"] = BridgeRule(floor=floor, max_gap_seconds=gap, patch=patch)
_facts = sll.facts


def facts(rule, a, b) -> str:
    """short_link_loso's facts with the motion kept through the gap and whether at the edge."""
    from facesel.select.gap_motion import head_motion, motion_kept, tail_motion
    from facesel.select.short_gates import at_edge

    kept = motion_kept(a, b, 0.0, rule.window)
    ua, ub = tail_motion(a), head_motion(b, rule.window)
    fmt = (lambda v: None if v is None else [round(float(x), 2) for x in v])
    return (_facts(rule, a, b) + f"; motion {fmt(ua)} -> {fmt(ub)} sides/s, kept "
            f"{'-' if kept is None else f'{kept:.2f}'}, at edge {at_edge(a, b, rule.window, rule.edge_margin)}")


class Probe:
    """The default rule, printing the motion facts of each pair it would link that a candidate refuses
    (a pair may be asked more than once: the finaliser asks again as fragments grow)."""

    def __init__(self, rule, rules: dict, video: str) -> None:
        self._rule, self._rules, self._video = rule, rules, video

    def __getattr__(self, name):
        return getattr(self._rule, name)

    def cost(self, earlier, later, others=()):
        from facesel.select.gap_motion import head_motion, motion_kept, tail_motion
        from facesel.select.short_gates import at_edge

        cost = self._rule.cost(earlier, later, others)
        if cost is not None:
            refused = [k for k, r in self._rules.items() if r.cost(earlier, later, others) is None]
            if refused:
                kept = motion_kept(earlier, later, 0.0, self._rule.window)
                ua, ub = tail_motion(earlier), head_motion(later, self._rule.window)
                print(f"  [{self._video}] default links frames {earlier.first_frame}-{earlier.last_frame} -> "
                      f"{later.first_frame}-{later.last_frame} (gap {later.first_time - earlier.last_time:.2f} s, "
                      f"side {min(earlier.last_box[2] - earlier.last_box[0], earlier.last_box[3] - earlier.last_box[1]):.0f} px): "
                      f"motion {None if ua is None else ua.round(2).tolist()} -> {None if ub is None else ub.round(2).tolist()} "
                      f"sides/s, kept {None if kept is None else round(kept, 2)}, at edge "
                      f"{at_edge(earlier, later, self._rule.window, self._rule.edge_margin)}; refused by {refused}", flush=True)
        return cost


def edge_cells(cache: Path, fams, table: dict) -> None:
    """The edge material's end-to-end figures into ``table`` as [returns + nexts, return snapshots
    over one per return, next persons joined, 0, people without a snapshot, returns] per (candidate, family, "edge"); printed, pair
    level, each short link of the default with its motion facts and the candidates refusing it."""
    import edge_return_loso as erl
    from facesel.select.linking import LinkRule

    default = LinkRule()
    material = pickle.loads(cache.read_bytes())
    for family, rows in material.items():
        if family not in fams:
            continue
        for key in {**CANDIDATES, **REFERENCE}:
            t = erl.totals(rows, key)
            table[(key, family, "edge")] = [t["returns"] + t["nexts"], t["return_snapshots"] - t["returns"],
                                            t["next_joined"], 0, t["return_without"] + t["next_without"], t["returns"]]
        for name, r in rows:
            frags = r["fragments"]
            for e, _ in frags:
                e.frame_shape = sll.EDGE_FRAME
            pairs = [(a, pa, b, pb) for (a, pa), (b, pb) in itertools.pairwise(sorted(frags, key=lambda f: f[0].first_time))
                     if -default.max_overlap_seconds <= b.first_time - a.last_time <= default.max_gap_seconds and pa >= 0 and pb >= 0]
            for a, pa, b, pb in pairs:
                if default.cost(a, b) is None:
                    continue
                refused = [k for k, v in {**CANDIDATES, **REFERENCE}.items() if sll.link_of(v).cost(a, b) is None]
                print(f"  [{family} edge {name}] {'GENUINE' if pa == pb else 'WRONG'} short link: {facts(default, a, b)}; "
                      f"refused by {refused}", flush=True)


def combine(paths, table: dict) -> list:
    fams = []
    for p in paths:
        part = pickle.loads(Path(p).read_bytes())
        table.update(part["table"])
        fams += [f for f in part["families"] if f not in fams]
    return fams


def report(table: dict, families: list) -> None:
    def cell(name, fam, kind):
        return table.get((name, fam, kind), [0, 0, 0, 0])

    print("\nper family [crossing/tiled: persons, snapshots, wrong joins, genuine links refused; "
          "edge: runs, return snapshots over one each, next persons joined, 0]:")
    for fam in families:
        for name in {**CANDIDATES, **REFERENCE}:
            print(f"  {fam:16s} {name:18s} " + "  ".join(f"{k} {cell(name, fam, k)}" for k in KINDS))

    def score(name, rest):
        """Wrong joins; then genuine links refused plus edge return snapshots over the default's;
        then snapshots per person on the crossing crowds."""
        wrong = sum(cell(name, f, k)[2] for f in rest for k in KINDS)
        split = sum(cell(name, f, k)[3] for f in rest for k in ("crossing", "occluded")) + sum(
            cell(name, f, "edge")[1] - cell("off", f, "edge")[1] for f in rest)
        per = sum(cell(name, f, "crossing")[1] for f in rest) / max(1, sum(cell(name, f, "crossing")[0] for f in rest))
        return wrong, split, per

    def hedge_score(name, rest):
        """Hedged links (pre-registered, session 17): persons without a snapshot on the crossing and
        occluded tiled crowds, then snapshots per person on both."""
        kinds = ("crossing", "occluded")
        lost = sum(cell(name, f, k)[4] if len(cell(name, f, k)) > 4 else 0 for f in rest for k in kinds)
        per = sum(cell(name, f, k)[1] for f in rest for k in kinds) / max(1, sum(cell(name, f, k)[0] for f in rest for k in kinds))
        return lost, per

    if SET == "hedge":
        print("\npersons without a snapshot [crossing, tiled] and snapshots / persons [crossing, tiled], per family:")
        for fam in families:
            for name in CANDIDATES:
                c, o = cell(name, fam, "crossing"), cell(name, fam, "occluded")
                e = cell(name, fam, "edge")
                print(f"  {fam:14s} {name:12s} without {c[4] if len(c) > 4 else '-'}, {o[4] if len(o) > 4 else '-'}; "
                      f"snapshots {c[1]}/{c[0]}, {o[1]}/{o[0]}; wrong {c[2]}, {o[2]}; genuine not joined {c[3]}, {o[3]}; "
                      f"edge: return snapshots over one {e[1]}, next joined {e[2]}, people without {e[4] if len(e) > 4 else '-'}")
    sll.held_out(table, families, CANDIDATES, REFERENCE, KINDS, hedge_score if SET == "hedge" else score)

def why_tiled(fams) -> None:
    """The occluded tiled crowds replayed under a :class:`Probe` of the default: the motion facts of
    each link it makes that a candidate refuses (whether between one person's fragments or two,
    from the tiles the fragments lay in)."""
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds_replay import record, replay
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.selector import default_scorer

    detector, scorer = make_detector(max_side=1280), default_scorer()
    tile, columns, frames = 240, 3, 150
    _, inside = crowds.tile_locator((tile * 3 // 4, tile), columns)
    rules = {k: sll.link_of(v) for k, v in {**CANDIDATES, **REFERENCE}.items() if k != "off"}
    for fam, group in crowds.crowds_of(fams, 6):
        tiles = [crowds.read_tile(p, frames, skip=10) for p in group]
        rec = record(crowds.compose(tiles, columns, tile, True, 40, 1.5), detector, scorer, 25.0, inside, keep_static=True)
        fin = Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False))
        fin.link = Probe(fin.link, rules, f"{fam} tiled")  # after construction: the finaliser checks the type
        replay(rec, fin)


def main(argv=None) -> int:
    import cv2
    from facesel.data import data_root
    from facesel.eval import crowds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", type=int, default=6)
    parser.add_argument("--families", nargs="*", default=None)
    parser.add_argument("--edge-e2e", type=Path, default=None, help="record (or read) the edge material's 5-frame gaps here")
    parser.add_argument("--no-crowds", action="store_true")
    parser.add_argument("--table", type=Path, default=None, help="write this run's counts here (pickle)")
    parser.add_argument("--combine", nargs="*", default=None, help="tables of earlier runs: report them together")
    parser.add_argument("--why-tiled", action="store_true", help="only the motion facts of the tiled crowds' links refused")
    parser.add_argument("--set", choices=list(SETS), default="motion", help="which candidate family (SETS)")
    args = parser.parse_args(argv)
    use(args.set)
    table: dict = {}
    if args.combine:
        report(table, combine(args.combine, table))
        return 0
    cv2.setNumThreads(1)
    fams = crowds.families(data_root())
    if args.families:
        fams = {k: v for k, v in fams.items() if k in args.families}
    if args.why_tiled:
        why_tiled(fams)
        return 0
    if args.edge_e2e is not None:
        sll.edge_end_to_end(args.edge_e2e, fams)
        edge_cells(args.edge_e2e, fams, table)
    if not args.no_crowds:
        sll.crowd_table(fams, args.layouts, table)
    if args.table is not None:
        args.table.write_bytes(pickle.dumps({"table": table, "families": list(fams)}))
    report(table, list(fams))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
