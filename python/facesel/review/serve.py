"""Start the desk: bind, print the one-time start URL, serve until interrupted or until its one session ended."""

from __future__ import annotations

import errno
import ipaddress
import math
import socket
import ssl
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
    """A listening, non-blocking TCP socket on ``host``:``port`` (IPv6 when ``host`` has a colon),
    handed to uvicorn. A bind that fails is a ValueError naming ``--host`` and ``--port``, the
    system's reason and what to do.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(16)  # uvicorn listens again with its backlog (ACCEPT_BATCH)
    except OSError as err:
        sock.close()
        # The system's words alone ("Address already in use", "Name or service not known") named
        # neither the flag nor the value, nor what to do (ux20).
        raise ValueError(f"--host {host} --port {port}: cannot listen there ({err.strerror or err})"
                         f"{_bind_hint(err)}") from None
    sock.setblocking(False)
    return sock


def _bind_hint(err: OSError) -> str:
    """What to do about a failed bind, for the errors a user meets."""
    if err.errno == errno.EADDRINUSE:
        return "; another program listens on that port: choose another --port, or leave --port out for a free one"
    if err.errno == errno.EADDRNOTAVAIL:
        return "; that is not an address of this computer: give one of its own addresses as --host"
    if isinstance(err, socket.gaierror):
        return "; the name does not resolve: give an address of this computer as --host"
    if err.errno == errno.EACCES:
        return "; ports below 1024 need privileges: choose a --port of 1024 or more"
    return ""


def serve(vault_dir: Path | None, keystore_dir: Path, host: str = "127.0.0.1", port: int = 0,
          allow_remote: bool = False, idle_seconds: float = 600.0, passphrase_delay: float = 2.0,
          central_dsn: str | None = None, public_origin: str | None = None, tls_cert: str | None = None,
          tls_key: str | None = None, out=sys.stdout) -> None:
    """Serve the desk for one vault folder or the central store (exactly one) until interrupted or
    until its one session ended (then it says so and returns); prints ``review: open URL`` first. ``public_origin`` (``https://NAME[:PORT]``, behind a
    TLS-terminating proxy) and ``tls_cert``/``tls_key`` (TLS served here): see :mod:`facesel.review.reach`."""
    import asyncio

    import uvicorn

    from facesel.review.app import build_app
    from facesel.review.connections import ACCEPT_BATCH, BoundedH11Protocol
    from facesel.review.reach import (bind_address, check_reach, check_tls_files, parse_public_origin,
                                      reach_for)
    from facesel.review.sources import CentralSource, VaultSource
    from facesel.vault.keys import Keystore

    check_host(host, allow_remote)
    host = bind_address(host)  # never "localhost" in the start link: ::1 may be another account's
    check_settings(float(idle_seconds), float(passphrase_delay))
    public = None if public_origin is None else parse_public_origin(public_origin)
    check_tls_files(tls_cert, tls_key)
    tls = tls_cert is not None
    warning = check_reach(host, public, tls)
    if (vault_dir is None) == (central_dsn is None):
        raise ValueError("give exactly one of --vault DIR or --central DSN")
    keystore = Keystore(keystore_dir)
    source = VaultSource(Path(vault_dir), keystore) if vault_dir is not None else CentralSource(central_dsn, keystore)
    state = DeskState(source, Path(keystore_dir), idle_seconds=idle_seconds, passphrase_delay=passphrase_delay)
    sock = bind(host, port)
    port = sock.getsockname()[1]
    reach = reach_for(host, port, public, tls)
    server = None

    def ended(why: str) -> None:
        print(f"review: the session ended ({why}); the desk has stopped, as its one-time link is used: "
              "start facesel review again for a new session", file=out, flush=True)
        server.should_exit = True

    app = build_app(state, set(reach.hosts), set(reach.origins), secure_cookie=reach.secure, on_ended=ended)
    raise_descriptor_limit()
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, date_header=False,
                            lifespan="on", http=BoundedH11Protocol, backlog=ACCEPT_BATCH,
                            ssl_certfile=tls_cert, ssl_keyfile=tls_key)
    config.load()
    if config.ssl is not None:  # whatever the uvicorn version's default, never below TLS 1.2
        config.ssl.minimum_version = max(config.ssl.minimum_version, ssl.TLSVersion.TLSv1_2)
    shown = f"[{host}]" if ":" in host else host
    behind = f"; listening on {shown}:{port}" if public is not None else ""
    if warning:
        print(warning, file=sys.stderr, flush=True)
    print(f"review: open {reach.base}/start?token={state.start_token}  (one-time link; the session ends "
          f"after {idle_seconds:.0f} s idle or on 'End session'{behind})", file=out, flush=True)
    server = uvicorn.Server(config)
    asyncio.run(server.serve(sockets=[sock]))
