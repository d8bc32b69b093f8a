"""``facesel batch --ray local`` leaves its Ray's token in no file other accounts may read
(review round 14b, finding 1).

A local ``ray.init()`` (Ray 2.60) writes a new token to ``~/.ray/auth_token`` under the umask:
0644 in a 0755 folder. Its GCS listens on every address, and a driver holding that token runs
code as the operator (shown in docs/review.md: an owner-only file read by a driver of another
home folder given only the token file's contents). The batch runs in a child process with a
home folder and umask of its own, as an operator's shell would give it, on one video that is
no video: the task runs on Ray (its error comes back) without any store being reached.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from facesel.vault.keys import AuthorityPublic

CHILD = """
import json, os, sys
from facesel.central.batch import VideoTask, run_batch
args = json.loads(sys.argv[1])
os.umask(0o022)
task = VideoTask(args["video"], args["camera"], "postgresql:///not-reached", args["authority"], args["spool"])
(outcome,) = run_batch([task], workers=1, ray_address="local")
print(json.dumps({"error": outcome.error, "token_left_in_env": "RAY_AUTH_TOKEN" in os.environ}))
"""


@pytest.mark.slow
def test_a_local_ray_leaves_its_token_in_no_file_others_may_read(authority, cameras, tmp_path):
    pytest.importorskip("ray")
    cameras("archive")
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)  # an ordinary home folder that other accounts may enter
    broken = tmp_path / "not-a-video.mp4"
    broken.write_bytes(b"not a video at all")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env["HOME"] = str(home)
    args = {"video": str(broken), "camera": str(cameras.key_dir("archive")), "spool": str(tmp_path / "spool"),
            "authority": AuthorityPublic.load(cameras.pub_path).to_dict()}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["error"] and "video" in result["error"]  # the task ran on the local Ray and came back
    assert not result["token_left_in_env"]  # put back as it was found
    readable = [f"{p.relative_to(home)} ({stat.filemode(p.stat().st_mode)})" for p in home.rglob("*")
                if p.is_file() and p.stat().st_mode & 0o044]
    assert readable == [], f"files under the home folder that other accounts may read: {readable}"
