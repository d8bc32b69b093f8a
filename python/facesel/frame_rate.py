"""The tracker's limits that are counted in frames, held to their length in seconds on a slow camera.

``max_age`` (frames a track may go unseen) and ``min_hits`` (detections before a track counts)
were chosen on footage at 25 fps and above (the arcade, OTB Girl, the crowds made from the shared
clips). On a camera at 12.5 or 8.3 fps the same counts last two or three times as long: a track
whose person has walked on waits 0.8-1.2 s where it waited 0.4 s, and takes the next person who
steps into its place (crossing crowds fed every 3rd frame: 13 tracker-level wrong joins against 1
at 25 fps; docs/persons.md, "Other frame rates and sizes (session 17)"). Below
:data:`REFERENCE_FPS` each limit is therefore scaled to the same seconds (never above the value
set, never below its floor); at 25 fps and above nothing changes, so the rates the defaults were
measured at give the same tracks as before.
"""

from __future__ import annotations

import numpy as np

from facesel.setting_checks import is_finite

REFERENCE_FPS = 25.0
"""Frame rate at which the frame counts below were measured (the arcade, OTB Girl, the crowds)."""

FLOORS = {"max_age": 1, "min_hits": 2}
"""The held limits and the fewest frames each may be cut to: a track must survive one missed
detection, and one detection must not make a track (a single false box would). In sparse mode
``max_age`` is also never cut below ``detect_every``: a track a region search lost must last until
the next full-frame detection can find it again (a 6 fps clip of the shared data, whose second
person the detector finds on one frame in 2-4: at ``max_age`` 2 his track ended between
detections and his snapshot was lost; at 4 it is kept)."""


def check_rate(fps) -> None:
    """ValueError naming ``fps`` unless it is None or a finite number >= 0 (int, float or numpy's;
    never a bool or a string: ``held_in_seconds(config, "10")`` was taken as 10 fps)."""
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float, np.number))
                            or not is_finite(fps) or fps < 0):
        raise ValueError(f"fps must be a finite number >= 0 or None, got {fps!r}")


def held_frames(frames: int, fps: float, floor: int) -> int:
    """``frames`` (a limit counted at :data:`REFERENCE_FPS`) at ``fps``: the same seconds,
    rounded (half to even: 1.5 -> 2, 2.5 -> 2), but never more than ``frames`` and never fewer than ``min(floor, frames)``."""
    if not fps > 0 or fps >= REFERENCE_FPS:
        return frames
    return min(frames, max(floor, round(frames * fps / REFERENCE_FPS)))


def held_in_seconds(config, fps: float | None = None):
    """``config`` (a :class:`facesel.config.PipelineConfig`) with each limit of :data:`FLOORS`
    (``max_age`` at least ``detect_every`` in sparse mode) held to its seconds at the stream's
    frame rate ``fps`` (default ``config.fps``; 0 or None: unknown, nothing changes); ``config``
    itself when ``limits_in_seconds`` is off or nothing changes."""
    check_rate(fps)
    rate = config.fps if fps is None else fps
    if not getattr(config, "limits_in_seconds", True) or not rate:
        return config
    floors = dict(FLOORS)
    if config.mode == "sparse":
        floors["max_age"] = max(floors["max_age"], int(config.detect_every))
    changes = {name: held_frames(getattr(config, name), float(rate), floor) for name, floor in floors.items()}
    changes = {k: v for k, v in changes.items() if v != getattr(config, k)}
    return config.replace(**changes) if changes else config
