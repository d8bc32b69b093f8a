"""Openings of one user racing on the registry of staging folders (docs/review.md, "The
unexplained vault failure (session 19, flaky19)").

PROCS processes share one registry (a private ``XDG_STATE_HOME``) and each does ROUNDS rounds of
what an opening does: register a staging folder, sweep the registry, put the folder in place and
unregister; every 5th round it also leaves the marker of a "killed" opening (lock released, folder
still there) for the others' sweeps. Prints how many rounds raised, and each distinct error.

Run: ``PYTHONPATH=python python experiments/staging_registry_race.py [ROUNDS=300] [PROCS=4]``
(for the code before the fix, point PYTHONPATH at a copy of ``python/`` from before it).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import sys
import tempfile
from pathlib import Path


def rounds(index: int, count: int, results) -> None:
    from facesel.vault import staging

    errors = []
    base = Path(tempfile.mkdtemp(prefix=f"staging-race-{index}-"))
    for k in range(count):
        try:
            out = base / f"out{k}"
            staging.write_staged(out, lambda folder: (folder / "crop.png").write_bytes(b"stand-in"))
            shutil.rmtree(out)
            if k % 5 == 0:
                killed = base / f".killed{k}.partial-0000abcd"
                killed.mkdir()
                fd, _ = staging._register(killed, base / f"killed{k}")
                os.close(fd)  # what SIGKILL does to the marker's lock
        except Exception as err:  # counted, whatever it is: any error is the finding
            errors.append(f"{type(err).__name__}: {err}")
    shutil.rmtree(base, ignore_errors=True)
    results.put(errors)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    procs = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    state = tempfile.mkdtemp(prefix="staging-race-state-")
    os.environ["XDG_STATE_HOME"] = state
    results = mp.Queue()
    workers = [mp.Process(target=rounds, args=(i, count, results)) for i in range(procs)]
    for worker in workers:
        worker.start()
    errors = sum((results.get() for _ in workers), [])
    for worker in workers:
        worker.join()
    shutil.rmtree(state, ignore_errors=True)
    print(f"{len(errors)} of {count * procs} rounds raised")
    for line in errors[:5]:
        print("  ", line)


if __name__ == "__main__":
    main()
