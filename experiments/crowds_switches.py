"""Does the crowd re-link join different people? Every splice of ``facesel eval switches`` (hard
cut, cross-fade, gap), end to end through the default Selector (switch cues on, finaliser on, the
Laplacian scorer for speed), with the re-link before long links (``short``:
``LinkRule(long_gap_seconds=None)``), with the colour sample before the occluded-crowds work
(``ends``: ``LinkRule(colour_sample="ends")``; both without ``chain_through``), with the default
one (a skipped short fragment absorbed into the chain: ``chain_through="place"``), without that
(``chain_off``) and with the other ways of absorbing it (``chain``, ``chain_both``:
``chain_through="later"`` / ``"both"``), with covered links (``covered``:
``LinkRule(covered_gap_seconds=3.0)``; ``covered_any``: the loosest measured, any larger track
near at each end within 4 of its sides), with the edge return (``edge``:
``edge_colour_distance=0.15``, ``edge30``: 0.3, both ``edge_margin=0.15``) and with each link veto
alone (``veto_edge``, ``veto_entered``, ``veto_reversed``, ``veto_cover_other``: ``LinkRule(veto=(name,))``) and with the short link's gates (``behind``, ``edge_short``,
``short_both``: ``behind_distance=0.5``, ``edge_short_colour_distance=0.3``, both), and the motion
gate's candidates (``motion``, ``motion_back``, ``motion_slow``, ``motion_pace``, ``motion_all``:
``experiments/motion_gap_loso.py``), and the default re-link with the finaliser's chain-level
interleave merge (``interleave_waiting``: ``Finaliser(interleave_waiting=True)``), and the hedged
links' candidates (``pos50`` ... ``crowd1``: ``motion_gap_loso.HEDGE_CANDIDATES``), and a head
turned away and back (``turn75`` ... ``turn150_2``: ``motion_gap_loso.TURN_CANDIDATES``), and the
short link's ambiguity test (``amb50_later`` ... ``amb80_both``: ``motion_gap_loso.AMBIGUITY_CANDIDATES``), and the
short link's reach for moving faces (``mov50`` ... ``mov75_gap``: ``motion_gap_loso.MOVING_CANDIDATES``), in one run
(docs/persons.md, "Fragments in crowds", "Occluded crowds").

    python experiments/crowds_switches.py [--only after covered covered_any]

Each splice is run once through the Selector with a recorder as its post-close stage and replayed
through each rule's finaliser (:mod:`facesel.eval.crowds_replay`: the finaliser does not change
what the tracker sees, so a replay delivers what a run with that rule would).

Per rule: snapshots for the spliced people, snapshots whose track spans both people of a splice
(the harm a re-link can do), re-links made, and people no snapshot's best crop shows (the frame's
owner). The splices are made in memory.
"""

from __future__ import annotations

