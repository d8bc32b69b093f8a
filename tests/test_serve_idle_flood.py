"""Idle connections to the status port cannot starve the cameras (issue 24, finding 4).

A real ``facesel serve`` process under the common limit of 1024 file descriptors; an attacker
holds about 1000 TCP connections to its status port open without sending a byte, and opens a
new one whenever the server drops one. While that lasts, the camera must keep sealing with no
error logged, and ``/metrics`` and ``/healthz`` must still answer a client that tries again as a
scraper does: one try can lose its connection to the flood's churn (a client accepted before its
request arrived is closed once 64 newer connections came first; see ``facesel.serve.http_pool``).
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest
from process_helpers import running
from test_serve_credentials import _key, make_serve_authority
from test_sources import wait_for

CONNECTIONS = 1000   # the attack: this many idle connections held by the server (it tries up to 3x as many
CHILD_FD_LIMIT = 1024  # sockets, since a connect can succeed on the client while the server never takes it)


class IdleFlood:
    """Holds up to ``count`` idle connections to ``port`` (none sends a byte), reopening any that the
    server closes, from ``connectors`` threads (one connector is throttled by the accept queue)."""

    def __init__(self, port: int, count: int, connectors: int = 32) -> None:
        self.port, self.count = port, count
        self.held = self.opened = self.dropped = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._threads = [threading.Thread(target=self._connect, daemon=True) for _ in range(connectors)]
        self._threads.append(threading.Thread(target=self._watch, daemon=True))

    def _connect(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                room = self.held < self.count
                self.held += room
            if not room:
                self._stop.wait(0.05)
                continue
            s = socket.socket()
            s.settimeout(3.0)
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                s.setblocking(False)
                with self._lock:
                    self._selector.register(s, selectors.EVENT_READ)
                    self.opened += 1
            else:
                s.close()
                with self._lock:
                    self.held -= 1

    def _watch(self) -> None:
        while not self._stop.is_set():
            if not self._selector.get_map():
                self._stop.wait(0.05)
                continue
            for key, _ in self._selector.select(0.2):
                try:
                    gone = key.fileobj.recv(1) == b""
                except BlockingIOError:
                    continue
                except OSError:
                    gone = True
                if gone:  # the server closed it: a connector opens another at once
                    with self._lock:
                        self._selector.unregister(key.fileobj)
                        self.held -= 1
                        self.dropped += 1
                    key.fileobj.close()

    def settle(self, server_pid: int, quiet: float = 10.0, timeout: float = 300.0) -> int:
        """Wait until the server has taken what it will take: its count of open file descriptors
        has not grown for ``quiet`` seconds (a client's connect succeeds before the server
        accepts). Returns the server's descriptor count then."""
        deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            now = len(os.listdir(f"/proc/{server_pid}/fd"))
            if now > last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since > quiet and self.opened >= CONNECTIONS:
                break
            time.sleep(0.5)
        return last

    def __enter__(self) -> IdleFlood:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()
        self._selector.close()


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return make_serve_authority(tmp_path_factory.mktemp("authority"))


def _limit_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (CHILD_FD_LIMIT, CHILD_FD_LIMIT))


def _get(port: int, path: str) -> int | str:
    """The HTTP status, or why there was none (a refused, dropped or unanswered request)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as reply:
            return reply.status
    except urllib.error.HTTPError as err:
        return err.code
    except (urllib.error.URLError, OSError) as err:
        return f"no answer: {err}"


SCRAPE_TRIES = 5  # a scraper's tries, 1 s apart; each may lose its connection to the flood's churn


def _scrape(port: int, path: str) -> list:
    """Each try's :func:`_get` outcome, up to the first answer (an HTTP status) or SCRAPE_TRIES."""
    tries = [_get(port, path)]
    while not isinstance(tries[-1], int) and len(tries) < SCRAPE_TRIES:
        time.sleep(1.0)
        tries.append(_get(port, path))
    return tries


