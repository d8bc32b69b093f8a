"""Switch-cue thresholds chosen leave-one-source-out over the splice sources, figures held out.

The splices of :mod:`facesel.eval.switches` come from separate sources (the webcam signers, the
talking heads): people, cameras, backgrounds and clothes differ between them. For each source in
turn, the thresholds are chosen on the splices of the **other** sources (the rule of
:func:`rule_grid` that catches the most switches there while splitting at most ``MAX_SPLIT`` of
their genuine tracks; ties to the fewest splits, then to the rule nearest the shipped default),
and the held-out source's switches caught and genuine tracks split are reported at that rule.
The unspliced clips and OTB Girl are never used to choose: they are judged afterwards, at each
fold's rule.
"""

from __future__ import annotations

import dataclasses
import itertools

from facesel.track_cues import SwitchRule

GRID = {
    "fade": (10.0, 15.0, 20.0),
    "fade_ratio": (2.0, 3.0, 4.0),
    "appearance": (0.5, 0.6, 0.7),
}
"""Thresholds searched (the other cues at their defaults): the fade cue's level and spike ratio,
and the frame-to-frame colour jump; 27 rules."""
MAX_SPLIT = 0.02
"""Largest share of genuine tracks a chosen rule may split on its training splices (the issue's
"at most 2 % of genuine tracks split")."""


def rule_grid(base: SwitchRule | None = None, grid: dict | None = None) -> list[SwitchRule]:
    """Every combination of ``grid`` (default :data:`GRID`) over ``base``, ordered by distance
    from ``base`` (number of thresholds changed, then how far in grid steps): ``base`` first
    when it lies on the grid."""
    base = SwitchRule() if base is None else base
    grid = GRID if grid is None else grid
    names = list(grid)
    rules = []
    for values in itertools.product(*(grid[n] for n in names)):
        rule = dataclasses.replace(base, **dict(zip(names, values)))
        changed = [n for n, v in zip(names, values) if v != getattr(base, n)]
        steps = sum(abs(grid[n].index(v) - _nearest(grid[n], getattr(base, n))) for n, v in zip(names, values))
        rules.append(((len(changed), steps), rule))
    rules.sort(key=lambda item: item[0])
    return [rule for _, rule in rules]


def _nearest(values, target) -> int:
    return min(range(len(values)), key=lambda k: abs(values[k] - target))


def totals(results, sources=None) -> dict:
    """Switches made / caught and genuine tracks / split over ``results`` (SpliceResult list),
    restricted to ``sources`` when given."""
    t = {"splices": 0, "made": 0, "caught": 0, "genuine": 0, "split": 0}
    for r in results:
        if sources is not None and r.source not in sources:
            continue
        t["splices"] += 1
        t["made"] += bool(r.made)
        t["caught"] += bool(r.made and r.caught)
        t["genuine"] += r.genuine
        t["split"] += r.split
    return t


def choose(results_by_rule: list[list], sources) -> int:
    """Index of the rule chosen on the splices of ``sources``: most switches caught among those
    that split at most :data:`MAX_SPLIT` of the genuine tracks (or, if none does, the fewest
    splits), then the fewest splits, then the first in order (nearest the default)."""
    best, best_key = 0, None
    for k, results in enumerate(results_by_rule):
        t = totals(results, sources)
        ok = t["split"] <= MAX_SPLIT * max(1, t["genuine"])
        key = (ok, t["caught"] if ok else -t["split"], -t["split"])
        if best_key is None or key > best_key:
            best, best_key = k, key
    return best


def leave_one_source_out(rules: list[SwitchRule], results_by_rule: list[list]) -> dict:
    """Per held-out source: the rule chosen on the others, its training and held-out figures;
    plus ``"all"``, the sum of the held-out figures, and ``"chosen_on_all"``, the rule chosen
    on every source (what a default would be set to)."""
    sources = sorted({r.source for r in results_by_rule[0]})
    folds = {}
    held = {"splices": 0, "made": 0, "caught": 0, "genuine": 0, "split": 0}
    for source in sources:
        train = [s for s in sources if s != source]
        k = choose(results_by_rule, train)
        test = totals(results_by_rule[k], [source])
        folds[source] = {"rule_index": k, "rule": _changed(rules[k]), "train": totals(results_by_rule[k], train),
                         "held_out": test}
        for key in held:
            held[key] += test[key]
    k_all = choose(results_by_rule, sources)
    return {"folds": folds, "held_out": held, "chosen_on_all": {"rule_index": k_all, "rule": _changed(rules[k_all]),
                                                              "figures": totals(results_by_rule[k_all], sources)}}


def _changed(rule: SwitchRule) -> dict:
    """The rule's thresholds that :data:`GRID` searches."""
    return {name: getattr(rule, name) for name in GRID}
