"""A Ray cluster is given no store password (review round 14b, finding 3).

``facesel batch --ray ADDRESS`` put the connection string of ``$FACESEL_CENTRAL`` into every
task, password and all: Ray carries a task's arguments to the cluster's head and on to its nodes
(gRPC, in clear unless the cluster runs with TLS) and keeps them in the head's task table. Now a
cluster is refused such a task before Ray is contacted; the password belongs in a passfile on
each node, where the camera key already is. A listener stands for the cluster's head and counts
connections: on main, the driver connected to it (and Ray kept trying for minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from network_attacker import Listener

SECRET = "Hunter2Sesame"

CHILD = """
import json, sys
from facesel.central.batch import VideoTask, run_batch
dsn, address = sys.argv[1], sys.argv[2]
task = VideoTask("/nonexistent.mp4", "/nonexistent-camera", dsn, {}, "/nonexistent-spool")
try:
    run_batch([task], ray_address=address)
except ValueError as err:
    print(json.dumps({"refused": str(err)}))
"""


def _run(dsn: str, address: str, tmp_path) -> subprocess.CompletedProcess | None:
    # no token of the operator's own Ray, and no RAY_AUTH_MODE=token that a local Ray of an
    # earlier test left in this process's environment (the driver then stops before connecting)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "FACESEL_CENTRAL", "RAY_AUTH"))}
    env["HOME"] = str(tmp_path)
    process = subprocess.Popen([sys.executable, "-c", CHILD, dsn, address], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:  # main: Ray was still trying to reach the "head"
        process.kill()
        process.communicate()
        return None
    return subprocess.CompletedProcess([], process.returncode, out, err)


def _head() -> Listener:
    """The cluster's head: on every address, as Ray turns 127.0.0.1 into this machine's own
    address before it connects."""
    return Listener("0.0.0.0", lambda conn: conn.recv(4096))


def test_a_password_in_the_connection_string_is_not_sent_to_a_ray_cluster(tmp_path):
    pytest.importorskip("ray")
    head = _head()
    try:
        done = _run(f"postgresql://cam:{SECRET}@central.example/evidence", f"127.0.0.1:{head.port}", tmp_path)
    finally:
        head.close()
    assert done is not None, f"run_batch went on to the cluster for 20 s ({head.connections} connection(s) to its head)"
    assert done.returncode == 0, done.stderr[-2000:]
    refused = json.loads(done.stdout.strip().splitlines()[-1])["refused"]
    assert "holds a password" in refused and "passfile" in refused and SECRET not in refused
    assert head.connections == 0


@pytest.mark.slow
def test_a_connection_string_without_a_password_goes_to_the_cluster(tmp_path):
    """The refusal is of the password only: a passfile's string is handed on as before (and the
    listener does see a driver that goes on, so the 0 above is no listener that sees nothing)."""
    pytest.importorskip("ray")
    head = _head()
    try:
        done = _run("host=central.example dbname=evidence user=cam passfile=/etc/facesel/pgpass",
                    f"127.0.0.1:{head.port}", tmp_path)
    finally:
        head.close()
    assert done is None or "refused" not in done.stdout
    assert head.connections >= 1  # the driver went to the "head" (which never answers as Ray)
