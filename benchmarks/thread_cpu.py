"""Where a process's CPU goes, thread by thread, and how long its threads wait for the GIL.

Used by ``benchmarks/capacity.py --threads`` (issue 27): the serve process used 1.7-1.8 of 2 cores
while it dropped 20-85 % of its frames, so something serialised it. Two measurements, both of
the process itself, taken over the same window as the capacity figures:

- :class:`ThreadSampler`: CPU seconds of every OS thread (``/proc/self/task/*/stat``, user +
  system), named by the Python thread that runs on it (``threading.enumerate()``'s ``native_id``)
  with the camera's name taken out (``source:/path/a.mp4`` -> ``source``), or ``native:COMM`` for
  threads Python did not start (ONNX Runtime's pool, FFmpeg's). Sampled every ``period`` seconds,
  because a camera's pipeline threads end and start again at every gap in its stream (a looping
  file: every pass), and a thread that has ended can no longer be read; what the samples miss
  (an ended thread's last period) is reported as ``unattributed``, the process's own total
  (``getrusage``) less the threads' sum. Summed by role, as cores (CPU seconds per second).
- :class:`GILProbe`: a thread that asks for a 1 ms sleep over and over; each wake-up must take the
  GIL back before the next ``time.monotonic()`` runs, so the time beyond the asked 1 ms is, up to
  the scheduler's own latency (about 0.1 ms on an idle core), time spent waiting for another thread
  to let the GIL go. Its mean and p99 are the GIL's contention as any thread that comes back from
  C code sees it. On a shared machine the OS's own scheduling delay is in it too: :func:`outside_probe`
  runs the same probe in a process of its own (its own GIL) over the same window, the baseline.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def snapshot() -> dict[int, tuple[str, float]]:
    """``{tid: (role, cpu_seconds)}`` of every thread of this process now."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        tid = int(task.name)
        name = names.get(tid)
        out[tid] = (role(name) if name is not None else f"native:{_strip_digits(comm)}",
                    (int(fields[11]) + int(fields[12])) / _TICK)
    return out


def role(thread_name: str) -> str:
    """The role of a Python thread's name: the part before a camera's name or a pool's index
    (``camera:cam0`` -> ``camera``, ``facesel-detect-ahead_0`` -> ``facesel-detect-ahead``)."""
    head = thread_name.split(":", 1)[0]
    return _strip_digits(head)


def _strip_digits(name: str) -> str:
    return re.sub(r"[-_ ]?\d+$", "", name) or name


def _process_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ThreadSampler:
    """Per-thread CPU over a window, sampled every ``period`` seconds (see the module docstring)."""

    def __init__(self, period: float = 0.2):
        self.period = float(period)
        self._first: dict[int, float] = {}
        self._last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="thread-sampler", daemon=True)

    def start(self) -> ThreadSampler:
        self._t0, self._cpu0 = time.monotonic(), _process_cpu()
        self._first = {tid: cpu for tid, (_, cpu) in snapshot().items()}
        self._thread.start()
        return self

    def _sample(self) -> None:
        for tid, entry in snapshot().items():
            self._first.setdefault(tid, 0.0)  # started in the window: counted from 0
            self._last[tid] = entry

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self._sample()

    def stop(self) -> dict[str, dict]:
        """``{role: {"cores", "threads"}}`` over the window, largest first, and ``unattributed``."""
        self._stop.set()
        self._thread.join(1.0)
        self._sample()
        seconds, total = time.monotonic() - self._t0, _process_cpu() - self._cpu0
        sums: dict[str, list] = {}
        for tid, (name, cpu) in self._last.items():
            entry = sums.setdefault(name, [0.0, 0])
            entry[0] += cpu - self._first[tid]
            entry[1] += 1
        attributed = sum(cpu for cpu, _ in sums.values())
        sums["unattributed"] = [max(0.0, total - attributed), 0]
        ordered = sorted(sums.items(), key=lambda item: -item[1][0])
        return {name: {"cores": round(cpu / seconds, 3), "threads": count} for name, (cpu, count) in ordered}


class GILProbe:
    """A daemon thread measuring how late a 1 ms sleep comes back (see the module docstring)."""

    def __init__(self, interval: float = 0.001):
        self.interval = float(interval)
        self._late: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gil-probe", daemon=True)

    def start(self) -> GILProbe:
        self._thread.start()
        return self

    def reset(self) -> None:
        self._late = []

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            time.sleep(self.interval)
            self._late.append(time.monotonic() - t0 - self.interval)

    def stop(self) -> dict:
        """``{"wakeups", "late_mean_ms", "late_p99_ms"}`` since the last :meth:`reset`."""
        self._stop.set()
        self._thread.join(1.0)
        late = sorted(self._late)
        if not late:
            return {"wakeups": 0, "late_mean_ms": None, "late_p99_ms": None}
        return {"wakeups": len(late), "late_mean_ms": round(1000 * sum(late) / len(late), 3),
                "late_p99_ms": round(1000 * late[int(0.99 * (len(late) - 1))], 3)}


_OUTSIDE = """
import json, sys, threading, time
sys.path.insert(0, {folder!r})
from thread_cpu import GILProbe
probe = GILProbe().start()
time.sleep({seconds!r})
print(json.dumps(probe.stop()))
"""


def outside_probe(seconds: float):
    """A child process running :class:`GILProbe` alone for ``seconds``; ``.communicate()[0]`` is its
    JSON result (the baseline of the in-process probe: the OS's scheduling delay without our GIL)."""
    import subprocess
    import sys

    script = _OUTSIDE.format(folder=str(Path(__file__).resolve().parent), seconds=float(seconds))
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
