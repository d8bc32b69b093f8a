"""A free port for a server started later by another process (a child that binds it itself, a
server restarted on the same port: the local PostgreSQL of :mod:`facesel.central.pg_local`, the
tests' stream servers) or for a port where nothing must listen.

``bind(("127.0.0.1", 0))`` then close hands out a port from the kernel's ephemeral range, the
range every outgoing connection on the machine also takes its local port from: between the probe's
close and the server's bind (seconds for a child process on a loaded machine, and the whole
down time of a server restarted on the same port) any connection anywhere may take it, and the
server then fails with "address in use" (or a port meant to be closed answers). A port below that
range is never handed out by the kernel: only a process that names it can take it.
"""

from __future__ import annotations

import random
import socket

_FALLBACK_RANGE = (32768, 60999)  # Linux's default ip_local_port_range
_LOWEST = 20000
"""Above the ports system services are usually configured on, and above Ray's default worker ports
(10002-19999, ``ray start --min-worker-port/--max-worker-port``): Ray refuses to start a head whose
port lies in that range (session 18's CI: "worker_ports is trying to use a port number 10707")."""


def ephemeral_range() -> tuple[int, int]:
    """``(low, high)``: the ports the kernel hands out on its own (``ip_local_port_range``)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            low, high = (int(word) for word in ranges.read().split())
        return low, high
    except (OSError, ValueError):
        return _FALLBACK_RANGE


def unclaimed_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that nothing listens on now and that the kernel will not hand to anyone
    (outside :func:`ephemeral_range`); raises RuntimeError when none is found."""
    low, high = ephemeral_range()
    candidates = [*range(_LOWEST, low), *range(high + 1, 65536)]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in random.SystemRandom().sample(candidates, min(200, len(candidates))):
        with socket.socket(family) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue  # in use (or in TIME_WAIT): another
            return port
    raise RuntimeError(f"no free port on {host} outside the ephemeral range {low}-{high}")
