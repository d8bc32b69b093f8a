"""Why the re-link refused to join two fragments: every gate of a :class:`LinkRule`, measured apart.

:meth:`facesel.select.linking.LinkRule.cost` answers "which cost, or None"; this module answers
"which gates refused, and by how much", for reports (``experiments/crowds_refusals.py``,
docs/persons.md "Occluded crowds"). It recomputes the same quantities as the rule (the ends of the
two fragments, typical colours, size ratios, distances from the predicted or last seen place) and
reports each gate's value next to its limit. Nothing here decides a link.
"""

from __future__ import annotations

import numpy as np

from facesel.select.linking import _ends


def explain(rule, earlier, later) -> dict:
    """The gates of ``rule`` between ``earlier`` and ``later`` (two :class:`TrackEvidence`).

    Returns
    -------
    dict
        ``gap`` (seconds, later's first minus earlier's last), ``ended_by``, ``colour`` (typical
        colours' distance, None without colours on either side), ``size`` (smallest ratio of two end
        sides), ``position`` (smallest distance, in box sides, from the predicted or last seen
        place over the pairs whose sizes pass; over all pairs when none does), ``predicted`` and
        ``stayed`` (the same with one of the two places only), ``allowance`` (the position gate
        at this gap), and ``refused``: the names of the gates that refuse, in the rule's order
        ("cut", "overlap", "not later", "gap", "veto NAME" (:meth:`LinkRule.vetoed`; also ``veto``, the
        name or None), "colour", "rejoin colour", "rejoin without colours",
        "size", "position").
    """
    out: dict = {"gap": float(later.first_time - earlier.last_time), "ended_by": getattr(earlier, "ended_by", None)}
    refused = []
    gap = out["gap"]
    if out["ended_by"] == "cut":
        refused.append("cut")
    if gap < -rule.max_overlap_seconds:
        refused.append("overlap")
    if later.first_frame <= earlier.first_frame:
        refused.append("not later")
    if gap > rule.max_gap_seconds:
        refused.append("gap")
    out["veto"] = rule.vetoed(earlier, later) if getattr(rule, "veto", ()) else None
    if out["veto"] is not None:
        refused.append("veto " + out["veto"])
    tail = _ends(earlier, "tail", rule.window, earlier.last_time, earlier.last_box, earlier.last_colours)
    head = _ends(later, "head", rule.window, later.first_time, later.first_box, later.first_colours)
    out["colour"] = rule._colours_apart(earlier, later, tail[2], head[2]) if tail[2] and head[2] else None
    if out["colour"] is not None and out["colour"] > rule.max_colour_distance:
        refused.append("colour")
    if out["ended_by"] not in (None, "cut"):
        if out["colour"] is None and tail[2] and head[2]:
            out["colour"] = rule._rejoin_colours_apart(earlier, later)
        if out["colour"] is None:
            refused.append("rejoin without colours")
        elif rule.rejoin_colour_distance is None or out["colour"] > rule.rejoin_colour_distance:
            refused.append("rejoin colour")
    (ta, ca, sa), (tb, cb, sb) = (tail[0], tail[1], tail[3]), (head[0], head[1], head[3])
    sa, sb = np.maximum(sa, 1e-9), np.maximum(sb, 1e-9)
    ratio = np.maximum(sa[:, None], sb[None, :]) / np.minimum(sa[:, None], sb[None, :])
    dt = np.maximum(tb[None, :] - ta[:, None], 0.0)
    predicted = ca[:, None, :] + earlier.velocity()[None, None, :] * dt[..., None]
    scale = (sa[:, None] + sb[None, :]) / 2
    moved = np.linalg.norm(cb[None, :, :] - predicted, axis=2) / scale
    stayed = np.broadcast_to(np.linalg.norm(cb - ca[-1], axis=1)[None, :], moved.shape) / scale
    sized = ratio <= rule.max_size_ratio
    pool = sized if sized.any() else np.ones_like(sized)
    out["size"] = float(ratio.min())
    out["predicted"] = float(moved[pool].min())
    out["stayed"] = float(stayed[pool].min())
    out["position"] = float(np.minimum(moved, stayed)[pool].min())
    out["allowance"] = float(rule.short_allowance(earlier, gap, tail, head))
    if not sized.any():
        refused.append("size")
    if out["position"] > out["allowance"]:
        refused.append("position")
    out["refused"] = refused
    return out


