"""Metadata-only events of ``facesel serve`` to an MQTT broker and/or an HTTP webhook.

Events (one JSON object each; ``camera``, ``event`` and ``time`` (UTC, ISO 8601) always):

- ``track_opened``: ``track_id``, ``frame``, ``timestamp`` (a confirmed track appeared)
- ``track_closed``: ``track_id``, ``first_frame``, ``last_frame``, ``first_timestamp``,
  ``last_timestamp``, ``quality`` (the best crop's value, as ``facesel list`` shows it)
- ``track_sealed``: ``track_id``, ``record_id``
- ``camera_up`` / ``camera_down``: ``state``, ``reason``
- ``frames_dropped``: ``count`` (since the last such event, at most one per 10 s), ``total``

Never pixels, boxes, landmarks or anything computed from a face beyond that quality value. The
pipeline never waits for a broker or a web server: events go through a bounded queue to one
sender thread; when the queue is full (a broker down for long) new events are dropped and
counted (``events.dropped`` in ``/status``; no /metrics series), and a failed delivery is logged
once per minute.

Config::

    [serve.mqtt]
    host = "127.0.0.1"
    port = 1883
    topic = "facesel"            # events on facesel/CAMERA/EVENT; facesel/status: online/offline (retained, last will)
    qos = 1
    client_id = "facesel-gate"   # optional
    username = "facesel"         # optional, with password_file (first line: the password)
    password_file = "/etc/facesel/mqtt.pass"
    tls = true                   # TLS, the broker's certificate and name checked (needed for credentials
    ca_file = "/etc/facesel/broker-ca.pem"   # to a broker on another machine); ca_file: else the system's CAs

    [serve.webhook]
    url = "http://127.0.0.1:8080/facesel"   # one POST per event, Content-Type application/json
    timeout = 5
    allow_plain_http = false     # true: accept http:// to another machine (events and URL in clear)
"""

from __future__ import annotations

import ipaddress
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from facesel.loopback_pin import pin_host, pin_url
from facesel.redaction import remember_url_secrets
from facesel.vault.fsutil import read_regular

_log = logging.getLogger("facesel.serve")

MQTT_KEYS = {"host", "port", "topic", "qos", "client_id", "username", "password_file", "tls", "ca_file"}
WEBHOOK_KEYS = {"url", "timeout", "allow_plain_http"}
QUEUE_SIZE = 1000
FAILURE_LOG_INTERVAL = 60.0


