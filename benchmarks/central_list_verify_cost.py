"""What checking every row costs ``facesel central list``: wall time, checked against ``--unverified``.

    python benchmarks/central_list_verify_cost.py --records 200 --rounds 3

A throwaway PostgreSQL server (facesel.central.pg_local) gets one store, one camera enrolled with
a fresh authority, and ``--records`` real ORL faces sealed and forwarded by ``sync``. Then
``facesel central list --authority DIR`` (each record read and checked, review round 10c) and
``central list --unverified`` (the rows alone) run in-process, alternating, ``--rounds`` times each,
output thrown away; prints each run's seconds and exit code. Not a test: nothing is asserted, and
the figures are this machine's at that moment (compare the two within one invocation only).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "central"))

from central_common import Cameras  # noqa: E402
from facesel.central.pg_backend import PostgresVault  # noqa: E402
from facesel.central.pg_local import LocalPostgres  # noqa: E402
from facesel.central.sync import sync_vault  # noqa: E402
from facesel.cli import main as facesel  # noqa: E402
from facesel.vault import Vault  # noqa: E402
from test_vault_common import DAY, make_authority, orl_faces, track_result  # noqa: E402


def _fill(dsn: str, work: Path, count: int) -> Path:
    """A store holding ``count`` records of camera cam-a; returns the authority's folder."""
    _, folder = make_authority(work / "authority", start=time.time() - DAY)
    cameras = Cameras(folder, work / "camera-keys")
    faces = orl_faces(Path(os.environ.get("FACESEL_DATA", "data")), 40)
    with PostgresVault.create(dsn, cameras_pub(cameras)) as store:
        cameras.register(store, "cam-a")
        with Vault(work / "cam-a", cameras.pub_path, camera=cameras("cam-a")) as vault:
            for i in range(count):
                vault.seal(track_result(faces[i % len(faces)], track_id=i))
        sync_vault(work / "cam-a", store, cameras("cam-a"))
    return folder


def cameras_pub(cameras: Cameras):
    """The authority's file once cam-a is enrolled (so the store's copy knows it too)."""
    from facesel.vault.keys import AuthorityPublic

    cameras("cam-a")
    return AuthorityPublic.load(cameras.pub_path)


def _timed(argv: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = facesel(argv)
    return time.perf_counter() - start, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = LocalPostgres().start()
    try:
        dsn = server.create_database("list_cost")
        folder = _fill(dsn, Path(tempfile.mkdtemp(prefix="facesel-list-cost-")), args.records)
        base = ["central", "list", "--central", dsn]
        for _ in range(args.rounds):
            for name, extra in (("checked", ["--authority", str(folder)]), ("unverified", ["--unverified"])):
                seconds, code = _timed(base + extra)
                print(f"{name:10} {args.records} records: {seconds:.3f} s, exit {code}")
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
