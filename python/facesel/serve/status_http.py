"""The local HTTP endpoint of ``facesel serve``: ``/metrics`` (Prometheus text) and ``/healthz``.

``/healthz`` answers 200 when every enabled camera is receiving and processing frames and 503
otherwise; its JSON body names each camera with its state and, when down, why. A camera the
config disables (``enabled = false``) is listed with state ``disabled``, never among those down.

Browsers are kept out of a loopback port (:func:`browser_refusal`): a hostile web page that the
operator opens can neither read it by DNS rebinding (its own name pointed at 127.0.0.1 still
arrives as the ``Host``) nor post to ``/reload`` across sites.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from facesel.redaction import redact_url
from facesel.serve.control import is_loopback_peer
from facesel.serve.http_pool import BoundedHTTPServer, raise_descriptor_limit


def _host_name(host_header: str) -> str:
    """The name or address of a ``Host`` header, without its port (``[::1]:9108`` -> ``::1``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return name == "localhost"


def _names_this_machine(name: str) -> bool:
    """Whether ``name`` is an IP address (no page of another site has one as its origin: a
    rebinding page is reached under its own name), ``localhost``, or this machine's own host name
    (Debian points it at 127.0.1.1; a scraper on this machine may use it)."""
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    return name.rstrip(".") in _own_names()


@functools.lru_cache(maxsize=1)
def _own_names() -> frozenset[str]:
    """This machine's host names, looked up once (``getfqdn`` may ask DNS)."""
    return frozenset({socket.gethostname().lower(), socket.getfqdn().lower(), "localhost"})


def browser_refusal(bound_host: str, method: str, headers, local_address: str | None = None,
                    allowed_names: frozenset[str] = frozenset()) -> str | None:
    """Why a request must be refused (None when it may pass).

    * On a loopback port the ``Host`` must be a loopback address or ``localhost``: a web page can
      point a name of its own at 127.0.0.1 (DNS rebinding) and then read the port as its own
      origin, but the browser still sends that name.
    * On a port bound elsewhere (exposed on purpose, e.g. to a Prometheus server) the ``Host`` must
      be an IP address, ``localhost``, this machine's own name (:func:`_names_this_machine`) or one
      of ``allowed_names`` (``serve.status_hosts``: a name the scrapers use for this machine). A
      rebound page is reached under its own name, whichever address its DNS gives: 127.0.0.1 on
      this machine (a port bound to ``0.0.0.0`` listens there too; review 9, finding 3) or this
      machine's address on the network, from the browser of an operator on that network (review
      10a, finding 2: before, the rule held only for requests that arrived over loopback).
      ``local_address`` (the connection's own address) is no longer needed for it; kept for callers.
    * A POST must not come from a web page of another site: an ``Origin`` must name this very
      host, and ``Sec-Fetch-Site`` (sent by browsers) must not say ``cross-site`` or ``same-site``.
      Command-line clients (``facesel serve reload``, curl) send neither.
    """
    host = headers.get("Host") or ""
    name = _host_name(host)
    if _is_loopback(_host_name(bound_host)):
        if not _is_loopback(name):
            return f"Host {host!r} refused: this port answers only under a loopback address"
    elif not (_names_this_machine(name) or name.rstrip(".") in allowed_names):
        return (f"Host {host!r} refused: this port answers only under an IP address, localhost, this machine's name "
                "or a name listed in serve.status_hosts")
    if method == "POST":
        return from_another_site(headers, "a POST")
    return None


def from_another_site(headers, what: str) -> str | None:
    """Why ``what`` (a request) made by a web page of another site is refused, None otherwise.

    Another site's page: an ``Origin`` that does not name this very host, or ``Sec-Fetch-Site``
    (sent by browsers since 2020-2023, also for an ``<img>``) saying ``cross-site`` or
    ``same-site`` (e.g. a page on ``localhost:8080``), or a ``Referer`` naming another host (older
    browsers; none is sent from an https page). Typing the URL, a bookmark, and command-line
    clients (curl, ``facesel serve``) send none of them or ``Sec-Fetch-Site: none``.
    """
    host = (headers.get("Host") or "").strip().lower()
    origin = headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc.lower() != host:
        return f"{what} from another origin ({origin}) was refused"
    if (headers.get("Sec-Fetch-Site") or "").lower() in ("cross-site", "same-site"):
        return f"{what} from another site was refused"
    referer = headers.get("Referer")
    if referer and urlsplit(referer).netloc.lower() != host:
        return f"{what} from a page of another site ({urlsplit(referer).netloc}) was refused"
    return None


# What /healthz and serve status show of a camera the config disables: not running (up false),
# but not failing either, so it never makes the service degraded.
DISABLED = {"up": False, "state": "disabled", "reason": "enabled = false in the config"}


def health_report(cameras: list, disabled=()) -> tuple[int, dict]:
    """(HTTP status, body) of ``/healthz``: 200 and ``ok`` when every camera is up, 503 and
    ``degraded`` with the names of those down otherwise. ``disabled``: names of the config's
    disabled cameras, listed as :data:`DISABLED` and not counted as down.
    """
    report = {cam.config.name: cam.health() for cam in cameras}
    down = sorted(name for name, info in report.items() if not info["up"])
    report.update({name: dict(DISABLED) for name in disabled if name not in report})
    body = {"status": "ok" if not down else "degraded", "down": down, "cameras": report}
    return (200 if not down else 503), body


class StatusServer:
    """Serves metrics and health on ``(host, port)`` in a background thread (port 0: any free one).

    The server machinery is :class:`facesel.serve.http_pool.BoundedHTTPServer`: at most
    ``max_connections`` sockets and ``workers`` threads whatever clients do, silent clients
    dropped after ``timeout`` seconds, so the status port can never take the file descriptors
    or threads the cameras need to seal.
    """

    def __init__(self, address: tuple[str, int], registry, cameras: Callable[[], list], routes=None,
                 max_connections: int = 64, workers: int = 4, timeout: float = 10.0,
                 disabled: Callable[[], list] = list, allowed_hosts=(), hint: Callable[[], str] | None = None):
        owner = self
        # hint() -> more text for the 404 of an unknown path: the view's URLs when it is on (ux26:
        # an operator who opened the port's address was told of /metrics and /healthz only).
        self._hint = hint or (lambda: "")
        self.allowed_hosts = frozenset(allowed_hosts)  # serve.status_hosts (browser_refusal)
        self.registry, self._cameras, self._disabled = registry, cameras, disabled
        self.bound_host = str(address[0])
        # routes(method, path) -> handler(request) or None: the endpoints of other modules
        # (facesel.serve.control, facesel.serve.view), which write their answers themselves.
        self.routes = routes or (lambda method, path: None)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # access lines would drown the service's own log
                pass

            # Every answer, whoever writes it (the view's pictures of the scene, the status JSON,
            # a route's own headers), is kept out of browser and proxy caches: a camera's view
            # must not land on some disk because a browser opened it once.
            def send_response(self, code, message=None):
                self._cache_header_sent = False
                super().send_response(code, message)

            def send_header(self, keyword, value):
                if keyword.lower() == "cache-control":
                    self._cache_header_sent = True
                super().send_header(keyword, value)

            def end_headers(self):
                if not getattr(self, "_cache_header_sent", False):
                    super().send_header("Cache-Control", "no-store")
                super().send_header("X-Content-Type-Options", "nosniff")
                super().end_headers()

            def _refused(self, method: str) -> bool:
                why = browser_refusal(owner.bound_host, method, self.headers, self.connection.getsockname()[0],
                                      owner.allowed_hosts)
                if why is not None:
                    self._send(421 if why.startswith("Host") else 403, "text/plain", (why + "\n").encode())
                return why is not None

            def _allowed(self, path: str) -> list[str]:
                """The methods ``path`` answers (``GET`` with ``HEAD``, ``POST``), empty for an unknown path."""
                methods = [m for m in ("GET", "POST") if owner.routes(m, path) is not None
                           or (m == "GET" and path in ("/metrics", "/healthz"))]
                return ["GET", "HEAD", *methods[1:]] if methods[:1] == ["GET"] else methods

            def _not_found(self, path: str, body: bytes) -> None:
                # A known path asked with another method is 405 with the methods it takes (a POST
                # to a view URL was a 404, as if the URL were mistyped; ux21).
                allowed = self._allowed(path)
                if not allowed:
                    self._send(404, "text/plain", body)
                    return
                self._allow = ", ".join(allowed)
                self._send(405, "text/plain", f"{self.command} is not answered here: use {self._allow}\n".encode())

            def do_POST(self):
                if self._refused("POST"):
                    return
                path = self.path.split("?", 1)[0]
                extra = owner.routes("POST", path)
                if extra is not None:
                    return extra(self)
                self._not_found(path, b"not found\n")

            def do_GET(self):
                # Also HEAD's (do_HEAD): the same answer, whose body _send (and the view's stream)
                # leave out, so a HEAD /metrics is a 200 rather than a 501.
                if self._refused("GET"):
                    return
                path = self.path.split("?", 1)[0]
                extra = owner.routes("GET", path)
                if extra is not None:
                    return extra(self)
                if path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(owner.registry))
                elif path == "/healthz":
                    code, body = health_report(owner._cameras(), owner._disabled())
                    self._send(code, "application/json", json.dumps(body).encode())
                else:
                    self._not_found(path, f"not found: try /metrics or /healthz{owner._hint()}\n".encode())

            do_HEAD = do_GET

            def _send(self, code, kind, body):
                # Last line of defence: whatever a camera reports, no URL credentials leave in a
                # text answer (pictures such as the privacy-safe view are passed through as bytes).
                if kind.startswith(("text/", "application/json")):
                    body = redact_url(body.decode("utf-8", "replace")).encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                allow, self._allow = getattr(self, "_allow", None), None
                if allow is not None:
                    self.send_header("Allow", allow)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

        raise_descriptor_limit()  # room for the vaults beyond the server's own bounded share
        self._server = BoundedHTTPServer(address, Handler, max_connections=max_connections, workers=workers,
                                         timeout=timeout)
        self._thread = threading.Thread(target=self._server.serve_forever, name="status-http", daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen by the system when 0 was asked)."""
        return self._server.server_address[1]

    def start(self) -> StatusServer:
        """Start serving in a thread of its own; returns the server."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
