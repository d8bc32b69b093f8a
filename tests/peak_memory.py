"""Peak memory of one process alone, for measures taken in a fresh process (tests and benchmarks).

Linux keeps ``ru_maxrss`` (``resource.getrusage``) through fork and exec: a child starts with its
parent's high-water mark, so a measure's growth below the parent's peak (pytest's, a benchmark
driver's) does not show, and "+0 KiB" may hide up to that much. ``VmHWM`` in ``/proc/self/status``
belongs to the address space, which exec replaces: it is the process's own peak.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent


def peak_kib() -> int:
    """This process's peak resident size since its exec (KiB, Linux's ``VmHWM``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status: the peak is read the Linux way only")


def run_fresh(code: str, *args, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -c code args`` in a fresh process, output captured as text.

    ``code`` can ``from peak_memory import peak_kib`` (this folder is added at the end of its
    ``PYTHONPATH``, after the caller's); ``kwargs`` go to ``subprocess.run`` (``timeout``, ``check``).
    """
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(TESTS_DIR)]))
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, capture_output=True, text=True,
                          **kwargs)
