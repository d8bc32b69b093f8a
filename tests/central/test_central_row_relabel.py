"""Review round 10b, finding 1: an opening's scope taken from the store's rows.

An opening is authorised for a scope: a camera, a seal-time window. The central store selects the
rows of that scope by their columns (``camera_id``, ``sealed_at``), which are the store's word: the
tables' owner may rewrite them (triggers disabled, as the owner may). Each record's bytes were
checked (signature of the camera its header names, digest logged on arrival), but not that the
row agreed with that signed header, so a record of another camera, or sealed outside the window,
relabelled into the scope, was decrypted by the authorised opening and written under the camera
folder the row named. The same in the desk's central find (listed under the row's camera) and
its opening. The attacker is real: the owner's own SQL on a real PostgreSQL server.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from facesel.central import Selection
from facesel.central.file_backend import FileVaultBackend
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.review.catalog import Filters
from facesel.review.central_open import open_central
from facesel.review.sources import CentralSource
from facesel.vault import Vault
from facesel.vault.errors import RecordError
from facesel.vault.keys import Keystore
from facesel.vault.shares import reconstruct_master
from central_common import keys_of
from hostile_store import as_owner
from test_vault_common import orl_faces, share_paths, track_result


@pytest.fixture
def two_cameras(central_dsn, authority, cameras, tmp_path, shared_data):
    """A store holding one record of cam-a, then one of cam-b sealed after it: {camera: (id, sealed_at)}."""
    pub, _ = authority
    faces, sealed = orl_faces(shared_data, 2), {}
    with PostgresVault.create(central_dsn, pub) as store:
        for face, camera_id in zip(faces, ("cam-a", "cam-b")):
            cameras.register(store, camera_id)
            with Vault(tmp_path / camera_id, cameras.pub_path, camera=cameras(camera_id)) as vault:
                record_id = vault.seal(track_result(face))
            sync_vault(tmp_path / camera_id, store, cameras(camera_id))
        for row in store.rows():
            sealed[row.camera_id] = (row.record_id, row.sealed_at)
    assert sealed["cam-b"][1] > sealed["cam-a"][1], record_id
    return sealed


# Each relabelling brings cam-b's record into the scope "cam-a, sealed up to cam-a's record".
RELABELS = {
    "another-camera": ("UPDATE records SET camera_id = 'cam-a', sealed_at = %s WHERE record_id = %s",
                       lambda sealed: sealed["cam-a"][1]),
    "outside-the-window": ("UPDATE records SET sealed_at = %s WHERE record_id = %s",
                           lambda sealed: sealed["cam-a"][1] - 1.0),
}


def _relabel(dsn: str, sealed: dict, how: str) -> str:
    sql, value = RELABELS[how]
    victim = sealed["cam-b"][0]
    as_owner(dsn, (sql, (value(sealed), victim)))
    return victim


def _opens(dsn: str) -> int:
    with PostgresVault(dsn) as store:
        return sum(json.loads(line)["event"] == "open" for line in store.audit_lines())


def _scope(sealed: dict, how: str) -> Selection:
    start, end = sealed["cam-a"][1] - 60.0, sealed["cam-a"][1]
    cameras = ("cam-a",) if how == "another-camera" else None
    return Selection(camera_ids=cameras, start=start, end=end)


@pytest.mark.parametrize("how", sorted(RELABELS))
def test_central_open_refuses_a_record_relabelled_into_its_scope(central_dsn, authority, two_cameras, tmp_path, how):
    victim = _relabel(central_dsn, two_cameras, how)
    _, folder = authority
    out = tmp_path / "out"
    with PostgresVault(central_dsn) as store:
        with pytest.raises(RecordError, match=f"record {victim}: the store's row disagrees with the record's signed "
                                              "header"):
            open_from(store, share_paths(folder)[:2], folder / "keystore", "case 15/1", out,
                      selection=_scope(two_cameras, how))
    assert not out.exists()  # nothing decrypted reached the disk
    assert _opens(central_dsn) == 0  # and no opening was logged


@pytest.mark.parametrize("how", sorted(RELABELS))
def test_the_desk_lists_a_relabelled_record_as_refused_and_will_not_open_it(central_dsn, authority, two_cameras,
                                                                           how):
    victim = _relabel(central_dsn, two_cameras, how)
    _, folder = authority
    keystore = Keystore(folder / "keystore")
    source = CentralSource(central_dsn, keystore)
    try:
        scope = _scope(two_cameras, how)
        found = source.search(Filters(camera=(scope.camera_ids or (None,))[0], start=scope.start, end=scope.end))
        assert [f.row.record_id for f in found.records] == [two_cameras["cam-a"][0]]
        assert any(victim in problem and "disagrees" in problem for problem in found.problems), found.problems
        master, used = reconstruct_master(share_paths(folder)[:2], keystore, None)
        with pytest.raises(RecordError, match=f"record {victim}: the store's row disagrees"):
            open_central(source.store, source.lock, keystore, master, used, keys_of(source.store, victim), "case 15/1",
                         "court order", "investigator")
    finally:
        source.close()
    assert _opens(central_dsn) == 0


def test_rows_that_agree_with_their_records_still_open(central_dsn, authority, two_cameras, tmp_path):
    _, folder = authority
    with PostgresVault(central_dsn) as store:
        opened = open_from(store, share_paths(folder)[:2], folder / "keystore", "case 15/1", tmp_path / "out",
                           selection=Selection(camera_ids=("cam-a",)))
    assert [o.row.record_id for o in opened] == [two_cameras["cam-a"][0]]
    assert [o.header["camera_id"] for o in opened] == ["cam-a"]


def test_a_vault_folders_index_row_moved_into_the_window_is_refused(authority, cameras, tmp_path, shared_data):
    """The file backend (``FileVaultBackend``, a vault folder behind ``open_from``) selects by the
    vault's index, which a writer of the folder may edit without any key: the same check."""
    _, folder = authority
    vault_dir = tmp_path / "cam-a"
    with Vault(vault_dir, cameras.pub_path, camera=cameras("cam-a")) as vault:
        first, later = (vault.seal(track_result(face)) for face in orl_faces(shared_data, 2))
    with sqlite3.connect(vault_dir / "index.sqlite") as db:
        (first_sealed,) = db.execute("SELECT sealed_at FROM records WHERE record_id = ?", (first,)).fetchone()
        db.execute("UPDATE records SET sealed_at = ? WHERE record_id = ?", (first_sealed - 1.0, later))
    db.close()
    out = tmp_path / "out"
    store = FileVaultBackend(vault_dir, camera=cameras("cam-a"))
    try:
        with pytest.raises(RecordError, match=f"record {later}: the store's row disagrees .*sealed_at"):
            open_from(store, share_paths(folder)[:2], folder / "keystore", "case 15/1", out,
                      selection=Selection(start=first_sealed - 60.0, end=first_sealed))
        assert not out.exists()
        assert sum(e["event"] == "open" for e in store.log.entries()) == 0
    finally:
        store.close()
