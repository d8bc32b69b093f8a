"""Review 6, finding 7 (low): ``POST /reload`` from any client that reaches the status port.

An operator binds the status port beyond loopback for a scraper; any client of the network could
then have the config file re-read, applying an operator's half-finished edit early. Now a reload
is answered only to a peer with a loopback address (403 and a log line for anyone else), while
``GET`` stays open to the scraper, and ``facesel serve reload``'s client (``control.call``)
connects from 127.0.0.1 so it still works there.

A real service (in this process) bound to this machine's own non-loopback address; the network
client connects from that address (``tests/network_attacker.py``), as one from another machine
would appear with its own.
"""

from __future__ import annotations

import contextlib
import logging
import socket

from facesel.serve.config import load_config
from facesel.serve.control import call
from facesel.serve.service import Service
from network_attacker import outside_address

from test_serve import authority, keys  # noqa: F401
from test_sources import wait_for


def _camera_table(name: str, tmp_path, keys) -> str:
    # a camera that is down (nothing listens on port 9): cheap, and a reload still adds it
    return (f'[cameras.{name}]\nsource = "rtsp://127.0.0.1:9/none"\nvault = "{tmp_path / name}"\n'
            f'camera_key = "{keys(name)}"\n[cameras.{name}.pipeline]\nscorer = "laplacian"\n')


@contextlib.contextmanager
def service_with_a_half_done_edit(listen_host: str, authority, keys, tmp_path):
    """A real service on ``listen_host`` (any port) with camera ``gate``, whose config file then
    holds the operator's edit, half done (a second camera, ``half``, not to be applied yet)."""
    config_path = tmp_path / "facesel.toml"
    head = f'[serve]\nlisten = "{listen_host}:0"\n[defaults]\nauthority = "{authority}"\n'
    config_path.write_text(head + _camera_table("gate", tmp_path, keys))
    config_path.chmod(0o600)
    service = Service(load_config(config_path)).start()
    try:
        config_path.write_text(head + _camera_table("gate", tmp_path, keys) + _camera_table("half", tmp_path, keys))
        yield service, config_path
    finally:
        service.stop()


def _request_from(address: str, port: int, method: str, path: str) -> tuple[int, bytes]:
    """``(status, body)`` of one request whose source address is ``address``."""
    with socket.create_connection((address, port), timeout=30, source_address=(address, 0)) as sock:
        assert sock.getpeername()[0] == address and sock.getsockname()[0] == address
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {address}:{port}\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_only_a_client_on_this_machine_may_reload_a_port_bound_beyond_loopback(authority, keys, tmp_path,
                                                                               caplog):
    outside = outside_address()
    with service_with_a_half_done_edit(outside, authority, keys, tmp_path) as (service, _):
        port = service.status.port
        with caplog.at_level(logging.WARNING, logger="facesel.serve"):
            code, body = _request_from(outside, port, "POST", "/reload")
        assert code == 403, (code, body)
        assert b"this machine" in body
        assert service.reloads == 0 and [cam.config.name for cam in service.camera_list()] == ["gate"]
        assert any("/reload" in r.getMessage() and outside in r.getMessage() and "refused" in r.getMessage()
                   for r in caplog.records), [r.getMessage() for r in caplog.records]
        # the scraper's GETs from the network are as before
        assert _request_from(outside, port, "GET", "/metrics")[0] == 200
        assert _request_from(outside, port, "GET", "/status")[0] == 200
        # `facesel serve reload`'s client on this machine, asking the same address, is answered
        code, changes = call((outside, port), "POST", "/reload")
        assert code == 200 and changes["added"] == ["half"], (code, changes)
        assert wait_for(lambda: sorted(cam.config.name for cam in service.camera_list()) == ["gate", "half"],
                        timeout=30)
