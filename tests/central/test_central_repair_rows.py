"""Review round 13a (central23), item 3: ``facesel central repair-rows``.

Rounds 10b and 12b made every reader name a row moved by whoever writes the store's tables (its
seal time a month back, its camera relabelled) instead of opening around it, but the central store
had no way back: the window stayed refused until someone restored the row's columns by hand, past
the append-only guard. ``central repair-rows`` rewrites each such row from its record's verified
signed header and logs each repair (a ``row-repaired`` entry naming the columns, old and new);
a row whose record does not verify is left as it is and named; ``--dry-run`` lists and changes
nothing. Migration 7's guard lets a row be updated only toward its ``received`` entry.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.vault.errors import RecordError
from central_common import facesel
from hostile_store import ROW_MOVES, as_owner, two_records_in_a_window
from test_vault_common import DAY, share_paths

MOVES = ROW_MOVES


@pytest.fixture
def window(central_dsn, authority, cameras, tmp_path, shared_data):
    """Two records of cam-a in the store: (their ids in seal order, a window holding both)."""
    return two_records_in_a_window(central_dsn, authority, cameras, tmp_path, shared_data)


def _open(dsn: str, folder, out, scope):
    with PostgresVault(dsn) as store:
        return open_from(store, share_paths(folder)[:2], folder / "keystore", "case 22/2", out, selection=scope)


def _events(dsn: str, event: str) -> list[dict]:
    with PostgresVault(dsn) as store:
        return [e for e in map(json.loads, store.audit_lines()) if e["event"] == event]


@pytest.mark.parametrize("how", sorted(MOVES))
def test_repair_rows_puts_a_moved_row_back_and_logs_it(central_dsn, authority, window, tmp_path, how):
    (kept, victim), scope = window
    _, folder = authority
    with PostgresVault(central_dsn) as store:
        (before,) = [r for r in store.rows() if r.record_id == victim]
    sql, args = MOVES[how]
    as_owner(central_dsn, (sql, (*args, victim)))
    with pytest.raises(RecordError, match=victim):
        _open(central_dsn, folder, tmp_path / "refused", scope)

    dry = facesel("central", "repair-rows", "--central", central_dsn, "--authority", str(folder), "--dry-run")
    assert dry.returncode == 0 and f"would repair record {victim}" in dry.stdout, (dry.stdout, dry.stderr)
    assert "would repair 1 row(s)" in dry.stdout and _events(central_dsn, "row-repaired") == []
    with pytest.raises(RecordError, match=victim):  # the dry run changed nothing
        _open(central_dsn, folder, tmp_path / "still-refused", scope)

    done = facesel("central", "repair-rows", "--central", central_dsn, "--authority", str(folder))
    assert done.returncode == 0 and f"repaired record {victim}" in done.stdout, (done.stdout, done.stderr)
    (entry,) = _events(central_dsn, "row-repaired")
    column = "sealed_at" if how == "a-month-back" else "camera_id"
    assert entry["record_id"] == victim and entry["camera_id"] == "cam-a"
    assert entry["changed"] == {column: [before.sealed_at - 30 * DAY, before.sealed_at] if column == "sealed_at"
                                else ["cam-b", "cam-a"]}
    with PostgresVault(central_dsn) as store:
        assert [r for r in store.rows() if r.record_id == victim] == [before]
        assert store.verify_audit().ok and store.records_against_log() == []
    opened = _open(central_dsn, folder, tmp_path / "out", scope)
    assert sorted(o.row.record_id for o in opened) == sorted([kept, victim])
    again = facesel("central", "repair-rows", "--central", central_dsn, "--authority", str(folder))
    assert again.returncode == 0 and "repaired 0 row(s)" in again.stdout  # nothing left to do


def test_a_row_whose_record_does_not_verify_is_not_repaired(central_dsn, authority, window):
    """The moved row also holds the other record's bytes (swapped): nothing vouches for a rewrite."""
    (kept, victim), _ = window
    _, folder = authority
    as_owner(central_dsn, ("UPDATE records SET sealed_at = sealed_at - %s, data = (SELECT data FROM records "
                           "WHERE record_id = %s) WHERE record_id = %s", (30 * DAY, kept, victim)))
    done = facesel("central", "repair-rows", "--central", central_dsn, "--authority", str(folder))
    assert done.returncode == 1 and f"record {victim} of camera cam-a: NOT REPAIRABLE" in done.stderr, \
        (done.stdout, done.stderr)
    assert "repaired 0 row(s)" in done.stdout and _events(central_dsn, "row-repaired") == []


def test_every_row_finds_a_column_the_log_does_not_hold(central_dsn, authority, window):
    (kept, victim), _ = window
    _, folder = authority
    as_owner(central_dsn, ("UPDATE records SET quality = 0.001 WHERE record_id = %s", (victim,)))
    plain = facesel("central", "repair-rows", "--central", central_dsn, "--authority", str(folder))
    assert plain.returncode == 0 and "repaired 0 row(s)" in plain.stdout  # the log holds no quality
    done = facesel("central", "repair-rows", "--central", central_dsn, "--authority", str(folder), "--every-row")
    assert done.returncode == 0 and f"repaired record {victim} of camera cam-a: quality 0.001 ->" in done.stdout, \
        done.stdout
    assert list(_events(central_dsn, "row-repaired")[0]["changed"]) == ["quality"]


def test_the_guard_lets_a_row_move_only_toward_its_log(central_dsn, window):
    """With the tables' triggers on (a camera's credentials, a careless hand): an update away from the
    record's ``received`` entry is refused, one back to it is let through."""
    (kept, victim), _ = window
    with psycopg.connect(central_dsn, autocommit=True) as conn:
        (sealed_at,) = conn.execute("SELECT sealed_at FROM records WHERE record_id = %s", (victim,)).fetchone()
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
            conn.execute("UPDATE records SET sealed_at = sealed_at + 1 WHERE record_id = %s", (victim,))
    as_owner(central_dsn, ("UPDATE records SET sealed_at = sealed_at + 1 WHERE record_id = %s", (victim,)))
    with psycopg.connect(central_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE records ENABLE TRIGGER USER")  # as_owner disabled them for the table
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
            conn.execute("UPDATE records SET sealed_at = sealed_at + 1 WHERE record_id = %s", (victim,))
        conn.execute("UPDATE records SET sealed_at = %s WHERE record_id = %s", (sealed_at, victim))  # main: refused
        assert conn.execute("SELECT sealed_at FROM records WHERE record_id = %s", (victim,)).fetchone()[0] == sealed_at
