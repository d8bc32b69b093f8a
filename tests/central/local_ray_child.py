"""Runs ``facesel batch --ray local``'s batch in a child process for the local-Ray tests (no tests
here): one file that is no video, so the task runs on the local Ray and its error comes back
without any store being reached (review rounds 14b and 15a)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

from facesel.vault.keys import AuthorityPublic


def run_child(child: str, cameras, tmp_path, env: dict[str, str], prefix: str, temp_mode: int | None = None) -> dict:
    """Run the Python source ``child`` (given ``{"video", "camera", "spool", "authority"}`` as JSON in
    ``sys.argv[1]``; its last stdout line a JSON object with ``error``) under ``env`` and a fresh short
    ``TMPDIR`` in /tmp named ``prefix...`` (Ray's socket paths are at most 107 bytes; ``temp_mode``:
    its mode, e.g. 0o1777 as /tmp), removed after. Returns the child's JSON, once checked that the
    child exited 0 and the task's error names the video (it ran and came back)."""
    cameras("archive")
    broken = tmp_path / "not-a-video.mp4"
    broken.write_bytes(b"not a video at all")
    env = dict(env)
    env["TMPDIR"] = temp = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    if temp_mode is not None:
        os.chmod(temp, temp_mode)
    args = {"video": str(broken), "camera": str(cameras.key_dir("archive")), "spool": str(tmp_path / "spool"),
            "authority": AuthorityPublic.load(cameras.pub_path).to_dict()}
    try:
        done = subprocess.run([sys.executable, "-c", child, json.dumps(args)], env=env, capture_output=True,
                              text=True, timeout=300)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["error"] and "video" in result["error"]  # the task ran on the local Ray and came back
    return result
