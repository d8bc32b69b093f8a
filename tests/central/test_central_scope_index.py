"""Review round 13a (central23), item 4: the scope check costs the window, not the log.

Round 12b's scope check (a selection by camera or window compared with the records the log
received in it) scanned every ``received`` entry of the log per selection, about 12 us an entry:
linear in every arrival since the store began, purged records included. Migration 7 indexes the
``received`` entries by camera and seal time (and by seal time alone), expressions of the log's own
lines, so a camera and a window read the window's entries. Measured by a count, not a time: the
log lines the check parses, i.e. the calls of the SQL functions that read a line's fields
(``facesel_entry_field``, ``facesel_entry_number``: PostgreSQL's per-transaction function counters,
``track_functions = 'pl'``), on a log of 3,000 arrivals of which the window holds 10. An index scan
finds the window without parsing a line (the keys are in the index); main's scan parsed every
``received`` line two or three times (6,030 and 9,030 calls against 20 now). An existing store of schema 6 gets the index from ``central init`` (its entries kept).
"""

from __future__ import annotations

import json
import time

import psycopg
import pytest
from facesel.central import Selection, pg_audit
from facesel.central.pg_backend import PostgresVault
from facesel.central.pg_schema import MIGRATIONS
from test_vault_common import DAY

ARRIVALS = 3000
BASE = time.time() - 100 * DAY  # a hundred days back, within the test authority's epochs or not: never read


def _arrivals(conn: psycopg.Connection) -> None:
    """ARRIVALS ``received`` entries, one a second from BASE, every third of cam-a, the others of cam-z
    (entries only: the check reads the log, and a record without its row is what it reports)."""
    with conn.transaction():
        for i in range(ARRIVALS):
            pg_audit.append(conn, time.time(), "received", record_id=f"{i:032x}",
                            camera_id="cam-a" if i % 3 == 0 else "cam-z", epoch_id=1, sealed_at=BASE + i, size=10,
                            sha256="0" * 64)


def _lines_parsed(store: PostgresVault, selection: Selection) -> tuple[int, list[str]]:
    """(calls of the functions reading a log line's fields during the scope check, what it reported)."""
    store.conn.execute("SET track_functions = 'pl'")
    counters = ("SELECT coalesce(sum(pg_stat_get_xact_function_calls(p.oid)), 0) FROM pg_proc p "
                "WHERE p.proname LIKE 'facesel_entry_%'")
    with store.conn.transaction():
        before = store.conn.execute(counters).fetchone()[0]
        missing = store.missing_from(selection)
        after = store.conn.execute(counters).fetchone()[0]
    return after - before, missing


WINDOWS = {
    "camera-and-window": Selection(camera_ids=("cam-a",), start=BASE + 1500, end=BASE + 1529),  # 10 of cam-a
    "window": Selection(start=BASE + 1500, end=BASE + 1509),  # 10 of any camera
    "ids": Selection(record_ids=tuple(f"{i:032x}" for i in range(1500, 1510))),
}


@pytest.mark.parametrize("name", sorted(WINDOWS))
def test_a_window_reads_its_own_arrivals_not_the_log(central_dsn, authority, name):
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        _arrivals(store.conn)
        read, missing = _lines_parsed(store, WINDOWS[name])
    assert len(missing) == 10  # the window's ten arrivals, none with a row: each named
    # Main: a sequential scan of the whole log, each received line parsed 2-3 times (6,030 and 9,030).
    assert read <= 3 * len(missing) + 10, f"{read} log fields read for a window of {len(missing)}"


def test_a_camera_without_a_window_reads_what_is_missing_not_its_history(central_dsn, authority):
    """Review round 14a, finding 4: a camera with no window (``central list --camera``, the desk's
    find of a camera) sent every ``received`` entry of the camera to the client, each line parsed
    twice (2,000 calls for cam-a's 1,000 arrivals, main), to report the few without a row. Now an
    anti-join in the server parses and sends the missing entries only."""
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        _arrivals(store.conn)
        # rows for cam-a's arrivals but five (as the tables' owner: the rows need no record here)
        with store.conn.transaction():
            store.conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
            store.conn.execute("INSERT INTO cameras VALUES ('cam-a', NULL, 0, '')")
            store.conn.execute("INSERT INTO records SELECT lpad(to_hex(i), 32, '0'), 'cam-a', 1, %s + i, i, i, 0.5, i, "
                               "10, repeat('0', 64), 0, NULL, '\\x00'::bytea FROM generate_series(15, %s - 1, 3) i",
                               (BASE, ARRIVALS))
        read, missing = _lines_parsed(store, Selection(camera_ids=("cam-a", "cam-a")))
    assert [line.split()[1] for line in missing] == [f"{i:032x}" for i in (0, 3, 6, 9, 12)]
    # Main: 2,000 (each of cam-a's 1,000 entries parsed twice and sent to the client).
    assert read <= 3 * len(missing) + 10, f"{read} log fields read for a camera missing {len(missing)} rows"


def test_central_init_indexes_an_existing_schema_6_store(central_dsn, authority):
    """A store made by the previous facesel (migrations 1-6, shipped DDL never edited) keeps its
    entries and gets the index from ``central init``; the check then reads the window."""
    pub, _ = authority
    with psycopg.connect(central_dsn, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("CREATE TABLE schema_version (version integer PRIMARY KEY, name text NOT NULL, "
                         "applied_at double precision NOT NULL)")
            for version, name, sql in MIGRATIONS[:6]:
                conn.execute(sql)
                conn.execute("INSERT INTO schema_version VALUES (%s, %s, %s)", (version, name, time.time()))
            conn.execute("INSERT INTO authority (authority_id, public_json, store_id, created_at) "
                         "VALUES (%s, %s, 'six0store0000000', %s)",
                         (pub.authority_id, json.dumps(pub.to_dict()), time.time()))
        _arrivals(conn)
    with pytest.raises(RuntimeError, match="schema version 6, older than this facesel's"):
        PostgresVault(central_dsn).close()
    with PostgresVault.create(central_dsn, pub) as store:
        events = [json.loads(line) for line in store.audit_lines()]
        assert [e.get("versions") for e in events if e["event"] == "schema-upgraded"] == [[7]]
        assert sum(e["event"] == "received" for e in events) == ARRIVALS and store.verify_audit().ok
        read, missing = _lines_parsed(store, WINDOWS["camera-and-window"])
    assert len(missing) == 10 and read <= 3 * len(missing) + 10, read
