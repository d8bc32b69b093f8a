"""Review 4, finding 11 (low): ``facesel review --central`` took the store's DSN, password and all,
on the command line only, where every local account reads it (``ps``, ``/proc/PID/cmdline``) for
as long as the desk runs; ``facesel central`` and ``facesel sync`` already read ``FACESEL_CENTRAL``.
Now ``--central`` without a value reads it from there. A real desk process on a real PostgreSQL
store (the tests' server trusts local connections, so the DSN itself stands in for a secret).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from facesel.central.pg_backend import PostgresVault
from review_common import FACESEL_HOME


def test_the_desk_takes_the_central_dsn_from_the_environment(tmp_path, authority, central_dsn):
    pub, adir = authority
    PostgresVault.create(central_dsn, pub).close()
    env = {**os.environ, "FACESEL_CENTRAL": central_dsn,
           "PYTHONPATH": os.pathsep.join([str(FACESEL_HOME), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "facesel", "review", "--central", "--keystore",
                                str(adir / "keystore")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    try:
        line = process.stdout.readline()
        assert re.search(r"http://\S+/start\?token=\S+", line), (line, process.stderr.read() if process.poll() else "")
        with open(f"/proc/{process.pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
        assert not any(b"dbname=" in arg or b"host=" in arg for arg in argv), argv
    finally:
        process.terminate()
        process.communicate(timeout=30)
    unset = {k: v for k, v in env.items() if k != "FACESEL_CENTRAL"}
    done = subprocess.run([sys.executable, "-m", "facesel", "review", "--central", "--keystore", str(adir / "keystore")],
                          capture_output=True, text=True, env=unset, timeout=120)
    assert done.returncode == 1 and "FACESEL_CENTRAL" in done.stderr and "Traceback" not in done.stderr
