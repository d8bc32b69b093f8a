"""Review round 10b, finding 2: ``central open`` wrote each record under a folder named after its
camera with ``.`` and ``:`` turned into ``_``, so cameras ``door.1``, ``door:1`` and ``door_1`` (all
valid ids the authority may register) shared one folder, ``door_1``: an investigator reading the
output by folder took the records of three cameras for one camera's."""

from __future__ import annotations

from facesel.central import Selection
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.vault import Vault
from test_vault_common import orl_faces, share_paths, track_result

CAMERAS = ("door.1", "door:1", "door_1")


def test_each_camera_gets_its_own_folder(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, folder = authority
    sealed = {}
    with PostgresVault.create(central_dsn, pub) as store:
        for n, (face, camera_id) in enumerate(zip(orl_faces(shared_data, len(CAMERAS)), CAMERAS)):
            cameras.register(store, camera_id)
            vault_dir = tmp_path / f"vault-{n}"
            with Vault(vault_dir, cameras.pub_path, camera=cameras(camera_id)) as vault:
                sealed[vault.seal(track_result(face))] = camera_id
            sync_vault(vault_dir, store, cameras(camera_id))
        out = tmp_path / "out"
        opened = open_from(store, share_paths(folder)[:2], folder / "keystore", "case 15/1", out,
                           selection=Selection(camera_ids=CAMERAS))
    assert {o.row.record_id for o in opened} == set(sealed)
    found = {path.name: path.parent.name for path in out.glob("*/*") if path.is_dir()}
    assert found == sealed  # each record under its own camera's folder, and under no other
    assert sorted(p.name for p in out.iterdir()) == sorted(CAMERAS)
