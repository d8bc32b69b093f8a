"""An HTTP server that idle or slow clients cannot use to starve the process it runs in.

``http.server.ThreadingHTTPServer`` gives every accepted connection its own thread and waits for
its request forever. About 1000 connections that send nothing then hold 1000 threads and 1000
file descriptors: with the usual limit of 1024 the cameras' vaults can no longer open a file
("Too many open files; nothing was stored"), and ``/metrics`` stops answering (issue 24,
finding 4, reproduced by ``tests/test_serve_idle_flood.py``).

Here, instead:

- One thread accepts and watches connections with a selector; a connection reaches a worker only
  once its request has started to arrive, so idle connections hold no thread.
- At most ``max_connections`` sockets are open at once (idle, queued and being served together):
  the server can never hold more file descriptors than that, whatever the clients do. Everything
  else of the process's limit stays with the cameras and their vaults; :func:`raise_descriptor_limit`
  also lifts the soft limit to the hard one where that is higher. When the limit is reached, the
  connection that has been idle longest is closed to make room; when none is idle, the new one is.
  Under a flood of silent connections this churns: a real client accepted before its request
  arrived is closed once that many newer connections came first, and it must try again (as a
  scraper does at its next scrape). A grace period instead (session 14: every accepted connection
  kept its slot for 1 s, accepting paused while all slots were within it) moved the contest to the
  kernel's listen queue, where the flood refilled every freed place and the client's SYN was
  dropped: 3 of 9 runs of the flood test failed (in the two whose output was kept, both requests
  timed out after 20 s). From the client's own address no admission rule tells a silent real
  client from the flood.
- A fixed pool of ``workers`` threads serves requests, with a socket timeout on every read and
  write, a connection that sends nothing is closed after ``timeout`` seconds, and a request must
  arrive whole (line, headers, body) within ``timeout`` seconds of a worker starting to read it: a
  client that trickles it, however often it sends a byte, is cut off. Once the answer has begun no
  deadline applies (the live view streams). A request waiting for a busy worker has no deadline
  yet: the wait is the server's, and it holds a slot but no thread.
- An error accepting (e.g. the process is out of descriptors for another reason) pauses accepting
  briefly instead of spinning.
"""

from __future__ import annotations

import logging
import resource
import selectors
import socket
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

_log = logging.getLogger("facesel.serve")

_ACCEPT_PAUSE = 0.5   # seconds without accepting after an accept error
_TICK = 0.5           # seconds between checks for idle connections and for shutdown
_ACCEPT_BURST = 16    # connections accepted before the selector looks at the others again


