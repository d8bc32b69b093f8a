"""Hedged links: a doubtful re-link is made, but each side keeps its own snapshot (issue 23, session 17).

Every attempt to refuse the short link's wrong joins (a walker's fragment taken as the
continuation of another walker's: the second person gets no snapshot) by a tighter gate also
refused genuine links, and a refused genuine link sometimes let a worse link through
(docs/persons.md "The short link's wrong joins", "Motion through the gap"). A hedge refuses
nothing: the finaliser links as it always does (the same chains, the same later links), but when
the link it makes is **doubtful** (a gate's value close to its limit) the chain delivers the best
crop of each side of that link as its own snapshot. A wrong join then costs no person their
snapshot; a right one costs one duplicate.

What counts as doubtful (:class:`HedgeRule`) reads only what the short link already measured
(:func:`facesel.select.link_explain.explain`: the coarse colours' distance, the distance from the
predicted or last seen place, the gap, whether a switch cue ended the earlier fragment) and how
many other tracks were near the place (:func:`facesel.select.linking.crowding`): box positions,
times and coarse colour histograms, no identity. Only short links (gap up to
``LinkRule.max_gap_seconds``) are hedged; long and covered links never are.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from facesel.setting_checks import check_at_least

REASONS = ("colour", "no colours", "position", "gap", "cue", "crowd")
"""What may make a short link doubtful, in the order :meth:`HedgeRule.doubt` asks."""


@dataclass(frozen=True)
class HedgeRule:
    """When a short link the finaliser makes is doubtful (each criterion None or False: never).

    Parameters
    ----------
    colour : float in (0, 1] or None
        Doubtful when the two ends' colours are at least this fraction of
        ``LinkRule.max_colour_distance`` apart (the re-join's distance after a cue, as the link
        measured it).
    without_colours : bool
        Doubtful when either end has no colours (faces under 40 px, or none measured): nothing
        but place, time and size spoke for the link.
    position : float in (0, 1] or None
        Doubtful when the later fragment starts at least this fraction of the position
        allowance (``LinkRule.short_allowance`` at the gap, box sides) from the predicted or last
        seen place.
    gap : float in (0, 1] or None
        Doubtful when the gap is at least this fraction of ``LinkRule.max_gap_seconds``.
    after_cue : bool
        Doubtful when a switch cue ended the earlier fragment (size, aspect, appearance jump).
    crowd : int >= 1 or None
        Doubtful when at least this many other tracks were near the place during the gap
        (:func:`facesel.select.linking.crowding`, ``LinkRule.crowd_radius`` box sides).
    """

    colour: float | None = None
    without_colours: bool = False
    position: float | None = None
    gap: float | None = None
    after_cue: bool = False
    crowd: int | None = None

    def __post_init__(self) -> None:
        # numpy's scalars (a margin read off a quantile, a count off an array) are numbers too: held
        # as Python's own, so np.int64(3) is no longer refused as "not an integer" (review 17b)
        for name, kind, plain in (("colour", numbers.Real, float), ("position", numbers.Real, float),
                                  ("gap", numbers.Real, float), ("crowd", numbers.Integral, int)):
            value = getattr(self, name)
            if isinstance(value, np.generic) and isinstance(value, kind) and not isinstance(value, np.bool_):
                object.__setattr__(self, name, plain(value))
        for name in ("colour", "position", "gap"):
            value = getattr(self, name)
            check_at_least(self, (name,), 0, or_none=True)
            if value is not None and not 0 < value <= 1:
                raise ValueError(f"{name} must be a fraction in (0, 1] or None, got {value!r}")
        for name in ("without_colours", "after_cue"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        c = self.crowd
        if c is not None and (isinstance(c, bool) or not isinstance(c, int) or c < 1):
            raise ValueError(f"crowd must be an integer >= 1 or None, got {c!r}")

    @property
    def asks_anything(self) -> bool:
        """Whether any criterion is set (else no link is ever doubtful)."""
        return (self.colour is not None or self.without_colours or self.position is not None
                or self.gap is not None or self.after_cue or self.crowd is not None)

    def doubt(self, rule, earlier, later, others=()) -> str | None:
        """The first reason of :data:`REASONS` that makes the link ``earlier -> later`` of ``rule``
        (a :class:`facesel.select.linking.LinkRule` that linked them) doubtful, or None.

        Parameters
        ----------
        rule : LinkRule
        earlier, later : TrackEvidence
        others : iterable of TrackEvidence (every other track; read only by ``crowd``)
        """
        from facesel.select.link_explain import explain
        from facesel.select.linking import crowding

        if not self.asks_anything:
            return None
        gap = later.first_time - earlier.last_time
        if gap > rule.max_gap_seconds:
            return None  # a long or covered link: never hedged
        x = explain(rule, earlier, later)
        if x["colour"] is None:
            if self.without_colours:
                return "no colours"
        elif self.colour is not None and x["colour"] >= self.colour * rule.max_colour_distance:
            return "colour"
        if self.position is not None and x["position"] >= self.position * x["allowance"]:
            return "position"
        if self.gap is not None and gap >= self.gap * rule.max_gap_seconds:
            return "gap"
        if self.after_cue and x["ended_by"] is not None:
            return "cue"
        if self.crowd is not None and crowding(earlier, later, others, rule.crowd_radius) >= self.crowd:
            return "crowd"
        return None


def joined_parts(first: list, second: list, hedged: bool, merge) -> list:
    """The parts of a chain (results whose best crops are each delivered; a chain without hedged
    links has one) when ``first``'s parts are continued by ``second``'s: with a hedged link
    both lists side by side, else ``first``'s last part merged with ``second``'s first (``merge``:
    :func:`facesel.select.merging.merge_results`)."""
    if hedged:
        return list(first) + list(second)
    return list(first[:-1]) + [merge(first[-1], second[0])] + list(second[1:])
