"""A Ray task lost with its worker is judged by the folder it sealed into (review round 16a, finding 2).

Round 14b's open item: on a Ray cluster the driver could not see the folder a task had sealed into
on its node, so a task lost with its worker (SIGKILL here, as the OOM killer sends) was run again
whatever it had sealed, and the first folder, records and all, was named by no outcome. A local
Ray did the same (the folder was named inside the worker). Now the driver names each task's
folder, and a lost task is judged by what the nodes find there.

Real Ray (a started cluster of a head and a worker node, each its own process; and a local Ray),
real videos, real vaults. The store is a socket that takes connections and never answers, so each
task, its records sealed, waits in the store's connection timeout: the moment to kill it.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
from facesel.central.batch import VideoTask, run_batch
from facesel.vault.keys import AuthorityPublic

VIDEO = "intel_face_demographics_walking.gif"


def _run_video_workers(mark: str) -> list[int]:
    """Pids of the Ray workers running a batch task whose environment holds ``mark`` (so no other
    Ray on this machine is touched)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes()
            if b"ray::" not in title or b"run_video" not in title:
                continue
            if f"FACESEL_TEST_MARK={mark}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@pytest.mark.slow
@pytest.mark.parametrize("where", ["cluster", "local"])
def test_a_lost_ray_task_holding_records_is_reported_not_run_again(authority, cameras, tmp_path, shared_data,
                                                                  monkeypatch, where):
    pytest.importorskip("ray")
    from ray_cluster import RayCluster

    mark = uuid.uuid4().hex
    monkeypatch.setenv("FACESEL_TEST_MARK", mark)  # a local Ray's workers inherit it; the cluster's get it below
    cameras("archive")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes each connection; nothing ever answers it
    dsn = f"host=127.0.0.1 port={silent.getsockname()[1]} dbname=evidence"
    spool = tmp_path / "spool"
    pub = AuthorityPublic.load(cameras.pub_path).to_dict()
    video = str(shared_data / "videos" / VIDEO)
    # one task seals records within 12 frames; one frame confirms no track, so the other seals none
    tasks = [VideoTask(video, str(cameras.key_dir("archive")), dsn, pub, str(spool), max_frames=12),
             VideoTask(video, str(cameras.key_dir("archive")), dsn, pub, str(spool), max_frames=1)]
    cluster, address = None, "local"
    if where == "cluster":
        cluster = RayCluster(workers=1, cpus=2, head_cpus=0, env={"FACESEL_TEST_MARK": mark}).start()
        for key, value in cluster.driver_env.items():
            monkeypatch.setenv(key, value)
        address = cluster.address
    result: dict = {}

    def batch() -> None:
        try:
            result["outcomes"] = run_batch(tasks, workers=2, ray_address=address)
        except BaseException as err:  # noqa: BLE001 - reported below
            result["raised"] = err

    thread = threading.Thread(target=batch)
    try:
        thread.start()
        deadline = time.monotonic() + 180

        def folders() -> list[Path]:
            return list(spool.iterdir()) if spool.exists() else []

        # both tasks have their vault, and one has sealed: each then waits on the silent store
        while not (len(folders()) >= 2 and any(any((f / "records").glob("*.fsr")) for f in folders())):
            assert thread.is_alive() and time.monotonic() < deadline, f"the tasks never sealed: {result}"
            time.sleep(0.05)
        first = {str(f) for f in folders()}
        workers = _run_video_workers(mark)
        assert len(workers) == 2, workers
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        thread.join(timeout=240)
        assert not thread.is_alive()
    finally:
        if cluster is not None:
            cluster.stop()
        silent.close()
    assert "raised" not in result, f"run_batch raised {result.get('raised')!r}"
    sealed, empty = result["outcomes"]
    with_records = {str(p) for p in spool.iterdir() if any((p / "records").glob("*.fsr"))}
    # main: the lost task was run again, its first folder (records and all) named by no outcome
    assert sealed.queued_in in first and sealed.attempts == 1, sealed
    assert "worker lost" in sealed.error and "sealed record(s)" in sealed.error
    assert with_records == {o.queued_in for o in (sealed, empty) if o.queued_in}  # every such folder named
    assert empty.attempts == 2 and empty.queued_in is None  # lost with nothing sealed: run again
