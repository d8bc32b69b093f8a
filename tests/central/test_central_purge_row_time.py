"""Review round 12b (attack21), finding 2: fresh evidence purged as routine by backdating its row.

The central store's retention purge chose what to destroy by the ``records`` table's ``sealed_at``
column, the tables' owner's word (review 10b: rows are rewritable, triggers disabled as the owner
may). Deleting a record outright is seen: ``central audit`` names a ``received`` record whose row is
gone. Backdating its row instead, a year back, made the next routine ``central purge`` (the
operator's, under the store's own credentials) drop the ciphertext of a record sealed minutes
before and log an ordinary ``purge`` with reason ``retention``: the chain verifies, ``central
audit`` finds nothing, the evidence is gone for good (round 2's high finding, a purge judged by a
time an attacker sets, in the central store).

Now a row is purged only when the seal time its ``received`` entry logged (taken from the record's
signed header on arrival, in the hash-chained log) is past the retention too and agrees with the
row; any other candidate is kept and named, and ``central purge`` exits 1.
"""

from __future__ import annotations

import time

from facesel.central.pg_backend import PostgresVault
from hostile_store import as_owner, one_synced_record
from test_vault_common import DAY
from central_common import facesel


def _backdate(dsn: str, record_id: str, days: float) -> None:
    as_owner(dsn, ("UPDATE records SET sealed_at = sealed_at - %s WHERE record_id = %s", (days * DAY, record_id)))


def test_a_fresh_record_whose_row_was_backdated_is_not_purged(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
        data = store.read(record_id)
    _backdate(central_dsn, record_id, pub.retention_seconds / DAY + 365)
    with PostgresVault(central_dsn) as store:
        assert store.purge() == 0
        assert any(record_id in line and "received" in line for line in store.purge_refused), store.purge_refused
        assert store.read(record_id) == data  # the ciphertext is still there
        # Since round 13a the audit names the moved row too (its time against its arrival's).
        (moved,) = store.records_against_log()
        assert moved.startswith(f"record {record_id} of camera cam-a: its row disagrees") and "sealed_at" in moved


def test_the_command_line_purge_names_the_backdated_row_and_exits_1(central_dsn, authority, cameras, tmp_path,
                                                                      shared_data):
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
    _backdate(central_dsn, record_id, pub.retention_seconds / DAY + 365)
    done = facesel("central", "purge", "--central", central_dsn)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "purged 0 expired record(s)" in done.stdout and f"record {record_id}" in done.stderr, done.stderr
    with PostgresVault(central_dsn) as store:
        assert store.count() == 1


def test_a_genuinely_expired_record_is_still_purged(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
        assert store.purge(time.time() + pub.retention_seconds + DAY, allow_future=True) == 1
        assert store.purge_refused == [] and store.count() == 0
        assert store.verify_audit().ok and store.records_against_log() == []


def test_central_audit_names_a_purge_logged_before_the_retention_ran_out(central_dsn, authority, cameras, tmp_path,
                                                                         shared_data):
    """The owner needs no purge of ours: the log is chained, not signed, so a well-chained ``purge``
    entry and the ciphertext dropped looked like a lawful retention purge to ``central audit``."""
    import psycopg
    from facesel.central import pg_audit

    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        record_id = one_synced_record(store, cameras, tmp_path / "cam-a", shared_data)
        (row,) = store.rows()
    as_owner(central_dsn, ("UPDATE records SET data = NULL, purged_at = %s WHERE record_id = %s",
                           (time.time(), record_id)))
    with psycopg.connect(central_dsn, autocommit=True) as conn, conn.transaction():
        pg_audit.append(conn, time.time(), "purge", record_id=record_id, camera_id="cam-a", epoch_id=row.epoch_id,
                        sealed_at=row.sealed_at - 400 * DAY, reason="retention")
    with PostgresVault(central_dsn) as store:
        assert store.verify_audit().ok  # the chain is intact: only the times tell
        problems = store.records_against_log()
    assert any(record_id in p and "purged" in p for p in problems), problems
    done = facesel("central", "audit", "--central", central_dsn)
    assert done.returncode == 1 and f"RECORDS record {record_id} of camera cam-a: purged" in done.stdout, done.stdout
