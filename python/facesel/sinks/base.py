"""The sink interface of the Selector's output stage."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable


@runtime_checkable
class Sink(Protocol):
    """Receives the results of closed tracks, in order.

    ``write(result)`` gets each :class:`facesel.select.tracklog.SelectedTrack` once, as soon as
    the post-close stages release it; ``tick(now)`` is called once per frame (``now``: the
    frame's timestamp in seconds), so that a sink can do timed work while nobody passes (the
    vault's retention); ``close()`` once at the end, by whoever made the sink.
    """

    def write(self, result) -> None:
        """Take one closed track's :class:`facesel.select.tracklog.SelectedTrack` (each once, in order)."""

    def tick(self, now: float) -> None:
        """Do timed work at ``now`` (the frame's timestamp, seconds); called once a frame."""

    def close(self) -> None:
        """Finish: flush and release what the sink holds; called once, by whoever made it."""


class CallbackSink:
    """Calls ``function(result)`` for each result; tick and close do nothing."""

    def __init__(self, function):
        if not callable(function):
            raise TypeError(f"function must be callable, got {type(function).__name__}")
        self.function = function

    def write(self, result) -> None:
        """Call ``function(result)``."""
        self.function(result)

    def tick(self, now: float) -> None:
        """Nothing timed to do."""
        pass

    def close(self) -> None:
        """Nothing to close."""
        pass


def check_sinks(sinks) -> tuple:
    """A tuple of sinks, each checked to have write, tick and close (TypeError naming the one that has not)."""
    if callable(getattr(sinks, "write", None)) or not isinstance(sinks, Iterable) or isinstance(sinks, (str, bytes)):
        # One sink given bare (sinks=VaultSink(vault)) or None: say what is wanted, not "not iterable".
        raise TypeError(f"sinks must be a list of sinks (e.g. sinks=[VaultSink(vault)]), got {type(sinks).__name__}")
    sinks = tuple(sinks)
    for k, sink in enumerate(sinks):
        for method in ("write", "tick", "close"):
            if not callable(getattr(sink, method, None)):
                raise TypeError(f"sinks[{k}] must have a {method}() method, got {type(sink).__name__}")
    return sinks
