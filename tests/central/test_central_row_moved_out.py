"""Review round 12b (attack21), finding 3: a record hidden from a central opening's scope by moving its row out.

Review 10b closed rows moved *into* an opening's scope (a camera, a seal-time window): each chosen
row must equal its record's signed header. The scope itself was still chosen by the rows'
``camera_id`` and ``sealed_at``, the tables' owner's word: a row moved *out* of it (its time a month
back, or its camera relabelled) was never chosen, so never checked. ``central open --camera cam-a
--from --to`` opened the other records of the window and logged a complete-looking opening; the
desk's find over ``--central`` listed the window without a word. The attacker is the owner's own SQL
on a real PostgreSQL server.

Now each selection by camera or window is compared with the records the store's hash-chained log
records as received in it (the seal time and camera taken from the signed header on arrival) and
not logged as purged: one without a row in the selection stops the opening (nothing decrypted,
written or logged) and is named on the desk.
"""

from __future__ import annotations

import json

import pytest
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.review.catalog import Filters
from facesel.review.sources import CentralSource
from facesel.vault.errors import RecordError
from facesel.vault.keys import Keystore
from hostile_store import ROW_MOVES, as_owner, two_records_in_a_window
from test_vault_common import DAY, share_paths

MOVES = ROW_MOVES


@pytest.fixture
def window(central_dsn, authority, cameras, tmp_path, shared_data):
    """Two records of cam-a in the store: (their ids in seal order, a window holding both)."""
    return two_records_in_a_window(central_dsn, authority, cameras, tmp_path, shared_data)


def _move(dsn: str, victim: str, how: str) -> None:
    sql, args = MOVES[how]
    as_owner(dsn, (sql, (*args, victim)))


def _opens(dsn: str) -> int:
    with PostgresVault(dsn) as store:
        return sum(json.loads(line)["event"] == "open" for line in store.audit_lines())


@pytest.mark.parametrize("how", sorted(MOVES))
def test_central_open_of_a_window_stops_at_a_row_moved_out_of_it(central_dsn, authority, window, tmp_path, how):
    (kept, victim), scope = window
    _move(central_dsn, victim, how)
    _, folder = authority
    out = tmp_path / "out"
    with PostgresVault(central_dsn) as store:
        with pytest.raises(RecordError, match=f"record {victim} of camera cam-a: .*received"):
            open_from(store, share_paths(folder)[:2], folder / "keystore", "case 21/3", out, selection=scope)
    assert not out.exists() and _opens(central_dsn) == 0


@pytest.mark.parametrize("how", sorted(MOVES))
def test_the_desk_names_a_record_whose_row_moved_out_of_the_searched_window(central_dsn, authority, window, how):
    (kept, victim), scope = window
    _move(central_dsn, victim, how)
    _, folder = authority
    source = CentralSource(central_dsn, Keystore(folder / "keystore"))
    try:
        found = source.search(Filters(camera="cam-a", start=scope.start, end=scope.end))
    finally:
        source.close()
    assert [f.row.record_id for f in found.records] == [kept]
    # Moved a month back: named from the log (main said nothing). Relabelled: the desk's window has no
    # camera in it, so the row is still chosen and refused as disagreeing (so on main too).
    word = "received" if how == "a-month-back" else "disagrees"
    assert any(victim in problem and word in problem for problem in found.problems), found.problems


def test_an_unedited_window_still_opens_and_a_purged_record_is_not_missed(central_dsn, authority, window, tmp_path):
    ids, scope = window
    _, folder = authority
    with PostgresVault(central_dsn) as store:
        opened = open_from(store, share_paths(folder)[:2], folder / "keystore", "case 21/3", tmp_path / "out",
                           selection=scope)
        assert sorted(o.row.record_id for o in opened) == sorted(ids)
        assert store.purge(scope.end + store.authority.retention_seconds + DAY, allow_future=True) == 2
        assert store.rows(scope) == [] and store.missing_from(scope) == []


def test_central_list_of_a_window_names_a_row_moved_out_of_it(central_dsn, authority, window):
    from central_common import facesel

    (kept, victim), scope = window
    _move(central_dsn, victim, "a-month-back")
    _, folder = authority
    done = facesel("central", "list", "--central", central_dsn, "--authority", str(folder / "authority.pub"),
                   "--camera", "cam-a", "--from", str(scope.start), "--to", str(scope.end))
    assert done.returncode == 1 and kept in done.stdout and victim not in done.stdout, (done.stdout, done.stderr)
    assert f"REJECTED record {victim} of camera cam-a" in done.stderr
    assert "1 record(s) the store's log holds in this selection without their row" in done.stdout


def test_the_scope_check_keeps_only_what_is_missing(central_dsn, window, monkeypatch):
    """The log holds every arrival since the store began (purged records too): only the records
    missing from the selection count against the readers' row bound, never the arrivals read."""
    from facesel.central.read_limit import ROWS_ENV

    (kept, victim), scope = window
    monkeypatch.setenv(ROWS_ENV, "1")
    with PostgresVault(central_dsn) as store:
        assert store.missing_from(scope) == []  # two arrivals read, none missing
    _move(central_dsn, victim, "a-month-back")
    with PostgresVault(central_dsn) as store:
        (line,) = store.missing_from(scope)
    assert line.startswith(f"record {victim} of camera cam-a:")