@pytest.mark.slow
def test_idle_connections_do_not_stop_sealing_or_metrics(shared_data, authority, tmp_path):
    if not os.path.isdir(f"/proc/{os.getpid()}/fd"):
        pytest.skip("needs /proc/PID/fd to see what the server holds")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 3 * CONNECTIONS + 200
    if soft < need:  # this test's own sockets: raise its limit as far as the hard limit allows
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"the hard file descriptor limit ({hard}) is below the {need} this test needs")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    gif = shared_data / "videos" / "intel_head_pose_female.gif"
    config = tmp_path / "facesel.toml"
    config.write_text(f'[serve]\nlisten = "127.0.0.1:0"\nlog_format = "json"\nshutdown_timeout = 30\n'
                      f'[defaults]\nauthority = "{authority}"\n[defaults.pipeline]\nscorer = "laplacian"\n'
                      f'[cameras.door]\nsource = "{gif}"\nloop = true\nvault = "door"\n'
                      f'camera_key = "{_key(authority, tmp_path / "keys", "door-flood")}"\n')
    records = tmp_path / "door" / "records"

    def sealed() -> int:
        return len(list(records.glob("*.fsr"))) if records.is_dir() else 0

    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "facesel", "serve", "--config", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=_limit_descriptors,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        with running(process):
            assert wait_for(lambda: "metrics and health on" in stderr_path.read_text(), timeout=180)
            port = int(stderr_path.read_text().split("metrics and health on http://127.0.0.1:")[1].split("/")[0])
            assert wait_for(lambda: sealed() >= 1, timeout=120), stderr_path.read_text()[-2000:]
            baseline_fds = len(os.listdir(f"/proc/{process.pid}/fd"))
            with IdleFlood(port, 3 * CONNECTIONS) as flood:
                server_fds = flood.settle(process.pid)
                before = sealed()
                # The camera goes on sealing (each pass of the looping file closes its track) ...
                grew = wait_for(lambda: sealed() >= before + 2, timeout=180)
                # ... and the status endpoint still answers, the attack still going on.
                metrics, health = _scrape(port, "/metrics"), _scrape(port, "/healthz")
            process.send_signal(signal.SIGTERM)
            code = process.wait(60)
    log = [json.loads(line) for line in stderr_path.read_text().splitlines() if line.startswith("{")]
    errors = [e["message"] for e in log if e.get("level") in ("error", "critical")]
    print("flood: opened", flood.opened, "dropped by the server", flood.dropped, "; server descriptors",
          baseline_fds, "->", server_fds, "; tries of /metrics", metrics, "of /healthz", health)
    assert flood.opened >= CONNECTIONS  # the attack took place: it made its 1000 connections at least
    # The status port's share of descriptors is bounded (StatusServer's max_connections = 64, plus
    # a few the vault and the source open and close meanwhile), far from the limit of 1024.
    assert server_fds - baseline_fds <= 64 + 16, (baseline_fds, server_fds)
    assert grew, f"sealing stopped under {CONNECTIONS} idle connections: {errors[:3]}"
    assert errors == [], errors[:5]
    assert metrics[-1] == 200 and health[-1] == 200, (metrics, health)
    assert code == 0


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closed ``sock`` (end of stream, or a reset for data it left unread)."""
    sock.settimeout(20)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


class Hello(BaseHTTPRequestHandler):
    """Answers every GET with "ok" and logs nothing: the smallest handler for the pool's tests."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def test_bounded_server_limits_sockets_drops_silent_and_trickling_clients():
    """The machinery alone, in process: never more than max_connections sockets; a request still
    answered with every slot taken by idle clients; a silent client and one that stops half-way
    through its request are both dropped after the timeout, freeing their slot and worker."""
    from facesel.serve.http_pool import BoundedHTTPServer

    # 3 s, not 1: the request that must be answered has its deadline too, and on a loaded machine a
    # worker of this process (beside the watcher and 13 clients) may wait over 1 s for a core or the GIL
    server = BoundedHTTPServer(("127.0.0.1", 0), Hello, max_connections=4, workers=2, timeout=3.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    peak = [0]
    watching = threading.Event()

    def watch():
        while not watching.is_set():
            peak[0] = max(peak[0], len(server._idle) + server._busy)
            time.sleep(0.001)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    trickler = socket.create_connection(("127.0.0.1", port))
    clients = []
    try:
        trickler.sendall(b"GET / HTTP/1.0\r\nHost: x")  # and nothing more
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]  # idle
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=20) as reply:
            assert reply.status == 200 and reply.read() == b"ok"
        assert _closed_by_server(trickler)  # dropped after its timeout, without an answer
        for client in clients:
            assert _closed_by_server(client)  # closed: to make room, or after the timeout
    finally:
        watching.set()
        watcher.join(5)
        for client in [trickler, *clients]:
            client.close()
        server.shutdown()
        server.server_close()
    assert 1 <= peak[0] <= 4