def check_mqtt(table, where: str, base: Path) -> tuple:
    """``[serve.mqtt]`` checked: sorted ``(key, value)`` pairs with defaults, () when absent."""
    from facesel.serve.suggest import check_known_keys

    if table is None:
        return ()
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table, got {table!r}")
    check_known_keys(table, where, MQTT_KEYS)
    host = table.get("host", "127.0.0.1")
    port = table.get("port", 1883)
    topic = table.get("topic", "facesel")
    qos = table.get("qos", 1)
    if not isinstance(host, str) or not host:
        raise ValueError(f"{where}.host must be a host name or address, got {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"{where}.port must be a port 1-65535, got {port!r}")
    if not isinstance(topic, str) or not topic or any(c in topic for c in "#+") or topic.endswith("/"):
        raise ValueError(f"{where}.topic must be a topic prefix without wildcards or a trailing '/', got {topic!r}")
    if qos not in (0, 1, 2) or isinstance(qos, bool):
        raise ValueError(f"{where}.qos must be 0, 1 or 2, got {qos!r}")
    checked = {"host": host, "port": port, "topic": topic, "qos": qos}
    checked.update(_check_tls(table, where, base))
    for key in ("client_id", "username"):
        if key in table:
            if not isinstance(table[key], str) or not table[key]:
                raise ValueError(f"{where}.{key} must be a non-empty string, got {table[key]!r}")
            checked[key] = table[key]
    if "password_file" in table:
        if "username" not in table:
            raise ValueError(f"{where}.password_file needs {where}.username")
        path = Path(str(table["password_file"])).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise ValueError(f"{where}.password_file: no file at {path}")
        read_password(path, f"{where}.password_file")  # refused now, not when the service starts
        checked["password_file"] = str(path)
    if "username" in checked and not checked.get("tls") and not _on_this_machine(host):
        # MQTT's CONNECT carries the password as it is: anyone on the path would read it (review 6, finding 2)
        raise ValueError(f"{where}: the broker {host} is on another machine and the username and password would "
                         f"cross the network in clear; set {where}.tls = true (and {where}.ca_file when the broker's "
                         "certificate is not signed by a CA the system trusts)")
    return tuple(sorted(checked.items()))


def _on_this_machine(host: str) -> bool:
    """``localhost`` or a loopback address (a host name counts as another machine: DNS can lie)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_tls(table: dict, where: str, base: Path) -> dict:
    """``tls`` (bool) and ``ca_file`` (a readable PEM file; needs ``tls``) as checked settings."""
    tls = table.get("tls", False)
    if not isinstance(tls, bool):
        raise ValueError(f"{where}.tls must be true or false, got {tls!r}")
    checked = {"tls": True} if tls else {}
    if "ca_file" in table:
        if not tls:
            raise ValueError(f"{where}.ca_file needs {where}.tls = true")
        path = Path(str(table["ca_file"])).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise ValueError(f"{where}.ca_file: no file at {path}")
        checked["ca_file"] = str(path)
    return checked


def read_password(path: str | Path, what: str) -> str:
    """The first line of a password file: a regular file that only its owner may read or write
    (ValueError naming ``what`` and the ``chmod`` otherwise)."""
    try:
        text = read_regular(Path(path), 64 * 1024, private=True).decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        detail = err.strerror if isinstance(err, OSError) and err.strerror else "not UTF-8 text"
        raise ValueError(f"{what}: {path}: {detail}") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise ValueError(f"{what}: {path} is empty (the first line is the password)")
    return lines[0]


def check_webhook(table, where: str) -> tuple:
    """``[serve.webhook]`` checked: sorted ``(key, value)`` pairs with defaults, () when absent."""
    from facesel.serve.suggest import check_known_keys

    if table is None:
        return ()
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table, got {table!r}")
    check_known_keys(table, where, WEBHOOK_KEYS)
    url = table.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        shown = endpoint(url) if isinstance(url, str) else repr(url)
        raise ValueError(f"{where}.url must be an http:// or https:// URL, got {shown}")
    if any(c.isspace() or not c.isprintable() for c in url) or not urlsplit(url).hostname:
        # refused here, not at the first POST (whose error would quote the URL, secret path and all)
        raise ValueError(f"{where}.url must be a URL with a host and without spaces or control characters, got "
                         f"{endpoint(url)}")
    remember_url_secrets(url)  # a password or ?token= in it is masked in every log line from here on
    from facesel.serve.config import MAX_TIMEOUT_SECONDS, checked_seconds  # config imports this module

    timeout = checked_seconds(table.get("timeout", 5.0), f"{where}.timeout", MAX_TIMEOUT_SECONDS)
    allow_plain = table.get("allow_plain_http", False)
    if not isinstance(allow_plain, bool):
        raise ValueError(f"{where}.allow_plain_http must be true or false, got {allow_plain!r}")
    host = urlsplit(url).hostname
    if url.startswith("http://") and not allow_plain and not _on_this_machine(host):
        # the events, and any secret in the URL (a token in its path or query), would cross the
        # network in clear: finding 2's rule for MQTT credentials, applied to the webhook (review 6, finding 6)
        raise ValueError(f"{where}.url: {endpoint(url)} is plain http:// to another machine ({host}), so the events "
                         "and any secret in the URL would cross the network in clear; use an https:// URL, or set "
                         f"{where}.allow_plain_http = true if that network is trusted")
    return (("timeout", timeout), ("url", url))  # allow_plain_http is a check only, not an outlet setting


class EventBus:
    """Publishes events to its outlets from one sender thread (see the module docstring).

    Parameters
    ----------
    outlets : list
        Objects with ``send(event: dict) -> None`` (raising on failure) and ``close()``.
    """

    def __init__(self, outlets: list):
        self.outlets = list(outlets)
        self.published = 0
        self.dropped = 0
        self.failed = 0
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        self._last_failure_log = -FAILURE_LOG_INTERVAL
        self._thread = threading.Thread(target=self._send_all, name="facesel-events", daemon=True)
        self._thread.start()

    def publish(self, camera: str, event: str, **fields) -> None:
        """Queue an event (never blocks: a full queue drops it and counts it)."""
        stamp = time.time()
        entry = {"event": event, "camera": camera,
                 "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{int(stamp % 1 * 1000):03d}Z",
                 **fields}
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self.dropped += 1

    def _send_all(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is None:
                return
            for outlet in self.outlets:
                try:
                    outlet.send(entry)
                except Exception as err:  # noqa: BLE001 - a broker or web server down must not stop the rest
                    self.failed += 1
                    now = time.monotonic()
                    if now - self._last_failure_log >= FAILURE_LOG_INTERVAL:
                        self._last_failure_log = now
                        _log.warning("events: %s failed (%s: %s); %d deliveries failed so far", outlet.name,
                                     type(err).__name__, err, self.failed)
            self.published += 1

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (up to ``timeout``), then close the outlets."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)
        for outlet in self.outlets:
            outlet.close()


def endpoint(url: str) -> str:
    """``url`` as logs and errors may show it: scheme, host and port only. Webhook services put
    their secret in the path (``/services/T0/B0/SECRET``, ``/api/webhooks/ID/TOKEN``), which the
    log's redaction cannot tell from an ordinary path, so no path, query or user part is shown."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "(a malformed URL)"
    if not parts.scheme or not host:
        return "(a URL without a scheme or host)"
    shown = f"{parts.scheme}://{'[' + host + ']' if ':' in host else host}{'' if port is None else f':{port}'}"
    return shown + ("/..." if parts.path not in ("", "/") or parts.query or parts.fragment else "/")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the failure it is: urllib's default follows a 301/302/303 with a GET
    to whatever URL the answer names (``http://`` to another machine past :func:`check_webhook`, or a
    service on the camera's own network; review 7b, finding 2). The operator fixes the URL instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"webhook answered a redirect ({code}), not followed",
                                     headers, fp)


class WebhookOutlet:
    """One HTTP POST of the event's JSON per event; a redirect is a failed delivery, never followed."""

    def __init__(self, url: str, timeout: float = 5.0):
        self.url, self.timeout = url, float(timeout)
        self.name = f"webhook {endpoint(url)}"  # logged on failures: never the URL's path (its secret)
        self._opener = urllib.request.build_opener(_NoRedirects)

    def send(self, event: dict) -> None:
        """POST ``event`` as JSON to the webhook (no redirect followed); raises when delivery fails."""
        body = json.dumps(event).encode()
        # http://localhost:PORT reached at 127.0.0.1 only: not whoever listens on [::1] at that port
        # (review round 14a, finding 1); the URL keeps its words in the name and the logs
        request = urllib.request.Request(pin_url(self.url), data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "User-Agent": "facesel-serve", "X-Facesel-Event": event["event"]})
        # The status line says the event arrived; the answer's body is never read. ``answer.read()``
        # took it whole: a webhook (a third party's service, or whoever answers a plain http:// URL)
        # that streamed an endless body grew the camera service's memory until the kernel killed it,
        # every camera with it, and held the sender thread meanwhile (review round 11, attack20
        # finding 2). Closing here drops the connection (urllib asks for ``Connection: close``).
        with self._opener.open(request, timeout=self.timeout):
            pass

    def close(self) -> None:
        """Nothing to close: each event is its own request."""
        pass


