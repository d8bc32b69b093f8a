"""Reconnection delays: exponential backoff with full jitter, reset after a healthy connection."""

from __future__ import annotations

import math
import random


class Backoff:
    """Delays before reconnection attempts: ``uniform(0, min(cap, base * 2**attempt))``.

    Full jitter (each delay drawn uniformly below the exponential ceiling) keeps many cameras
    that lost the same server from reconnecting in lock-step once it is back.

    Parameters
    ----------
    base : float > 0
        Ceiling of the first delay, in seconds.
    cap : float >= base
        Largest ceiling, in seconds.
    rng : random.Random, optional
        Source of the jitter (seed it in tests).
    """

    def __init__(self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None):
        for name, value in (("base", base), ("cap", cap)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if cap < base:
            raise ValueError(f"cap must be >= base ({base}), got {cap!r}")
        self.base, self.cap = float(base), float(cap)
        self.attempt = 0
        self._rng = rng if rng is not None else random.Random()

    def ceiling(self) -> float:
        """Upper bound of the next delay, in seconds."""
        # min() before the power would overflow for a camera that has been down for days.
        return min(self.cap, self.base * 2.0 ** min(self.attempt, 62))

    def next_delay(self) -> float:
        """The delay before the next attempt, in seconds; each call raises the ceiling."""
        delay = self._rng.uniform(0.0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """Back to the first delay (after frames arrived again)."""
        self.attempt = 0
