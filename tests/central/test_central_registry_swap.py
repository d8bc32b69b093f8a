"""Review round 10b, finding 5: the cameras' keys an opening trusted were the store's word.

The central store keeps a ``cameras`` table (camera id, public key), and an opening checked each
record's signature under the key in that table. The tables' owner may rewrite it (triggers
disabled, as the owner may): they put a key of their own in place of cam-a's, sealed a record of
their making (any face, to the authority's public epoch key) as "cam-a", signed it with their key
and delivered it like any camera (the store accepted it: its table agreed). ``central open`` and
the desk then decrypted it and showed it as cam-a's record, and logged its opening under the
authority's key; cam-a's genuine records were refused instead. A camera registered only in the
table (one the authority never registered) was accepted the same way. Now an opening takes the
cameras' keys from the authority's signed ``authority.pub`` only.

Finding 6, the last test: the rest of what the vault's opening checks of a record (its seal time
inside its epoch's window, not ahead of the clock) was not checked by a central opening.
"""

from __future__ import annotations

import hashlib
import json
import time

import nacl.signing
import pytest
from facesel.central import Selection
from facesel.central.anchors import authority_problems
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.review.catalog import Filters
from facesel.review.central_open import open_central
from facesel.review.sources import CentralSource
from facesel.vault import Vault
from facesel.vault.errors import RecordError
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.payload import encode_snapshot
from facesel.vault.record import make_header, new_record_id, seal_record
from facesel.vault.shares import reconstruct_master
from facesel.vault.signing import Signer
from central_common import keys_of
from hostile_store import as_owner
from test_vault_common import orl_faces, share_paths, track_result


def _forge(pub_path, camera_id: str, face, key: nacl.signing.SigningKey) -> tuple[str, bytes]:
    """A record of ``face`` "from" ``camera_id``, sealed to the authority's public epoch key and signed
    by ``key``: what anyone holding authority.pub and a key of their own can make."""
    authority = AuthorityPublic.load(pub_path)
    now = time.time()
    epoch = authority.epoch_for(now)
    record_id = new_record_id()
    header = make_header(record_id, authority.authority_id, epoch.epoch_id, camera_id, now)
    payload = encode_snapshot(track_result(face), record_id)
    return record_id, seal_record(header, payload, epoch.public_key, Signer(f"camera:{camera_id}", key))


@pytest.fixture
def swapped(central_dsn, authority, cameras, tmp_path, shared_data):
    """cam-a's genuine record forwarded; then the owner's key put in cam-a's row of the table, a
    phantom camera cam-z added to it, and a forged record of each delivered: (genuine, forged, phantom)."""
    pub, _ = authority
    faces = orl_faces(shared_data, 3)
    with PostgresVault.create(central_dsn, pub) as store:
        cameras.register(store, "cam-a")
        with Vault(tmp_path / "cam-a", cameras.pub_path, camera=cameras("cam-a")) as vault:
            genuine = vault.seal(track_result(faces[0]))
        sync_vault(tmp_path / "cam-a", store, cameras("cam-a"))
    owner_key = nacl.signing.SigningKey.generate()
    as_owner(central_dsn,
             ("UPDATE cameras SET public_key = %s WHERE camera_id = 'cam-a'", (bytes(owner_key.verify_key),)),
             ("INSERT INTO cameras VALUES ('cam-z', %s, 0, '')", (bytes(owner_key.verify_key),)))
    forged, forged_bytes = _forge(cameras.pub_path, "cam-a", faces[1], owner_key)
    phantom, phantom_bytes = _forge(cameras.pub_path, "cam-z", faces[2], owner_key)
    with PostgresVault(central_dsn) as store:
        # the store takes them: its table agrees (the camera side's check is the store's word)
        assert [a.status for a in store.receive([forged_bytes, phantom_bytes])] == ["stored", "stored"]
    return genuine, forged, phantom


def _opens(dsn: str) -> int:
    with PostgresVault(dsn) as store:
        return sum(json.loads(line)["event"] == "open" for line in store.audit_lines())


@pytest.mark.parametrize("which, refusal", [
    ("forged", "the signature of camera 'cam-a' does not match"),
    ("phantom", "camera 'cam-z' is not registered with the authority"),
])
def test_a_record_signed_by_a_key_only_the_store_vouches_for_is_not_opened(central_dsn, authority, swapped,
                                                                          tmp_path, which, refusal):
    _, folder = authority
    record_id = dict(zip(("genuine", "forged", "phantom"), swapped))[which]
    out = tmp_path / "out"
    with PostgresVault(central_dsn) as store, pytest.raises(RecordError, match=refusal):
        open_from(store, share_paths(folder)[:2], folder / "keystore", "case 15/1", out,
                  selection=Selection(record_ids=(record_id,)))
    assert not out.exists() and _opens(central_dsn) == 0


