"""``facesel.ports.unclaimed_port``: a port nothing listens on, outside the kernel's ephemeral range
and outside the ranges the servers the tests start claim for themselves."""

from __future__ import annotations

import socket

from facesel.ports import ephemeral_range, unclaimed_port

RAY_WORKER_PORTS = range(10002, 20000)
"""Ray's default ``--min-worker-port`` .. ``--max-worker-port``: a Ray head given a port in it refuses
to start (session 18's CI failed on port 10707)."""


def test_unclaimed_ports_avoid_the_ephemeral_range_and_rays_worker_ports():
    low, high = ephemeral_range()
    ports = [unclaimed_port() for _ in range(300)]
    assert not [p for p in ports if low <= p <= high]
    assert not [p for p in ports if p in RAY_WORKER_PORTS]
    assert len(set(ports)) > 1  # drawn, not one fixed port


def test_an_unclaimed_port_can_be_bound():
    port = unclaimed_port()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
