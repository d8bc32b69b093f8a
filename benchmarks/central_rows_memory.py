"""Memory a reader of the central store spends on ``rows()``: peak resident size growth per row count.

    python benchmarks/central_rows_memory.py --rows 100000 400000
    python benchmarks/central_rows_memory.py --rows 400000 --paged     # the same query through a server-side cursor
    python benchmarks/central_rows_memory.py --rows 400000 --list      # `facesel central list`, output thrown away

A throwaway PostgreSQL server (facesel.central.pg_local) is started; for each count a fresh store
gets that many index rows, inserted by the tables' owner in one statement (triggers disabled, as
the owner may; a 128-character camera id, the longest allowed). A fresh process then calls
``PostgresVault.rows()`` (or, with ``--paged``, runs its query through a named cursor, 2,000 rows
a page, still keeping every row; with ``--list``, runs ``facesel central list``, which streams
since review round 8) and prints the growth of its peak resident size (KiB, Linux's ``VmHWM``:
``ru_maxrss``, which this benchmark read before, is inherited through fork and exec). Not a test: nothing is asserted. ``rows()`` refuses more than
``FACESEL_CENTRAL_MAX_ROWS`` (100,000) rows since round 8, so the benchmark raises it for its own
reader. Review rounds 7b and 8.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "central"))

from facesel.central.pg_backend import PostgresVault  # noqa: E402
from facesel.central.pg_local import LocalPostgres  # noqa: E402
from hostile_store import owner_inserts_rows  # noqa: E402
from peak_memory import run_fresh  # noqa: E402
from test_vault_common import make_authority  # noqa: E402

# Run in a fresh process so that its peak is the call's own.
_READER = """
import contextlib, json, os, sys
from peak_memory import peak_kib
from facesel.central.pg_backend import PostgresVault
from facesel.central.read_limit import BOUNDED_INDEX_COLUMNS, checked_index_row
store = PostgresVault(sys.argv[1])
before = peak_kib()
if sys.argv[2] == "paged":
    with store.conn.transaction():
        cursor = store.conn.cursor(name="rows")
        cursor.itersize = 2000
        cursor.execute(f"SELECT {BOUNDED_INDEX_COLUMNS} FROM records WHERE purged_at IS NULL "
                       "ORDER BY sealed_at, record_id")
        count = len([checked_index_row(r) for r in cursor])
elif sys.argv[2] == "list":
    from facesel.cli import main
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        main(["central", "list", "--central", sys.argv[1], "--unverified"])  # the rows alone (their records are fakes)
    count = store.count()
else:
    count = len(store.rows())
print(json.dumps({"rows": count, "grown_kib": peak_kib() - before}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100000], help="row counts, one store each")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--paged", action="store_true", help="read through a server-side cursor instead of rows()")
    mode.add_argument("--list", action="store_true", help="run `facesel central list` instead of rows()")
    args = parser.parse_args()
    server = LocalPostgres().start()
    try:
        public, _ = make_authority(Path(tempfile.mkdtemp(prefix="facesel-rows-")))
        for count in args.rows:
            dsn = server.create_database(f"rows_{count}")
            PostgresVault.create(dsn, public).close()
            owner_inserts_rows(dsn, count)
            how = "paged" if args.paged else "list" if args.list else "rows"
            env = {**os.environ, "FACESEL_CENTRAL_MAX_ROWS": str(count)}  # the reader's bound, raised for the measure
            done = run_fresh(_READER, dsn, how, check=True, env=env)
            print(done.stdout.strip())
            server.drop_database(f"rows_{count}")
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