def explain_long(rule, earlier, later, others=()) -> dict:
    """The gates of a **long link** (gap beyond ``rule.max_gap_seconds``) between ``earlier`` and
    ``later``, each measured apart (:meth:`LinkRule._long_cost` decides; this only reports).

    Returns
    -------
    dict
        ``gap`` (seconds), ``still`` (smallest distance, in box sides, of ``later``'s first boxes from
        ``earlier``'s last centre), ``size`` (smallest side ratio), ``colour`` (typical colours of the
        two ends, the long link's ``"ends"`` sample; None when either has none), ``near`` (other
        tracks near the place during the gap: :func:`facesel.select.linking.crowding`), ``allowed``
        (the longest gap allowed with that many near), ``veto`` (:meth:`LinkRule.vetoed`, or None),
        and ``refused``: "cue", "no colours", "gap", "veto NAME", "size", "still", "long colour", "crowd"
        (in the rule's order), or the empty list; ``edge``: the edge-return cues (:func:`_edge`).
    """
    from facesel.select.linking import _centre, _side, _typical, crowding
    from facesel.track_cues import distance as colour_distance

    gap = float(later.first_time - earlier.last_time)
    out: dict = {"gap": gap, "ended_by": getattr(earlier, "ended_by", None)}
    refused = []
    if out["ended_by"] is not None:
        refused.append("cue")
    if earlier.last_colours is None or later.first_colours is None:
        refused.append("no colours")
    if rule.long_gap_seconds is None or gap > rule.long_gap_seconds or gap <= rule.max_gap_seconds:
        refused.append("gap")
    out["veto"] = rule.vetoed(earlier, later) if getattr(rule, "veto", ()) else None
    if out["veto"] is not None:
        refused.append("veto " + out["veto"])
    head = _ends(later, "head", rule.window, later.first_time, later.first_box, later.first_colours)
    tail = _ends(earlier, "tail", rule.window, earlier.last_time, earlier.last_box, earlier.last_colours)
    side_last = max(_side(earlier.last_box), 1e-9)
    sides = np.maximum(head[3], 1e-9)
    ratio = np.maximum(sides, side_last) / np.minimum(sides, side_last)
    still = np.linalg.norm(head[1] - _centre(earlier.last_box), axis=1) / ((sides + side_last) / 2)
    out["size"], out["still"] = float(ratio.min()), float(still.min())
    if not (ratio <= rule.max_size_ratio).any():
        refused.append("size")
    if not ((ratio <= rule.max_size_ratio) & (still <= rule.still_distance)).any():
        refused.append("still")
    out["colour"] = colour_distance(_typical(tail[2]), _typical(head[2])) if tail[2] and head[2] else None
    if out["colour"] is not None and out["colour"] > rule.long_colour_distance:
        refused.append("long colour")
    out["near"] = crowding(earlier, later, others, rule.crowd_radius)
    long_gap = rule.long_gap_seconds or rule.max_gap_seconds
    out["allowed"] = float(rule.max_gap_seconds + (long_gap - rule.max_gap_seconds) / (1 + out["near"]))
    if "gap" not in refused and gap > out["allowed"]:
        refused.append("crowd")
    out["refused"] = refused
    out["edge"] = _edge(rule, earlier, later)
    return out


def _edge(rule, earlier, later) -> dict:
    """The edge-return cues (:attr:`LinkRule.edge_colour_distance`, measured whether it is on or
    not): ``left`` and ``back`` (the frame's edges the earlier fragment left by and the later came
    in by, :func:`facesel.select.linking.edges_crossed`), and for each edge they share its
    ``size`` (the smallest ratio of the boxes' extents along it) and ``along`` (the smallest
    distance of their centres along it, in those extents, of the pairs within the size gate;
    :func:`facesel.select.linking.along_edge`) and the colours of both regions (``colour``) and of the face region only
    (``face_colour``) of the end observations (None: an end without colours)."""
    from facesel.select.linking import _measured, _typical, along_edge, edges_crossed
    from facesel.track_cues import distance as colour_distance

    left = edges_crossed(earlier, "tail", rule.window, rule.edge_margin)
    back = edges_crossed(later, "head", rule.window, rule.edge_margin)
    out: dict = {"left": sorted(left), "back": sorted(back), "shared": {}}
    tail, head = _measured(earlier, "tail", rule.window), _measured(later, "head", rule.window)
    ca = _typical(tail) if tail else None
    cb = _typical(head) if head else None
    for edge in sorted(left & back):
        ratio, along = along_edge(earlier, later, edge, rule.window)
        sized = ratio <= rule.max_size_ratio
        out["shared"][edge] = {"size": float(ratio.min()), "along": float(along[sized].min() if sized.any() else along.min())}
    out["colour"] = None if ca is None or cb is None else colour_distance(ca, cb)
    out["face_colour"] = None if ca is None or cb is None else colour_distance(ca[:1], cb[:1])
    return out
