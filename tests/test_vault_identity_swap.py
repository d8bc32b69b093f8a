"""Review 8, finding 3: another vault's ``vault.json`` put in place hid a rolled-back log.

The camera's anchor of its log (review 7, finding 3) is kept beside its key under the vault's id,
which ``vault.json`` names. ``vault.json`` is signed by the camera, but nothing tied it to the
folder or to the log: the ``vault-created`` entry does not name the id, nor do records. A camera
key that ever made another vault (a test vault at installation, made with a copy of the key, or
an earlier vault the operator replaced) signed another ``vault.json``. A writer of the vault folder
who holds that file and an older copy of the log puts both in place and deletes the record sealed
since: the camera looked for the other id's anchor, found none beside its key, and started on the
rolled-back log without a word. Now the camera also remembers, beside its key, which vault id each
of its vault folders holds, and refuses a folder whose ``vault.json`` names another.
"""

from __future__ import annotations

import logging
import shutil

import pytest
from facesel.vault import Vault
from facesel.vault.errors import AuditError
from facesel.vault.store import record_path
from test_vault_common import T0, FakeClock, camera_dir, orl_faces, sealed_vault, track_result, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 2)


def _key_copy(adir, where):
    """The camera's key and public file copied to another folder (owner-only, as the installer's copy)."""
    where.mkdir(mode=0o700)
    for name in ("camera.key", "camera.pub"):
        shutil.copy2(camera_dir(adir) / name, where / name)
    return where


def test_another_vaults_identity_cannot_hide_a_rolled_back_log(tmp_path, faces):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces[:1])
    # At installation the same key, copied, made a test vault elsewhere: a vault.json it signed.
    copy = _key_copy(adir, tmp_path / "key-copy")
    clock = FakeClock(T0)
    with Vault(tmp_path / "test-vault", adir / "authority.pub", camera=copy, clock=clock, elapsed=clock):
        pass
    other_identity = (tmp_path / "test-vault" / "vault.json").read_bytes()
    saved = {name: (vault_dir / name).read_bytes() for name in ("audit.log", "audit.log.head")}
    clock = FakeClock(T0 + 3 * 3600)
    with vault_at(vault_dir, adir, clock=clock) as vault:
        clock.advance(60)
        fresh = vault.seal(track_result(faces[1], track_id=7))
    # The attack: no key; the vault folder, an older copy of its log and the test vault's vault.json.
    for name, data in saved.items():
        (vault_dir / name).write_bytes(data)
    record_path(vault_dir, fresh).unlink()
    (vault_dir / "vault.json").write_bytes(other_identity)
    with pytest.raises(AuditError, match="vault.json names vault .* but this camera's vault at .* is vault"):
        with vault_at(vault_dir, adir, clock=FakeClock(T0 + 4 * 3600)):
            pass


def test_a_vault_made_again_in_the_same_folder_is_taken_with_a_warning(tmp_path, faces, caplog):
    """Deleting a vault folder and starting again there is the operator's to do (the deletion
    loses the evidence, and is no secret way to do so): the new vault is bound to the folder, and
    the log says which vault was there before."""
    adir, vault_dir, ids = sealed_vault(tmp_path, faces[:1])
    shutil.rmtree(vault_dir)
    with caplog.at_level(logging.WARNING, logger="facesel.vault"):
        with vault_at(vault_dir, adir, clock=FakeClock(T0 + 3600)):
            pass
    assert any("was vault" in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + 7200)) as vault:  # and it starts again as usual
        assert ids[0] not in vault.index.ids()
