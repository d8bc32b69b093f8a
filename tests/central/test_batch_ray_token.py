"""``facesel batch --ray local`` leaves its Ray's token in no file other accounts may read
(review round 14b, finding 1), and its session's sockets and logs in no folder they may change
(finding 2).

A local ``ray.init()`` (Ray 2.60) writes a new token to ``~/.ray/auth_token`` under the umask:
0644 in a 0755 folder. Its GCS listens on every address, and a driver holding that token runs
code as the operator (shown in docs/review.md: an owner-only file read by a driver of another
home folder given only the token file's contents). The batch runs in a child process with a
home folder, umask and ``TMPDIR`` of its own (Ray puts its session under ``$TMPDIR/ray``, mode
0777 without the sticky bit: another account renamed the raylet's socket and read the workers'
logs, shown as uid 65534 in docs/review.md), on one video that is no video: the task runs on
Ray (its error comes back) without any store being reached.
"""

from __future__ import annotations

import os
import stat

import pytest
from local_ray_child import run_child

CHILD = """
import json, os, stat, sys
from pathlib import Path
from facesel.central.batch import VideoTask, run_batch
args = json.loads(sys.argv[1])
os.umask(0o022)
temp = Path(os.environ["TMPDIR"])
changeable = []

def others_may_change(folder):
    # writable by every account without the sticky bit, and every folder above it (below
    # $TMPDIR, which is as /tmp) one that every account may enter
    mode = folder.stat().st_mode
    if not mode & stat.S_IWOTH or mode & stat.S_ISVTX:
        return False
    return all(p.stat().st_mode & stat.S_IXOTH for p in folder.parents if p != temp and temp in p.parents)

def look(done, total, outcome):  # called while the local Ray still runs
    changeable.extend(str(p.relative_to(temp)) for p in temp.rglob("*")
                      if p.is_dir() and not p.is_symlink() and others_may_change(p))

task = VideoTask(args["video"], args["camera"], "postgresql:///not-reached", args["authority"], args["spool"])
(outcome,) = run_batch([task], workers=1, ray_address="local", progress=look)
print(json.dumps({"error": outcome.error, "token_left_in_env": "RAY_AUTH_TOKEN" in os.environ,
                  "changeable": changeable}))
"""

@pytest.mark.slow
def test_a_local_ray_leaves_nothing_other_accounts_may_read_or_change(authority, cameras, tmp_path):
    pytest.importorskip("ray")
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)  # an ordinary home folder that other accounts may enter
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env["HOME"] = str(home)
    # short: Ray's sockets lie ~80 bytes below $TMPDIR, and a socket's path is at most 107; 1777 as /tmp
    result = run_child(CHILD, cameras, tmp_path, env, prefix="a24-", temp_mode=0o1777)
    assert not result["token_left_in_env"]  # put back as it was found
    readable = [f"{p.relative_to(home)} ({stat.filemode(p.stat().st_mode)})" for p in home.rglob("*")
                if p.is_file() and p.stat().st_mode & 0o044]
    assert readable == [], f"files under the home folder that other accounts may read: {readable}"
    assert result["changeable"] == [], "folders of the running Ray under $TMPDIR that other accounts may change"
