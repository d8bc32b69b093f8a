"""Review round 13a (central23), item 2: selections by record ids alone, or of everything, compared with the log.

Round 12b compared a selection by camera or seal-time window with the records the hash-chained
log received in it (a row moved out of the scope stops the opening). A selection by ids alone and
one of everything were left as they were: a row deleted, or marked purged without a logged purge,
by whoever writes the store's tables made ``central open --all``, an unfiltered ``central list``
and the desk's find without a window leave the record out without a word (an opening logged as
complete), and an opening by ids say only "record_ids not in the store". Now every selection is
compared: by ids, their entries (the ``record_id`` index); everything, one anti-join in the server
that returns only the missing records.
"""

from __future__ import annotations

import time

import pytest
from facesel.central import Selection
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.vault import Vault
from facesel.vault.errors import RecordError
from central_common import facesel
from hostile_store import as_owner
from test_vault_common import orl_faces, share_paths, track_result

HIDE = {
    "deleted": ("DELETE FROM records WHERE record_id = %s", ()),
    "marked-purged": ("UPDATE records SET data = NULL, purged_at = %s WHERE record_id = %s", (time.time(),)),
}


@pytest.fixture
def two(central_dsn, authority, cameras, tmp_path, shared_data):
    """Two records of cam-a in the store: their ids in seal order."""
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        cameras.register(store, "cam-a")
        with Vault(tmp_path / "cam-a", cameras.pub_path, camera=cameras("cam-a")) as vault:
            ids = [vault.seal(track_result(face)) for face in orl_faces(shared_data, 2)]
        sync_vault(tmp_path / "cam-a", store, cameras("cam-a"))
    return ids


def _hide(dsn: str, victim: str, how: str) -> None:
    sql, args = HIDE[how]
    as_owner(dsn, (sql, (*args, victim)))


@pytest.mark.parametrize("how", sorted(HIDE))
def test_central_open_all_stops_at_a_record_whose_row_is_gone(central_dsn, authority, two, tmp_path, how):
    kept, victim = two
    _hide(central_dsn, victim, how)
    _, folder = authority
    out = tmp_path / "out"
    with PostgresVault(central_dsn) as store:
        with pytest.raises(RecordError, match=f"record {victim} of camera cam-a: the store's log records it as "
                                              "received"):
            open_from(store, share_paths(folder)[:2], folder / "keystore", "case 22/1", out, all_records=True)
    assert not out.exists()


@pytest.mark.parametrize("how", sorted(HIDE))
def test_an_opening_by_ids_names_the_log_for_a_record_whose_row_is_gone(central_dsn, authority, two, tmp_path, how):
    """Main said "record_ids not in the store": the id looked mistyped, not removed."""
    kept, victim = two
    _hide(central_dsn, victim, how)
    _, folder = authority
    with PostgresVault(central_dsn) as store:
        with pytest.raises(RecordError, match=f"record {victim} of camera cam-a: the store's log records it"):
            open_from(store, share_paths(folder)[:2], folder / "keystore", "case 22/1", tmp_path / "out",
                      selection=Selection(record_ids=(kept, victim)))


def test_an_unfiltered_central_list_names_a_deleted_row(central_dsn, authority, two):
    kept, victim = two
    _hide(central_dsn, victim, "deleted")
    _, folder = authority
    done = facesel("central", "list", "--central", central_dsn, "--authority", str(folder / "authority.pub"))
    assert done.returncode == 1 and kept in done.stdout and victim not in done.stdout, (done.stdout, done.stderr)
    assert f"REJECTED record {victim} of camera cam-a" in done.stderr
    assert "1 record(s) the store's log holds in this selection without their row" in done.stdout


def test_an_opening_by_id_and_camera_is_not_refused_for_another_record_of_the_camera(central_dsn, authority, two,
                                                                                    tmp_path):
    """The ids narrow the log's records too: main compared the camera's whole history with the rows of
    this id, so another record of cam-a whose row was moved stopped an opening that did not ask for it."""
    kept, victim = two
    _hide(central_dsn, victim, "deleted")
    _, folder = authority
    with PostgresVault(central_dsn) as store:
        opened = open_from(store, share_paths(folder)[:2], folder / "keystore", "case 22/1", tmp_path / "out",
                           selection=Selection(record_ids=(kept,), camera_ids=("cam-a",)))
    assert [o.row.record_id for o in opened] == [kept]


def test_a_store_without_edits_opens_everything_and_a_purged_record_is_not_missed(central_dsn, authority, two,
                                                                                  tmp_path):
    _, folder = authority
    with PostgresVault(central_dsn) as store:
        assert store.missing_from(Selection()) == [] and store.missing_from(Selection(record_ids=tuple(two))) == []
        opened = open_from(store, share_paths(folder)[:2], folder / "keystore", "case 22/1", tmp_path / "out",
                           all_records=True)
        assert sorted(o.row.record_id for o in opened) == sorted(two)
        assert store.purge(time.time() + store.authority.retention_seconds + 86400, allow_future=True) == 2
        assert store.missing_from(Selection()) == [] and store.missing_from(Selection(record_ids=tuple(two))) == []


def test_the_whole_store_check_keeps_only_what_is_missing(central_dsn, two, monkeypatch):
    """Past the readers' row bound of *missing* records it refuses (TooManyRows), never truncates;
    the arrivals read count for nothing."""
    from facesel.central.read_limit import ROWS_ENV, TooManyRows

    kept, victim = two
    monkeypatch.setenv(ROWS_ENV, "1")
    with PostgresVault(central_dsn) as store:
        assert store.missing_from(Selection()) == []  # two arrivals, none missing
    _hide(central_dsn, victim, "deleted")
    _hide(central_dsn, kept, "deleted")
    with PostgresVault(central_dsn) as store:
        with pytest.raises(TooManyRows):
            store.missing_from(Selection())
