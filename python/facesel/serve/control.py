"""Talking to a running ``facesel serve`` on its status port: ``/status`` and ``/reload``.

- ``GET /status``: JSON: ``pid``, ``uptime_s``, ``reloads``, ``config``, and per camera its
  state, whether it is up, its open tracks and its counters since the service started (frames,
  faces, sealed, drops, reconnects, restarts). Counts only, like ``/metrics``. A camera the
  config disables is listed with state ``disabled`` (no counters), not as down.
- ``POST /reload``: re-read the config file now (as SIGHUP does) and answer what changed, or
  409 with the error when the file is refused (the running cameras go on).

``facesel serve status --config FILE`` and ``facesel serve reload --config FILE`` find the port
in the file's ``serve.listen`` and call these; no process id or ``pidof`` needed, and on a
host with several services each config names its own. The port is the loopback's by default.
On a port bound beyond loopback (for a scraper) ``POST /reload`` is still answered only to a
peer on this machine (a loopback source address): anyone else gets 403 and a log line
(review 6, finding 7), so a client of the network cannot apply an operator's half-finished
edit. :func:`call` connects from 127.0.0.1 to such an address, so ``serve reload`` works there.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import os
import re
import time

from facesel.loopback_pin import pin_host

_log = logging.getLogger("facesel.serve")

#: The longest answer ``facesel serve status|reload`` reads: a status of a thousand cameras is
#: under 1 MB.
MAX_ANSWER_BYTES = 16 << 20

STATUS_COUNTERS = ("frames_received", "processed", "frames_dropped", "faces", "sealed", "reconnects",
                   "connect_failures", "pipeline_restarts", "flushed_on_gap", "tracks_held", "tracks_lost")


def status_report(service) -> dict:
    """``facesel serve``'s status: per camera its health, open tracks and counters
    (:data:`STATUS_COUNTERS`), as a JSON-ready dict.
    """
    cameras = {}
    for camera in service.camera_list():
        counts = camera.counters()
        adapter = camera.adapter
        cameras[camera.config.name] = {
            **camera.health(), "open_tracks": adapter.open_tracks if adapter is not None else 0,
            **{key: int(counts.get(key, 0)) for key in STATUS_COUNTERS},
        }
    from facesel.serve.status_http import DISABLED

    for name in service.disabled_cameras():  # listed, never counted as down
        cameras.setdefault(name, dict(DISABLED))
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
        peer = request.client_address[0]
        if not is_loopback_peer(peer):
            _log.warning("POST /reload from %s refused: only a client on this machine may reload", peer)
            _send_json(request, 403, {"error": "reload is answered only to a client on this machine "
                                               "(a loopback address): run 'facesel serve reload' there"})
            return
        try:
            changes = service.reload_from_file()
        except (ValueError, FileNotFoundError, RuntimeError) as err:
            _send_json(request, 409, {"error": str(err)})
            return
        _send_json(request, 200, changes)

    table = {("GET", "/status"): status, ("POST", "/reload"): reload}
    return lambda method, path: table.get((method, path))


def is_loopback_peer(address: str) -> bool:
    """Whether a TCP peer's address is loopback (127/8, ``::1``, or 127/8 mapped into IPv6 on a
    dual-stack socket). Linux drops packets from another machine that claim a loopback source, so
    only a process on this machine has one; a peer from this machine's own network address does
    not count (it cannot be told from another machine's without a list of this machine's
    addresses, and :func:`call` needs none)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def _send_json(request, code: int, body: dict) -> None:
    request._send(code, "application/json", json.dumps(body).encode())


