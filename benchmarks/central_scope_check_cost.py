"""Cost of review round 12b's scope check (``PostgresVault.missing_from``) beside the selection it checks.

Since round 13a (migration 7) a camera and a window read the window's ``received`` entries by an
index; ids read their own; everything is one anti-join in the server.

    python benchmarks/central_scope_check_cost.py --records 20000 100000 --rounds 3

A throwaway PostgreSQL server (facesel.central.pg_local); for each count a fresh store gets that
many index rows of one camera, sealed one second apart, and a ``received`` entry for each (both
inserted by the tables' owner in one statement: the entries are not chained, which the timing does
not need). Then, alternating, the time of ``rows()`` and of ``missing_from()`` for the same selection:
the camera and a one-hour window, the camera alone (every record), ten ids, and everything. Median and range of
``--rounds`` runs, seconds. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from facesel.central.backend import Selection  # noqa: E402
from facesel.central.pg_backend import PostgresVault  # noqa: E402
from facesel.central.pg_local import LocalPostgres  # noqa: E402
from facesel.central.read_limit import ROWS_ENV  # noqa: E402
from test_vault_common import make_authority  # noqa: E402

CAMERA = "cam-a"
T0 = 1_760_000_000


def _fill(dsn: str, count: int) -> None:
    """``count`` rows of CAMERA sealed at T0 + i, and a ``received`` entry logging each."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        conn.execute("INSERT INTO cameras VALUES (%s, NULL, 0, '') ON CONFLICT DO NOTHING", (CAMERA,))
        conn.execute("INSERT INTO records SELECT md5(i::text), %s, 1, %s + i, i, i, 0.5, i, 1000, repeat('a', 64), 0, "
                     "NULL, '\\x00'::bytea FROM generate_series(1, %s) i", (CAMERA, T0, count))
        conn.execute("INSERT INTO audit (seq, event, record_id, line, hash) SELECT 1000 + i, 'received', md5(i::text), "
                     "json_build_object('camera_id', %s::text, 'event', 'received', 'record_id', md5(i::text), "
                     "'sealed_at', %s::float8 + i, 'sha256', repeat('a', 64), 'time', %s::float8 + i)::text, repeat('b', 64) "
                     "FROM generate_series(1, %s) i", (CAMERA, T0, T0, count))


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    """Print one line per record count and selection: rows() and missing_from() times."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[20000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import os

    os.environ[ROWS_ENV] = str(max(args.records) + 1)
    with tempfile.TemporaryDirectory(prefix="facesel-scope-") as tmp:
        pub, _ = make_authority(Path(tmp) / "auth")
        server = LocalPostgres().start()
        try:
            for count in args.records:
                dsn = server.create_database(f"scope{count}")
                PostgresVault.create(dsn, pub).close()
                _fill(dsn, count)
                selections = {"camera and one hour": Selection(camera_ids=(CAMERA,), start=T0 + count // 2,
                                                               end=T0 + count // 2 + 3600),
                              "camera alone": Selection(camera_ids=(CAMERA,)),
                              # review round 13a: ids alone and everything are checked too
                              "ten ids": Selection(record_ids=tuple(hashlib.md5(str(i).encode()).hexdigest()
                                                                    for i in range(1, 11))),
                              "everything": Selection()}
                with PostgresVault(dsn) as store:
                    for name, selection in selections.items():
                        rows, scope = [], []
                        for _ in range(args.rounds):
                            rows.append(_timed(lambda: store.rows(selection)))
                            scope.append(_timed(lambda: store.missing_from(selection)))
                        print(f"{count} records, {name}: rows() median {statistics.median(rows):.3f} s "
                              f"({min(rows):.3f}-{max(rows):.3f}), missing_from() median "
                              f"{statistics.median(scope):.3f} s ({min(scope):.3f}-{max(scope):.3f})", flush=True)
                server.drop_database(f"scope{count}")
        finally:
            server.destroy()


if __name__ == "__main__":
    main()
