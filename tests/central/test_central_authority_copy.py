"""Review round 11 (attack20's open item, fixed by the lead): the store's copy of authority.pub.

``central init --authority FILE`` renews the store's copy when FILE is re-signed by the same key with
a higher serial (or adds epochs), and every reader without ``--authority`` (``receive``, ``central
list``) trusts that copy. On main a file was taken as soon as it had a higher serial or more epochs:
a file the authority's key signed without a revocation (made by whoever holds K shares, or an older
genuine file re-signed before round 11's rollback check) replaced a copy that held the revocation,
and the store took the stolen key's records again. Now the copy is replaced only by a file a camera
would accept as its extension (:func:`facesel.vault.keys.check_extension`: the same key, no lower
serial, every epoch and revocation kept).

Real PostgreSQL server (the ``central_dsn`` fixture), a real authority folder and its shares.
"""

from __future__ import annotations

import time
from dataclasses import replace

from central_common import facesel
from facesel.central.pg_backend import PostgresVault
from facesel.vault.keys import AuthorityPublic, Keystore
from test_vault_common import master_of, share_paths

HOUR = 3600.0


def _revoke(folder, camera: str, since: float) -> None:
    done = facesel("authority", "revoke-camera", "--dir", str(folder), "--camera", camera, "--from", repr(since),
                   "--share", str(share_paths(folder)[0]), "--share", str(share_paths(folder)[1]))
    assert done.returncode == 0, done.stderr


def _init(dsn: str, pub_path) -> object:
    return facesel("central", "init", "--central", dsn, "--authority", str(pub_path))


def test_a_resigned_file_without_the_revocation_does_not_replace_the_stores_copy(central_dsn, authority, cameras,
                                                                                tmp_path):
    folder = authority[1]
    cameras("cam-a")
    since = time.time() - HOUR
    _revoke(folder, "cam-a", since)
    assert _init(central_dsn, folder / "authority.pub").returncode == 0
    with PostgresVault(central_dsn) as store:
        assert store.authority.revoked_from("cam-a") == since
    revoked = AuthorityPublic.load(folder / "authority.pub")
    # The same authority key signs a file with a higher serial and no revocation.
    forged = replace(revoked, revocations=(), serial=revoked.serial + 1).signed_by(
        Keystore(folder / "keystore").signer(master_of(folder)))
    forged.save(tmp_path / "forged.pub")
    assert AuthorityPublic.load(tmp_path / "forged.pub").revoked_from("cam-a") is None  # a valid signed file

    done = _init(central_dsn, tmp_path / "forged.pub")
    assert done.returncode != 0
    assert "drops or postpones the revocation of camera(s) ['cam-a']" in done.stderr, done.stderr
    with PostgresVault(central_dsn) as store:
        assert store.authority.revoked_from("cam-a") == since  # the copy keeps the revocation
        assert store.authority.serial == revoked.serial


def test_the_authoritys_genuine_newer_file_still_renews_the_copy(central_dsn, authority, cameras):
    folder = authority[1]
    assert _init(central_dsn, folder / "authority.pub").returncode == 0
    cameras("cam-a")  # registered after the store was made: a higher serial, every revocation kept
    _revoke(folder, "cam-a", time.time() - HOUR)
    done = _init(central_dsn, folder / "authority.pub")
    assert done.returncode == 0, done.stderr
    with PostgresVault(central_dsn) as store:
        assert store.authority.serial == AuthorityPublic.load(folder / "authority.pub").serial
        assert store.authority.revoked_from("cam-a") is not None
