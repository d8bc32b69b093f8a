"""A frame source that survives: a reader thread, reconnection with backoff, a stall watchdog.

The reader thread owns the connection. It puts each decoded frame into a bounded queue of
``buffer_frames`` frames (a jitter buffer); the pipeline takes the oldest waiting frame when it is
ready for one, so frames come in order:

- ``live=True`` (cameras, network streams): a frame that arrives while the queue is full pushes
  the oldest waiting one out, which is counted as dropped. The pipeline never falls more than
  ``buffer_frames`` frames behind the camera, however slow it is; a burst of work shorter than
  ``buffer_frames`` frame intervals (a full-frame detection, a seal, another camera holding the
  GIL) costs no frame. ``buffer_frames=1`` is a one-frame slot: a frame that arrives while the
  previous one still waits replaces it.
- ``live=False`` (a file used as a camera, in tests and demos): the reader waits while the queue
  is full, so no frame is lost and results do not depend on machine speed.

A live source that is behind pays less for what it drops (issue 27): a connection with
``convert_on_take`` gives decoded pictures that :attr:`Frame.image` converts to BGR only when the
pipeline takes the frame, and one with ``skip_when_behind`` is told before each read whether the
source is behind (its last frame pushed one out of the full queue), and then skips non-reference
frames; the reader counts each skipped frame as received and dropped (``frames_skipped`` too).

When the connection fails (cannot open, the stream breaks, or no frame for ``stall_timeout``
seconds), the reader closes it and reconnects after a delay from :class:`Backoff`.

``realtime=True`` (files in ``facesel serve``) hands each frame over no earlier than its
presentation time, counted from the connection's first frame (:class:`facesel.sources.pacing.Pacer`):
a file then arrives at its frame rate, as a camera's frames do, instead of as fast as it decodes. Every
successful (re)connection starts a new *epoch*; each :class:`Frame` carries its epoch so that the
consumer knows the frames before and after it are not continuous (``facesel.serve`` closes and
seals the open tracks then: see ``docs/serve.md``). A looping file also starts a new epoch at
each pass, since its first frame does not follow its last one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from facesel.redaction import redact_url
from facesel.sources.backends import EndOfStream, SourceError, StallError
from facesel.sources.backoff import Backoff
from facesel.sources.decoded import Unconverted
from facesel.sources.pacing import Pacer

_log = logging.getLogger("facesel.sources")


@dataclass(frozen=True)
class Frame:
    """One frame handed to the pipeline.

    Attributes
    ----------
    pixels : (H, W, 3) uint8 BGR, or :class:`facesel.sources.decoded.Unconverted`
        As the connection gave it: a connection with ``convert_on_take`` gives the decoded
        picture, converted by :attr:`image` when the pipeline takes the frame.
    timestamp : float
        Seconds: the stream's presentation time for a file, else the monotonic clock since the
        source started (the same clock across reconnections, so time never goes back).
    epoch : int
        Connection number (1 for the first); frames of different epochs are not continuous.
    sequence : int
        Frames received before this one (dropped ones included).
    arrived : float
        The source's clock (monotonic seconds) when the frame arrived in the queue: the start of
        its frame-to-decision latency, and how long it waited there to be taken.
    """

    pixels: np.ndarray | Unconverted
    timestamp: float
    epoch: int
    sequence: int
    arrived: float = 0.0

    @property
    def image(self) -> np.ndarray:
        """(H, W, 3) uint8 BGR; a picture left unconverted is converted here, once (the thread
        that takes the frame: the pipeline's reading thread)."""
        pixels = self.pixels
        if isinstance(pixels, Unconverted):
            pixels = pixels.convert()
            object.__setattr__(self, "pixels", pixels)  # frozen for its readers; the cache is the same picture
        return pixels


@dataclass
class SourceStats:
    """Counters of one source. The reader thread and :meth:`StreamSource.read` update them under
    the source's lock; one field read alone is always a value it had, but two fields read one
    after the other may come from different moments. Read several together with
    :meth:`StreamSource.snapshot`, where at any moment

        frames_received == frames_taken + frames_dropped + frames_waiting
    """

    frames_received: int = 0
    frames_dropped: int = 0
    frames_taken: int = 0
    """Frames the consumer took (:meth:`StreamSource.read`)."""
    frames_waiting: int = 0
    """Frames in the queue, not yet taken (:attr:`StreamSource.pending`)."""
    connects: int = 0
    connect_failures: int = 0
    stream_errors: int = 0
    stalls: int = 0
    connected: bool = False
    ended: bool = False
    last_error: str = ""
    last_frame_monotonic: float | None = None
    fps: float | None = None
    frames_skipped: int = 0
    """Frames the decoder left out while the source was behind (``skip_when_behind``); each is also
    counted in ``frames_received`` and ``frames_dropped``."""
    behind_s: float = 0.0
    """Real-time pacing: seconds the last frame came after its due time (the reader lags)."""

    @property
    def reconnects(self) -> int:
        """Successful connections after the first."""
        return max(0, self.connects - 1)


class StreamSource:
    """Frames from ``connect()`` in a reader thread; see the module docstring.

    Parameters
    ----------
    name : str
        For logs and errors (a URL with a password must be redacted by the caller).
    connect : callable returning a connection
        Opens the source; the result has ``read() -> (image, timestamp or None)`` (raising
        :class:`SourceError` when broken, :class:`EndOfStream` at the end) and ``close()``.
    live : bool
        A full queue drops its oldest frame (True) or holds the reader back (False).
    buffer_frames : int >= 1
        Frames the queue between reader and pipeline holds (1: a one-frame slot). Each waiting
        frame is one decoded image (about 6 MB at 1080p): the bound on memory and on latency.
    stall_timeout : float > 0
        Seconds without a frame after which a connection counts as stalled and is reopened
        (the backends enforce it inside ``read()``: :class:`StallError`).
    stream_time : bool
        Timestamps from the stream (files) rather than the monotonic clock (live sources, whose
        presentation times restart with each connection).
    reconnect : bool
        Reconnect after a failure or the end of the stream (False: the source ends instead).
    backoff : Backoff, optional
    clock : callable
        Monotonic seconds.
    realtime : bool
        Hand each frame over at its presentation time (see the module docstring), not as soon
        as it is decoded: for files standing in for cameras. Network streams and webcams are
        paced by their sender already.
    """

    def __init__(self, name: str, connect: Callable, *, live: bool = True, stall_timeout: float = 10.0,
                 stream_time: bool = False, reconnect: bool = True, backoff: Backoff | None = None, clock: Callable[[], float] = time.monotonic,
                 realtime: bool = False, buffer_frames: int = 1):
        if not callable(connect):
            raise TypeError(f"connect must be callable, got {type(connect).__name__}")
        check_buffer_frames(buffer_frames)
        if isinstance(stall_timeout, bool) or not isinstance(stall_timeout, (int, float)) or not stall_timeout > 0:
            raise ValueError(f"stall_timeout must be a positive number of seconds, got {stall_timeout!r}")
        self.name, self._connect, self.live = redact_url(name), connect, bool(live)
        self.stall_timeout, self.reconnect = float(stall_timeout), bool(reconnect)
        self.stream_time = bool(stream_time)
        self.backoff = backoff if backoff is not None else Backoff()
        self._clock = clock
        self.stats = SourceStats()
        self._cond = threading.Condition()
        self.buffer_frames = int(buffer_frames)
        self._queue: deque[Frame] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._epoch = 0
        self._start_time: float | None = None
        self._pushed_out = False  # the last hand-over pushed a waiting frame out
        self.realtime = bool(realtime)
        self.pacer = Pacer(clock=clock, wait=self._stop.wait) if self.realtime else None

    # -- consumer side -------------------------------------------------------------------------
    def start(self) -> StreamSource:
        """Start the reader thread (once; RuntimeError on a second call); returns the source."""
        if self._thread is not None:
            raise RuntimeError(f"source {self.name} was already started")
        self._start_time = self._clock()
        self._thread = threading.Thread(target=self._reader, name=f"source:{self.name}", daemon=True)
        self._thread.start()
        return self

    def read(self, timeout: float | None = None) -> Frame | None:
        """The oldest frame not yet taken (frames come in order), waiting up to ``timeout``
        seconds; None when there is none yet, or the source ended (see :attr:`ended`)."""
        with self._cond:
            if not self._queue and not self.stats.ended:
                self._cond.wait(timeout)
            frame = None
            if self._queue:
                frame = self._queue.popleft()
                self.stats.frames_taken += 1
                self.stats.frames_waiting = len(self._queue)
            self._cond.notify_all()
            return frame

    def snapshot(self) -> SourceStats:
        """A copy of :attr:`stats` taken under the source's lock: its counters are of one moment
        (``frames_received == frames_taken + frames_dropped + frames_waiting``), which reading
        ``stats`` field by field while the reader thread runs does not promise."""
        with self._cond:
            return replace(self.stats)

    @property
    def ended(self) -> bool:
        """The source will give no more frames (it ended and does not reconnect, or was stopped)."""
        with self._cond:
            return self.stats.ended and not self._queue

    @property
    def pending(self) -> int:
        """Frames waiting to be taken (0 to ``buffer_frames``): the queue depth between source
        and pipeline."""
        with self._cond:
            return len(self._queue)

    def frame_age(self) -> float | None:
        """Seconds since the last frame arrived (None before the first)."""
        last = self.stats.last_frame_monotonic
        return None if last is None else max(0.0, self._clock() - last)

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the reader to finish and wait up to ``timeout`` s; True when it has finished.

        A reader blocked inside a backend read finishes when that read times out."""
        self._stop.set()
        with self._cond:
            self.stats.ended = True
            self._cond.notify_all()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> StreamSource:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- reader thread -------------------------------------------------------------------------
    def _reader(self) -> None:
        try:
            while not self._stop.is_set():
                connection = self._open()
                if connection is None:
                    continue
                finished = self._pump(connection)
                if finished or not self.reconnect:
                    break
                self._wait(self.backoff.next_delay())
        finally:
            with self._cond:
                self.stats.connected = False
                self.stats.ended = True
                self._cond.notify_all()

    def _open(self):
        try:
            connection = self._connect()
        except Exception as err:  # noqa: BLE001 - any decoder error: count it and try again later
            with self._cond:
                self.stats.connect_failures += 1
                self.stats.last_error = _describe(err)
            _log.warning("source %s: cannot connect (%s)", self.name, self.stats.last_error)
            if not self.reconnect:
                self._stop.set()
            else:
                self._wait(self.backoff.next_delay())
            return None
        with self._cond:
            self.stats.connects += 1
            self.stats.connected = True
            self.stats.fps = getattr(connection, "fps", None)
        self._epoch += 1
        if self.stats.connects > 1:
            _log.info("source %s: reconnected (reconnect %d)", self.name, self.stats.reconnects)
        return connection

    def _pump(self, connection) -> bool:
        """Read frames until the connection fails (False) or the source is finished (True)."""
        passes = getattr(connection, "passes", 0)
        set_behind = getattr(connection, "set_behind", None)
        skipped = getattr(connection, "skipped", 0)
        if self.pacer is not None:  # a new connection's times start anew
            self.pacer.reset()
            self.pacer.fps = self.stats.fps
        try:
            while not self._stop.is_set():
                if set_behind is not None:
                    set_behind(self._behind())
                try:
                    image, stamp = connection.read()
                except EndOfStream:
                    if set_behind is not None and connection.skipped != skipped:  # the decoder's last ones
                        self._count_skipped(connection.skipped - skipped)
                    # A file that does not loop is over; a network stream that ends was closed
                    # by its server (restarted, say) and is reopened.
                    if getattr(connection, "finite", False) or not self.reconnect:
                        return True
                    self._count_failure("stream_errors", "the server ended the stream")
                    # Logged as the other breaks are: a server that was stopped (ux24: the RTSP
                    # server killed) left no line until the first failed reconnection
                    _log.warning("source %s: %s", self.name, self.stats.last_error)
                    return False
                except StallError as err:
                    self._count_failure("stalls", _describe(err))
                    _log.warning("source %s: %s", self.name, self.stats.last_error)
                    return False
                except Exception as err:  # noqa: BLE001 - a decoder error must not end a camera
                    self._count_failure("stream_errors", _describe(err))
                    _log.warning("source %s: %s", self.name, self.stats.last_error)
                    return False
                if set_behind is not None and connection.skipped != skipped:
                    self._count_skipped(connection.skipped - skipped)
                    skipped = connection.skipped
                if getattr(connection, "passes", 0) != passes:  # a looping file restarted
                    passes = connection.passes
                    self._epoch += 1
                self.backoff.reset()
                if self.pacer is not None:
                    if not self.pacer.pace(stamp):
                        return True  # stopped while waiting
                    self.stats.behind_s = self.pacer.behind
                self._hand_over(image, stamp, self._clock())
            return True
        finally:
            connection.close()
            with self._cond:
                self.stats.connected = False

    def _behind(self) -> bool:
        """A live source is behind when its last frame pushed a waiting one out and the queue is
        still full: the next frame would be dropped too, so the decoder may skip it (when it is a
        non-reference frame). Not on a full queue alone: a burst of work (a full-frame detection)
        fills it for a moment, and a paced file decodes each frame ahead of its time, so the
        pipeline may yet take one before the frame is due."""
        return self.live and self._pushed_out and len(self._queue) >= self.buffer_frames

    def _count_failure(self, counter: str, error: str) -> None:
        """One more of ``counter`` (``stalls``, ``stream_errors``) and its ``last_error``, together."""
        with self._cond:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)
            self.stats.last_error = error

    def _count_skipped(self, count: int) -> None:
        """Frames the decoder skipped: received and dropped (their sequence numbers are used up,
        so the consumer sees the gap), never silent."""
        with self._cond:
            self.stats.frames_received += count
            self.stats.frames_dropped += count
            self.stats.frames_skipped += count

    def _hand_over(self, image: np.ndarray, stamp: float | None, now: float) -> None:
        use_stream = self.stream_time and stamp is not None
        timestamp = float(stamp) if use_stream else now - self._start_time
        with self._cond:
            if not self.live:
                while len(self._queue) >= self.buffer_frames and not self._stop.is_set():
                    self._cond.wait(0.5)
                if len(self._queue) >= self.buffer_frames:
                    # stopped while waiting for room: the frames waiting are still the consumer's,
                    # in order; this one is never handed over (nor counted as received)
                    return
            self._pushed_out = False
            while len(self._queue) >= self.buffer_frames:  # live: the oldest waiting frame goes
                self._queue.popleft()
                self.stats.frames_dropped += 1
                self._pushed_out = True
            self._queue.append(Frame(image, timestamp, self._epoch, self.stats.frames_received, now))
            self.stats.frames_received += 1
            self.stats.frames_waiting = len(self._queue)
            self.stats.last_frame_monotonic = now
            self._cond.notify_all()

    def _wait(self, seconds: float) -> None:
        self._stop.wait(seconds)


# The most frames a source may queue (buffer_frames, and serve's flush_buffer_frames and
# cap_buffer_frames). A decoded 1080p frame is about 6 MB as BGR (3 MB waiting as YUV), so 256 of
# them are up to 1.6 GB a camera: already more than a whole deployment's budget (issue 27: 1.2 GB),
# and 10 s of latency at 25 frames/s, longer than any burst of work a queue is there to absorb. A
# larger value is a typo (100000000 would let a camera that falls behind take all the memory).
MAX_BUFFER_FRAMES = 256


def check_buffer_frames(value, where: str = "buffer_frames") -> int:
    """``value`` if it is an integer from 1 to :data:`MAX_BUFFER_FRAMES`, else ValueError naming
    ``where`` and the value."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where} must be an integer >= 1 (frames), got {value!r}")
    check_at_most_buffer(value, where)
    return value


def check_at_most_buffer(value: int, where: str) -> None:
    """ValueError naming ``where`` and ``value`` when more than :data:`MAX_BUFFER_FRAMES` frames."""
    if value > MAX_BUFFER_FRAMES:
        raise ValueError(f"{where} must be at most {MAX_BUFFER_FRAMES} frames (each decoded 1080p frame "
                         f"waiting is about 6 MB of memory), got {value!r}")


def _describe(err: Exception) -> str:
    """``last_error`` text of a failure: credentials masked whichever library wrote the message
    (every backend's errors reach /healthz, the log and the metrics through here)."""
    return redact_url(str(err) if isinstance(err, SourceError) else f"{type(err).__name__}: {err}")
