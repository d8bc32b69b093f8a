"""Archive throughput of ``facesel batch`` against the number of workers: process pool and Ray.

    nice -n 10 python benchmarks/central_batch.py                       # 1 and 2 workers, 2 GIFs x 2
    python benchmarks/central_batch.py --workers 1 2 4 --copies 4 --ray
    python benchmarks/central_batch.py --workers 1 2 --copies 4 --cluster   # a started Ray cluster

Each configuration runs the real pipeline (default detector and scorer) over the two Intel GIFs
of the shared data, each listed ``--copies`` times (tasks of a few seconds, so that a worker pool
has something to share), sealing into a fresh database on a throwaway PostgreSQL server.
Reported: wall time, frames per second, records stored, and the speed-up over 1 worker. The
start-up of each worker (model loading; Ray's own start) is included, as a user sees it. Not a
test: nothing is asserted. ``--cluster`` runs each worker count on a Ray cluster started as a
user starts one (``ray start --head``, then that many worker nodes of one CPU each joining it:
``tests/ray_cluster.py``); its start and stop are not in the wall time, the drivers' connection is.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from facesel.central.batch import VideoTask, run_batch
from facesel.central.pg_backend import PostgresVault
from facesel.central.pg_local import LocalPostgres
from facesel.data import data_root
from facesel.vault.authority import create_authority, enrol_camera
from facesel.vault.keys import AuthorityPublic

VIDEOS = ("intel_face_demographics_walking.gif", "intel_head_pose_female.gif")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--copies", type=int, default=2, help="times each video is listed")
    parser.add_argument("--ray", action="store_true", help="also run each worker count on a local Ray")
    parser.add_argument("--cluster", action="store_true",
                        help="also run each worker count on a started Ray cluster of that many worker nodes")
    args = parser.parse_args()
    root = data_root()
    if root is None:
        sys.exit("real face data not found: set FACESEL_DATA")
    videos = [str(root / "videos" / name) for name in VIDEOS] * args.copies
    configs = [(None, w) for w in args.workers] + ([("local", w) for w in args.workers] if args.ray else [])
    configs += [("cluster", w) for w in args.workers] if args.cluster else []
    with tempfile.TemporaryDirectory() as tmp:
        authority_dir, camera_dir = Path(tmp) / "authority", Path(tmp) / "archive-camera"
        create_authority(authority_dir, 3, 2, 86400.0, 30 * 86400.0, 10 * 86400.0, time.time() - 86400.0, None,
                         kdf_level="min")
        shares = sorted((authority_dir / "shares").glob("share-*.json"))[:2]
        camera = enrol_camera(authority_dir, camera_dir, "archive", shares)
        pub = AuthorityPublic.load(authority_dir / "authority.pub")  # registers the archive camera
        server = LocalPostgres().start()
        try:
            print(f"{'runner':>6} {'workers':>7} {'videos':>6} {'frames':>6} {'records':>7} {'wall s':>7} "
                  f"{'frames/s':>8} {'speed-up':>8}")
            base = {}
            for ray_address, workers in configs:
                runner = {None: "pool", "local": "ray", "cluster": "cluster"}[ray_address]
                dsn = server.create_database(f"batch_{runner}_{workers}")
                with PostgresVault.create(dsn, pub) as store:
                    store.register_camera(camera.camera_id, camera.public.public_key)
                tasks = [VideoTask(v, str(camera_dir), dsn, pub.to_dict(), str(Path(tmp) / f"spool-{runner}-{workers}"))
                         for v in videos]
                cluster = None
                if ray_address == "cluster":
                    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
                    from ray_cluster import RayCluster

                    cluster = RayCluster(workers=workers, cpus=1).start()
                    saved = {key: os.environ.get(key) for key in cluster.driver_env}
                    os.environ.update(cluster.driver_env)
                    ray_address = cluster.address
                try:
                    started = time.perf_counter()
                    outcomes = run_batch(tasks, workers=workers, ray_address=ray_address)
                    wall = time.perf_counter() - started
                finally:
                    if cluster is not None:
                        cluster.stop()
                        for key, value in saved.items():
                            if value is None:
                                os.environ.pop(key, None)
                            else:
                                os.environ[key] = value
                frames = sum(o.frames for o in outcomes)
                base.setdefault(runner, wall if workers == min(args.workers) else None)
                speedup = base[runner] / wall if base[runner] else float("nan")
                print(f"{runner:>6} {workers:>7} {len(videos):>6} {frames:>6} {sum(o.stored for o in outcomes):>7} "
                      f"{wall:>7.1f} {frames / wall:>8.2f} {speedup:>8.2f}", flush=True)
        finally:
            server.destroy()


if __name__ == "__main__":
    main()
