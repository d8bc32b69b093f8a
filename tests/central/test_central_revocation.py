"""Revocation of a camera key at the central store (review round 10c's plan, built in session 19).

cam-a's key is stolen: the authority revokes it from the theft's time (``facesel authority
revoke-camera``), which re-signs ``authority.pub``. Then ``receive`` refuses a record cam-a sealed
at or after that time once the store's copy learns it (``central init --authority``), and every
reader that trusts records (``open_from``, the desk's central search, ``central list
--authority``) refuses such a record already in the store; a record sealed before the time stays
valid, even when it arrives later. On main there was no way to revoke a key: each of these took
the thief's records as cam-a's.

Real PostgreSQL server, real vault and camera key; a FakeClock dates the seals an hour apart.
"""

from __future__ import annotations

import threading
import time

import pytest
from central_common import facesel, keys_of
from facesel.central import Selection
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.review.bundle import build_bundle
from facesel.review.catalog import Filters
from facesel.review.central_open import open_central
from facesel.review.sources import CentralSource
from facesel.vault import Vault
from facesel.vault.errors import RecordError
from facesel.review.verify_bundle import BundleError, verify_bundle
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.shares import reconstruct_master
from facesel.vault.store import record_path
from test_vault_common import FakeClock, orl_faces, share_paths, track_result

HOUR = 3600.0
REVOKED = "signed with a key the authority revoked (from"


@pytest.fixture
def sealed(central_dsn, authority, cameras, tmp_path, shared_data):
    """Three records of cam-a sealed 3, 2 and 1 hours ago, and the store made with the authority's
    file that registered cam-a: {"early" | "middle" | "late": (record id, bytes)}, and the time
    between "middle" and "late" (1.5 hours ago) from which the tests revoke cam-a's key."""
    clock = FakeClock(time.time() - 3 * HOUR)
    out = {}
    with Vault(tmp_path / "cam-a", cameras.pub_path, camera=cameras("cam-a"), clock=clock, elapsed=clock) as vault:
        for name, face in zip(("early", "middle", "late"), orl_faces(shared_data, 3)):
            record_id = vault.seal(track_result(face))
            out[name] = (record_id, record_path(tmp_path / "cam-a", record_id).read_bytes())
            clock.advance(HOUR)
    with PostgresVault.create(central_dsn, AuthorityPublic.load(cameras.pub_path)) as store:
        cameras.register(store, "cam-a")
    return out, time.time() - 1.5 * HOUR


def _revoke(authority_dir, since: float) -> None:
    done = facesel("authority", "revoke-camera", "--dir", str(authority_dir), "--camera", "cam-a", "--from",
                   repr(since), "--share", str(share_paths(authority_dir)[0]), "--share",
                   str(share_paths(authority_dir)[1]))
    assert done.returncode == 0, done.stderr


def test_receive_refuses_records_sealed_after_the_revocation_once_the_store_learns_it(central_dsn, authority,
                                                                                     sealed):
    records, since = sealed
    with PostgresVault(central_dsn) as store:
        assert [a.status for a in store.receive([records["early"][1]])] == ["stored"]
    _revoke(authority[1], since)
    done = facesel("central", "init", "--central", central_dsn, "--authority", str(authority[1] / "authority.pub"))
    assert done.returncode == 0, done.stderr
    with PostgresVault(central_dsn) as store:
        assert store.authority.revoked_from("cam-a") == since  # the store's copy learnt it
        middle, late = store.receive([records["middle"][1], records["late"][1]])
        assert (middle.record_id, middle.status) == (records["middle"][0], "stored")  # sealed before: valid
        assert (late.record_id, late.status) == (records["late"][0], "rejected")
        assert f"record {late.record_id}: sealed at" in late.reason and REVOKED in late.reason, late.reason
        assert sorted(r.record_id for r in store.rows()) == sorted([records["early"][0], records["middle"][0]])


def test_readers_refuse_a_revoked_record_already_in_the_store(central_dsn, authority, sealed, tmp_path):
    """The thief's record arrived before the revocation (or the store's copy was never renewed): the
    opening, the desk and the checked listing take the authority's own newer file and refuse it."""
    records, since = sealed
    with PostgresVault(central_dsn) as store:
        assert [a.status for a in store.receive([r for _, r in records.values()])] == ["stored"] * 3
    _revoke(authority[1], since)
    late = records["late"][0]
    folder = authority[1]
    out = tmp_path / "out"
    # All three arrived now, after the time the key is revoked from: since review round 11 the
    # opening asks for allow_after_revocation to open any of them (test_central_late_arrival.py);
    # the record sealed after that time is refused even so.
    with PostgresVault(central_dsn) as store:
        with pytest.raises(RecordError, match=f"record {late}: sealed at .* {REVOKED.replace('(', '[(]')}"):
            open_from(store, share_paths(folder)[:2], folder / "keystore", "case 19/1", out,
                      selection=Selection(camera_ids=("cam-a",)), allow_after_revocation=True)
    assert not out.exists()  # refused before anything was decrypted
    with PostgresVault(central_dsn) as store:  # the records sealed before the revocation still open
        opened = open_from(store, share_paths(folder)[:2], folder / "keystore", "case 19/2", out,
                           selection=Selection(camera_ids=("cam-a",), end=since - 1.0), allow_after_revocation=True)
    assert sorted(o.row.record_id for o in opened) == sorted([records["early"][0], records["middle"][0]])

    source = CentralSource(central_dsn, Keystore(folder / "keystore"))
    try:
        found = source.search(Filters(camera="cam-a"))
    finally:
        source.close()
    assert late not in [f.row.record_id for f in found.records]
    assert any(late in problem and REVOKED in problem for problem in found.problems), found.problems

    done = facesel("central", "list", "--central", central_dsn, "--authority", str(folder / "authority.pub"))
    assert done.returncode == 1
    assert f"REJECTED record {late}: sealed at" in done.stderr and REVOKED in done.stderr, done.stderr
    assert late not in done.stdout and records["early"][0] in done.stdout


def test_verify_bundle_refuses_a_central_bundle_of_a_record_sealed_after_the_revocation(central_dsn, authority,
                                                                                       sealed, tmp_path):
    """The bundle was exported (from the central store, by the desk's opening) before the theft was
    known: its own authority.pub has no revocation. The later file given to the verifier refuses it."""
    records, since = sealed
    folder = authority[1]
    keystore = Keystore(folder / "keystore")
    with PostgresVault(central_dsn) as store:
        store.receive([r for _, r in records.values()])
        master, used = reconstruct_master(share_paths(folder)[:2], keystore, None)
        opening = open_central(store, threading.Lock(), keystore, master, used, keys_of(store, records["late"][0]),
                               "case 19/3", "court order", "investigator")
        bundle = tmp_path / "central.zip"
        bundle.write_bytes(build_bundle(opening))
    pin = AuthorityPublic.load(folder / "authority.pub").fingerprint
    assert verify_bundle(bundle, pin=pin).records == [records["late"][0]]
    _revoke(folder, since)
    newer = AuthorityPublic.load(folder / "authority.pub")
    with pytest.raises(BundleError, match=f"record {records['late'][0]}: sealed at .* {REVOKED.replace('(', '[(]')}"):
        verify_bundle(bundle, pin=pin, newer=newer)
    done = facesel("verify-bundle", str(bundle), "--fingerprint", pin, "--authority", str(folder / "authority.pub"))
    assert done.returncode == 1 and "NOT VERIFIED" in done.stdout and REVOKED in done.stdout, done.stdout
