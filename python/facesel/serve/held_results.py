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
- the store is bounded by count (``limit`` results) and by bytes (``max_bytes``, the camera's
  ``held_max_bytes``: the crops' and clips' own ``nbytes``, :func:`result_nbytes`; ops22): beyond
  either the oldest is dropped and counted as lost, and whatever is still held when the camera
  stops is lost and counted (``facesel_tracks_lost_total``, ``serve status``, a log line naming
  how many and why). A reload that replaces the camera with one on the same vault hands the held
  results over instead (:meth:`HeldResults.hold_all`, ops22).
"""

from __future__ import annotations

import threading
from collections import deque


HELD_MAX_BYTES = 64 * 1024 * 1024
"""Default byte bound of a camera's held results (``held_max_bytes``): 128 results of the 1080p
arcade video (83 KB at most each, 11 MB) fit five times over; a 4K face's crop (some MB) or a
long clip fills it after a few dozen, where the count bound alone let 128 of them hold hundreds
of MB per camera."""

MIN_HELD_MAX_BYTES = 1024 * 1024
"""The smallest ``held_max_bytes`` accepted: below one crop of a 1080p face the store holds nothing."""

MAX_HELD_MAX_BYTES = 64 * 1024 ** 3
"""The largest ``held_max_bytes`` accepted (64 GiB): beyond any machine serve runs on."""


def check_held_max_bytes(value, where: str) -> int:
    """``value`` as the byte bound of held results; ValueError naming ``where`` and the value."""
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_HELD_MAX_BYTES <= value <= MAX_HELD_MAX_BYTES:
        raise ValueError(f"{where} must be a whole number of bytes from {MIN_HELD_MAX_BYTES} (1 MiB) to "
                         f"{MAX_HELD_MAX_BYTES} (64 GiB): the memory a camera's unsealed closed tracks may hold "
                         f"while its seals fail (default {HELD_MAX_BYTES}, 64 MiB), got {value!r}")
    return value


def result_nbytes(result) -> int:
    """The bytes a :class:`facesel.types.TrackResult` holds in its arrays: the best crop, its clip's
    frames, box and landmarks, and the per-frame qualities and indices (``nbytes`` of each; the
    object headers, some hundred bytes, are left out)."""
    best = result.best
    arrays = [best.crop, best.box, best.landmarks, result.qualities, result.frame_indices, *(best.clip or ())]
    return sum(int(getattr(array, "nbytes", 0)) for array in arrays if array is not None)


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
    max_bytes : int >= 1, optional
        Bytes held at most (:func:`result_nbytes` summed); None: the count alone bounds the store.
        A result larger than the bound by itself is dropped at once (counted as lost).

    Attributes
    ----------
    lost : int
        Results dropped since the start: pushed out by a bound or given up by :meth:`lose_all`.
    """

    def __init__(self, limit: int, max_bytes: int | None = None):
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be an integer >= 1, got {limit!r}")
        if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1):
            raise ValueError(f"max_bytes must be an integer >= 1 or None, got {max_bytes!r}")
        self.limit, self.max_bytes = limit, max_bytes
        self.lost = 0
        self._items: deque = deque()  # (result, its nbytes), oldest first
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """Bytes held now (:func:`result_nbytes` of each held result)."""
        return self._bytes

    def hold(self, result) -> int:
        """Keep ``result`` (newest last); the number dropped to stay within the bounds, oldest first
        (``result`` itself when it alone is over ``max_bytes``)."""
        with self._lock:
            size = result_nbytes(result)
            self._items.append((result, size))
            self._bytes += size
            dropped = 0
            while self._items and (len(self._items) > self.limit
                                   or (self.max_bytes is not None and self._bytes > self.max_bytes)):
                self._bytes -= self._items.popleft()[1]
                dropped += 1
            self.lost += dropped
            return dropped

    def hold_all(self, results) -> int:
        """Keep each of ``results`` in order (:meth:`hold`: a reload handing a replaced camera's held
        results to its successor); the number dropped."""
        return sum(self.hold(result) for result in results)

    def take(self) -> list:
        """Every held result, oldest first, and the store emptied (a failing retry holds them again)."""
        with self._lock:
            items = [result for result, _ in self._items]
            self._items.clear()
            self._bytes = 0
            return items

    def lose_all(self) -> int:
        """Give up every held result (the camera stops); how many were given up (added to :attr:`lost`)."""
        with self._lock:
            count = len(self._items)
            self._items.clear()
            self._bytes = 0
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
