"""The frame's edges in the re-link: which edges a box touches, whether a fragment left or came
in by one, and the direction a fragment's head moves (the ``edge``, ``entered`` and ``reversed``
vetoes and the edge-return link of :class:`facesel.select.linking.LinkRule`).

Every name is importable from :mod:`facesel.select.linking` as before.
"""

from __future__ import annotations

import numpy as np

from facesel.select.link_ends import _end_observations, _side

EDGES = ("left", "top", "right", "bottom")
"""The frame's edges, as :func:`edges_touched` names them."""


def along_edge(earlier, later, edge: str, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(size ratios (K,), distances (K,)) of ``earlier``'s last box and each of ``later``'s first
    ``window`` boxes, measured along ``edge`` (the frame cuts a box across the edge it crosses, not
    along it): the ratio of their extents along the edge (heights for the left and right edges,
    widths for the top and bottom; larger over smaller) and their centres' distance along it, in
    the mean of those extents."""
    k = 1 if edge in ("left", "right") else 0  # the axis along the edge
    a = np.asarray(earlier.last_box, np.float64)
    head = list(getattr(later, "head", ()))[:window] or [(later.first_time, later.first_box, None)]
    b = np.array([np.asarray(box, np.float64) for _, box, _ in head]).reshape(-1, 4)
    ea, eb = max(a[k + 2] - a[k], 1e-9), np.maximum(b[:, k + 2] - b[:, k], 1e-9)
    ratio = np.maximum(ea, eb) / np.minimum(ea, eb)
    distance = np.abs((a[k] + a[k + 2]) - (b[:, k] + b[:, k + 2])) / 2 / ((ea + eb) / 2)
    return ratio, distance


def edges_touched(box, frame_shape, margin: float) -> set:
    """The frame's edges (:data:`EDGES`) that ``box`` touches or crosses: its side lies within
    ``margin`` times its shorter side of the frame's border, or beyond it. Empty when the frame's
    size is unknown (``frame_shape`` None).

    Parameters
    ----------
    box : (4,) x1, y1, x2, y2 in pixels
    frame_shape : (H, W) or None
    margin : float, box sides
    """
    if frame_shape is None:
        return set()
    x1, y1, x2, y2 = (float(v) for v in np.asarray(box, np.float64).reshape(4))
    h, w = float(frame_shape[0]), float(frame_shape[1])
    reach = margin * max(min(x2 - x1, y2 - y1), 0.0)
    touched = (x1 <= reach, y1 <= reach, x2 >= w - reach, y2 >= h - reach)
    return {edge for edge, hit in zip(EDGES, touched) if hit}


def edges_crossed(evidence, which: str, window: int, margin: float) -> set:
    """The frame's edges a fragment left by (``which`` ``"tail"``: its last box touches the edge,
    :func:`edges_touched`, and its centre moved towards that edge over its last ``window``
    observations) or came in by (``"head"``: its first box touches it and its centre moved away
    from it over its first ``window``): a face cut by the frame's edge while it stays put (a
    large face touching the bottom all along) neither leaves nor enters by it."""
    ends = _end_observations(evidence, which, window)
    box = evidence.last_box if which == "tail" else evidence.first_box
    touched = edges_touched(box, getattr(evidence, "frame_shape", None), margin)
    if not touched or len(ends) < 2:
        return set()
    boxes = np.array([np.asarray(b, np.float64) for _, b, _ in ends]).reshape(-1, 4)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    dx, dy = centres[-1] - centres[0]
    if which == "head":
        dx, dy = -dx, -dy  # coming in: moving away from the edge is moving towards it backwards
    towards = {"left": -dx, "top": -dy, "right": dx, "bottom": dy}
    step = margin * max(_side(box), 0.0)
    return {edge for edge in touched if towards[edge] > step}


def left_by_edge(earlier, later, margin: float, window: int = 8) -> str | None:
    """The border (``"left"``, ``"right"``, ``"top"``, ``"bottom"``) by which ``earlier`` left the
    frame while ``later`` does not start at it, or None (see :attr:`LinkRule.veto` ``"edge"``).

    Left: ``earlier``'s last box lies within ``margin`` of the frame's width (height) of that
    border, at least 1 px, and its velocity points out through it. Starts at it: one of
    ``later``'s first ``window`` boxes lies as near that border. Needs the frame size
    (:attr:`facesel.select.evidence.TrackEvidence.frame_shape`); without it, None.
    """
    size = getattr(earlier, "frame_shape", None)
    if size is None or earlier.count == 0 or later.count == 0:
        return None
    height, width = float(size[0]), float(size[1])
    last = np.asarray(earlier.last_box, np.float64).tolist()
    vx, vy = earlier.velocity().tolist()
    moving_out = {"left": vx < 0, "right": vx > 0, "top": vy < 0, "bottom": vy > 0}
    starts = [np.asarray(b, np.float64) for _, b, _ in list(getattr(later, "head", ()))[:window]] or [
        np.asarray(later.first_box, np.float64)]
    for border, out in moving_out.items():
        if out and _touches(last, border, height, width, margin) \
                and not any(_touches(b, border, height, width, margin) for b in starts):
            return border
    return None


def _touches(box, border: str, height: float, width: float, margin: float) -> bool:
    """Whether ``box`` (x1, y1, x2, y2) lies within ``margin`` of the frame's width (height), at
    least 1 px, of ``border``."""
    mx, my = max(1.0, margin * width), max(1.0, margin * height)
    return {"left": box[0] <= mx, "right": box[2] >= width - mx, "top": box[1] <= my, "bottom": box[3] >= height - my}[border]


_OUTWARD = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "top": (0.0, -1.0), "bottom": (0.0, 1.0)}
"""Per border, the direction out of the frame through it."""


def head_velocity(evidence, window: int = 8) -> np.ndarray | None:
    """(2,) float64 pixels per second of the box centre over the first ``window`` observations, or
    None (fewer than two, or no time between them)."""
    head = list(getattr(evidence, "head", ()))[:window]
    if len(head) < 2 or head[-1][0] - head[0][0] <= 0:
        return None
    (t0, b0, _), (t1, b1, _) = head[0], head[-1]
    b0, b1 = np.asarray(b0, np.float64), np.asarray(b1, np.float64)
    return ((b1[:2] + b1[2:]) - (b0[:2] + b0[2:])) / 2 / (t1 - t0)


def entered_by_edge(earlier, later, margin: float, window: int = 8) -> str | None:
    """The border by which ``later`` came into the frame while none of ``earlier``'s last
    ``window`` boxes touched it, or None (see :attr:`LinkRule.veto` ``"entered"``)."""
    size = getattr(later, "frame_shape", None) or getattr(earlier, "frame_shape", None)
    v = head_velocity(later, window)
    if size is None or v is None or earlier.count == 0:
        return None
    height, width = float(size[0]), float(size[1])
    first = np.asarray(later.first_box, np.float64).tolist()
    ends = [np.asarray(b, np.float64).tolist() for _, b, _ in list(getattr(earlier, "tail", ()))[-window:]] or [
        np.asarray(earlier.last_box, np.float64).tolist()]
    for border, out in _OUTWARD.items():
        if _touches(first, border, height, width, margin) and float(np.dot(v, out)) < 0 \
                and not any(_touches(b, border, height, width, margin) for b in ends):
            return border
    return None


def reversed_direction(earlier, later, speed: float, window: int = 8) -> bool:
    """Whether both fragments move at least ``speed`` box sides per second, in opposite directions
    (see :attr:`LinkRule.veto` ``"reversed"``): the earlier by :meth:`TrackEvidence.velocity`,
    the later over its first ``window`` observations."""
    va, vb = earlier.velocity(), head_velocity(later, window)
    if vb is None:
        return False
    sa, sb = _side(earlier.last_box), _side(later.first_box)
    if not (sa > 0 and sb > 0):
        return False
    return bool(np.linalg.norm(va) >= speed * sa and np.linalg.norm(vb) >= speed * sb and float(np.dot(va, vb)) < 0)
