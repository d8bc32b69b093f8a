"""Start the desk: bind, print the one-time start URL, serve until interrupted."""

from __future__ import annotations

import ipaddress
import math
import socket
import sys
from pathlib import Path

from facesel.review.state import DeskState
from facesel.serve.http_pool import raise_descriptor_limit

MIN_IDLE, MAX_IDLE = 5.0, 86400.0      # seconds without a request before the session ends
MIN_DELAY, MAX_DELAY = 0.5, 3600.0     # seconds after the first wrong passphrase (then doubled)


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse any address but loopback unless ``allow_remote`` (the page shows faces)."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not allow_remote:
        raise ValueError(f"--host {host} would serve faces beyond this computer; the desk binds to 127.0.0.1 only "
                         "(pass --allow-remote to override, behind your own TLS and access control)")


def check_settings(idle_seconds: float, passphrase_delay: float) -> None:
    """Refuse settings that would switch a protection off unnoticed: NaN compares false, so an idle
    timeout of NaN never ends a session and a delay of NaN, 0 or less never slows a guesser."""
    if not (math.isfinite(idle_seconds) and MIN_IDLE <= idle_seconds <= MAX_IDLE):
        raise ValueError(f"--idle must be between {MIN_IDLE:.0f} and {MAX_IDLE:.0f} seconds, got {idle_seconds!r}")
    if not (math.isfinite(passphrase_delay) and MIN_DELAY <= passphrase_delay <= MAX_DELAY):
        raise ValueError(f"--passphrase-delay must be between {MIN_DELAY} and {MAX_DELAY:.0f} seconds (it is doubled "
                         f"after each wrong passphrase), got {passphrase_delay!r}")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(16)  # uvicorn listens again with its backlog (ACCEPT_BATCH)
    sock.setblocking(False)
    return sock


def serve(vault_dir: Path | None, keystore_dir: Path, host: str = "127.0.0.1", port: int = 0,
          allow_remote: bool = False, idle_seconds: float = 600.0, passphrase_delay: float = 2.0,
          central_dsn: str | None = None, out=sys.stdout) -> None:
    """Serve the desk for one vault folder or the central store (exactly one) until interrupted;
    prints ``review: open URL`` first."""
    import asyncio

    import uvicorn

    from facesel.review.app import build_app
    from facesel.review.connections import ACCEPT_BATCH, BoundedH11Protocol
    from facesel.review.sources import CentralSource, VaultSource
    from facesel.vault.keys import Keystore

    check_host(host, allow_remote)
    check_settings(float(idle_seconds), float(passphrase_delay))
    if (vault_dir is None) == (central_dsn is None):
        raise ValueError("give exactly one of --vault DIR or --central DSN")
    keystore = Keystore(keystore_dir)
    source = VaultSource(Path(vault_dir), keystore) if vault_dir is not None else CentralSource(central_dsn, keystore)
    state = DeskState(source, Path(keystore_dir), idle_seconds=idle_seconds, passphrase_delay=passphrase_delay)
    sock = bind(host, port)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    hosts = {f"{shown}:{port}"} | ({f"127.0.0.1:{port}", f"localhost:{port}"} if host in ("127.0.0.1", "localhost")
                                   else set())
    app = build_app(state, hosts, {f"http://{h}" for h in hosts})
    raise_descriptor_limit()
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, date_header=False,
                            lifespan="on", http=BoundedH11Protocol, backlog=ACCEPT_BATCH)
    print(f"review: open http://{shown}:{port}/start?token={state.start_token}  (one-time link; the session ends "
          f"after {idle_seconds:.0f} s idle or on 'End session')", file=out, flush=True)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))
