"""A real Ray cluster on localhost, started as a user starts one: ``ray start --head`` and a second
``ray start --address=...`` joining it as a worker node, each a process of its own.

Each is run with ``--block`` in a new process group, so that stopping it (SIGTERM to that group,
by its id) takes down exactly the Ray processes it started; never ``ray stop``, which would end
every Ray on the machine. The nodes inherit ``env`` (e.g. ``PYTHONPATH`` for facesel).

Authentication: ``ray.init()`` of a local Ray sets ``RAY_AUTH_MODE=token`` in its process's
environment (Ray 2.60), and Ray reads a token from ``~/.ray/auth_token`` when there is one (a
token left by another Ray on this machine made a joining node fail with ``InvalidAuthToken``).
This cluster listens on localhost only and says so: ``RAY_AUTH_MODE=disabled`` and a home folder
of its own (:attr:`RayCluster.home`) for every node; the driver needs both too
(:attr:`RayCluster.driver_env`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from facesel.ports import unclaimed_port


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class RayCluster:
    """``start()`` a head node and ``workers`` worker nodes of ``cpus`` CPUs each; ``stop()``."""

    def __init__(self, workers: int = 1, cpus: int = 1, head_cpus: int = 0, env: dict | None = None):
        self.workers, self.cpus, self.head_cpus = int(workers), int(cpus), int(head_cpus)
        self.env = {**os.environ, **(env or {})}
        self.port = unclaimed_port()
        self.folder = Path(tempfile.mkdtemp(prefix="facesel-ray-"))
        self.home = self.folder / "home"
        self.home.mkdir()
        self.env["HOME"] = str(self.home)
        self.env["RAY_AUTH_MODE"] = "disabled"
        self.processes: list[subprocess.Popen] = []

    @property
    def driver_env(self) -> dict:
        """Environment variables a driver connecting to this cluster must have."""
        return {"HOME": str(self.home), "RAY_AUTH_MODE": "disabled"}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _ray(self, *args) -> subprocess.Popen:
        ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
        with (self.folder / f"node{len(self.processes)}.log").open("w") as log:  # the child keeps its own copy
            process = subprocess.Popen([ray, "start", "--block", *args], stdout=log, stderr=subprocess.STDOUT,
                                       env=self.env, start_new_session=True)
        self.processes.append(process)
        return process

    def start(self, timeout: float = 120.0) -> RayCluster:
        """Start the nodes and wait until all have joined. A start that fails stops whatever it had
        started before raising (a loaded machine can time a worker node out: its daemons and the
        head's stayed behind, and no caller held the object to stop them)."""
        # No dashboard, no usage reporting; the head holds head_cpus CPUs (0: it schedules no task).
        self.env.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            self._ray("--head", f"--port={self.port}", "--node-ip-address=127.0.0.1",
                      f"--num-cpus={self.head_cpus}", "--include-dashboard=false", f"--temp-dir={self.folder / 'tmp'}",
                      "--disable-usage-stats")
            self._wait_port(timeout)
            # One worker node at a time, each joined before the next starts: two `ray start`s on one
            # host at once race for its node's files and ports, and one times out in its start-up
            # ("The current node timed out during startup"; seen on a quiet machine, session 14).
            for joined in range(self.workers):
                self._ray(f"--address={self.address}", "--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}")
                self._wait_nodes(2 + joined, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_port(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[0].poll() is not None:
                raise RuntimeError(f"ray head exited: {self.log()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"ray head did not listen within {timeout:.0f} s: {self.log()}")

    def _wait_nodes(self, count: int, timeout: float) -> None:
        ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = subprocess.run([ray, "status", f"--address={self.address}"], capture_output=True, text=True,
                                    env=self.env)
            active = status.stdout.split("Pending:")[0].count("node_")
            if status.returncode == 0 and active >= count:
                return
            time.sleep(1.0)
        raise RuntimeError(f"{count} ray nodes were not up within {timeout:.0f} s: {self.log()}")

    def log(self) -> str:
        return "\n".join(p.read_text()[-1500:] for p in sorted(self.folder.glob("node*.log")))

    def stop(self) -> None:
        """SIGTERM every node's process group, then SIGKILL what is left of each after 60 s. A group
        is signalled even when its ``ray start`` has already exited: the daemons it started (a
        raylet, its agents) live on in the group."""
        for process in reversed(self.processes):
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        for process in reversed(self.processes):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            while _group_alive(process.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            _signal_group(process.pid, signal.SIGKILL)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> RayCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
