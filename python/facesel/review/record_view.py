"""The sealed metadata a page shows, checked field by field first.

A record's metadata JSON is the camera's word: it is authenticated (only the camera's key could
have sealed it), not trustworthy, since whoever holds a camera key can run other software and seal
any JSON. The page escapes every value, but a wrong type (text where a frame number belongs, a box
that is not numbers) used to fail the whole view and hide every other record of the opening. So
the page reads only these fields, each checked here; a record that fails is shown with the
reason and its (sealed) pictures, and the rest of the opening is unaffected.
"""

from __future__ import annotations

import math

MAX_TRACK = 1_000_000  # per-frame values a track may list (a day at 10 frames/s is 864,000)


class MetadataError(ValueError):
    """A field the page shows is missing or of the wrong type (the message names it)."""


def _integer(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2 ** 53:
        raise MetadataError(f"{name} is not a frame number")
    return value


def _number(value, name: str, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MetadataError(f"{name} is not a finite number")
    return float(value)


def _listing(value, name: str, limit: int = MAX_TRACK) -> list:
    if not isinstance(value, list) or len(value) > limit:
        raise MetadataError(f"{name} is not a list (of at most {limit} values)")
    return value


def shown_metadata(meta: object) -> tuple[dict, dict]:
    """``(best, track)`` with exactly the fields the view uses, checked.

    best: ``frame_index`` int, ``box`` list of 4 floats, ``quality`` float or None,
    ``clip_frame_indices`` list of int. track: ``first_frame``/``last_frame`` int,
    ``first_timestamp``/``last_timestamp`` float, ``frame_indices`` list of int and ``qualities``
    list of float or None, of the same length.

    Raises
    ------
    MetadataError
        Naming the first field that is missing or malformed.
    """
    if not isinstance(meta, dict) or not isinstance(meta.get("best"), dict) or not isinstance(meta.get("track"), dict):
        raise MetadataError("best or track is missing")
    b, t = meta["best"], meta["track"]
    box = _listing(b.get("box"), "best.box", 4)
    if len(box) != 4:
        raise MetadataError("best.box does not hold 4 numbers")
    best = {"frame_index": _integer(b.get("frame_index"), "best.frame_index"),
            "box": [_number(v, "best.box") for v in box],
            "quality": _number(b.get("quality"), "best.quality", optional=True),
            "clip_frame_indices": [_integer(v, "best.clip_frame_indices")
                                   for v in _listing(b.get("clip_frame_indices", []), "best.clip_frame_indices")]}
    frames = [_integer(v, "track.frame_indices") for v in _listing(t.get("frame_indices"), "track.frame_indices")]
    qualities = [_number(v, "track.qualities", optional=True) for v in _listing(t.get("qualities"), "track.qualities")]
    if len(frames) != len(qualities):
        raise MetadataError("track.frame_indices and track.qualities differ in length")
    track = {"first_frame": _integer(t.get("first_frame"), "track.first_frame"),
             "last_frame": _integer(t.get("last_frame"), "track.last_frame"),
             "first_timestamp": _number(t.get("first_timestamp"), "track.first_timestamp"),
             "last_timestamp": _number(t.get("last_timestamp"), "track.last_timestamp"),
             "frame_indices": frames, "qualities": qualities}
    return best, track
