"""Closed tracks whose seal failed, kept in memory until the camera's vault writes again (ops21).

Before, a seal that failed while a camera ran (a full disk, a vault folder gone read-only, no
epoch key) lost that track, and the pipeline's restart lost every other track closed with it
(the rest of the hand-over was never written): nothing counted them (ux20). Now:

- a result whose seal fails is held here (:class:`HeldResults`), in memory only: nothing of it
  is written anywhere until a seal succeeds (no plaintext face touches the disk);
- the other results of the same hand-over still reach the sink (:class:`DeferSealFailures`
  raises the failure at the pipeline's next tick, after the whole hand-over);
- the camera's next cycle (after its backoff) hands the held results to its new sink first, in
  the order they closed; a camera asked to stop tries them once more;
- the store is bounded (``limit`` results): beyond it the oldest is dropped and counted as lost,
  and whatever is still held when the camera stops is lost and counted
  (``facesel_tracks_lost_total``, ``serve status``, a log line naming how many and why).
"""

from __future__ import annotations

import threading
from collections import deque


class Held:
    """A result handed to the sink again (its ``track_closed`` was announced at its first try)."""

    __slots__ = ("result",)

    def __init__(self, result):
        self.result = result


class HeldResults:
    """A bounded, thread-safe FIFO of unsealed :class:`facesel.types.TrackResult` objects.

    Parameters
    ----------
    limit : int >= 1
        Results held at most. A result's memory is mostly its best crop (the face's box in the
        frame's own pixels) and its per-frame qualities: on the 1080p arcade video the 12 results
        of a pass held 83 KB at most (a 104x77 crop), so 128 held are about 11 MB; a face filling
        a 4K frame is some MB.

    Attributes
    ----------
    lost : int
        Results dropped since the start: pushed out by the limit or given up by :meth:`lose_all`.
    """

    def __init__(self, limit: int):
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be an integer >= 1, got {limit!r}")
        self.limit = limit
        self.lost = 0
        self._items: deque = deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def hold(self, result) -> int:
        """Keep ``result`` (newest last); the number of oldest ones dropped to stay within the limit."""
        with self._lock:
            self._items.append(result)
            dropped = max(0, len(self._items) - self.limit)
            for _ in range(dropped):
                self._items.popleft()
            self.lost += dropped
            return dropped

    def take(self) -> list:
        """Every held result, oldest first, and the store emptied (a failing retry holds them again)."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            return items

    def lose_all(self) -> int:
        """Give up every held result (the camera stops); how many were given up (added to :attr:`lost`)."""
        with self._lock:
            count = len(self._items)
            self._items.clear()
            self.lost += count
            return count


class DeferSealFailures:
    """The pipeline's side of a camera's sink: a seal failure raised by ``write`` is kept and raised
    at the next ``tick`` (:meth:`facesel.Selector._deliver` ticks after each hand-over), so that the
    other results of the hand-over are still written (and held when they fail too) instead of
    being dropped by the exception.

    Parameters
    ----------
    sink : object with ``write``, ``tick``, ``close``
    failures : tuple of exception types
        The failures deferred; any other is raised at once.
    """

    def __init__(self, sink, failures: tuple):
        self.sink, self._failures = sink, failures
        self._error: BaseException | None = None

    def write(self, result) -> None:
        """Hand ``result`` to the sink; a seal failure is raised at the next :meth:`tick`."""
        try:
            self.sink.write(result)
        except self._failures as err:
            self._error = self._error or err

    def tick(self, now: float) -> None:
        """Raise a deferred failure, else the sink's tick."""
        self.raise_deferred()
        self.sink.tick(now)

    def raise_deferred(self) -> None:
        """Raise the first failure kept since the last raise, if any."""
        error, self._error = self._error, None
        if error is not None:
            raise error

    def close(self) -> None:
        """Close the sink (the camera drains or closes its vault itself)."""
        self.sink.close()
