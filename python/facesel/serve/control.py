"""Talking to a running ``facesel serve`` on its status port: ``/status`` and ``/reload``.

- ``GET /status``: JSON: ``pid``, ``uptime_s``, ``reloads``, ``config``, and per camera its
  state, whether it is up, its open tracks and its counters since the service started (frames,
  faces, sealed, drops, reconnects, restarts). Counts only, like ``/metrics``.
- ``POST /reload``: re-read the config file now (as SIGHUP does) and answer what changed, or
  409 with the error when the file is refused (the running cameras go on).

``facesel serve status --config FILE`` and ``facesel serve reload --config FILE`` find the port
in the file's ``serve.listen`` and call these; no process id or ``pidof`` needed, and on a
host with several services each config names its own. The port is the loopback's by default:
whoever can reach it can ask for a reload of the file the service was started with, nothing more.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

STATUS_COUNTERS = ("frames_received", "processed", "frames_dropped", "faces", "sealed", "reconnects",
                   "pipeline_restarts", "flushed_on_gap")


def status_report(service) -> dict:
    cameras = {}
    for camera in service.camera_list():
        counts = camera.counters()
        adapter = camera.adapter
        cameras[camera.config.name] = {
            **camera.health(), "open_tracks": adapter.open_tracks if adapter is not None else 0,
            **{key: int(counts.get(key, 0)) for key in STATUS_COUNTERS},
        }
    events = service.events
    return {
        "pid": os.getpid(), "uptime_s": round(time.monotonic() - service.started_at, 1), "reloads": service.reloads,
        "config": None if service.config.path is None else str(service.config.path),
        "sealed_total": service.sealed_total(), "cameras": cameras,
        "events": None if events is None else {"published": events.published, "dropped": events.dropped,
                                                "failed": events.failed},
    }


def routes(service):
    """``routes(method, path)`` for :class:`facesel.serve.status_http.StatusServer`."""

    def status(request) -> None:
        _send_json(request, 200, status_report(service))

    def reload(request) -> None:
        try:
            changes = service.reload_from_file()
        except (ValueError, FileNotFoundError, RuntimeError) as err:
            _send_json(request, 409, {"error": str(err)})
            return
        _send_json(request, 200, changes)

    table = {("GET", "/status"): status, ("POST", "/reload"): reload}
    return lambda method, path: table.get((method, path))


def _send_json(request, code: int, body: dict) -> None:
    request._send(code, "application/json", json.dumps(body).encode())


def listen_of(path) -> tuple[str, int]:
    """The status address in a config file's ``serve.listen``, read without checking the rest of
    the file: a file being edited may be wrong, and then the running service says why when asked
    to reload it."""
    import tomllib

    from facesel.serve.config import _listen

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise FileNotFoundError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path}: not valid TOML: {err}") from None
    serve = data.get("serve", {})
    listen = _listen(serve.get("listen", "127.0.0.1:9108") if isinstance(serve, dict) else None)
    if listen is None:
        raise ValueError(f"{path}: serve.listen is \"\": the service has no status port to ask")
    return listen


def call(listen: tuple[str, int], method: str, path: str, timeout: float = 60.0) -> tuple[int, dict]:
    """``(HTTP code, JSON body)`` of ``method path`` on a running service at ``listen``.

    Raises
    ------
    RuntimeError
        Nothing answers there (the service is not running, or listens elsewhere).
    """
    host, port = listen
    host = f"[{host}]" if ":" in host else host
    request = urllib.request.Request(f"http://{host}:{port}{path}", method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise RuntimeError(f"no facesel serve answers on {host}:{port} (serve.listen of the config): {reason}") from None
