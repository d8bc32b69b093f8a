"""Review round 13a (central23), item 1: a row dated *later* kept past its retention.

Round 12b made the central purge refuse a row whose time the tables' owner had backdated (its
logged seal time, from the record's signed header on arrival, must say it expired too). The
purge still took its candidates from the rows' own ``sealed_at``: a row the owner dated a year
ahead was never a candidate, so the record's ciphertext outlived its retention for ever (a privacy
breach), and ``central audit`` did not compare live rows with their ``received`` entries, so
nothing named it. Now the purge also takes, as candidates, the live rows whose logged seal time
is past the retention, and judges every candidate by that time; ``central audit`` names each live
row whose camera, seal time, epoch, size or digest is not what its arrival logged. The attacker is
the owner's own SQL on a real PostgreSQL server (triggers disabled, as the owner may).
"""

from __future__ import annotations

import json

from facesel.central.pg_backend import PostgresVault
from central_common import facesel
from hostile_store import as_owner, one_synced_record
from test_vault_common import DAY


def _date_later(dsn: str, record_id: str, seconds: float) -> None:
    as_owner(dsn, ("UPDATE records SET sealed_at = sealed_at + %s WHERE record_id = %s", (seconds, record_id)))


def test_a_row_dated_later_is_purged_by_its_logged_seal_time(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
        (row,) = store.rows()
    _date_later(central_dsn, record_id, 2 * pub.retention_seconds)
    expired = row.sealed_at + pub.retention_seconds + DAY  # past its retention by its signed seal time
    with PostgresVault(central_dsn) as store:
        assert store.purge(expired, allow_future=True) == 1  # main: 0, the row's time said fresh
        assert store.purge_refused == [] and store.count() == 0
        purges = [json.loads(line) for line in store.audit_lines() if json.loads(line)["event"] == "purge"]
        # The entry names the time the purge went by (the logged one) and the row's, which differed.
        assert [(p["record_id"], p["sealed_at"], p["row_sealed_at"]) for p in purges] == \
            [(record_id, row.sealed_at, row.sealed_at + 2 * pub.retention_seconds)]
        assert store.verify_audit().ok and store.records_against_log() == []


def test_a_row_dated_later_but_not_expired_by_its_log_is_kept(central_dsn, authority, cameras, tmp_path,
                                                               shared_data):
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
        (row,) = store.rows()
    _date_later(central_dsn, record_id, 2 * pub.retention_seconds)
    with PostgresVault(central_dsn) as store:
        assert store.purge(row.sealed_at + pub.retention_seconds - DAY, allow_future=True) == 0
        assert store.purge_refused == [] and store.count() == 1


def test_central_audit_names_a_row_dated_later(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
    _date_later(central_dsn, record_id, 365 * DAY)
    with PostgresVault(central_dsn) as store:
        (line,) = store.records_against_log()  # main: [] (live rows were not compared with their arrivals)
    assert line.startswith(f"record {record_id} of camera cam-a: its row disagrees with its 'received' entry "
                           "(sealed_at)") and "repair-rows" in line, line
    done = facesel("central", "audit", "--central", central_dsn)
    assert done.returncode == 1 and f"RECORDS record {record_id} of camera cam-a: its row disagrees" in done.stdout, \
        (done.stdout, done.stderr)


def test_central_audit_names_a_row_relabelled_to_another_camera(central_dsn, authority, cameras, tmp_path,
                                                                 shared_data):
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
        cameras.register(store, "cam-b")
    as_owner(central_dsn, ("UPDATE records SET camera_id = 'cam-b' WHERE record_id = %s", (record_id,)))
    with PostgresVault(central_dsn) as store:
        problems = store.records_against_log()
    # The arrival without its row was named before (deleted); the row without its arrival is named now.
    assert any(p.startswith(f"record {record_id} of camera cam-b: no 'received' entry of this camera") and
               "camera(s) cam-a" in p for p in problems), problems
