"""The owner of the central store's tables as an attacker, for the tests of review 7b: rows changed
past the append-only triggers (which the owner may disable), and an HTTP server answering for the
object store.

No tests here.
"""

from __future__ import annotations

import socket

import psycopg
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.vault import Vault
from facesel.central import Selection
from test_vault_common import DAY, orl_faces, track_result

# How the tables' owner moves a row of cam-a out of an opening's scope (its seal time a month back,
# or its camera), as the reviews of rows moved out of a scope do: name -> (SQL, arguments before the id).
ROW_MOVES = {
    "a-month-back": ("UPDATE records SET sealed_at = sealed_at - %s WHERE record_id = %s", (30 * DAY,)),
    "to-another-camera": ("UPDATE records SET camera_id = 'cam-b' WHERE record_id = %s", ()),
}


def one_synced_record(store: PostgresVault, cameras, vault_dir, shared_data) -> str:
    """Seal one real face at camera ``cam-a``, forward it to ``store`` inline; its record id."""
    cameras.register(store, "cam-a")
    with Vault(vault_dir, cameras.pub_path, camera=cameras("cam-a")) as vault:
        record_id = vault.seal(track_result(orl_faces(shared_data, 1)[0]))
    assert sync_vault(vault_dir, store, cameras("cam-a")).stored == 1
    return record_id


def two_records_in_a_window(dsn: str, authority, cameras, folder, shared_data) -> tuple[list[str], Selection]:
    """Seal two real faces at ``cam-a`` (``cam-b`` registered too) under ``folder / "cam-a"`` and sync them
    into the store at ``dsn``: (their record ids in seal order, a selection of cam-a whose window holds both)."""
    pub, _ = authority
    with PostgresVault.create(dsn, pub) as store:
        cameras.register(store, "cam-a")
        cameras.register(store, "cam-b")
        with Vault(folder / "cam-a", cameras.pub_path, camera=cameras("cam-a")) as vault:
            ids = [vault.seal(track_result(face)) for face in orl_faces(shared_data, 2)]
        sync_vault(folder / "cam-a", store, cameras("cam-a"))
        times = sorted(row.sealed_at for row in store.rows())
    return ids, Selection(camera_ids=("cam-a",), start=times[0] - 60.0, end=times[-1] + 60.0)


def as_owner(dsn: str, *statements: tuple[str, tuple]) -> None:
    """Run ``statements`` as the tables' owner, with the tables' own triggers disabled (as the owner may)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE authority DISABLE TRIGGER USER")
        for sql, args in statements:
            conn.execute(sql, args)


def point_record_at_object(dsn: str, record_id: str, endpoint: str) -> None:
    """Say the record's bytes are an object at ``endpoint`` (the store's word, as a writer of its tables)."""
    as_owner(dsn, ("UPDATE authority SET blob_url = 's3://evidence', blob_endpoint = %s, blob_threshold = 1",
                   (endpoint,)),
             ("UPDATE records SET data = NULL, blob_key = %s WHERE record_id = %s",
              (f"records/{record_id[:2]}/{record_id}.fsr", record_id)))


def read_request(conn: socket.socket) -> bytes:
    """The request line and headers a client sent (up to the blank line, at most 64 KB)."""
    conn.settimeout(10)
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    return head


def owner_inserts_rows(dsn: str, count: int, camera_id: str = "c" * 128) -> None:
    """Insert ``count`` index rows of an invented camera (its id the longest allowed) in one
    statement, as the tables' owner: the rows a hostile store makes its readers list."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
        conn.execute("INSERT INTO cameras VALUES (%s, NULL, 0, '') ON CONFLICT DO NOTHING", (camera_id,))
        conn.execute("INSERT INTO records SELECT md5(%s || i::text), %s, 1, i, i, i, 0.5, i, 1000, repeat('a', 64), 0, "
                     "NULL, '\\x00'::bytea FROM generate_series(1, %s) i", (camera_id, camera_id, count))
