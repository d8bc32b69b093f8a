"""The writing side keeps to the readers' bound (review 7b, left open by finding 3).

A reader of the central store takes at most ``FACESEL_CENTRAL_MAX_RECORD_BYTES`` for one record.
``receive`` stored a larger record all the same, and nobody could read it back without raising the
setting. Now ``sync`` is refused such a record (a ``rejected`` arrival naming the id, its size and
the bound), the camera keeps its copy, and it is stored once the bound allows it.
"""

from __future__ import annotations

from pathlib import Path

from facesel.central.pg_backend import PostgresVault
from facesel.central.read_limit import LIMIT_ENV
from facesel.central.sync import sync_vault
from facesel.vault import Vault
from facesel.vault.store import record_path
from test_vault_common import orl_faces, track_result


def test_a_record_over_the_readers_bound_is_refused_and_kept_by_the_camera(central_dsn, authority, cameras,
                                                                          tmp_path, shared_data, monkeypatch):
    vault_dir = tmp_path / "cam-a"
    with PostgresVault.create(central_dsn, authority[0]) as store:
        cameras.register(store, "cam-a")
        with Vault(vault_dir, cameras.pub_path, camera=cameras("cam-a")) as vault:
            record_id = vault.seal(track_result(orl_faces(shared_data, 1)[0]))
        local = record_path(vault_dir, record_id)
        size = Path(local).stat().st_size

        monkeypatch.setenv(LIMIT_ENV, str(size - 1))
        report = sync_vault(vault_dir, store, cameras("cam-a"))
        assert report.stored == 0 and store.count() == 0
        [(skipped_id, reason)] = report.skipped
        assert skipped_id == record_id
        assert f"record {record_id}: {size} bytes, more than the {size - 1}" in reason and LIMIT_ENV in reason
        assert Path(local).is_file()  # nothing lost: the camera still holds it
        assert any(f'"record_id":"{record_id}"' in line.replace(" ", "") and '"rejected"' in line.replace(" ", "")
                   for line in store.audit_lines())

        monkeypatch.setenv(LIMIT_ENV, str(size))  # at the bound: stored, and readable under the same bound
        assert sync_vault(vault_dir, store, cameras("cam-a")).stored == 1
        assert len(store.read(record_id)) == size
        assert not Path(local).exists()
