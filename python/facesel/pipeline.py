"""Two cores for one stream: reading | detection + tracking | scoring + selection + sinks.

The reader (with its ``prepare`` step) and the front half each run in a thread; the back half
runs in the caller's thread and yields one result per frame, in order. The queues between them hold at most ``queue_size``
items, so a slow stage makes the ones before it wait instead of growing memory. The heavy work
of every stage (decoding, YuNet, ONNX Runtime, OpenCV) runs in C code that releases the GIL,
which is what lets the halves overlap.
"""

from __future__ import annotations

import queue
import threading

_END = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def _pump(items, work, out: queue.Queue, stop: threading.Event, take_when_room: bool = False) -> None:
    """Put ``work(item)`` for each item on ``out`` until the items end or ``stop`` is set; an error
    is passed on as a :class:`_Failure` for the consumer to raise. With ``take_when_room`` the next
    item is taken only once ``out`` has room: a live source keeps its newest frames (and drops its
    oldest) until the pipeline can take one, instead of this thread holding a frame that ages."""
    try:
        for item in _when_room(items, out, stop) if take_when_room else items:
            if stop.is_set():
                return
            _put(out, work(item), stop)
        _put(out, _END, stop)
    except BaseException as err:  # handed over to the consumer, which re-raises it
        _put(out, _Failure(err), stop)


def _put(out: queue.Queue, item, stop: threading.Event) -> None:
    """Put ``item`` on ``out``, waiting while it is full, unless ``stop`` is set meanwhile."""
    while not stop.is_set():
        try:
            out.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _when_room(items, out: queue.Queue, stop: threading.Event):
    iterator = iter(items)
    while not stop.is_set():
        # the queue's own condition, notified whenever an item is taken; it holds the queue's lock,
        # so the size is read with _qsize (the hook Queue subclasses override), not qsize()
        with out.not_full:
            while out.maxsize > 0 and out._qsize() >= out.maxsize and not stop.is_set():
                out.not_full.wait(0.1)
        try:
            yield next(iterator)
        except StopIteration:
            return


def _drain(source: queue.Queue, stop: threading.Event):
    while not stop.is_set():
        try:
            item = source.get(timeout=0.1)
        except queue.Empty:
            continue
        if item is _END:
            return
        if isinstance(item, _Failure):
            raise item.error
        yield item


def run_staged(frames, front, back, queue_size: int, live: bool = False, prepare=None):
    """Yield ``back(front(*prepare(item)))`` for each item of ``frames``, with the iteration of
    ``frames`` (and ``prepare``) in one thread and ``front`` in another.

    Parameters
    ----------
    frames : iterable of tuples, e.g. (frame, timestamp)
    front : callable (*prepared item) -> packet
    back : callable packet -> result
    queue_size : int >= 1
        Items each queue may hold.
    live : bool
        ``frames`` is a live source read by its own thread (:class:`facesel.live.LatestFrames`),
        which drops its oldest frames when the pipeline falls behind: the queues after it hold one
        item each, so that no frame waits in a queue while newer ones arrive.
    prepare : callable item -> tuple, optional
        Runs in the reading thread, in stream order, on each item before it is queued (e.g. to
        start work that does not depend on the frames before it); default: the item unchanged.
    """
    if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
        raise ValueError(f"queue_size must be an integer >= 1, got {queue_size!r}")
    prepare = _unchanged if prepare is None else prepare
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(maxsize=1 if live else queue_size)
    packets: queue.Queue = queue.Queue(maxsize=1 if live else queue_size)
    front_ended = threading.Event()
    threads = [
        threading.Thread(target=_pump, args=(frames, prepare, decoded, stop, live), name="facesel-read", daemon=True),
        threading.Thread(target=_ended_then_set, args=(front_ended, _pump, _drain(decoded, stop),
                                                       lambda item: front(*item), packets, stop),
                         name="facesel-detect", daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        for packet in _drain(packets, stop):
            yield back(packet)
    finally:
        stop.set()
        reader = threads[0]
        # The front half is waited for until it has ended, however long its last call takes: it
        # tracks, and the caller's flush (next) closes the same tracker; with a bound (10 s until
        # session 18) a detection still running past it on a loaded machine ran beside the flush.
        # It ends after at most one call: with stop set it takes and puts nothing more.
        _wait_until_set(front_ended)
        # The reader may be blocked inside a source's read, which is not ours to cut short; it
        # reads and plans frames, and touches neither the tracker nor the selection the flush closes.
        reader.join(timeout=READER_JOIN_SECONDS)


READER_JOIN_SECONDS = 10.0
"""How long leaving :func:`run_staged` waits for its reading thread (the front half: until it ends)."""


def _ended_then_set(ended: threading.Event, work, *args) -> None:
    """``work(*args)``, then ``ended`` set (also when it raised)."""
    try:
        work(*args)
    finally:
        ended.set()


def _wait_until_set(ended: threading.Event) -> None:
    """Wait until ``ended`` is set. A KeyboardInterrupt meanwhile (a second Ctrl-C of ``facesel
    run``) is raised once it is, not before: leaving while the front half still ran would let the
    flush run beside it. An event, not ``Thread.join``: Python 3.11's join, interrupted, may mark a
    thread that still runs as ended (its bpo-45274 repair releases the thread's own lock)."""
    interrupted = None
    while True:
        try:  # the check too: an interrupt is raised wherever this thread is between two steps
            if ended.wait(timeout=0.1):
                break
        except KeyboardInterrupt as err:
            interrupted = err
    if interrupted is not None:
        raise interrupted


def _unchanged(item):
    return item
