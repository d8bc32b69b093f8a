"""Review 8, finding 1 (still open since round 7b): the number of rows a reader of the central
store took was the store's word.

``rows()`` fetched every row a selection matched into one list (about 1.3 KB of memory a row), and
``central list``, ``central open`` and the desk's search used it: the tables' owner inserted rows
(400,000: +515,168 KiB) until the reader's machine ran out of memory. Now ``central list`` prints
rows as a server-side cursor yields them, a page at a time, and ``rows()`` (which opening and the
desk keep whole, since they verify and decrypt every row) stops at ``FACESEL_CENTRAL_MAX_ROWS``
(100,000 by default) with an error that says so, instead of a list cut short. The attacker is the
tables' owner on a real PostgreSQL server.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from facesel.central.backend import Selection
from facesel.central.opening import select
from facesel.central.pg_backend import PostgresVault
from facesel.central.read_limit import DEFAULT_ROWS, ROWS_ENV, TooManyRows, row_limit
from hostile_store import owner_inserts_rows
from peak_memory import run_fresh

INSERTED = 100_000
ROW_BYTES = 1300  # what a kept row weighs (benchmarks/central_rows_memory.py: 515,168 KiB for 400,000)

# Run in a fresh process, so its peak is the listing's own: `facesel central list --unverified`
# (the rows alone: the owner's rows have no records to check, review 10c) (text or
# --json) with its output thrown away; prints the peak's growth (KiB, Linux's VmHWM: ru_maxrss
# would start at pytest's peak) and the last line it printed. A listing of a camera with no
# records comes first, so that what every listing costs whatever the rows (imports, the
# connection, the query's path) is spent before the peak is read: what grows after is the rows' own.
_LISTER = """
import contextlib, io, json, os, sys
from peak_memory import peak_kib
from facesel.cli import main
command = ["central", "list", "--central", sys.argv[1], "--unverified"] + sys.argv[2:]
with contextlib.redirect_stdout(io.StringIO()):
    assert main(command + ["--camera", "no-such-camera"]) == 0
before = peak_kib()
tail = [""]
class Tail(io.TextIOBase):
    def write(self, text):
        tail[0] = (tail[0] + text)[-200:]
        return len(text)
with contextlib.redirect_stdout(Tail()):
    code = main(command)
grown = peak_kib() - before
print(json.dumps({"code": code, "grown_kib": grown, "tail": tail[0].splitlines()}))
"""


@pytest.mark.parametrize("form", [[], ["--json"]], ids=["table", "json"])
def test_a_listing_holds_one_page_whatever_the_store_holds(central_dsn, authority, form):
    PostgresVault.create(central_dsn, authority[0]).close()
    owner_inserts_rows(central_dsn, INSERTED)
    done = run_fresh(_LISTER, central_dsn, *form, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["code"] == 0
    if form:
        assert result["tail"][-1] == "]"
    else:
        assert result["tail"][-1] == (f"{INSERTED} record(s) from 1 camera(s), as the store gives them, unchecked "
                                      "(--unverified)")
    # Every row was printed, none kept: the peak grew by far less than the rows weigh (the old
    # listing kept all of them: +128,348 KiB for these 100,000 at cfcc28a, VmHWM).
    assert result["grown_kib"] * 1024 < INSERTED * ROW_BYTES // 10, result


def test_a_list_of_more_rows_than_the_bound_is_refused_never_cut(central_dsn, authority, monkeypatch):
    with PostgresVault.create(central_dsn, authority[0]) as store:
        owner_inserts_rows(central_dsn, 50)
        monkeypatch.setenv(ROWS_ENV, "50")
        assert len(store.rows()) == 50  # at the bound: every row
        owner_inserts_rows(central_dsn, 1, camera_id="cam-b")
        with pytest.raises(TooManyRows, match=f"more than 50 records in central store .*{ROWS_ENV}") as refused:
            store.rows()
        # While the refusal (and its traceback) is still held, as a caller's handler holds it, the
        # cursor's transaction is over: an audit entry written now is not inside it.
        assert store.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE, refused
        store.append_audit("note", text="written after a refusal")
        # An opening selects through the same list, so it stops before any share is asked for.
        with pytest.raises(TooManyRows):
            select(store, Selection(), all_records=True)
        assert len(store.rows(Selection(camera_ids=("cam-b",)))) == 1  # a narrower selection still lists
        assert sum(1 for _ in store.iter_rows()) == 51  # streaming has no bound
        assert store.count() == 51  # the connection is usable after a refusal mid-stream
        assert store.audit_lines()[-1].find('"written after a refusal"') > 0


def test_the_row_bound_setting(monkeypatch):
    monkeypatch.delenv(ROWS_ENV, raising=False)
    assert row_limit() == DEFAULT_ROWS == 100_000
    monkeypatch.setenv(ROWS_ENV, " 7 ")
    assert row_limit() == 7
    for bad in ("0", "-3", "1e6", "many"):
        monkeypatch.setenv(ROWS_ENV, bad)
        with pytest.raises(ValueError, match=f"{ROWS_ENV} must be a whole number of rows, at least 1, got {bad!r}"):
            row_limit()
