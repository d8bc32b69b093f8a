"""The PostgreSQL central store: schema migrations, idempotent arrivals, registry, append-only log."""

from __future__ import annotations

import hashlib
import time

import psycopg
import pytest
from facesel.central import Selection
from facesel.central.pg_backend import PostgresVault
from facesel.central.pg_schema import LATEST, MIGRATIONS, migrate
from facesel.vault import Vault
from facesel.vault.store import record_path
from test_vault_common import DAY, FakeClock, orl_faces, track_result

NOW = float(int(time.time()))  # inside the authority fixture's epochs


def _seal(tmp_path, cameras, shared_data, camera_id, count, clock=None, name=None):
    """Seal ``count`` real ORL faces in a vault of camera ``camera_id`` (enrolled with ``cameras``'
    authority); return (vault folder, record bytes list)."""
    folder = tmp_path / (name or camera_id)
    clock = clock or FakeClock(NOW)
    with Vault(folder, cameras.pub_path, camera=cameras(camera_id), clock=clock) as vault:
        ids = [vault.seal(track_result(face, track_id=i)) for i, face in enumerate(orl_faces(shared_data, count))]
    return folder, [record_path(folder, rid).read_bytes() for rid in ids]


def test_migrations_apply_once_in_order_and_refuse_a_newer_schema(central_dsn, authority):
    pub, _ = authority
    store = PostgresVault.create(central_dsn, pub, clock=FakeClock(NOW))
    store.close()
    with psycopg.connect(central_dsn, autocommit=True) as conn:
        assert [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")] == \
            [v for v, _, _ in MIGRATIONS]
        assert migrate(conn) == []  # a second run applies nothing
        conn.execute("INSERT INTO schema_version VALUES (%s, 'from the future', 0)", (LATEST + 1,))
        with pytest.raises(RuntimeError, match="does not know"):
            migrate(conn)
    with pytest.raises(RuntimeError, match="newer than this facesel"):
        PostgresVault(central_dsn)


def test_an_uninitialised_database_is_refused(central_dsn):
    with pytest.raises(RuntimeError, match="not initialised"):
        PostgresVault(central_dsn)


def test_another_authority_is_refused(central_dsn, authority, tmp_path):
    from test_vault_common import make_authority

    pub, _ = authority
    PostgresVault.create(central_dsn, pub).close()
    other, _ = make_authority(tmp_path / "other", start=NOW - DAY)
    with pytest.raises(ValueError, match="belongs to authority"):
        PostgresVault.create(central_dsn, other)


def test_arrivals_are_idempotent_by_record_id(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    _, blobs = _seal(tmp_path, cameras, shared_data, "cam-a", 3)
    with PostgresVault.create(central_dsn, pub, clock=FakeClock(NOW)) as store:
        cameras.register(store, "cam-a")
        assert [a.status for a in store.receive(blobs)] == ["stored"] * 3
        assert [a.status for a in store.receive(blobs[1:] + blobs[:1])] == ["duplicate"] * 3
        assert len(store.rows()) == 3
        received = [line for line in store.audit_lines() if '"event":"received"' in line]
        assert len(received) == 3  # a redelivery logs nothing new
        assert store.verify_audit().ok


def test_unknown_camera_and_foreign_authority_are_rejected_and_logged(central_dsn, authority, cameras, tmp_path,
                                                                      shared_data):
    from central_common import Cameras
    from test_vault_common import make_authority

    pub, _ = authority
    _, blobs = _seal(tmp_path, cameras, shared_data, "cam-unknown", 1)
    _, other_dir = make_authority(tmp_path / "other", start=NOW - DAY)
    _, foreign = _seal(tmp_path, Cameras(other_dir, tmp_path / "other-keys"), shared_data, "cam-a", 1, name="foreign")
    with PostgresVault.create(central_dsn, pub, clock=FakeClock(NOW)) as store:
        cameras.register(store, "cam-a")
        arrivals = store.receive(blobs + foreign)
        assert [a.status for a in arrivals] == ["rejected", "rejected"]
        assert "not registered" in arrivals[0].reason and "sealed for authority" in arrivals[1].reason
        assert store.rows() == []
        assert sum('"event":"rejected"' in line for line in store.audit_lines()) == 2
        cameras.register(store, "cam-unknown")  # registered later: accepted from then on
        assert [a.status for a in store.receive(blobs)] == ["stored"]


def test_a_corrupted_record_is_rejected_on_arrival(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    _, blobs = _seal(tmp_path, cameras, shared_data, "cam-a", 1)
    damaged = bytearray(blobs[0])
    damaged[len(damaged) // 2] ^= 0x01
    with PostgresVault.create(central_dsn, pub, clock=FakeClock(NOW)) as store:
        cameras.register(store, "cam-a")
        arrival, = store.receive([bytes(damaged)])
        assert arrival.status == "rejected" and "checksum" in arrival.reason
        assert store.rows() == []


def test_listing_filters_by_camera_and_time_window(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    clock = FakeClock(NOW)
    _, a = _seal(tmp_path, cameras, shared_data, "cam-a", 2, clock)
    clock.advance(3600)
    _, b = _seal(tmp_path, cameras, shared_data, "cam-b", 2, clock)
    with PostgresVault.create(central_dsn, pub, clock=clock) as store:
        cameras.register(store, "cam-a", "cam-b")
        store.receive(a + b)
        assert {r.camera_id for r in store.rows()} == {"cam-a", "cam-b"}
        assert [r.camera_id for r in store.rows(Selection(camera_ids=("cam-b",)))] == ["cam-b", "cam-b"]
        early = store.rows(Selection(end=NOW + 1800))
        assert {r.camera_id for r in early} == {"cam-a"} and len(early) == 2
        assert store.rows(Selection(camera_ids=("cam-a",), start=NOW + 1800)) == []


def test_retention_purges_centrally_and_a_late_copy_cannot_return(central_dsn, authority, cameras, tmp_path,
                                                                  shared_data):
    pub, _ = authority
    clock = FakeClock(NOW)
    _, blobs = _seal(tmp_path, cameras, shared_data, "cam-a", 2, clock)
    with PostgresVault.create(central_dsn, pub, clock=clock) as store:
        cameras.register(store, "cam-a")
        store.receive(blobs[:1])
        clock.advance(pub.retention_seconds - DAY)
        assert store.purge() == 0
        clock.advance(2 * DAY)
        assert store.purge() == 1
        assert store.rows() == []
        # Copies arriving late (a camera that was offline for the whole retention period) stay out.
        assert [a.status for a in store.receive(blobs)] == ["expired", "expired"]
        assert store.rows() == []
        assert store.verify_audit().ok


def test_the_database_refuses_to_rewrite_the_log_or_records(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    _, blobs = _seal(tmp_path, cameras, shared_data, "cam-a", 1)
    with PostgresVault.create(central_dsn, pub) as store:
        cameras.register(store, "cam-a")
        store.receive(blobs)
    with psycopg.connect(central_dsn, autocommit=True) as conn:
        for sql in ("UPDATE audit SET event = 'x' WHERE seq = 0", "DELETE FROM audit", "TRUNCATE audit",
                    "UPDATE records SET camera_id = 'cam-b'", "UPDATE records SET data = 'x'::bytea",
                    "DELETE FROM records"):
            with pytest.raises(psycopg.errors.RaiseException, match="not allowed|immutable"):
                conn.execute(sql)


def test_audit_verify_finds_an_edited_entry(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    _, blobs = _seal(tmp_path, cameras, shared_data, "cam-a", 2)
    with PostgresVault.create(central_dsn, pub) as store:
        cameras.register(store, "cam-a")
        store.receive(blobs)
        head = store.verify_audit()
        assert head.ok and head.entries == 4  # created, registered, 2 received
    with psycopg.connect(central_dsn, autocommit=True) as conn:
        # A database owner can switch the guard off; the hash chain still tells.
        conn.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        conn.execute("UPDATE audit SET line = replace(line, 'cam-a', 'cam-z') WHERE seq = 2")
    with PostgresVault(central_dsn) as store:
        result = store.verify_audit()
        assert not result.ok and result.kind == "edited" and "seq 2" in result.message
        assert not store.verify_audit(expect=(head.head_seq, "0" * 64)).ok


def test_many_clients_initialising_at_once_migrate_once(central_dsn, authority):
    from concurrent.futures import ThreadPoolExecutor

    pub, _ = authority

    def create(_):
        with PostgresVault.create(central_dsn, pub) as store:
            return store.store_id

    with ThreadPoolExecutor(6) as pool:
        store_ids = set(pool.map(create, range(6)))
    assert len(store_ids) == 1
    with PostgresVault(central_dsn) as store:
        events = [line for line in store.audit_lines() if '"event":"central-created"' in line]
        assert len(events) == 1 and store.verify_audit().ok


def _with_checksum(body: bytes) -> bytes:
    return body + hashlib.blake2b(body, digest_size=32).digest()


def test_a_record_signed_by_another_camera_is_rejected(central_dsn, authority, cameras, tmp_path, shared_data):
    """Both cameras are genuine and registered; cam-b re-signs cam-a's record (or makes one that names
    cam-a). The checksum is valid: only the signature check against cam-a's key can tell."""
    pub, _ = authority
    _, (record,) = _seal(tmp_path, cameras, shared_data, "cam-a", 1)
    body = record[:-(64 + 32)]
    resigned = _with_checksum(body + cameras("cam-b").key.sign(body).signature)
    with PostgresVault.create(central_dsn, pub, clock=FakeClock(NOW)) as store:
        cameras.register(store, "cam-a", "cam-b")
        arrival, = store.receive([resigned])
        assert arrival.status == "rejected" and "signature of camera 'cam-a' does not match" in arrival.reason
        assert store.rows() == []
        assert [a.status for a in store.receive([record])] == ["stored"]  # the genuine one is accepted


def test_a_camera_enrolled_with_the_authority_but_not_the_store_is_rejected(central_dsn, authority, cameras, tmp_path,
                                                                           shared_data):
    pub, _ = authority
    _, (record,) = _seal(tmp_path, cameras, shared_data, "cam-x", 1)  # a valid signature by a real camera
    with PostgresVault.create(central_dsn, pub, clock=FakeClock(NOW)) as store:
        cameras.register(store, "cam-a")
        arrival, = store.receive([record])
        assert arrival.status == "rejected" and "'cam-x' is not registered with this store" in arrival.reason
        # Registering cam-x under cam-a's key does not make cam-x's records acceptable either.
        store.register_camera("cam-x", cameras("cam-a").public.public_key)
        arrival, = store.receive([record])
        assert arrival.status == "rejected" and "signature of camera 'cam-x' does not match" in arrival.reason


def test_a_tampered_signature_is_rejected(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    _, (record,) = _seal(tmp_path, cameras, shared_data, "cam-a", 1)
    damaged = bytearray(record[:-32])
    damaged[-10] ^= 0x04  # inside the 64-byte signature
    with PostgresVault.create(central_dsn, pub, clock=FakeClock(NOW)) as store:
        cameras.register(store, "cam-a")
        arrival, = store.receive([_with_checksum(bytes(damaged))])
        assert arrival.status == "rejected" and "signature of camera 'cam-a' does not match" in arrival.reason
        assert store.rows() == [] and sum('"event":"rejected"' in line for line in store.audit_lines()) == 1


def test_the_registry_holds_one_ed25519_key_per_camera(central_dsn, authority, cameras):
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        key = cameras("cam-a").public.public_key
        assert store.register_camera("cam-a", key) is True
        assert store.register_camera("cam-a", key) is False
        with pytest.raises(ValueError, match="another public key"):
            store.register_camera("cam-a", cameras("cam-b").public.public_key)
        with pytest.raises(ValueError, match="32-byte"):
            store.register_camera("cam-c", key[:31])
        with pytest.raises(ValueError, match="camera id"):
            store.register_camera("cam a/../", key)
        assert [(c.camera_id, c.public_key) for c in store.cameras()] == [("cam-a", key)]
        with pytest.raises(ValueError, match="registered with authority"):  # cam-1: in the store's authority.pub
            store.register_camera("cam-1", key)
    with psycopg.connect(central_dsn, autocommit=True) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO cameras (camera_id, public_key, registered_at) VALUES ('cam-d', 'x'::bytea, 0)")
