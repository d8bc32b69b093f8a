"""``facesel batch --ray local`` starts a Ray that listens on loopback only (review round 15a,
finding 3).

A local ``ray.init()`` on Linux (Ray 2.60) made its GCS, raylet and workers listen on every
address (``ss -ltn``: ``*:PORT``): any machine on the network reached them, with round 14b's token
as the only guard. The batch runs in a child process that imported Ray before the batch (as a
program using Ray for something else would), on one file that is no video: the task runs on Ray
and its error comes back, no store reached. While the Ray runs (the progress callback), the
listening sockets of the child and every process under it are read with ``ss -ltnp``.
"""

from __future__ import annotations

import os
import shutil

import pytest
from local_ray_child import run_child

CHILD = """
import ipaddress, json, os, re, subprocess, sys
import ray  # imported first: Ray's constants are read at import
from facesel.central.batch import VideoTask, run_batch
args = json.loads(sys.argv[1])
sockets = []

def ours():
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    tree, grew = {os.getpid()}, True
    while grew:
        more = {pid for pid, up in parent.items() if up in tree} - tree
        tree |= more
        grew = bool(more)
    return tree

def look(done, total, outcome):  # called while the local Ray still runs
    tree = ours()
    for line in subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout.splitlines():
        pids = {int(p) for p in re.findall(r"pid=(\\d+)", line)}
        if pids & tree:
            sockets.append(line.split()[3])

task = VideoTask(args["video"], args["camera"], "postgresql:///not-reached", args["authority"], args["spool"])
(outcome,) = run_batch([task], workers=1, ray_address="local", progress=look)
print(json.dumps({"error": outcome.error, "sockets": sockets,
                  "switch_left": os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"),
                  "constant_left": ray._private.ray_constants.ENABLE_RAY_CLUSTER}))
"""


def _loopback(address: str) -> bool:
    import ipaddress

    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "*":
        return False
    ip = ipaddress.ip_address(host)
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback


def test_a_local_ray_listens_on_loopback_only(authority, cameras, tmp_path):
    pytest.importorskip("ray")
    if shutil.which("ss") is None:
        pytest.skip("no ss (iproute2) on this machine to list listening sockets")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"}
    result = run_child(CHILD, cameras, tmp_path, env, prefix="h25-")
    assert len(result["sockets"]) >= 3, result  # GCS, raylet, driver at least: the count is of Ray's sockets
    outward = [a for a in result["sockets"] if not _loopback(a)]
    assert outward == [], f"the local Ray listened beyond loopback: {outward} of {result['sockets']}"
    assert result["switch_left"] is None and result["constant_left"] is True  # put back as found