def test_clients_trickling_faster_than_the_timeout_cannot_hold_the_workers():
    """Review round 3 (session 12): the timeout was per read, so a client sending one byte of its
    headers every half timeout kept a worker forever; as many such clients as workers (2 here, 4 in
    `facesel serve`) and /metrics, /healthz and the control routes never answered again. A request
    must now be received whole within the timeout; once the answer starts, no deadline applies
    (the live view streams)."""
    from facesel.serve.http_pool import BoundedHTTPServer

    class SlowHello(Hello):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            time.sleep(4.0)  # an answer that takes longer than the timeout to finish is not cut
            self.wfile.write(b"ok")

    # 3 s (1 s until session 18), the bytes still 0.3 s apart: the answered request's own deadline
    # has room for a worker that waits over a second for a core on a loaded machine
    server = BoundedHTTPServer(("127.0.0.1", 0), SlowHello, max_connections=8, workers=2, timeout=3.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    stop = threading.Event()
    cut = []

    def trickle():
        sock = socket.create_connection(("127.0.0.1", port))
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
            while not stop.wait(0.3):  # one byte of one long header line, well inside the 3 s timeout
                sock.sendall(b"a")
        except OSError:
            cut.append(True)
        finally:
            sock.close()

    tricklers = [threading.Thread(target=trickle, daemon=True) for _ in range(2)]
    try:
        for t in tricklers:
            t.start()
        # both workers are now reading a trickled request (waited for: on a loaded machine the
        # tricklers may not have sent their first bytes within a fixed half second)
        assert wait_for(lambda: server._busy == 2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as reply:
            assert reply.status == 200 and reply.read() == b"ok"
        assert wait_for(lambda: len(cut) == 2)  # each trickler sees its cut at its next byte
    finally:
        stop.set()
        for t in tricklers:
            t.join(10)
        server.shutdown()
        server.server_close()
    assert len(cut) == 2  # the server cut both tricklers off


def test_a_request_already_sent_is_not_dropped_as_idle_by_a_burst_of_connections():
    """Review round 3: under a flood, one accept burst could push out the oldest "idle" connection
    before the selector had looked at it, although its request was already waiting in the socket:
    the caller of /metrics got "connection reset" (seen in the flood test above on a loaded
    machine). Made deterministic here: the request is sent and 12 connections are queued before the
    server's loop starts, so the first burst meets them all at once."""
    from facesel.serve.http_pool import BoundedHTTPServer

    server = BoundedHTTPServer(("127.0.0.1", 0), Hello, max_connections=4, workers=2, timeout=5.0)
    port = server.server_address[1]
    caller = socket.create_connection(("127.0.0.1", port))
    caller.sendall(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    flood = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]  # queued behind it, silent
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        caller.settimeout(20)
        answer = b""
        while not answer.endswith(b"ok"):
            chunk = caller.recv(4096)
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"ok"), answer
    finally:
        for sock in [caller, *flood]:
            sock.close()
        server.shutdown()
        server.server_close()


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends on ``sock`` until it closes it (b"" or a reset: nothing)."""
    sock.settimeout(20)
    answer = b""
    try:
        while chunk := sock.recv(4096):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def test_a_request_waiting_for_a_worker_is_not_cut_by_the_request_deadline():
    """Found making the trickle test above wait for its condition instead of half a second (session
    14): the deadline for a whole request ran from its hand-over to the pool, so a request queued
    behind busy workers was cut while it waited for the server's own worker, though it had sent
    everything ("Remote end closed connection without response"). The deadline now runs from the
    moment a worker starts reading the request."""
    from facesel.serve.http_pool import _TICK, BoundedHTTPServer

    release = threading.Event()

    class Streaming(Hello):
        def do_GET(self):
            self.send_response(200)  # the answer has begun (as the live view's): no deadline from here
            self.send_header("Content-Length", "2")
            self.end_headers()
            release.wait(30)
            self.wfile.write(b"ok")

    timeout = 3.0  # 0.5 until session 18: each answered request has it too, to arrive whole in a worker
    server = BoundedHTTPServer(("127.0.0.1", 0), Streaming, max_connections=8, workers=2, timeout=timeout)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    callers = []
    try:
        for _ in range(2):
            callers.append(socket.create_connection(("127.0.0.1", port)))
            callers[-1].sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        assert wait_for(lambda: server._busy == 2 and not server._receiving)  # both workers answering
        callers.append(socket.create_connection(("127.0.0.1", port)))
        callers[-1].sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        assert wait_for(lambda: server._busy == 3)  # handed to the pool, waiting for a worker
        # Past the deadline it had if that ran from the hand-over, and two of the server's checks of
        # it: the time the fault needs to show, a lower bound (a slower machine only waits longer).
        time.sleep(timeout + 2 * _TICK + 0.2)
        release.set()
        answers = [_answer(sock) for sock in callers]
    finally:
        release.set()
        for sock in callers:
            sock.close()
        server.shutdown()
        server.server_close()
    assert all(a.startswith(b"HTTP/1.0 200") and a.endswith(b"ok") for a in answers), answers
    assert server.refused == 0
