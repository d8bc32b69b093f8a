"""What the records-folder fsync before the ``seal`` entry costs a seal (review 4, finding 10).

    python experiments/seal_fsync_order.py [--rounds 12] [--batch 10]

Not a test. Seals real ORL faces (64x72) into a fresh vault on the machine's temporary folder and
times batches of seals in two orders, alternated in one run: this code's (the folder fsynced
before the seal is logged, not after the rename) and main's before the finding (none before the
log, one after the rename), by replacing ``facesel.vault.store.fsync_dir`` for the second. Both
make one folder flush a seal; the ratio of the medians is what this shows (wall time: a disk
flush is not CPU time; the machine is shared, so only the ratio means anything).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from facesel.data import data_root_or_exit
from facesel.vault import store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_vault_common import T0, FakeClock, make_authority, orl_faces, track_result, vault_at  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--batch", type=int, default=10)
    args = parser.parse_args()
    faces = orl_faces(data_root_or_exit(), 4, size=(64, 72))
    real = store.fsync_dir
    times = {"this code": [], "main's order": []}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        _, adir = make_authority(folder / "auth")
        clock = FakeClock(T0)
        with vault_at(folder / "v", adir, clock=clock, purge_interval=1e9) as vault:
            try:
                for round_ in range(args.rounds):
                    order = list(times) if round_ % 2 == 0 else list(reversed(times))
                    for mode in order:
                        store.fsync_dir = real if mode == "this code" else (lambda directory: None)
                        start = time.perf_counter()
                        for i in range(args.batch):
                            clock.advance(1)
                            vault.seal(track_result(faces[i % len(faces)], track_id=i))
                            if mode == "main's order":
                                real(vault.records_dir)  # main fsynced the folder after the rename
                        times[mode].append((time.perf_counter() - start) / args.batch)
            finally:
                store.fsync_dir = real
    for mode, values in times.items():
        print(f"{mode}: median {statistics.median(values) * 1000:.2f} ms a seal over {len(values)} batches")
    ratio = statistics.median(times["this code"]) / statistics.median(times["main's order"])
    print(f"ratio this code / main's order: {ratio:.3f}")


if __name__ == "__main__":
    main()
