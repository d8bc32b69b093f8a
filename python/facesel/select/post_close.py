"""Stages between a track's close and the sinks (e.g. a finaliser that waits a grace period,
re-links fragments of one person or drops what is not a face).

The Selector hands each frame's closed results through its ``post_close`` stages in order, then
to the sinks. A stage may hold results back and release them on a later frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable


@runtime_checkable
class PostCloseStage(Protocol):
    """A stage between the selection store and the sinks: it may hold closed results, merge or
    drop them (:class:`facesel.select.finalise.Finaliser`). ``observe(packet)`` is optional.
    """
    def process(self, closed: list, now: float) -> list:
        """This frame's closed results in; the results to pass on now out (possibly held ones
        from earlier frames, possibly fewer). Called once per frame, also with an empty list."""

    def flush(self) -> list:
        """End of stream: every result still held."""


def check_post_close(stages) -> tuple:
    """``stages`` as a tuple, each checked to have ``process`` and ``flush`` (TypeError naming
    the one that has not).
    """
    if callable(getattr(stages, "process", None)) or not isinstance(stages, Iterable) or isinstance(stages, (str, bytes)):
        # one stage given bare, or a number: say what is wanted, not "'int' object is not iterable" (ux19)
        raise TypeError(f"post_close must be a list of post-close stages (e.g. post_close=[stage]), "
                        f"got {type(stages).__name__}")
    stages = tuple(stages)
    for k, stage in enumerate(stages):
        for method in ("process", "flush"):
            if not callable(getattr(stage, method, None)):
                raise TypeError(f"post_close[{k}] must have a {method}() method, got {type(stage).__name__}")
    return stages