import cv2


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="only these rules (names as printed)")
    only = parser.parse_args(argv).only
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import switches as sw
    from facesel.eval.crowds_replay import record, replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser
    from facesel.select.linking import LinkRule
    from motion_gap_loso import CANDIDATES as MOTION_CANDIDATES  # this folder: the script's own
    from motion_gap_loso import (AMBIGUITY_CANDIDATES, HEDGE_CANDIDATES, MOVING_CANDIDATES, REACH_CANDIDATES,
                                 TURN_CANDIDATES)

    cv2.setNumThreads(1)
    detector = make_detector(max_side=1280)
    sources = sw.load_sources(data_root(), detector, 40, 5)
    rules = {"short": LinkRule(long_gap_seconds=None, chain_through=None),
             "ends": LinkRule(colour_sample="ends", chain_through=None), "after": LinkRule(),
             "chain_off": LinkRule(chain_through=None), "chain": LinkRule(chain_through="later"),
             "chain_both": LinkRule(chain_through="both"),
             # the edge return (docs/persons.md, "Leaving by the frame's edge and coming back")
             "edge": LinkRule(edge_colour_distance=0.15, edge_margin=0.15),
             "edge30": LinkRule(edge_colour_distance=0.3, edge_margin=0.15),
             "covered": LinkRule(covered_gap_seconds=3.0),
             "covered_any": LinkRule(covered_gap_seconds=3.0, cover_same=False, cover_reach=4.0),
             **{f"veto_{v}": LinkRule(veto=(v,)) for v in ("edge", "entered", "reversed", "cover_other")},
            # the short link's gates (docs/persons.md, "The short link's wrong joins")
            "behind": LinkRule(behind_distance=0.5), "edge_short": LinkRule(edge_short_colour_distance=0.3),
            "short_both": LinkRule(behind_distance=0.5, edge_short_colour_distance=0.3),
            # motion through the gap (docs/persons.md "Motion through the gap"; experiments/motion_gap_loso.py)
            **{name: LinkRule(**settings) for name, settings in MOTION_CANDIDATES.items() if name != "off"},
            # a bouncing child's reach (docs/persons.md "A bouncing child's reach")
            **{name: LinkRule(**settings) for name, settings in REACH_CANDIDATES.items() if name != "off"},
            # a head turned away and back (docs/persons.md "A head turned away and back")
            **{name: LinkRule(**settings) for name, settings in TURN_CANDIDATES.items() if name != "off"},
            # the short link's ambiguity test (docs/persons.md "The short link's ambiguity test")
            **{name: LinkRule(**settings) for name, settings in AMBIGUITY_CANDIDATES.items() if name != "off"},
            # the short link's reach for moving faces (docs/persons.md "The short link's reach for moving faces")
            **{name: LinkRule(**settings) for name, settings in MOVING_CANDIDATES.items() if name != "off"},
            # the chain-level interleave merge (docs/persons.md "Two tracks on one person at once"): a finaliser setting
            "interleave_waiting": LinkRule(),
            # the order of release (docs/persons.md "A bouncing child's reach"): a finaliser setting
            "await_predecessor": LinkRule()}
    finaliser_settings = {"interleave_waiting": {"interleave_waiting": True}, "await_predecessor": {"await_predecessor": True}}
    # hedged links (docs/persons.md "Hedged links"; experiments/motion_gap_loso.py): finaliser settings
    rules.update({name: LinkRule() for name in HEDGE_CANDIDATES if name != "off"})
    finaliser_settings.update({name: settings for name, settings in HEDGE_CANDIDATES.items() if name != "off"})
    if only:
        rules = {k: v for k, v in rules.items() if k in only}
    totals = {name: [0, 0, 0, 0, 0] for name in rules}  # snapshots, spanning both, people, links, people without a snapshot
    for clips in sources.values():
        for a, b in sw.pairs_of(clips):
            for kind in sw.KINDS:
                frames, _, owner = sw.splice(a, b, kind, 40, 5, detector)
                scorer = LaplacianVarianceScorer()
                recording = record(frames, detector, scorer, 30.0)
                for name, link in rules.items():
                    finaliser = Finaliser.for_scorer(scorer, link=link, **finaliser_settings.get(name, {}))
                    results = replay(recording, finaliser)
                    spanning = sum(1 for r in results if {owner[int(f)] for f in r.frame_indices} >= {0, 1})
                    if spanning:
                        print(f"  {name}: {a.name} -> {b.name} ({kind}) spans both", flush=True)
                    t = totals[name]
                    t[0] += len(results)
                    t[1] += spanning
                    t[2] += 2
                    t[3] += len(finaliser.links)
                    t[4] += len({0, 1} - {owner[int(r.best.frame_index)] for r in results})
    for name, (snapshots, spanning, people, links, without) in totals.items():
        print(f"{name:6s}: {snapshots} snapshots for {people} people, {spanning} snapshots' tracks span two people, "
              f"{links} re-links, {without} people without a snapshot (by the best crop's frame)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
