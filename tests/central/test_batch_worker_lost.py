"""A pool worker that dies takes no outcome with it (review round 14b, finding 4).

``facesel batch --workers N``: a worker killed (the kernel's OOM killer, a decoder that crashes
on a hostile file; here SIGKILL, as the OOM killer sends) broke the process pool, and
``run_batch`` raised ``BrokenProcessPool``: no outcome, no summary line, and the vault folders of
the killed tasks named nowhere. Real pool, real videos, real vaults; the store is one that
cannot be reached, so every record stays queued in its folder, where the test counts it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest
from facesel.central.batch import VideoTask, run_batch
from facesel.vault.keys import AuthorityPublic

VIDEOS = ("intel_face_demographics_walking.gif", "intel_head_pose_female.gif")


@pytest.mark.slow
def test_a_killed_pool_worker_is_reported_and_its_video_run_again(authority, cameras, tmp_path, shared_data):
    cameras("archive")
    spool = tmp_path / "spool"
    pub = AuthorityPublic.load(cameras.pub_path).to_dict()
    tasks = [VideoTask(str(shared_data / "videos" / name), str(cameras.key_dir("archive")),
                       "host=/nonexistent dbname=evidence", pub, str(spool), max_frames=12) for name in VIDEOS]
    result: dict = {}

    def batch() -> None:
        try:
            result["outcomes"] = run_batch(tasks, workers=2)
        except BaseException as err:  # noqa: BLE001 - main: BrokenProcessPool, reported below
            result["raised"] = err

    thread = threading.Thread(target=batch)
    thread.start()
    deadline = time.monotonic() + 120
    while not (spool.exists() and len(list(spool.iterdir())) >= 2):  # both tasks have their vault
        assert thread.is_alive() and time.monotonic() < deadline, "the tasks never started"
        time.sleep(0.05)
    workers = multiprocessing.active_children()
    assert workers
    os.kill(workers[0].pid, signal.SIGKILL)
    thread.join(timeout=240)
    assert not thread.is_alive()
    assert "raised" not in result, f"run_batch raised {result.get('raised')!r}"
    outcomes = result["outcomes"]
    assert [o.video for o in outcomes] == [t.video for t in tasks]
    assert any(o.attempts == 2 for o in outcomes)  # a lost task (with nothing sealed) was run again
    with_records = {str(p) for p in spool.iterdir() if any((p / "records").glob("*.fsr"))}
    assert with_records and with_records == {o.queued_in for o in outcomes if o.queued_in}  # none unnamed
