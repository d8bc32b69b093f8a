"""What review round 11 costs the central store's hot paths: receive and a checked list of N records.

    python benchmarks/central_round11_cost.py --before /tmp/main-copy/python --records 200 --rounds 3

Round 11 keys records by (camera, id) (schema 5), sets each row's ``received_at`` with a server
trigger (schema 6), and has a checked ``central list`` ask, for each row of a camera whose key the
authority revoked, when it arrived. Here one throwaway PostgreSQL server (facesel.central.pg_local)
serves every run; each run gets a fresh database, and its code comes from a ``python/`` tree
(``--before``: a copy of the earlier code with the compiled modules copied in; this tree's code
otherwise), run in a subprocess. ``--records`` real ORL faces of one camera are sealed once, then
each run: ``PostgresVault.create``, ``receive`` of all of them in batches of 32 (as ``sync``),
``central list --authority`` (each record read and checked), and, for this tree only, the same
list against an authority file that revoked the camera from a time between the seals and the
arrivals (every row flagged, the arrival query run for each). Before and after alternate,
``--rounds`` times. Prints seconds per step. Not a test: nothing is asserted, and the figures are
this machine's at that moment (compare within one invocation only).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _worker(dsn: str, work: Path, revoked_pub: str | None) -> None:
    """One run, in the code on this process's path: prints a JSON dict of step -> seconds."""
    from facesel.central.pg_backend import PostgresVault
    from facesel.cli import main as facesel
    from facesel.vault.keys import AuthorityPublic
    from facesel.vault.signing import CameraPublic

    records = [p.read_bytes() for p in sorted((work / "records").iterdir())]
    camera = CameraPublic.load(work / "camera.pub")
    out = {}
    with PostgresVault.create(dsn, AuthorityPublic.load(work / "authority.pub")) as store:
        store.register_camera(camera.camera_id, camera.public_key)
        start = time.perf_counter()
        for i in range(0, len(records), 32):
            assert all(a.status == "stored" for a in store.receive(records[i:i + 32]))
        out["receive"] = time.perf_counter() - start
    for name, pub in (("list", str(work / "authority.pub")), ("list, camera revoked", revoked_pub)):
        if pub is None:
            continue
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as text, contextlib.redirect_stderr(io.StringIO()):
            code = facesel(["central", "list", "--central", dsn, "--authority", pub])
        out[name] = time.perf_counter() - start
        assert code == 0 and f"{len(records)} record(s)" in text.getvalue(), (code, text.getvalue()[-300:])
    print(json.dumps(out))


def _prepare(work: Path, count: int) -> str:
    """Seal ``count`` records of cam-a into ``work/records``; write ``work/authority.pub`` (cam-a
    registered) and ``work/camera.pub``; return the path of a later authority.pub that revokes cam-a
    from now (after every seal, before every arrival)."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    sys.path.insert(0, str(HERE.parent / "tests" / "central"))
    from central_common import Cameras
    from facesel.vault import Vault
    from facesel.vault.authority import revoke_camera
    from facesel.vault.keys import Keystore
    from facesel.vault.shares import reconstruct_master
    from facesel.vault.store import record_path
    from test_vault_common import DAY, make_authority, orl_faces, share_paths, track_result

    _, folder = make_authority(work / "authority", start=time.time() - DAY)
    cameras = Cameras(folder, work / "camera-keys")
    cameras("cam-a")
    (work / "camera.pub").write_bytes((cameras.key_dir("cam-a") / "camera.pub").read_bytes())
    (work / "authority.pub").write_bytes(cameras.pub_path.read_bytes())
    faces = orl_faces(Path(os.environ.get("FACESEL_DATA", "data")), 40)
    (work / "records").mkdir()
    with Vault(work / "cam-a", cameras.pub_path, camera=cameras("cam-a")) as vault:
        for i in range(count):
            rid = vault.seal(track_result(faces[i % len(faces)], track_id=i))
            (work / "records" / f"{i:06d}.fsr").write_bytes(record_path(work / "cam-a", rid).read_bytes())
    master, _ = reconstruct_master(share_paths(folder)[:2], Keystore(folder / "keystore"), None)
    revoke_camera(folder, master, "cam-a", time.time())
    return str(folder / "authority.pub")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="python/ folder of the earlier code (compiled modules in it)")
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        dsn, work, revoked = args.worker
        _worker(dsn, Path(work), revoked or None)
        return
    from facesel.central.pg_local import LocalPostgres

    work = Path(tempfile.mkdtemp(prefix="facesel-round11-cost-"))
    revoked = _prepare(work, args.records)
    server = LocalPostgres().start()
    try:
        for round_ in range(args.rounds):
            for name, tree, revoked_pub in (("before", args.before, ""), ("after", str(HERE.parent / "python"),
                                                                          revoked)):
                dsn = server.create_database(f"cost_{name}_{round_}")
                env = {**os.environ, "PYTHONPATH": tree}
                done = subprocess.run([sys.executable, __file__, "--before", args.before, "--worker", dsn, str(work),
                                       revoked_pub], env=env, capture_output=True, text=True, check=True)
                steps = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"{name:6} round {round_ + 1}, {args.records} records: "
                      + ", ".join(f"{step} {seconds:.3f} s" for step, seconds in steps.items()), flush=True)
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
