"""Review 5, finding 2 (medium): a facesel process dumped its memory to disk when it crashed.

The desk holds the decrypted snapshots of an opening (and, while it opens, the holders'
passphrases and the master key); ``serve`` holds frames and crops before they are sealed. Where
core dumps are allowed (``LimitCORE=infinity`` in a unit, ``ulimit -c unlimited`` in a
container's entry point), an ``abort()`` in a native library, a segmentation fault or a
``SIGQUIT`` wrote the whole address space to a core file in the working folder: here, a desk
aborted after an opening left one holding the decrypted crop byte for byte. Every ``facesel``
command, and every process that makes or rebuilds a master key, now sets its core limit to 0.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from review_common import FACESEL_HOME, review_server
from test_review_security import PHRASES, Client, _open_and_view
from test_vault_common import (
    T0,
    FakeClock,
    make_authority,
    orl_faces,
    track_result,
    vault_at,
)


def _cores(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("core"))


def _allow_cores():
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def _wait_gone(process, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return process.poll()


@pytest.fixture
def cores_land_here(tmp_path):
    """A folder where a process started with core dumps allowed leaves its core when it aborts
    (checked with a plain Python child first: skipped where the system sends cores elsewhere)."""
    pattern = Path("/proc/sys/kernel/core_pattern")
    if not pattern.exists() or pattern.read_text().strip().startswith("|") or "/" in pattern.read_text():
        pytest.skip("core dumps go to a collector here (kernel.core_pattern), not to the working folder")
    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        pytest.skip("the hard core size limit is 0 here: no process can dump core")
    control = tmp_path / "control"
    control.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGABRT)"],
                             cwd=control, preexec_fn=_allow_cores)
    assert _wait_gone(child) == -signal.SIGABRT
    if not _cores(control):
        pytest.skip("a process allowed to dump core left no core file in its working folder here")
    folder = tmp_path / "desk-cwd"
    folder.mkdir()
    return folder


def test_an_aborted_desk_leaves_no_core_with_the_opened_snapshot(tmp_path, shared_data, cores_land_here):
    adir = make_authority(tmp_path / "auth", passphrases=PHRASES)[1]
    clock = FakeClock(T0)
    with vault_at(tmp_path / "vault", adir, clock=clock) as vault:
        ids = [vault.seal(track_result(orl_faces(shared_data, 1)[0]))]
    with review_server(tmp_path / "vault", adir / "keystore", core_dir=cores_land_here) as served:
        client = Client(served.url)
        _open_and_view(client, adir, tmp_path / "vault", ids)
        _, crop = client.request("GET", f"/opening/r/{ids[0]}/crop")
        assert crop[:4] == b"\x89PNG"
        limits = Path(f"/proc/{served.process.pid}/limits").read_text()
        served.process.send_signal(signal.SIGABRT)  # what a failed assertion in a native library does
        assert _wait_gone(served.process) == -signal.SIGABRT
    leaked = [core for core in _cores(cores_land_here) if crop in core.read_bytes()]
    assert not leaked, f"the decrypted crop is in {leaked}"  # before: in the desk's core file
    assert _cores(cores_land_here) == []
    core_line = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
    assert core_line.split()[4] == "0", core_line  # the soft limit, as the process set it


def test_every_facesel_command_runs_with_core_dumps_off(tmp_path):
    """The command line turns core dumps off before it parses anything (``serve``, ``run`` and the
    rest hold frames and crops; no master key is needed for the rule to apply)."""
    probe = ("import resource\n"
             "from facesel.cli import main\n"
             "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
             "print('soft', resource.getrlimit(resource.RLIMIT_CORE)[0])\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FACESEL_HOME), os.environ.get("PYTHONPATH", "")])}
    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        pytest.skip("the hard core size limit is 0 here: nothing to turn off")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path,
                          preexec_fn=_allow_cores, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "soft 0"