def test_the_genuine_record_still_opens_whatever_the_table_says(central_dsn, authority, swapped, tmp_path):
    _, folder = authority
    genuine = swapped[0]
    with PostgresVault(central_dsn) as store:
        opened = open_from(store, share_paths(folder)[:2], folder / "keystore", "case 15/1", tmp_path / "out",
                           selection=Selection(record_ids=(genuine,)))
    assert [(o.row.record_id, o.header["camera_id"]) for o in opened] == [(genuine, "cam-a")]


def test_the_desk_lists_only_the_genuine_record_and_will_not_open_the_forged_one(central_dsn, authority, swapped):
    genuine, forged, phantom = swapped
    _, folder = authority
    keystore = Keystore(folder / "keystore")
    source = CentralSource(central_dsn, keystore)
    try:
        found = source.search(Filters())
        assert [f.row.record_id for f in found.records] == [genuine]
        assert {p.split(":")[0] for p in found.problems} == {f"record {forged}", f"record {phantom}"}, found.problems
        master, used = reconstruct_master(share_paths(folder)[:2], keystore, None)
        with pytest.raises(RecordError, match="does not match"):
            open_central(source.store, source.lock, keystore, master, used, keys_of(source.store, forged), "case 15/1",
                         "court order", "investigator")
    finally:
        source.close()
    assert _opens(central_dsn) == 0


def test_central_audit_names_a_camera_key_the_table_swapped(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, folder = authority
    with PostgresVault.create(central_dsn, pub) as store:
        cameras.register(store, "cam-a", "cam-b")  # enrols them with the authority first
        trusted = AuthorityPublic.load(folder / "authority.pub")
        assert authority_problems(store, trusted, None) == (0, [])
    as_owner(central_dsn, ("UPDATE cameras SET public_key = %s WHERE camera_id = 'cam-a'",
                           (bytes(nacl.signing.SigningKey.generate().verify_key),)))
    with PostgresVault(central_dsn) as store:
        _, problems = authority_problems(store, trusted, None)
    assert len(problems) == 1 and problems[0].startswith("camera 'cam-a': the store's cameras table holds another key")


DAY = 86400.0


@pytest.mark.parametrize("dating, refusal", [
    ("outside-its-epoch", "does not contain that time"),
    ("a-day-ahead", "ahead of now"),
])
def test_a_record_receive_would_refuse_inserted_by_the_owner_is_not_opened(central_dsn, authority, cameras,
                                                                         tmp_path, shared_data, dating, refusal):
    """The rest of what the vault's opening checks (``check_seal_time``): a record sealed by the real
    camera key (a rogue holder of it) to an epoch that does not contain its seal time (so that it
    outlives that epoch's shred), or dated a day ahead (so that it outlives its retention).
    ``receive`` refuses both; the tables' owner inserted them past it, and an opening took them."""
    pub, folder = authority
    with PostgresVault.create(central_dsn, pub) as store:
        cameras.register(store, "cam-a")
    camera = cameras("cam-a")
    trusted = AuthorityPublic.load(cameras.pub_path)
    now = time.time()
    sealed_at = now + DAY if dating == "a-day-ahead" else now
    epoch = trusted.epoch_for(sealed_at + (DAY if dating == "outside-its-epoch" else 0.0))
    record_id = new_record_id()
    header = make_header(record_id, trusted.authority_id, epoch.epoch_id, "cam-a", sealed_at)
    data = seal_record(header, encode_snapshot(track_result(orl_faces(shared_data, 1)[0]), record_id),
                       epoch.public_key, camera.signer)
    with PostgresVault(central_dsn) as store:
        assert [a.status for a in store.receive([data])] == ["rejected"]  # the camera side's check holds
    as_owner(central_dsn, ("INSERT INTO records (record_id, camera_id, epoch_id, sealed_at, first_timestamp, "
                           "last_timestamp, quality, track_id, size, sha256, received_at, data) "
                           "VALUES (%s, 'cam-a', %s, %s, NULL, NULL, NULL, NULL, %s, %s, %s, %s)",
                           (record_id, epoch.epoch_id, sealed_at, len(data), hashlib.sha256(data).hexdigest(), now,
                            data)))
    out = tmp_path / "out"
    with PostgresVault(central_dsn) as store, pytest.raises(RecordError, match=refusal):
        open_from(store, share_paths(folder)[:2], folder / "keystore", "case 15/1", out,
                  selection=Selection(record_ids=(record_id,)))
    assert not out.exists() and _opens(central_dsn) == 0
