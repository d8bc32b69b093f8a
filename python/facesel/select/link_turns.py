"""The re-link of a head turned away and back (issue 23, session 18; :attr:`LinkRule.turn_distance`).

A face the detector loses while its head is turned away (the back of the head to the camera) comes
back in the **other** profile, on the other side of the head (:mod:`facesel.select.facing`). The
face boxes of the two ends are then about a head width apart though the head barely moved, so
the position is compared between the heads' centres, estimated behind each end's profile boxes.
Only pairs whose ends show opposite profiles are judged: a frontal face, or a fragment that ends
and starts looking the same way, is left to the other gates.
"""

from __future__ import annotations

import numpy as np

from facesel.select.facing import end_facing, facing, head_centre
from facesel.select.link_ends import _measured, _side, _typical, crowding
from facesel.track_cues import distance as colour_distance


def _tail_end(rule, evidence) -> tuple[list, list]:
    """The last ``rule.window`` boxes of ``evidence`` and their landmarks, in time order."""
    return [box for _, box, _ in list(evidence.tail)[-rule.window:]], list(evidence.marks_tail)[-rule.window:]


def may_turn(rule, evidence) -> bool:
    """Whether a turn link (:attr:`LinkRule.turn_distance`) could still continue ``evidence``, a
    closed fragment: the rule has them, no switch cue ended it, and it ended in profile. The
    finaliser then holds it up to the longest gap, as for a long link."""
    if rule.turn_distance is None or getattr(evidence, "ended_by", None) is not None or evidence.count == 0:
        return False
    return end_facing(*_tail_end(rule, evidence), rule.turn_count) is not None


def turn_cost(rule, earlier, later, others=()) -> float | None:
    """Distance in box sides between the heads' centres of the best pair of profile observations
    (one at the end of ``earlier``, one at the start of ``later``), or None when the pair is not a
    head turned away and back within ``rule``'s limits (see :attr:`LinkRule.turn_distance`).

    Parameters
    ----------
    rule : LinkRule
    earlier, later : TrackEvidence
    others : iterable of TrackEvidence
        Every other track the finaliser knows of: nobody may have been near the place.
    """
    if rule.turn_distance is None or earlier.count == 0 or later.count == 0:
        return None
    if getattr(earlier, "ended_by", None) is not None:
        return None  # a switch cue (a cut, a jump) ended it: what follows may be someone else
    gap = later.first_time - earlier.last_time
    longest = max(rule.max_gap_seconds, rule.long_gap_seconds or 0.0)
    if gap < -rule.max_overlap_seconds or gap > longest or later.first_frame <= earlier.first_frame:
        return None
    window = rule.window
    tail_boxes, tail_marks = _tail_end(rule, earlier)
    head_boxes = [box for _, box, _ in later.head[:window]]
    head_marks = list(later.marks_head)[:window]
    away = end_facing(tail_boxes, tail_marks, rule.turn_count)
    if away is None or end_facing(head_boxes, head_marks, rule.turn_count) != -away:
        return None
    ends_a = [(head_centre(b, away), _side(b)) for b, m in zip(tail_boxes, tail_marks) if facing(b, m) == away]
    ends_b = [(head_centre(b, -away), _side(b)) for b, m in zip(head_boxes, head_marks) if facing(b, m) == -away]
    best = None
    for (ca, sa) in ends_a:
        for (cb, sb) in ends_b:
            if min(sa, sb) <= 0 or max(sa, sb) / min(sa, sb) > rule.max_size_ratio:
                continue
            apart = float(np.hypot(cb[0] - ca[0], cb[1] - ca[1])) / ((sa + sb) / 2)
            if apart <= rule.turn_distance and (best is None or apart < best):
                best = apart
    if best is None:
        return None
    tail_colours, head_colours = _measured(earlier, "tail", window), _measured(later, "head", window)
    if tail_colours and head_colours and \
            colour_distance(_typical(tail_colours), _typical(head_colours)) > rule.max_colour_distance:
        return None
    if crowding(earlier, later, others, rule.crowd_radius):
        return None  # only a person alone at the place
    return best
