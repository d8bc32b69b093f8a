"""Review round 11, item 1: a record id taken first by another camera's key (round 10b's open item).

Record ids were one namespace for every camera of the central store (``records.record_id`` its
primary key). ``serve`` publishes each new id in its ``track_sealed`` event before ``sync``
forwards the record, so whoever holds another registered camera's key (and the store's camera
credentials) sealed a record of its own under that id and sent it first: stored (its own
signature is valid), and the genuine record was rejected at every sync ("another record with this
id, with different bytes, is stored already"). Schema 5 keys a record by (camera, id), and an
existing store made by the earlier schema is upgraded in place by ``central init``, its rows kept.

Real PostgreSQL server, real camera keys (cam-a, the victim; cam-c, the taken camera).
"""

from __future__ import annotations

import hashlib
import json
import time
import zipfile

import numpy as np
import psycopg
import pytest
from central_common import facesel
from facesel.central import Selection, pg_audit
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.central.pg_schema import MIGRATIONS
from facesel.review.bundle import build_bundle
from facesel.review.catalog import Filters
from facesel.review.sources import CentralSource
from facesel.review.verify_bundle import verify_bundle
from facesel.vault import Vault
from facesel.vault.index import COLUMNS, IndexRow
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.payload import encode_snapshot
from facesel.vault.record import make_header, parse_record, seal_record
from facesel.vault.shares import reconstruct_master
from facesel.vault.store import record_path
from test_vault_common import orl_faces, share_paths, track_result


def _genuine(tmp_path, cameras, face) -> tuple[str, bytes]:
    """cam-a's record of ``face``, sealed in its vault as a camera does: (id, bytes)."""
    with Vault(tmp_path / "cam-a", cameras.pub_path, camera=cameras("cam-a")) as vault:
        record_id = vault.seal(track_result(face))
    return record_id, record_path(tmp_path / "cam-a", record_id).read_bytes()


def _squat(cameras, record_id: str, face) -> bytes:
    """cam-c's own record under ``record_id`` (learnt from cam-a's event), validly signed by cam-c."""
    authority = AuthorityPublic.load(cameras.pub_path)
    now = time.time()
    epoch = authority.epoch_for(now)
    header = make_header(record_id, authority.authority_id, epoch.epoch_id, "cam-c", now)
    return seal_record(header, encode_snapshot(track_result(face), record_id), epoch.public_key,
                       cameras("cam-c").signer)


def test_another_cameras_record_under_the_same_id_no_longer_blocks_the_genuine_one(central_dsn, authority, cameras,
                                                                                   tmp_path, shared_data):
    genuine_face, squat_face = orl_faces(shared_data, 2)
    with PostgresVault.create(central_dsn, AuthorityPublic.load(cameras.pub_path)) as store:
        cameras.register(store, "cam-a", "cam-c")
    record_id, genuine = _genuine(tmp_path, cameras, genuine_face)
    squat = _squat(cameras, record_id, squat_face)
    with PostgresVault(central_dsn) as store:
        assert [a.status for a in store.receive([squat])] == ["stored"]  # first, as the attacker planned
        arrival, = store.receive([genuine])
        assert (arrival.record_id, arrival.status) == (record_id, "stored"), arrival.reason  # main: rejected
        again, = store.receive([genuine])  # a redelivery is still a duplicate, with its own log entry
        assert (again.status, again.central_seq) == ("duplicate", arrival.central_seq)
        assert sorted(r.camera_id for r in store.rows()) == ["cam-a", "cam-c"]
        assert store.read(record_id, "cam-a") == genuine and store.read(record_id, "cam-c") == squat
        assert store.verify_audit().ok and store.records_against_log() == []

        folder = authority[1]
        # An opening by the id alone would open two cameras' records for one authorised: refused.
        with pytest.raises(ValueError, match=f"record {record_id} is held by cameras cam-a, cam-c"):
            open_from(store, share_paths(folder)[:2], folder / "keystore", "case 20/1", tmp_path / "out1",
                      selection=Selection(record_ids=(record_id,)))
        assert not (tmp_path / "out1").exists()
        opened = open_from(store, share_paths(folder)[:2], folder / "keystore", "case 20/2", tmp_path / "out2",
                           selection=Selection(record_ids=(record_id,), camera_ids=("cam-a",)))
        assert [(o.row.camera_id, o.row.record_id) for o in opened] == [("cam-a", record_id)]
        np.testing.assert_array_equal(opened[0].snapshot.crop(), genuine_face)
        assert (tmp_path / "out2" / "cam-a" / record_id / "meta.json").is_file()
    # The desk names records by camera and id (session 21): it lists both, opens either, or both in one
    # opening, and exports them to one bundle that keeps them apart (main: both refused, "held by cameras").
    keystore = Keystore(folder / "keystore")
    source = CentralSource(central_dsn, keystore)
    try:
        found = source.search(Filters())
        assert sorted(f.key for f in found.records) == [f"cam-a/{record_id}", f"cam-c/{record_id}"], found.problems
        assert found.problems == []
        master, used = reconstruct_master(share_paths(folder)[:2], keystore, None)
        one = source.open(keystore, master, used, [("cam-a", record_id)], "case 21/1", "court order", "desk")
        assert [(r.row.camera_id, r.row.record_id) for r in one.records] == [("cam-a", record_id)]
        np.testing.assert_array_equal(one.records[0].snapshot.crop(), genuine_face)
        one.end("test")
        both = source.open(keystore, master, used, [("cam-a", record_id), ("cam-c", record_id)], "case 21/2",
                           "court order", "desk")
        np.testing.assert_array_equal(both.by_key("cam-c", record_id).snapshot.crop(), squat_face)
        assert sorted(both.entry["records"]) == [["cam-a", record_id], ["cam-c", record_id]]  # the log says whose
        bundle = tmp_path / "both.zip"
        bundle.write_bytes(build_bundle(both))
        both.end("test")
    finally:
        source.close()
    report = verify_bundle(bundle, AuthorityPublic.load(folder / "authority.pub").fingerprint)
    assert report.records == [record_id, record_id]
    proven = "\n".join(report.proven)
    assert f"record {record_id}: sealed and signed by camera cam-a" in proven
    assert f"record {record_id}: sealed and signed by camera cam-c" in proven
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
    assert {f"sealed/cam-a/{record_id}.fsr", f"sealed/cam-c/{record_id}.fsr"} <= names
    with PostgresVault(central_dsn) as store:
        # Retention purges each camera's row on its own and logs it with its camera.
        assert store.purge(time.time() + store.authority.retention_seconds + 1, allow_future=True) == 2
        assert store.records_against_log() == [] and store.verify_audit().ok


