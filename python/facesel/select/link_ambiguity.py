"""The short link's ambiguity test: a ratio test, as in feature matching (issue 23, session 23).

The short link (a gap of up to ``LinkRule.max_gap_seconds``) joins two people when the later
fragment is someone else who appears, within a second, where the earlier one went out of sight
(docs/persons.md "The short link's wrong joins"). Feature matching guards a match with Lowe's ratio
test: the best candidate is taken only when it is clearly better than the second best. Here a short
link from ``earlier`` to ``later`` at position cost ``d1`` (box sides, :meth:`LinkRule.cost`) is
**ambiguous** when another track the finaliser knows of is a comparably plausible partner: it
passes the short link's own gates (time, size, colours, position) as ``later``'s predecessor (and,
with ``sides="both"``, as ``earlier``'s successor) at a cost ``d2`` with ``d1 >= ratio * d2``. An
ambiguous link is not made: the fragments are kept apart (one more snapshot, never a wrong join).

What is compared: box positions, sizes, times and the coarse colours the link already compares; no
identity, no embedding. Off by default (:attr:`facesel.select.linking.LinkRule.ambiguity_ratio`);
docs/persons.md "The short link's ambiguity test" says what it did when measured.
"""

from __future__ import annotations

from dataclasses import replace

AMBIGUITY_SIDES = ("later", "both")
"""The values of :attr:`facesel.select.linking.LinkRule.ambiguity_sides`."""


def competitor_costs(rule, earlier, later, others):
    """The short-link costs of the partners competing with ``earlier -> later``.

    Parameters
    ----------
    rule : LinkRule
        The rule whose short link is tested (its ambiguity test itself is left out here).
    earlier, later : TrackEvidence
        The pair the short link joins.
    others : iterable of TrackEvidence
        Every track the finaliser knows of (open, held, waiting, lately released); ``earlier`` and
        ``later`` themselves are skipped.

    Yields
    ------
    float
        Position cost in box sides of each other pair passing the short link's gates:
        ``other -> later`` always, ``earlier -> other`` when ``rule.ambiguity_sides == "both"``.
        Long and covered links are not competitors (their gates ask more; long links already
        ask whether anyone else was near). With ``rule.ambiguity_exclusive`` a competitor counts
        only when it was seen during the partner it would replace (:func:`_overlap`): two people
        at once; one that ended before ``earlier`` began, or starts after ``later`` ended, may be
        the same person's other piece of one chain.
    """
    plain = replace(rule, ambiguity_ratio=None, long_gap_seconds=None, covered_gap_seconds=None, turn_distance=None)
    both = rule.ambiguity_sides == "both"
    exclusive = rule.ambiguity_exclusive
    for other in others:
        if other is earlier or other is later or other.count == 0:
            continue
        # cheap time checks first: most tracks are nowhere near either end in time
        gap = later.first_time - other.last_time
        if -plain.max_overlap_seconds <= gap <= plain.max_gap_seconds and (not exclusive or _overlap(other, earlier)):
            cost = plain.cost(other, later)
            if cost is not None:
                yield cost
        if both:
            gap = other.first_time - earlier.last_time
            if -plain.max_overlap_seconds <= gap <= plain.max_gap_seconds and (not exclusive or _overlap(other, later)):
                cost = plain.cost(earlier, other)
                if cost is not None:
                    yield cost


def _overlap(a, b) -> bool:
    """Whether tracks ``a`` and ``b`` (TrackEvidence) were seen over overlapping times (seconds)."""
    return a.first_time <= b.last_time and b.first_time <= a.last_time


def ambiguous(rule, earlier, later, cost: float, others) -> bool:
    """Whether the short link ``earlier -> later`` of position cost ``cost`` (box sides) has a
    competitor at ``d2`` with ``cost >= rule.ambiguity_ratio * d2`` (:func:`competitor_costs`)."""
    ratio = rule.ambiguity_ratio
    return any(cost >= ratio * d2 for d2 in competitor_costs(rule, earlier, later, others))
