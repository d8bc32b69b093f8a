"""The local HTTP endpoint of ``facesel serve``: ``/metrics`` (Prometheus text) and ``/healthz``.

``/healthz`` answers 200 when every enabled camera is receiving and processing frames and 503
otherwise; its JSON body names each camera with its state and, when down, why.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest


def health_report(cameras: list) -> tuple[int, dict]:
    report = {cam.config.name: cam.health() for cam in cameras}
    down = sorted(name for name, info in report.items() if not info["up"])
    body = {"status": "ok" if not down else "degraded", "down": down, "cameras": report}
    return (200 if not down else 503), body


class StatusServer:
    """Serves metrics and health on ``(host, port)`` in a background thread (port 0: any free one)."""

    def __init__(self, address: tuple[str, int], registry, cameras: Callable[[], list], routes=None):
        owner = self
        self.registry, self._cameras = registry, cameras
        # routes(method, path) -> handler(request) or None: the endpoints of other modules
        # (facesel.serve.control, facesel.serve.view), which write their answers themselves.
        self.routes = routes or (lambda method, path: None)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # access lines would drown the service's own log
                pass

            def do_POST(self):
                extra = owner.routes("POST", self.path.split("?", 1)[0])
                if extra is not None:
                    return extra(self)
                self._send(404, "text/plain", b"not found\n")

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                extra = owner.routes("GET", path)
                if extra is not None:
                    return extra(self)
                if path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(owner.registry))
                elif path == "/healthz":
                    code, body = health_report(owner._cameras())
                    self._send(code, "application/json", json.dumps(body).encode())
                else:
                    self._send(404, "text/plain", b"not found: try /metrics or /healthz\n")

            def _send(self, code, kind, body):
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(address, Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="status-http", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