class MqttOutlet:
    """Events on ``TOPIC/CAMERA/EVENT`` (not retained); ``TOPIC/status`` is ``online`` while
    the service runs and ``offline`` after (retained; also the broker's last will when the
    process dies). paho's network thread reconnects by itself."""

    def __init__(self, host: str, port: int = 1883, topic: str = "facesel", qos: int = 1, client_id: str = "",
                 username: str | None = None, password_file: str | None = None, tls: bool = False,
                 ca_file: str | None = None):
        try:
            import paho.mqtt.client as mqtt
        except ImportError as err:
            raise RuntimeError("serve.mqtt needs the paho-mqtt package (pip install 'facesel[events]')") from err
        self.topic, self.qos = topic, int(qos)
        self.name = f"MQTT {host}:{port}"
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or "")
        if tls:  # certificate and host name checked (paho's default context); nothing is sent before that
            self._client.tls_set(ca_certs=ca_file)
            self.name = f"MQTT over TLS {host}:{port}"
        if username is not None:
            password = read_password(password_file, "serve.mqtt.password_file") if password_file else None
            self._client.username_pw_set(username, password)
        self._client.will_set(f"{topic}/status", "offline", qos=1, retain=True)
        self._client.reconnect_delay_set(1, 30)
        # The connection's changes are logged (a failure at most once a minute): a broker down at
        # the start, or gone later, was said nowhere while paho kept the events for it (ux24: only
        # the 1001st event, refused by paho's full queue, was logged as a failed delivery).
        self._connected = None  # None: never tried; then True / False
        self._closing = False
        self._last_failure_log = -FAILURE_LOG_INTERVAL
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        # While the broker is away paho keeps QoS 1/2 messages for it: bounded, so that a long
        # outage costs at most this many events (refused ones are counted as failed), not memory.
        self._client.max_queued_messages_set(QUEUE_SIZE)
        # a broker at localhost without TLS reached at 127.0.0.1 only (review round 14a, finding 1):
        # whoever listens on [::1] at that port would take the username, password and events
        self._client.connect_async(host if tls else pin_host(host), int(port), keepalive=30)
        self._client.loop_start()
        self._client.publish(f"{topic}/status", "online", qos=1, retain=True)

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if getattr(reason_code, "is_failure", False):  # the broker answered and refused (credentials, say)
            self._not_connected(f"the broker refused the connection ({reason_code})")
            return
        if self._connected is not True:
            _log.info("events: %s connected%s", self.name, "" if self._connected is None else " again")
        self._connected = True

    def _on_connect_fail(self, client, userdata) -> None:
        self._not_connected("cannot connect")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if self._connected and not self._closing:  # not our own disconnect() at the stop
            self._not_connected(f"connection lost ({reason_code})")

    def _not_connected(self, why: str) -> None:
        # paho's network thread: one line at the change, then at most one a minute while it lasts
        now = time.monotonic()
        if self._connected is not False or now - self._last_failure_log >= FAILURE_LOG_INTERVAL:
            self._last_failure_log = now
            _log.warning("events: %s: %s; events wait in memory (at most %d) until it answers; retrying",
                         self.name, why, QUEUE_SIZE)
        self._connected = False

    def send(self, event: dict) -> None:
        """Publish ``event`` on ``TOPIC/CAMERA/EVENT``; ConnectionError when the client refuses it
        (kept for later while not connected yet).
        """
        info = self._client.publish(f"{self.topic}/{event['camera']}/{event['event']}", json.dumps(event), qos=self.qos)
        if info.rc not in (0, 4):  # 4: not connected (yet): paho keeps it and sends it once connected
            raise ConnectionError(f"publish refused (paho rc {info.rc})")

    def close(self) -> None:
        """Publish ``offline`` on ``TOPIC/status`` (waiting up to 3 s) and disconnect."""
        self._closing = True
        info = self._client.publish(f"{self.topic}/status", "offline", qos=1, retain=True)
        try:
            info.wait_for_publish(timeout=3.0)
        except (RuntimeError, ValueError):
            pass  # not connected: the broker's last will says offline
        self._client.disconnect()
        self._client.loop_stop()


def make_event_bus(config) -> EventBus | None:
    """The bus for a :class:`facesel.serve.config.ServeConfig`, None when it has no outlet."""
    outlets = []
    if config.mqtt:
        outlets.append(MqttOutlet(**dict(config.mqtt)))
    if config.webhook:
        outlets.append(WebhookOutlet(**dict(config.webhook)))
    return EventBus(outlets) if outlets else None
