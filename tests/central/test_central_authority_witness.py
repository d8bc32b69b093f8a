"""The central store as a witness of the authority's folder (session 21, witness22).

The whole authority folder put back to a copy from before a ``revoke-camera`` (``authority.pub``,
``audit.log`` and its head: consistent, genuinely signed, no key needed) lost the revocation. The
store keeps a copy of ``authority.pub``: once it has learnt the revocation (``central init``), a
higher serial than the folder's proves the folder older. On main ``central init`` with the older
file said "ready" and ``central open`` took the store's copy without a word; now both refuse, naming
both serials. A store that never learnt it is covered by the explicit witness
(``facesel authority head --out FILE``, ``--expect-authority FILE``).

Real PostgreSQL server (the ``central_dsn`` fixture), a real authority folder, vault and shares.
"""

from __future__ import annotations

import shutil
import time

import pytest
from central_common import facesel
from facesel.central.pg_backend import PostgresVault
from facesel.vault import Vault
from facesel.vault.keys import AuthorityPublic
from test_vault_common import FakeClock, orl_faces, share_paths, track_result
from facesel.vault.store import record_path

HOUR = 3600.0


@pytest.fixture
def stored(central_dsn, authority, cameras, tmp_path, shared_data):
    """cam-a's record sealed an hour ago, in the store; a copy of the authority folder taken then
    (``tmp_path/old-authority``); cam-a then revoked from now. Returns the record id."""
    clock = FakeClock(time.time() - HOUR)
    with Vault(tmp_path / "cam-a", cameras.pub_path, camera=cameras("cam-a"), clock=clock, elapsed=clock) as vault:
        record_id = vault.seal(track_result(orl_faces(shared_data, 1)[0]))
    with PostgresVault.create(central_dsn, AuthorityPublic.load(cameras.pub_path)) as store:
        cameras.register(store, "cam-a")
        assert [a.status for a in store.receive([record_path(tmp_path / "cam-a", record_id).read_bytes()])] == \
            ["stored"]
    folder = authority[1]
    shutil.copytree(folder, tmp_path / "old-authority")
    done = facesel("authority", "revoke-camera", "--dir", str(folder), "--camera", "cam-a", "--from",
                   repr(time.time()), "--share", str(share_paths(folder)[0]), "--share", str(share_paths(folder)[1]))
    assert done.returncode == 0, done.stderr
    return record_id


def _put_back(tmp_path, folder):
    shutil.rmtree(folder)
    shutil.copytree(tmp_path / "old-authority", folder)


def _open(dsn, folder, record_id, out, *extra):
    return facesel("central", "open", "--central", dsn, record_id, "--share", str(share_paths(folder)[0]),
                   "--share", str(share_paths(folder)[1]), "--reason", "case 7", "--out", str(out), *extra)


def test_a_store_that_learnt_the_revocation_refuses_the_folder_put_back(central_dsn, authority, stored, tmp_path):
    folder = authority[1]
    revoked = AuthorityPublic.load(folder / "authority.pub")
    done = facesel("central", "init", "--central", central_dsn, "--authority", str(folder / "authority.pub"))
    assert done.returncode == 0, done.stderr  # the store's copy learns the revocation
    _put_back(tmp_path, folder)

    done = facesel("central", "init", "--central", central_dsn, "--authority", str(folder / "authority.pub"))
    assert done.returncode != 0, done.stdout
    assert f"serial {revoked.serial - 1}" in done.stderr and f"is serial {revoked.serial}" in done.stderr, done.stderr
    assert "the central store's copy" in done.stderr and "put back to an older copy" in done.stderr, done.stderr

    done = _open(central_dsn, folder, stored, tmp_path / "out")
    assert done.returncode != 0 and not (tmp_path / "out").exists(), done.stdout
    assert str(folder / "authority.pub") in done.stderr and "the central store's copy" in done.stderr, done.stderr
    with PostgresVault(central_dsn) as store:
        assert store.authority.revoked_from("cam-a") is not None  # the store kept its copy


def test_an_explicit_witness_covers_a_store_that_never_learnt_it(central_dsn, authority, stored, tmp_path):
    folder = authority[1]
    witness = tmp_path / "kept-elsewhere.json"
    done = facesel("authority", "head", "--dir", str(folder), "--out", str(witness))
    assert done.returncode == 0, done.stderr
    shutil.copytree(folder, tmp_path / "current")
    _put_back(tmp_path, folder)

    for done in (facesel("central", "init", "--central", central_dsn, "--authority", str(folder / "authority.pub"),
                         "--expect-authority", str(witness)),
                 _open(central_dsn, folder, stored, tmp_path / "out", "--expect-authority", str(witness))):
        assert done.returncode != 0, done.stdout
        assert f"--expect-authority {witness} witnessed serial" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()
    # The current folder, put in place again, passes the same witness.
    shutil.rmtree(folder)
    shutil.copytree(tmp_path / "current", folder)
    done = _open(central_dsn, folder, stored, tmp_path / "out", "--expect-authority", str(witness))
    assert done.returncode == 0 and "opened 1 record(s)" in done.stdout, done.stderr