def raise_descriptor_limit(wanted: int = 65536) -> int:
    """Raise the soft limit on open file descriptors towards ``wanted`` (never above the hard
    limit, never lowering it); return the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def _deadlined(handler_class, timeout: float):
    """``handler_class`` with a socket timeout on every read and write, telling the server when its
    answer begins (the end of the request's deadline: answers such as the live view may stream)."""

    class Deadlined(handler_class):
        def send_response(self, *args, **kwargs):
            self.server.request_received(self.request)
            super().send_response(*args, **kwargs)

    Deadlined.timeout = timeout
    Deadlined.__name__ = Deadlined.__qualname__ = handler_class.__name__
    return Deadlined


class BoundedHTTPServer:
    """Serves ``handler_class`` (a ``BaseHTTPRequestHandler``) on ``address``; see the module docstring.

    Parameters
    ----------
    address : (host, port)
        Port 0 picks a free one (read it from :attr:`server_address`).
    handler_class : type
        Instantiated as ``handler_class(sock, client_address, self)`` per connection, like the
        standard library's servers do; its ``timeout`` is set to ``timeout``.
    max_connections : int >= workers
        Open client sockets at most, all states together.
    workers : int >= 1
        Threads serving requests.
    timeout : float > 0
        Seconds a connection may stay silent: before its request starts, and during any read or
        write while it is served.
    """

    def __init__(self, address: tuple[str, int], handler_class, max_connections: int = 64, workers: int = 4,
                 timeout: float = 10.0) -> None:
        if not (isinstance(workers, int) and workers >= 1 and isinstance(max_connections, int)
                and max_connections >= workers):
            raise ValueError(f"need workers >= 1 and max_connections >= workers, got {workers}, {max_connections}")
        if not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.handler_class = _deadlined(handler_class, float(timeout))
        self.max_connections, self.timeout = max_connections, float(timeout)
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._listener = socket.create_server(address, family=family, backlog=128)
        self._listener.setblocking(False)
        self.server_address = self._listener.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._selector.register(self._listener, selectors.EVENT_READ, "listen")
        self._idle: OrderedDict[socket.socket, tuple[float, object]] = OrderedDict()  # oldest first
        self._busy = 0  # handed to the pool, not finished
        self._receiving: dict[socket.socket, float] = {}  # read by a worker, no answer begun: deadline
        self._queued: set[socket.socket] = set()  # handed to the pool, not started (closed if cancelled)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._accept_paused_until = 0.0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="status-http")
        self._running = False
        self.refused = 0  # connections closed at once or early for want of room (for tests and logs)

    # -- the accepting thread -------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Accept and dispatch connections on this thread until :meth:`shutdown`."""
        self._running = True
        try:
            while not self._stop.is_set():
                for key, _ in self._selector.select(_TICK):
                    if key.data == "listen":
                        self._accept()
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        self._dispatch(key.fileobj, key.data)
                self._expire_idle()
                self._cut_slow_requests()
                self._resume_accepting()
        finally:
            self._done.set()

    def _accept(self) -> None:
        # A bounded burst: the selector then dispatches the requests that arrived meanwhile, before a
        # flood's next connections can push them out as "idle".
        for _ in range(_ACCEPT_BURST):
            try:
                conn, peer = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as err:  # EMFILE, ENFILE, ENOBUFS...: stop accepting for a moment
                _log.warning("status endpoint: cannot accept a connection (%s); pausing", err.strerror or err)
                self._selector.unregister(self._listener)
                self._accept_paused_until = time.monotonic() + _ACCEPT_PAUSE
                return
            with self._lock:
                full = len(self._idle) + self._busy >= self.max_connections
            if full and not self._close_oldest_idle():
                self.refused += 1
                conn.close()  # every slot is serving a request: this one waits for nobody
                continue
            conn.setblocking(False)
            self._idle[conn] = (time.monotonic(), peer)
            self._selector.register(conn, selectors.EVENT_READ, peer)

    def _close_oldest_idle(self) -> bool:
        """Close the longest-idle connection that has sent nothing; one whose request is already
        waiting in its socket is a client to serve, not an idle one (it is dispatched instead)."""
        for conn in list(self._idle):
            try:
                waiting = conn.recv(1, socket.MSG_PEEK) != b""  # b"": the client hung up
            except BlockingIOError:
                waiting = False
            except OSError:
                waiting = False
            if waiting:
                self._dispatch(conn, self._idle[conn][1])
                continue
            self._forget(conn)
            self.refused += 1
            return True
        return False

    def _forget(self, conn: socket.socket) -> None:
        self._idle.pop(conn, None)
        try:
            self._selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    def _dispatch(self, conn: socket.socket, peer) -> None:
        # The request has started to arrive: only now does the connection take a worker.
        if self._idle.pop(conn, None) is None:
            return  # closed earlier in this round (to make room) though the selector reported it
        self._selector.unregister(conn)
        with self._lock:
            self._busy += 1
            self._queued.add(conn)
        self._pool.submit(self._serve, conn, peer)

    def _cut_slow_requests(self) -> None:
        # A per-read timeout alone lets a client keep a worker for ever by sending a byte now and
        # then; the whole request (line, headers, body) must arrive within the timeout.
        now = time.monotonic()
        with self._lock:
            late = [conn for conn, deadline in self._receiving.items() if deadline <= now]
            for conn in late:
                del self._receiving[conn]
        for conn in late:
            self.refused += 1
            try:
                conn.shutdown(socket.SHUT_RDWR)  # the worker's blocked read returns; it closes the socket
            except OSError:
                pass

    def request_received(self, conn: socket.socket) -> None:
        """The handler began its answer: from now on the request's deadline no longer applies."""
        with self._lock:
            self._receiving.pop(conn, None)

    def _expire_idle(self) -> None:
        deadline = time.monotonic() - self.timeout
        while self._idle:
            conn, (since, _) = next(iter(self._idle.items()))
            if since > deadline:
                break
            self._forget(conn)

    def _resume_accepting(self) -> None:
        if self._accept_paused_until and time.monotonic() >= self._accept_paused_until:
            self._accept_paused_until = 0.0
            self._selector.register(self._listener, selectors.EVENT_READ, "listen")

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(64):
                pass
        except BlockingIOError:
            pass

    # -- the workers ----------------------------------------------------------------------------
    def _serve(self, conn: socket.socket, peer) -> None:
        with self._lock:
            self._queued.discard(conn)
            # The request's deadline runs from here, not from the hand-over: a request waiting for a
            # busy worker is the server's delay, not a slow client's.
            self._receiving[conn] = time.monotonic() + self.timeout
        try:
            conn.setblocking(True)
            conn.settimeout(self.timeout)
            self.handler_class(conn, peer, self)
        except Exception as err:  # noqa: BLE001 - a client's failure (timeout, reset) ends only its connection
            _log.debug("status endpoint: request from %s failed: %s", peer, err)
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
            with self._lock:
                self._busy -= 1
                self._receiving.pop(conn, None)

    # -- life cycle -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop accepting and wait for the accepting thread (requests being served finish)."""
        self._stop.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self._running:
            self._done.wait(5.0)

    def server_close(self) -> None:
        """Close the idle connections, the worker pool (requests not started are cancelled and
        their connections closed) and the listening socket.
        """
        for conn in list(self._idle):
            self._forget(conn)
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            cancelled, self._queued = list(self._queued), set()
        for conn in cancelled:  # requests that never reached a worker
            conn.close()
        self._selector.close()
        for sock in (self._listener, self._wake_r, self._wake_w):
            sock.close()
