"""Zones of a camera: polygons where faces are ignored, or the only places where they count.

In the config (pixel coordinates of the camera's frames, as read off ``/cameras/NAME/view.jpg``)::

    [[cameras.entrance.zones]]
    kind = "ignore"                  # a poster wall, a TV screen, a mirror
    name = "poster wall"
    points = [[0, 0], [420, 0], [420, 300], [0, 300]]

    [[cameras.entrance.zones]]
    kind = "only"                    # the doorway: with any "only" zone, faces count there alone
    points = [[600, 100], [1300, 100], [1300, 1080], [600, 1080]]

How: before a frame enters the pipeline its pixels outside the zones where faces count are set
to black (``only`` zones are kept, then ``ignore`` zones blanked; an ``ignore`` zone inside an
``only`` zone wins). The detector, the tracker and the quality model never see them, in every
detection mode (full frame or the sparse mode's squares), and nothing of them can be sealed.
A face that straddles a zone's edge is cut by it: draw the edge through no place where people
stand. The privacy-safe view shows the scene as the camera sees it with the zones drawn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

_log = logging.getLogger("facesel.serve")

ZONE_KINDS = ("ignore", "only")
ZONE_KEYS = {"kind", "name", "points"}


@dataclass(frozen=True)
class Zone:
    """One polygon of a camera's frame where faces are ignored (``ignore``) or the only places they
    count (``only``)."""

    kind: str
    """``ignore`` or ``only``."""
    points: tuple
    """((x, y), ...) pixel corners, at least 3."""
    name: str = ""


def parse_zones(value, where: str) -> tuple[Zone, ...]:
    """The ``zones`` array of tables of one camera; ValueError naming ``where`` and the zone."""
    from facesel.serve.suggest import check_known_keys

    if not isinstance(value, list):
        raise ValueError(f"{where} must be an array of tables ([[{where}]]), got {type(value).__name__}")
    zones = []
    for k, table in enumerate(value):
        at = f"{where}[{k}]"
        if not isinstance(table, dict):
            raise ValueError(f"{at} must be a table, got {table!r}")
        check_known_keys(table, at, ZONE_KEYS)
        kind = table.get("kind")
        if kind not in ZONE_KINDS:
            raise ValueError(f"{at}.kind must be one of {', '.join(ZONE_KINDS)}, got {kind!r}")
        points = table.get("points")
        if not isinstance(points, list) or len(points) < 3:
            raise ValueError(f"{at}.points must be at least 3 [x, y] pixel corners, got {points!r}")
        corners = []
        for point in points:
            if (not isinstance(point, list) or len(point) != 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) and v >= 0
                               for v in point)):
                raise ValueError(f"{at}.points: each corner must be [x, y] with non-negative pixel numbers, "
                                 f"got {point!r}")
            corners.append((float(point[0]), float(point[1])))
        if _on_one_line(corners):
            # an "only" zone of no area blanked every pixel: the camera ran and sealed nothing (ux18)
            raise ValueError(f"{at}.points: the corners lie on one line, so the zone has no area, got {points!r}")
        name = table.get("name", "")
        if not isinstance(name, str):
            raise ValueError(f"{at}.name must be a string, got {name!r}")
        zones.append(Zone(kind, tuple(corners), name))
    return tuple(zones)


class ZoneMask:
    """Applies a camera's zones to its frames (see the module docstring)."""

    def __init__(self, zones: tuple[Zone, ...] = ()):
        self.zones = tuple(zones)
        self._mask: np.ndarray | None = None

    def mask(self, shape) -> np.ndarray:
        """(H, W) uint8: 255 where faces count, 0 where the frame is blanked (cached per size)."""
        h, w = int(shape[0]), int(shape[1])
        if self._mask is None or self._mask.shape != (h, w):
            only = [z for z in self.zones if z.kind == "only"]
            mask = np.zeros((h, w), np.uint8) if only else np.full((h, w), 255, np.uint8)
            for zone in only:
                cv2.fillPoly(mask, [_corners(zone)], 255)
            for zone in self.zones:
                if zone.kind == "ignore":
                    cv2.fillPoly(mask, [_corners(zone)], 0)
            self._mask = mask
            self._warn_if_blind(only, (h, w))
        return self._mask

    def _warn_if_blind(self, only: list[Zone], shape: tuple[int, int]) -> None:
        """Log a warning for each ``only`` zone that covers no pixel of an (H, W) frame, and when the
        zones leave no pixel where faces count: coordinates read off another camera's view (a
        1080p view for a 720p stream) left a camera running, its frames black, sealing nothing,
        with no word in its log or /healthz (ux18). Once per frame size."""
        h, w = shape
        for zone in only:
            alone = np.zeros((h, w), np.uint8)
            cv2.fillPoly(alone, [_corners(zone)], 255)
            if not alone.any():
                _log.warning("zone %s (only) covers no pixel of the %dx%d frame: its corners %s lie outside it",
                             zone.name or "without a name", w, h, list(zone.points))
        if not self._mask.any():
            _log.warning("the zones leave no pixel of the %dx%d frame where faces count: this camera detects and "
                         "seals nothing until they are corrected", w, h)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """``image`` (H, W, 3) uint8 with the pixels where faces do not count set to 0; the same
        array when the camera has no zones, a new one otherwise (the source's is left alone)."""
        if not self.zones:
            return image
        return cv2.bitwise_and(image, image, mask=self.mask(image.shape))

    def draw(self, image: np.ndarray, scale: float = 1.0) -> None:
        """Draw the zones' outlines and names on ``image`` ((H, W, 3) uint8 BGR) in place (ignore: red,
        only: green); ``scale``: the image's size over the camera frame's (a shrunk view)."""
        for zone in self.zones:
            colour = (0, 0, 255) if zone.kind == "ignore" else (0, 200, 0)
            corners = _corners(zone, scale)
            cv2.polylines(image, [corners], True, colour, 2, cv2.LINE_AA)
            label = f"{zone.kind}: {zone.name}" if zone.name else zone.kind
            x, y = corners.min(axis=0)
            cv2.putText(image, label, (int(x) + 4, int(y) + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)


def _on_one_line(corners: list[tuple[float, float]]) -> bool:
    """Whether every corner lies on one line (or on one point): a polygon that covers no pixel.

    Not the shoelace area: a crossed polygon (a bow tie, corners given in the wrong order) has a
    signed area of 0 though ``fillPoly`` fills both its triangles (review 18: refused as "on one
    line"). Each corner's offset from the first is crossed with the first offset that is not zero."""
    offsets = np.asarray(corners, np.float64) - np.asarray(corners[0], np.float64)
    moved = offsets[np.any(offsets != 0, axis=1)]
    if len(moved) == 0:
        return True
    cross = moved[0, 0] * moved[:, 1] - moved[0, 1] * moved[:, 0]
    return bool(np.all(cross == 0))


def _corners(zone: Zone, scale: float = 1.0) -> np.ndarray:
    return np.round(np.asarray(zone.points, np.float64) * scale).astype(np.int32).reshape(-1, 1, 2)


class _MaskedSegment:
    """A segment whose frames have the zones applied; ``gap`` is the inner segment's, read after
    it was iterated (:func:`facesel.serve.pipeline_adapter.views_by_segment`)."""

    def __init__(self, segment, zones: ZoneMask):
        self._segment, self._zones = segment, zones

    @property
    def gap(self) -> bool:
        return getattr(self._segment, "gap", False)

    @property
    def keeps_newest(self) -> bool:
        """The inner segment's (a live source drops by itself: ``Selector.run`` adds no buffer)."""
        return getattr(self._segment, "keeps_newest", False) is True

    def __iter__(self):
        for image, stamp in self._segment:
            yield self._zones.apply(image), stamp


def masked_segments(segments, zones: ZoneMask):
    """``segments`` (iterables of ``(frame, timestamp)``) with ``zones`` applied to every frame:
    what ``facesel serve`` and ``facesel run --config`` hand the pipeline."""
    for segment in segments:
        yield _MaskedSegment(segment, zones)
