"""Memory a reader of the central store spends on ``rows()``: peak resident size growth per row count.

    python benchmarks/central_rows_memory.py --rows 100000 400000
    python benchmarks/central_rows_memory.py --rows 400000 --paged     # the same query through a server-side cursor

A throwaway PostgreSQL server (facesel.central.pg_local) is started; for each count a fresh store
gets that many index rows, inserted by the tables' owner in one statement (triggers disabled, as
the owner may; a 128-character camera id, the longest allowed). A fresh process then calls
``PostgresVault.rows()`` (or, with ``--paged``, runs its query through a named cursor, 2,000 rows
a page, still keeping every row) and prints the growth of its peak resident size (KiB, as Linux
reports ``ru_maxrss``). Not a test: nothing is asserted. Review round 7b's note on ``rows()``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from facesel.central.pg_backend import PostgresVault  # noqa: E402
from facesel.central.pg_local import LocalPostgres  # noqa: E402
from test_vault_common import make_authority  # noqa: E402

CAMERA = "c" * 128

# Run in a fresh process so that its peak is the call's own.
_READER = """
import json, resource, sys
from facesel.central.pg_backend import PostgresVault
from facesel.central.read_limit import BOUNDED_INDEX_COLUMNS, checked_index_row
store = PostgresVault(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if sys.argv[2] == "paged":
    with store.conn.transaction():
        cursor = store.conn.cursor(name="rows")
        cursor.itersize = 2000
        cursor.execute(f"SELECT {BOUNDED_INDEX_COLUMNS} FROM records WHERE purged_at IS NULL "
                       "ORDER BY sealed_at, record_id")
        count = len([checked_index_row(r) for r in cursor])
else:
    count = len(store.rows())
print(json.dumps({"rows": count, "grown_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before}))
"""


def _fill(dsn: str, count: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
        conn.execute("INSERT INTO cameras VALUES (%s, NULL, 0, '')", (CAMERA,))
        conn.execute("INSERT INTO records SELECT md5(i::text), %s, 1, i, i, i, 0.5, i, 1000, repeat('a', 64), 0, "
                     "NULL, '\\x00'::bytea FROM generate_series(1, %s) i", (CAMERA, count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100000], help="row counts, one store each")
    parser.add_argument("--paged", action="store_true", help="read through a server-side cursor instead of rows()")
    args = parser.parse_args()
    server = LocalPostgres().start()
    try:
        public, _ = make_authority(Path(tempfile.mkdtemp(prefix="facesel-rows-")))
        for count in args.rows:
            dsn = server.create_database(f"rows_{count}")
            PostgresVault.create(dsn, public).close()
            _fill(dsn, count)
            done = subprocess.run([sys.executable, "-c", _READER, dsn, "paged" if args.paged else "rows"],
                                  capture_output=True, text=True, check=True)
            print(done.stdout.strip())
            server.drop_database(f"rows_{count}")
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
