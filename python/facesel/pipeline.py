"""Two cores for one stream: reading | detection + tracking | scoring + selection + sinks.

The reader and the front half each run in a thread; the back half runs in the caller's thread
and yields one result per frame, in order. The queues between them hold at most ``queue_size``
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


def _pump(items, work, out: queue.Queue, stop: threading.Event) -> None:
    """Put ``work(item)`` for each item on ``out`` until the items end or ``stop`` is set; an error
    is passed on as a :class:`_Failure` for the consumer to raise."""
    try:
        for item in items:
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


def run_staged(frames, front, back, queue_size: int):
    """Yield ``back(front(frame, stamp))`` for each ``(frame, stamp)`` of ``frames``, with the
    iteration of ``frames`` and ``front`` each in its own thread.

    Parameters
    ----------
    frames : iterable of (frame, timestamp)
    front : callable (frame, timestamp) -> packet
    back : callable packet -> result
    queue_size : int >= 1
        Items each queue may hold.
    """
    if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
        raise ValueError(f"queue_size must be an integer >= 1, got {queue_size!r}")
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(maxsize=queue_size)
    packets: queue.Queue = queue.Queue(maxsize=queue_size)
    reader = threading.Thread(target=_pump, args=(frames, lambda item: item, decoded, stop),
                              name="facesel-read", daemon=True)
    worker = threading.Thread(target=_pump, args=(_drain(decoded, stop), lambda item: front(*item), packets, stop),
                              name="facesel-detect", daemon=True)
    reader.start()
    worker.start()
    try:
        for packet in _drain(packets, stop):
            yield back(packet)
    finally:
        stop.set()
        for thread in (worker, reader):
            thread.join(timeout=10.0)
