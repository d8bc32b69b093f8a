"""Records per second into the central PostgreSQL store from K cameras forwarding at once.

    nice -n 10 python benchmarks/central_ingest.py                    # K = 1 2 4 8, 60 records each
    python benchmarks/central_ingest.py --cameras 1 8 --records 200 --batch 1 32

A throwaway PostgreSQL server (facesel.central.pg_local, fsync on) is started for the run. Each
of K camera vaults is first filled with real ORL faces, each sealed with a 4-frame clip, like a
snapshot with context (sealing is not timed). Then K processes start at the same moment, each on
its own vault, in one of two modes: ``receive`` hands the record bytes to
``PostgresVault.receive`` (the central store's intake alone), ``sync`` runs ``sync_vault`` end to
end (plus, per record, the local audit entry, index row deletion and file deletion, each
durable: fsync). The rate is all records over the wall time from that moment to the last process
done; the processes' CPU time is reported too (the clients' share of the work). On one machine
all K cameras share one disk, which a real deployment does not: the ``sync`` rate is a floor.
Every configuration gets a fresh database. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from facesel.central.pg_backend import PostgresVault  # noqa: E402
from facesel.central.pg_local import LocalPostgres  # noqa: E402
from facesel.central.sync import sync_vault  # noqa: E402
from facesel.data import data_root  # noqa: E402
from facesel.vault import CameraPublic, Vault  # noqa: E402
from facesel.vault import enrol_camera  # noqa: E402
from test_vault_common import DAY, make_authority, orl_faces, share_paths, track_result  # noqa: E402


def _fill(folder: Path, pub_path: Path, camera_key: Path, count: int, faces) -> int:
    with Vault(folder, pub_path, camera=camera_key) as vault:
        for i in range(count):
            vault.seal(track_result(faces[i % len(faces)], track_id=i, clip=faces[:4]))
        return sum(r.size for r in vault.rows())


def _forward(folder: str, camera_key: str, dsn: str, batch: int, start_at: float, out, mode: str) -> None:
    blobs = [p.read_bytes() for p in sorted((Path(folder) / "records").glob("*.fsr"))]
    with PostgresVault(dsn) as store:
        while time.time() < start_at:
            time.sleep(0.001)
        cpu = time.process_time()
        if mode == "sync":
            stored = sync_vault(folder, store, camera_key, batch_size=batch).stored
        else:  # the central store alone: what PostgreSQL takes in, without the camera's bookkeeping
            stored = sum(a.status == "stored" for i in range(0, len(blobs), batch)
                         for a in store.receive(blobs[i:i + batch]))
        out.put((stored, time.time(), time.process_time() - cpu))


def _camera_key(authority_dir: Path, camera_id: str) -> Path:
    """The key folder of ``camera_id``, enrolled with the authority on first use."""
    key_dir = authority_dir.parent / "camera-keys" / camera_id
    if not (key_dir / "camera.key").is_file():
        enrol_camera(authority_dir, key_dir, camera_id, share_paths(authority_dir)[:2])
    return key_dir


def run(mode: str, cameras: int, records: int, batch: int, server: LocalPostgres, root: Path, pub,
        authority_dir: Path, faces) -> dict:
    dsn = server.create_database(f"ingest_{mode}_k{cameras}_b{batch}")
    keys = [_camera_key(authority_dir, f"bench-{k}") for k in range(cameras)]
    with PostgresVault.create(dsn, pub) as store:
        for key in keys:
            camera = CameraPublic.load(key)
            store.register_camera(camera.camera_id, camera.public_key)
    folders = [root / f"{mode}-k{cameras}-b{batch}-cam{k}" for k in range(cameras)]
    size = sum(_fill(f, authority_dir / "authority.pub", key, records, faces) for f, key in zip(folders, keys))
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3.0  # every process connected and waiting
    procs = [ctx.Process(target=_forward, args=(str(f), str(key), dsn, batch, start_at, out, mode))
             for f, key in zip(folders, keys)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    stored = sum(r[0] for r in results)
    wall = max(r[1] for r in results) - start_at
    return {"mode": mode, "cameras": cameras, "batch": batch, "records": stored, "wall_s": wall,
            "records_per_s": stored / wall,
            "client_cpu_s": sum(r[2] for r in results), "mean_record_kib": size / (cameras * records) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--records", type=int, default=60, help="records per camera")
    parser.add_argument("--batch", type=int, nargs="+", default=[32], help="records per central transaction")
    parser.add_argument("--modes", nargs="+", choices=["receive", "sync"], default=["receive", "sync"],
                        help="receive: PostgresVault.receive only; sync: sync_vault end to end (with the local "
                             "log entry, index row and file deletion of every record)")
    args = parser.parse_args()
    root_data = data_root()
    if root_data is None:
        sys.exit("real face data not found: set FACESEL_DATA")
    faces = orl_faces(root_data, 8)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pub, authority_dir = make_authority(root / "authority", start=time.time() - DAY)
        server = LocalPostgres().start()
        try:
            print(f"{'mode':>7} {'cameras':>7} {'batch':>5} {'records':>7} {'wall s':>7} {'records/s':>9} "
                  f"{'client CPU s':>12} {'KiB/record':>10}")
            for mode, batch, k in ((m, b, k) for m in args.modes for b in args.batch for k in args.cameras):
                    r = run(mode, k, args.records, batch, server, root, pub, authority_dir, faces)
                    print(f"{mode:>7} {r['cameras']:>7} {r['batch']:>5} {r['records']:>7} {r['wall_s']:>7.2f} "
                          f"{r['records_per_s']:>9.1f} {r['client_cpu_s']:>12.2f} {r['mean_record_kib']:>10.1f}",
                          flush=True)
        finally:
            server.destroy()


if __name__ == "__main__":
    main()