def _old_schema_store(dsn: str, authority: AuthorityPublic, records: list[bytes]) -> None:
    """A store as main's code made it: migrations 1 to 4 (shipped migrations are never edited, so
    these are main's DDL), bound to ``authority``, each record inserted as main's ``receive`` did
    (received_at from the client's clock, a ``received`` entry of the same fields)."""
    with psycopg.connect(dsn, autocommit=False) as conn:
        with conn.transaction():
            conn.execute("CREATE TABLE schema_version (version integer PRIMARY KEY, name text NOT NULL, "
                         "applied_at double precision NOT NULL)")
            for version, name, sql in MIGRATIONS[:4]:
                conn.execute(sql)
                conn.execute("INSERT INTO schema_version VALUES (%s, %s, %s)", (version, name, time.time()))
            conn.execute("INSERT INTO authority (authority_id, public_json, store_id, created_at) "
                         "VALUES (%s, %s, 'old0store0000000', %s)",
                         (authority.authority_id, json.dumps(authority.to_dict()), time.time()))
            pg_audit.append(conn, time.time(), "central-created", authority_id=authority.authority_id,
                            store_id="old0store0000000", schema_version=4)
            for camera_id, key in authority.cameras:
                conn.execute("INSERT INTO cameras (camera_id, public_key, registered_at) VALUES (%s, %s, %s)",
                             (camera_id, key, time.time()))
            for data in records:
                parsed = parse_record(data)
                digest = hashlib.sha256(data).hexdigest()
                row = IndexRow.from_header(parsed.header, len(data), digest)
                conn.execute(f"INSERT INTO records ({','.join(COLUMNS)}, received_at, data) "
                             f"VALUES ({','.join(['%s'] * (len(COLUMNS) + 2))}) ON CONFLICT (record_id) DO NOTHING",
                             (*(getattr(row, c) for c in COLUMNS), 1000.0, data))
                pg_audit.append(conn, time.time(), "received", record_id=row.record_id, camera_id=row.camera_id,
                                epoch_id=row.epoch_id, sealed_at=row.sealed_at, size=row.size, sha256=digest)


def test_central_init_upgrades_an_old_schema_store_in_place_keeping_its_rows(central_dsn, authority, cameras,
                                                                              tmp_path, shared_data):
    faces = orl_faces(shared_data, 3)
    cameras("cam-a"), cameras("cam-c")
    pub = AuthorityPublic.load(cameras.pub_path)
    old_id, old = _genuine(tmp_path, cameras, faces[0])
    _old_schema_store(central_dsn, pub, [old])
    with pytest.raises(RuntimeError, match="schema version 4, older than this facesel's .*central init"):
        PostgresVault(central_dsn).close()  # main's code took it as it was

    done = facesel("central", "init", "--central", central_dsn, "--authority", str(cameras.pub_path))
    assert done.returncode == 0, done.stderr
    with PostgresVault(central_dsn) as store:
        rows = store.rows()
        assert [(r.camera_id, r.record_id) for r in rows] == [("cam-a", old_id)]  # the row kept, unchanged
        assert store.read(old_id) == old
        assert store.arrival_times([("cam-a", old_id)])[("cam-a", old_id)] >= 1000.0
        assert store.verify_audit().ok and store.records_against_log() == []
        events = [json.loads(line) for line in store.audit_lines()]
        assert [e.get("versions") for e in events if e["event"] == "schema-upgraded"] == [[5, 6, 7]]
        # The upgraded store keys by (camera, id): cam-c's record under cam-a's next id blocks nothing.
        record_id, genuine = _genuine(tmp_path, cameras, faces[1])
        assert [a.status for a in store.receive([_squat(cameras, record_id, faces[2])])] == ["stored"]
        assert [a.status for a in store.receive([genuine])] == ["stored"]
    with psycopg.connect(central_dsn) as conn:
        old_received = conn.execute("SELECT received_at FROM records WHERE record_id = %s", (old_id,)).fetchone()[0]
    assert old_received == 1000.0  # an earlier row keeps the time it was given; only new rows take the server's
    again = facesel("central", "init", "--central", central_dsn, "--authority", str(cameras.pub_path))
    assert again.returncode == 0, again.stderr  # idempotent: nothing more to apply, nothing logged
    with PostgresVault(central_dsn) as store:
        assert sum(json.loads(line)["event"] == "schema-upgraded" for line in store.audit_lines()) == 1