def listen_of(path) -> tuple[str, int]:
    """The status address in a config file's ``serve.listen``, read without checking the rest of
    the file: a file being edited may be wrong, and then the running service says why when asked
    to reload it.

    A file that is not valid TOML as a whole is read for its ``[serve]`` table alone (its lines up
    to the next table): a camera's line broken by an edit must not make ``serve status`` say that
    no service answers, nor keep ``serve reload`` from asking the service, which then refuses the
    file and says why (ux19). Where the address cannot be told that way (no ``[serve]`` header, a
    ``serve`` key elsewhere, or the error inside that table) the file's own error is raised.
    """
    import tomllib

    from facesel.serve.config import _listen

    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"config file not found: {path}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        data = _serve_table_alone(raw)
        if data is None:
            raise ValueError(f"{path}: not valid TOML ({err}), and its serve.listen cannot be read apart from "
                             "the error: the service was not asked") from None
    serve = data.get("serve", {})
    listen = _listen(serve.get("listen", "127.0.0.1:9108") if isinstance(serve, dict) else None)
    if listen is None:
        raise ValueError(f"{path}: serve.listen is \"\": the service has no status port to ask")
    return listen


_TABLE_HEADER = re.compile(r"^\s*\[")
_SERVE_HEADER = re.compile(r"^\s*\[\s*serve\s*\]\s*(#.*)?$")
_SERVE_KEY = re.compile(r"^\s*[\"']?serve[\"']?\s*[.=]")


def _serve_table_alone(raw: bytes) -> dict | None:
    """``{"serve": {...}}`` parsed from the ``[serve]`` table's lines of a file that does not parse
    as a whole; None when that table alone does not parse either, or when ``serve`` could be given
    outside it (a top-level ``serve.listen = ...`` or ``serve = {...}`` line, a second header)."""
    import tomllib

    lines = raw.decode("utf-8", errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if _SERVE_HEADER.match(line)]
    if len(starts) != 1:
        return None
    first = next((i for i, line in enumerate(lines) if _TABLE_HEADER.match(line)), len(lines))
    if any(_SERVE_KEY.match(line) for line in lines[:first]):
        return None  # serve given at the top level too: which listen wins is the whole file's business
    end = next((i for i in range(starts[0] + 1, len(lines)) if _TABLE_HEADER.match(lines[i])), len(lines))
    try:
        return tomllib.loads("\n".join(lines[starts[0]:end]))
    except tomllib.TOMLDecodeError:
        return None


def call(listen: tuple[str, int], method: str, path: str, timeout: float = 60.0) -> tuple[int, dict]:
    """``(HTTP code, JSON body)`` of ``method path`` on a running service at ``listen``.

    Raises
    ------
    RuntimeError
        Nothing answers there (the service is not running, or listens elsewhere).
    """
    host, port = listen
    # serve.listen = "localhost:PORT": connect to 127.0.0.1, not to whoever listens on [::1] where
    # /etc/hosts maps localhost there too (review round 15a, finding 2; loopback_pin.py). The
    # messages keep the config's word.
    shown = f"[{host}]" if ":" in host else host
    host = pin_host(host)
    # from 127.0.0.1 to an IPv4 address of this machine bound beyond loopback: the service
    # answers POST /reload only to a loopback peer (0.0.0.0 is reached from 127.0.0.1 anyway)
    source = ("127.0.0.1", 0) if _is_outside_ipv4(host) else None
    connection = http.client.HTTPConnection(host, port, timeout=timeout, source_address=source)
    try:
        connection.request(method, path, body=b"" if method == "POST" else None)
        answer = connection.getresponse()
        body = answer.read(MAX_ANSWER_BYTES + 1)
        if len(body) > MAX_ANSWER_BYTES:
            # Whatever listens there while the service is down (any local process may bind a free
            # port) could stream without end, and the whole answer was read (review round 11, attack20).
            raise RuntimeError(f"what answers on {shown}:{port} sent more than {MAX_ANSWER_BYTES} bytes: not a "
                               "facesel serve (serve.listen of the config)")
        try:
            return answer.status, json.loads(body or b"{}")
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise RuntimeError(f"what answers on {shown}:{port} is not a facesel serve (its answer is not JSON)") \
                from None
    except (OSError, http.client.HTTPException) as err:
        raise RuntimeError(f"no facesel serve answers on {shown}:{port} (serve.listen of the config): {err}") from None
    finally:
        connection.close()


def _is_outside_ipv4(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.version == 4 and not ip.is_loopback and not ip.is_unspecified
