"""A camera's vault writes in a thread of their own, off the frame path (issue 27, session 12).

Sealing a closed track (encrypting its crop, signing, writing the record and the audit line with
``fsync``) took a camera's pipeline thread about 15 ms a track, and tracks close in bursts: every
track open when a stream breaks (a reconnection, each pass of a looping file) closes at once. At
four 720p cameras a burst of eight seals held the pipeline 120-370 ms (wall, loaded machine), two
or more frame intervals over what a four-frame buffer absorbs, so each burst dropped frames
(docs/performance.md, "Session 12"). :class:`BackgroundSealer` hands each result to a writer
thread instead, which seals them in order while the pipeline goes on with the next frame.

Nothing is lost or reordered: results and retention ticks run in the order given, and
:meth:`BackgroundSealer.drain` (called before the vault closes) waits for all of them. A seal that
fails is raised again on the pipeline's thread at its next hand-over (after taking that result:
none is dropped by the raise) or at ``drain``, as a synchronous seal would have raised it, so the
camera restarts as before; the results handed over after it are still tried. The queue is bounded
(``max_pending`` results): a disk that cannot keep up slows the pipeline down instead of holding
ever more crops in memory.
"""

from __future__ import annotations

import queue
import threading

_TICK = object()
_STOP = object()


class BackgroundSealer:
    """The sink interface (``write``, ``tick``, ``close``) of a sink that lives on a writer thread.

    Parameters
    ----------
    open_sink : callable () -> object with ``write(result)``, ``tick(now)``, ``close()`` and ``sealed``
        Called on the writer thread, which alone uses the sink: a vault's SQLite index may only be
        used from the thread that opened it. Its error is raised by the constructor.
    finish : callable (sink) -> None, optional
        Run on the writer thread after the last seal (the camera closes its vault there).
    name : str
        The writer thread's name.
    max_pending : int >= 1
        Results waiting at most; a ``write`` beyond them waits for room.

    Attributes
    ----------
    handed : int
        Results handed over so far.
    """

    def __init__(self, open_sink, finish=None, name: str = "sealer", max_pending: int = 64):
        if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
            raise ValueError(f"max_pending must be an integer >= 1, got {max_pending!r}")
        self.sink = None
        self.handed = 0
        self._finish = finish or (lambda sink: None)
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending + 1)  # + one retention tick
        self._tick_pending = threading.Event()
        self._error: BaseException | None = None
        opened = threading.Event()
        self._thread = threading.Thread(target=self._work, args=(open_sink, opened), name=name, daemon=True)
        self._thread.start()
        opened.wait()
        if self.sink is None:  # the writer could not open its sink and has ended
            self._thread.join()
            self._raise_failure()

    @property
    def sealed(self) -> int:
        """Records sealed so far by the writer."""
        return self.sink.sealed

    def write(self, result) -> None:
        """Hand ``result`` to the writer (waits only while ``max_pending`` are waiting), then raise
        an earlier seal's failure: the result is handed over all the same (before, it was dropped
        unsealed by the raise, uncounted; the camera now retries what fails, ops21)."""
        self._queue.put(result)
        self.handed += 1
        self._raise_failure()

    def tick(self, now: float) -> None:
        """Retention's tick, in order with the seals; a tick already waiting makes this one redundant
        (the vault rate-limits its purge by its own clock and ignores ``now``)."""
        self._raise_failure()
        if not self._tick_pending.is_set():
            self._tick_pending.set()
            self._queue.put((_TICK, now))

    def drain(self) -> None:
        """Wait until every result handed over is sealed and stop the writer; raise a seal's failure."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._raise_failure()

    def close(self) -> None:
        """:meth:`drain` (the sink interface: the writer closes its sink and runs ``finish``)."""
        self.drain()

    def _raise_failure(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _work(self, open_sink, opened: threading.Event) -> None:
        try:
            self.sink = open_sink()
        except BaseException as err:  # noqa: BLE001 - raised by the constructor
            self._error = err
            return
        finally:
            opened.set()
        try:
            self._serve()
        finally:
            for last in (self.sink.close, lambda: self._finish(self.sink)):
                try:
                    last()
                except BaseException as err:  # noqa: BLE001 - raised by drain()
                    self._error = self._error or err

    def _serve(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:  # after a failure the later results are still tried (the first failure is raised)
                if isinstance(item, tuple) and item and item[0] is _TICK:
                    self._tick_pending.clear()
                    self.sink.tick(item[1])
                else:
                    self.sink.write(item)
            except BaseException as err:  # noqa: BLE001 - handed to the pipeline's thread
                if self._error is None:
                    self._error = err
