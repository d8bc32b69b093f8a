"""The central evidence store in PostgreSQL: ciphertext, index, hash-chained audit log, camera registry.

Same guarantees as a camera's vault folder: records are opaque sealed bytes whose plaintext
header is authoritative (the index columns are copied from it, never from the sender), nothing
here can decrypt, every arrival, purge and opening is in the hash-chained log, and a record
enters with its log entry in one transaction. Inserts are idempotent by camera and record id, so a
sender may deliver the same record any number of times (at-least-once delivery): it is stored once;
another camera's record under the same id is another record (schema 5, review round 11).

Retention drops a record's ciphertext and keeps its row (``purged_at``), so that a late copy of a
purged record cannot bring it back.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg

from facesel.central import pg_audit
from facesel.central.backend import Camera, Selection, VaultBackend
# The connection helpers live in pg_connect.py; these names are importable from here as before.
from facesel.central.pg_connect import CentralUnavailableError, _connect, _reachable, describe_dsn, scrub_dsn
from facesel.central.pg_schema import AUDIT_LOCK, LATEST, applied_versions, migrate
from facesel.central.purge_check import early_purges, logged_seal_times, moved_later, purge_refusal
from facesel.central.received_scope import unrowed_in_scope
from facesel.central.row_drift import drifted_rows
from facesel.central.read_limit import (BOUNDED_INDEX_COLUMNS, MAX_RECEIVED_LINE, MAX_ROW_TEXT, checked_index_row,
                                        log_line_limit, log_line_too_long, record_read_limit, row_limit, too_large,
                                        too_large_to_store, too_many_rows)
from facesel.central.verify import seal_time_problem, verify_record
from facesel.vault.audit import VerifyResult
from facesel.vault.authority_witness import newer_copy_problem
from facesel.vault.errors import KeyMaterialError, RecordError
from facesel.vault.index import COLUMNS, IndexRow
from facesel.vault.keys import AuthorityPublic, check_extension
from facesel.vault.signing import Signer, check_camera_id
from facesel.vault.consistency import checked_purge_time

_PURGE_CHUNK = 500


#: What :meth:`PostgresVault.logged_digests` gives for a ``received`` entry it cannot read: not a
#: digest (64 hex characters), so :func:`facesel.central.verify.verify_record` refuses that record
#: with its own reason, and the other records are read on (review round 14a, finding 2).
UNREADABLE_ENTRY = "unreadable"


def _received_entry(line: str, record_id: str) -> dict:
    """One ``received`` entry of the log as ``{"record_id", "camera_id", "sha256"}``; an entry the
    tables' owner wrote as something else (not JSON, not an object, a field missing or not text)
    is ``{"record_id": record_id, "camera_id": None, "sha256": UNREADABLE_ENTRY}``, ``record_id``
    being the audit row's own column: one such row refuses its record, it does not end the read."""
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    fields = ("record_id", "camera_id", "sha256")
    if isinstance(entry, dict) and all(isinstance(entry.get(f), str) for f in fields):
        return {f: entry[f] for f in fields}
    return {"record_id": record_id, "camera_id": None, "sha256": UNREADABLE_ENTRY}


def _digests(entries: list[dict]) -> dict[str, str]:
    """``{record_id: sha256}`` of checked ``received`` entries; an unreadable one wins over a readable
    one of the same id, whatever the order the rows came in."""
    digests = {e["record_id"]: e["sha256"] for e in entries}
    digests.update({e["record_id"]: UNREADABLE_ENTRY for e in entries if e["camera_id"] is None})
    return digests


def _row_key(record_id: str, camera_id: str | None) -> tuple[str, tuple]:
    """The WHERE clause (and its arguments) of one record: by id and camera, or by id alone."""
    if camera_id is None:
        return "record_id = %s", (record_id,)
    return "record_id = %s AND camera_id = %s", (record_id, camera_id)
_ROWS_PAGE = 1000  # index rows fetched from the server at a time while streaming

#: Seconds a record's seal time may lie ahead of the store's clock on arrival (camera clock skew).
#: A record dated further ahead is refused (it stays on the camera, and ``facesel sync`` delivers
#: it again later, when it is accepted once the store's clock has caught up): a camera could
#: otherwise date records years ahead so that central retention never purges them.
SEAL_CLOCK_TOLERANCE = 300.0

__all__ = ["Arrival", "CentralUnavailableError", "PostgresVault", "SEAL_CLOCK_TOLERANCE", "describe_dsn", "scrub_dsn"]


@dataclass(frozen=True)
class Arrival:
    """What the store did with one delivered record.

    ``status`` is "stored" (new), "duplicate" (already there: a redelivery), "expired" (older than
    the retention period: refused, the sender's own purge deletes it) or "rejected" (``reason``).
    """

    record_id: str | None
    status: str
    reason: str = ""
    central_seq: int | None = None   # the record's ``received`` entry in the central log (committed ones)
    central_hash: str | None = None

    @property
    def committed(self) -> bool:
        """True when the central store holds (or held, before retention) this record."""
        return self.status in ("stored", "duplicate")




class PostgresVault(VaultBackend):
    """An initialised central store (see :meth:`create`).

    Parameters
    ----------
    dsn : str
        libpq connection string or URI (``host=... dbname=...`` or ``postgresql://...``).
    clock : callable
        Returns Unix seconds; injectable for tests.
    connect_timeout : float
        Seconds to wait for the server before :class:`CentralUnavailableError`.
    """

    def __init__(self, dsn: str, clock: Callable[[], float] = time.time, connect_timeout: float = 10) -> None:
        if not isinstance(dsn, str) or not dsn.strip():
            raise ValueError(f"dsn must be a non-empty connection string, got {dsn!r}")
        if not callable(clock):
            raise TypeError(f"clock must be callable, got {type(clock).__name__}")
        self.clock = clock
        self.location = describe_dsn(dsn)
        self.purge_refused: list[str] = []  # the rows the last purge kept although they looked expired
        self.conn = _connect(dsn, self.location, connect_timeout)
        try:
            with _reachable(self.location):
                versions = applied_versions(self.conn)
                row = self.conn.execute("SELECT public_json, store_id, blob_url, blob_endpoint, blob_threshold "
                                        "FROM authority").fetchone() if versions == list(range(1, LATEST + 1)) else None
            if versions and max(versions) > LATEST:
                raise RuntimeError(f"central store {self.location} has schema version {max(versions)}, newer than "
                                   f"this facesel ({LATEST}); upgrade facesel")
            if versions and versions == list(range(1, max(versions) + 1)) and max(versions) < LATEST:
                raise RuntimeError(f"central store {self.location} has schema version {max(versions)}, older than "
                                   f"this facesel's ({LATEST}); upgrade it in place, its rows kept: run 'facesel "
                                   "central init --authority AUTHORITY.pub' once")
            if row is None or versions != list(range(1, LATEST + 1)):
                raise RuntimeError(f"central store {self.location} is not initialised (schema {versions or 'none'}); "
                                   "run 'facesel central init'")
            self._authority = AuthorityPublic.from_dict(json.loads(row[0]), f"central store {self.location}")
            self.store_id = row[1]
            self.blobs, self.blob_threshold = None, row[4]
            if row[2] is not None:
                from facesel.central.blobs import S3BlobStore

                self.blobs = S3BlobStore(row[2], row[3])
        except BaseException:
            self.conn.close()
            raise
        self._cameras: dict[str, Camera] = {}

    # -- creation -----------------------------------------------------------------------------

    @classmethod
    def create(cls, dsn: str, authority_public: AuthorityPublic, clock: Callable[[], float] = time.time,
               connect_timeout: float = 10, blob_url: str | None = None, blob_endpoint: str | None = None,
               blob_threshold: int = 1 << 20) -> PostgresVault:
        """Migrate the schema and bind the store to ``authority_public`` (idempotent for the same authority).

        ``blob_url`` (``s3://BUCKET[/PREFIX]``, with ``blob_endpoint`` for a non-AWS service) puts
        the ciphertext of records of ``blob_threshold`` bytes or more into object storage
        (:mod:`facesel.central.blobs`); every client of the store reads these settings from it.

        Raises
        ------
        ValueError
            When the store already belongs to another authority, or already uses another bucket.
        """
        if blob_url is not None and (isinstance(blob_threshold, bool) or not isinstance(blob_threshold, int)
                                     or blob_threshold < 1):
            raise ValueError(f"blob_threshold must be an integer >= 1, got {blob_threshold!r}")
        if not isinstance(authority_public, AuthorityPublic):
            raise TypeError(f"authority_public must be an AuthorityPublic, got {type(authority_public).__name__}")
        location = describe_dsn(dsn)
        conn = _connect(dsn, location, connect_timeout)
        try:
            with _reachable(location):
                upgraded = migrate(conn)
                with conn.transaction():
                    conn.execute("LOCK TABLE authority IN EXCLUSIVE MODE")
                    row = conn.execute("SELECT authority_id FROM authority").fetchone()
                    if row is None:
                        store_id = secrets.token_hex(8)
                        conn.execute("INSERT INTO authority (authority_id, public_json, store_id, created_at) "
                                     "VALUES (%s, %s, %s, %s)",
                                     (authority_public.authority_id, json.dumps(authority_public.to_dict()),
                                      store_id, float(clock())))
                        pg_audit.append(conn, clock(), "central-created", authority_id=authority_public.authority_id,
                                        store_id=store_id, schema_version=LATEST)
                    elif row[0] != authority_public.authority_id:
                        raise ValueError(f"central store {location} belongs to authority {row[0]}, not "
                                         f"{authority_public.authority_id}")
                    else:
                        if upgraded:  # an existing store's schema brought up to date, its rows kept
                            pg_audit.append(conn, clock(), "schema-upgraded", versions=upgraded)
                        cls._extend_authority(conn, authority_public, clock)
                    if blob_url is not None:
                        cls._configure_blobs(conn, clock, blob_url, blob_endpoint, blob_threshold)
        finally:
            conn.close()
        return cls(dsn, clock, connect_timeout)

    @staticmethod
    def _extend_authority(conn: psycopg.Connection, given: AuthorityPublic, clock) -> None:
        bound = AuthorityPublic.from_dict(json.loads(conn.execute("SELECT public_json FROM authority").fetchone()[0]))
        known = {e.epoch_id: e.public_key for e in bound.epochs}
        if any(known.get(e.epoch_id, e.public_key) != e.public_key for e in given.epochs):
            raise ValueError("authority_public gives different keys for epochs the central store already knows")
        # A newer file the same authority key signed (a higher serial: cameras registered, epochs
        # added) replaces the store's copy; before session 19 only a file adding epochs did, so the
        # copy never learnt of cameras registered after 'central init', and every reader that takes
        # the cameras' keys from it (central list without --authority) refused their records.
        resigned = given.signing_key == bound.signing_key and given.serial > bound.serial
        # An older file of the same authority than the store's copy: the authority's folder it came
        # from was put back to an older copy (session 21, witness22); before, it was passed over
        # without a word and 'central init' said "ready".
        older = newer_copy_problem(given, "authority_public", bound, "the central store's copy of authority.pub")
        if older:
            raise ValueError(older)
        if resigned or len(given.epochs) > len(bound.epochs):
            # Review round 11: the copy is what readers without --authority trust, so a file may
            # replace it only as a camera would accept it: the same authority key, no lower serial,
            # every epoch and revocation kept (before, more epochs under another key, or a re-signed
            # file without a revocation, replaced it).
            try:
                check_extension(bound, given, "authority_public")
            except KeyMaterialError as exc:
                raise ValueError(f"the central store keeps its copy of authority.pub: {exc}") from None
            conn.execute("UPDATE authority SET public_json = %s", (json.dumps(given.to_dict()),))
            pg_audit.append(conn, clock(), "authority-extended", authority_id=given.authority_id,
                            epochs=len(given.epochs), cameras=len(given.cameras), serial=given.serial)

    @staticmethod
    def _configure_blobs(conn: psycopg.Connection, clock, url: str, endpoint: str | None, threshold: int) -> None:
        from facesel.central.blobs import S3BlobStore

        S3BlobStore(url, endpoint)  # validates the URL
        current = conn.execute("SELECT blob_url FROM authority").fetchone()[0]
        if current is not None and current != url:
            raise ValueError(f"the central store keeps large records in {current}; it cannot switch to {url}")
        conn.execute("UPDATE authority SET blob_url = %s, blob_endpoint = %s, blob_threshold = %s",
                     (url, endpoint, threshold))
        pg_audit.append(conn, clock(), "object-storage-configured", blob_url=url, blob_endpoint=endpoint,
                        blob_threshold=threshold)

    # -- camera registry ----------------------------------------------------------------------

    def register_camera(self, camera_id: str, public_key: bytes, note: str = "") -> bool:
        """Accept records signed by ``public_key`` for ``camera_id`` from now on; False when it was
        registered already with that key.

        ``public_key`` is the camera's raw 32-byte Ed25519 key, as in the ``camera.pub`` that
        ``facesel camera init`` writes (:class:`facesel.vault.signing.CameraPublic`). A camera
        registered before signatures existed (no key) gets its key here, once.

        Raises
        ------
        ValueError
            When ``camera_id`` is not a valid camera id, ``public_key`` is not 32 bytes, or the
            camera is registered with another key (here, or in the store's copy of authority.pub).
        """
        camera_id = check_camera_id(camera_id)
        if not isinstance(public_key, bytes) or len(public_key) != 32:
            raise ValueError(f"public_key must be the camera's 32-byte Ed25519 public key, got {public_key!r}")
        known = self._authority.camera_key(camera_id)  # the store's copy of authority.pub may predate it
        if known is not None and known != public_key:
            raise ValueError(f"camera {camera_id!r} is registered with authority {self._authority.authority_id} "
                             "under another public key")
        with _reachable(self.location), self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
            row = self.conn.execute("SELECT public_key FROM cameras WHERE camera_id = %s", (camera_id,)).fetchone()
            if row is not None and row[0] is not None:
                if bytes(row[0]) != public_key:
                    raise ValueError(f"camera {camera_id!r} is registered with another public key")
                return False
            if row is None:
                self.conn.execute("INSERT INTO cameras (camera_id, public_key, registered_at, note) "
                                  "VALUES (%s, %s, %s, %s)", (camera_id, public_key, float(self.clock()), note))
            else:
                self.conn.execute("UPDATE cameras SET public_key = %s WHERE camera_id = %s", (public_key, camera_id))
            pg_audit.append(self.conn, self.clock(), "camera-registered", camera_id=camera_id,
                            public_key_sha256=hashlib.sha256(public_key).hexdigest())
        self._cameras.pop(camera_id, None)
        return True

    def cameras(self) -> list[Camera]:
        """Every registered camera (its id and Ed25519 public key, None when unknown), by id."""
        with _reachable(self.location):
            rows = self.conn.execute("SELECT camera_id, public_key FROM cameras ORDER BY camera_id").fetchall()
        return [Camera(c, None if k is None else bytes(k)) for c, k in rows]

    def camera(self, camera_id: str) -> Camera | None:
        if camera_id not in self._cameras:
            with _reachable(self.location):
                row = self.conn.execute("SELECT public_key FROM cameras WHERE camera_id = %s", (camera_id,)).fetchone()
            if row is None:
                return None  # not cached: a camera registered later is seen at once
            self._cameras[camera_id] = Camera(camera_id, None if row[0] is None else bytes(row[0]))
        return self._cameras[camera_id]

    # -- arrivals -----------------------------------------------------------------------------

    @property
    def authority(self) -> AuthorityPublic:
        return self._authority

    def receive(self, records: list[bytes]) -> list[Arrival]:
        """Store a batch of sealed records in one transaction; one :class:`Arrival` per record, in order.

        Raises
        ------
        CentralUnavailableError
            When the server is unreachable or the connection drops: nothing of the batch is
            committed, and the caller delivers it again later.
        """
        now = float(self.clock())
        cutoff = now - self._authority.retention_seconds
        limit = record_read_limit()  # the readers' bound: never store a record they would refuse
        checked: list[tuple[bytes, object, str | None] | Arrival] = []
        for data in records:
            try:
                parsed = verify_record(data, self._authority.authority_id, self.camera)
            except RecordError as err:
                checked.append(Arrival(None, "rejected", str(err)))
                continue
            wrong_time = seal_time_problem(parsed.header, self._authority, now, SEAL_CLOCK_TOLERANCE)
            if len(data) > limit:
                checked.append(Arrival(parsed.record_id, "rejected", too_large_to_store(parsed.record_id, len(data),
                                                                                        limit)))
            elif wrong_time:
                checked.append(Arrival(parsed.record_id, "rejected", wrong_time))
            elif parsed.header["sealed_at"] < cutoff:
                checked.append(Arrival(parsed.record_id, "expired", "older than the retention period"))
            elif self.blobs is not None and len(data) >= self.blob_threshold:
                # Object first, row second: a row never points to a missing object; an object
                # without a row (a crash in between) is ciphertext nobody lists, and is reused
                # when the record is delivered again.
                try:
                    checked.append((bytes(data), parsed, self.blobs.put(parsed.header["camera_id"], parsed.record_id,
                                                                          bytes(data))))
                except RecordError as err:
                    checked.append(Arrival(parsed.record_id, "rejected", str(err)))
            else:
                checked.append((bytes(data), parsed, None))
        with _reachable(self.location), self.conn.transaction():
            # Take the audit lock first: every writer then orders its inserts the same way (no deadlock).
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
            out = [item if isinstance(item, Arrival) else self._insert(*item, now) for item in checked]
            for arrival in out:
                if arrival.status == "rejected":
                    pg_audit.append(self.conn, now, "rejected", record_id=arrival.record_id, reason=arrival.reason)
        return out

    def _insert(self, data: bytes, parsed, key: str | None, now: float) -> Arrival:
        header = parsed.header
        digest = hashlib.sha256(data).hexdigest()
        row = IndexRow.from_header(header, len(data), digest)
        # A record is the store's by (camera, id) (schema 5, review round 11): another camera's
        # record under the same id is another row, never a conflict that refuses this one. The
        # row's received_at is set by the server's trigger (its clock, not ours).
        inserted = self.conn.execute(
            f"INSERT INTO records ({','.join(COLUMNS)}, received_at, data, blob_key) "
            f"VALUES ({','.join(['%s'] * (len(COLUMNS) + 3))}) ON CONFLICT (camera_id, record_id) DO NOTHING "
            "RETURNING record_id",
            (*(getattr(row, c) for c in COLUMNS), now, None if key else data, key)).fetchone()
        if inserted is None:
            stored = self.conn.execute("SELECT sha256 FROM records WHERE camera_id = %s AND record_id = %s",
                                       (row.camera_id, row.record_id)).fetchone()
            if stored[0] == digest:
                seq, entry_hash = self.conn.execute(
                    "SELECT seq, hash FROM audit WHERE event = 'received' AND record_id = %s AND octet_length(line) "
                    "<= %s AND facesel_entry_field(line, 'camera_id') = %s ORDER BY seq LIMIT 1",
                    (row.record_id, MAX_RECEIVED_LINE, row.camera_id)).fetchone()
                return Arrival(row.record_id, "duplicate", central_seq=seq, central_hash=entry_hash)
            return Arrival(row.record_id, "rejected", f"record {row.record_id}: another record of camera "
                           f"{row.camera_id!r} with this id, with different bytes, is stored already")
        entry = pg_audit.append(self.conn, now, "received", record_id=row.record_id, camera_id=row.camera_id,
                                epoch_id=row.epoch_id, sealed_at=row.sealed_at, size=row.size, sha256=digest)
        return Arrival(row.record_id, "stored", central_seq=entry["seq"], central_hash=entry["hash"])

    # -- reading ------------------------------------------------------------------------------

    def rows(self, selection: Selection = Selection()) -> list[IndexRow]:
        """The rows of ``selection`` as one list, at most :func:`row_limit` of them.

        Raises
        ------
        TooManyRows
            When the selection matches more (counted while streaming, so the reader never holds
            more than the bound plus one): the store's owner could otherwise make a reader keep
            millions of rows (still open in round 7b). Never truncated silently.
        """
        limit, kept = row_limit(), []
        rows = self.iter_rows(selection)
        try:
            for row in rows:
                if len(kept) == limit:
                    raise too_many_rows(self.location, limit)
                kept.append(row)
        finally:
            # Closed now, not when the traceback goes: the cursor's transaction must not stay open
            # under the caller's next statements (an audit entry written there would be rolled back).
            rows.close()
        return kept

    def iter_rows(self, selection: Selection = Selection()) -> Iterator[IndexRow]:
        """The rows of ``selection`` one at a time, ordered by seal time, id then camera, through a
        server-side cursor: a reader holds one page (1,000 rows) whatever the store holds.

        The connection stays in the cursor's transaction until the iteration ends (or the
        generator is closed); use no other query of this store meanwhile.
        """
        # Text columns come back only when short (their lengths beside them): a row the owner
        # stuffed with a huge value is refused, not fetched (review 7b).
        sql, args = f"SELECT {BOUNDED_INDEX_COLUMNS} FROM records WHERE purged_at IS NULL", []
        if selection.record_ids is not None:
            sql += " AND record_id = ANY(%s)"
            args.append(list(selection.record_ids))
        if selection.camera_ids is not None:
            sql += " AND camera_id = ANY(%s)"
            args.append(list(selection.camera_ids))
        if selection.start is not None:
            sql += " AND sealed_at >= %s"
            args.append(selection.start)
        if selection.end is not None:
            sql += " AND sealed_at <= %s"
            args.append(selection.end)
        with _reachable(self.location), self.conn.transaction():
            with self.conn.cursor(name="facesel_rows") as cursor:
                cursor.itersize = _ROWS_PAGE
                cursor.execute(sql + " ORDER BY sealed_at, record_id, camera_id", args)
                for values in cursor:
                    yield checked_index_row(values)

    def missing_from(self, selection: Selection) -> list[str]:
        """See :meth:`VaultBackend.missing_from`: by the ``received`` entries of the hash-chained log
        (:mod:`facesel.central.received_scope`), for every selection: by ids (their entries, by the
        ``record_id`` index), a camera or window (migration 7's index) or everything (one anti-join
        in the server; review round 13a: ids alone and everything were not compared before)."""
        with _reachable(self.location):
            return unrowed_in_scope(self.conn, selection, self.location)

    def count(self) -> int:
        """Records present (not purged)."""
        with _reachable(self.location):
            return self.conn.execute("SELECT count(*) FROM records WHERE purged_at IS NULL").fetchone()[0]

    def read(self, record_id: str, camera_id: str | None = None) -> bytes:
        limit = record_read_limit()
        # One query, so the length checked is the length of the bytes returned: PostgreSQL knows a
        # bytea's length without reading it, and sends the bytes only when they fit (review 7b).
        where, args = _row_key(record_id, camera_id)
        with _reachable(self.location):
            rows = self.conn.execute("SELECT CASE WHEN octet_length(data) <= %s THEN data END, octet_length(data), "
                                     "CASE WHEN octet_length(blob_key) <= %s THEN blob_key END, "
                                     f"octet_length(blob_key), camera_id FROM records WHERE {where} AND purged_at IS NULL "
                                     "LIMIT 2", (limit, MAX_ROW_TEXT, *args)).fetchall()
        if not rows:
            raise RecordError(f"record {record_id}: not in central store {self.location} (never arrived, or purged)")
        if len(rows) > 1:
            raise RecordError(f"record {record_id}: central store {self.location} holds records of several cameras "
                              "under this id; name the camera")
        row = rows[0][:4]
        data, size, key, key_size = row
        if key_size is not None:
            if key is None:
                raise RecordError(f"record {record_id}: central store {self.location} names an object key of "
                                  f"{key_size} bytes for it, more than {MAX_ROW_TEXT} (refused unread)")
            if self.blobs is None:
                raise RecordError(f"record {record_id} is in object storage, but the store names none")
            return self.blobs.get(key, limit, record_id)  # the caller checks its digest against the row and the log
        if data is None:
            raise RecordError(too_large(record_id, f"central store {self.location}", size, limit))
        return bytes(data)

    def logged_digests(self, record_ids: list[str], camera_id: str | None = None) -> dict[str, str]:
        """The digest each record's ``received`` entry logged; with ``camera_id``, of that camera's
        records only (an id may be several cameras' since schema 5); without it an id logged for
        several cameras is refused (RecordError), never answered with one of them."""
        # A ``received`` entry is a few hundred bytes: a longer line is refused, not fetched (review 7b).
        with _reachable(self.location):
            rows = self.conn.execute("SELECT CASE WHEN octet_length(line) <= %s THEN line END, octet_length(line), "
                                     "left(record_id, 32) FROM audit WHERE event = 'received' AND "
                                     "record_id = ANY(%s)", (MAX_RECEIVED_LINE, list(record_ids))).fetchall()
        for line, length, record_id in rows:
            if line is None:
                raise RecordError(f"record {record_id}: the central store's 'received' entry for it is {length} bytes, "
                                  f"more than {MAX_RECEIVED_LINE} (refused unread)")
        entries = [_received_entry(line, record_id) for line, _, record_id in rows]
        if camera_id is not None:
            # An entry that cannot be read names no camera: it counts against the id's record of each
            # camera (that record is refused, naming the entry), never as a digest that matches.
            return _digests([e for e in entries if e["camera_id"] in (camera_id, None)])
        cameras: dict[str, set] = {}
        for e in entries:
            if e.get("camera_id") is not None:
                cameras.setdefault(e["record_id"], set()).add(e["camera_id"])
        shared = sorted(rid for rid, held in cameras.items() if len(held) > 1)
        if shared:
            raise RecordError(f"record {shared[0]}: logged as received from several cameras; name the camera")
        return _digests(entries)

    def arrival_times(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], float | None]:
        """When each record (``(camera_id, record_id)``) arrived: the later of its row's ``received_at``
        (set by the server's clock since schema 6, whatever the inserting client sends) and the time
        of its ``received`` entry in the hash-chained log (the receiving client's clock, anchored
        by the camera). A thief holding a camera's key and credentials cannot lower the first; the
        tables' owner cannot lower the second unseen. None when neither is a number (a row the
        owner edited); a key without a row is absent.
        """
        if not keys:
            return {}
        with _reachable(self.location):
            rows = self.conn.execute(
                "SELECT r.camera_id, r.record_id, r.received_at FROM records r JOIN unnest(%s::text[], %s::text[]) "
                "AS k(camera_id, record_id) USING (camera_id, record_id)",
                ([k[0] for k in keys], [k[1] for k in keys])).fetchall()
            lines = self.conn.execute(
                "SELECT line FROM audit WHERE event = 'received' AND record_id = ANY(%s) AND octet_length(line) <= %s",
                ([k[1] for k in keys], MAX_RECEIVED_LINE)).fetchall()
        logged: dict[tuple[str, str], float] = {}
        for (line,) in lines:
            try:
                entry = json.loads(line)
                key, when = (entry["camera_id"], entry["record_id"]), float(entry["time"])
            except (ValueError, TypeError, KeyError):
                continue  # an edited entry: the chain check names it; the row's time still counts
            if not math.isnan(when):
                logged[key] = max(when, logged.get(key, when))
        out: dict[tuple[str, str], float | None] = {}
        for camera_id, record_id, received_at in rows:
            times = [t for t in (received_at, logged.get((camera_id, record_id))) if t is not None and not math.isnan(t)]
            out[(camera_id, record_id)] = max(times) if times else None
        return out

    # -- audit and retention ------------------------------------------------------------------

    def append_audit(self, event: str, signer: Signer | None = None, **fields) -> dict:
        with _reachable(self.location), self.conn.transaction():
            return pg_audit.append(self.conn, self.clock(), event, signer=signer, **fields)

    def witness(self, entry: dict) -> dict:
        return {"central_store": self.store_id, "central_seq": entry["seq"], "central_entry": entry["hash"]}

    def verify_audit(self, expect: tuple[int, str] | None = None, authority: AuthorityPublic | None = None) \
            -> VerifyResult:
        """The chain, and the signature of every authority entry under ``authority``'s signing key
        (a trusted authority.pub; default: the store's own copy, which the table owner could swap)."""
        trusted = authority or self._authority
        keys = {f"authority:{trusted.authority_id}": trusted.signing_key}
        with _reachable(self.location):
            return pg_audit.verify_chain(self.conn, expect, keys)

    def records_against_log(self) -> list[str]:
        """One line per record the log and the ``records`` table disagree on: logged as received
        but without a row (deleted), marked purged without a logged purge (erased early), purged
        as routine before its retention ran out by the seal time its arrival logged (review 12b), or
        a live row whose camera, seal time, epoch, size or digest is not what its arrival logged (a
        moved row, review 13a: :mod:`facesel.central.row_drift`)."""
        with _reachable(self.location):
            # By (camera, id) since schema 5: an entry or purge logged without a camera (a purge of
            # an earlier version) matches the id of any camera.
            gone = self.conn.execute(
                "SELECT a.record_id FROM audit a WHERE a.event = 'received' AND NOT EXISTS "
                "(SELECT 1 FROM records r WHERE r.record_id = a.record_id AND (octet_length(a.line) > %s OR "
                "coalesce(facesel_entry_field(a.line, 'camera_id'), r.camera_id) = r.camera_id)) ORDER BY a.seq",
                (MAX_RECEIVED_LINE,)).fetchall()
            erased = self.conn.execute(
                "SELECT r.record_id FROM records r WHERE r.purged_at IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM audit a WHERE a.event = 'purge' AND a.record_id = r.record_id AND "
                "(octet_length(a.line) > %s OR coalesce(facesel_entry_field(a.line, 'camera_id'), r.camera_id) = r.camera_id)) "
                "ORDER BY r.record_id, r.camera_id", (MAX_RECEIVED_LINE,)).fetchall()
            early = early_purges(self.conn, self._authority.retention_seconds)  # review 12b, finding 2
            moved = drifted_rows(self.conn)  # review 13a: a live row's time or camera against its arrival
        return ([f"record {r}: logged as received, but its row is gone (deleted)" for (r,) in gone]
                + [f"record {r}: marked purged, but no purge is logged (erased outside retention)" for (r,) in erased]
                + early + [d.describe() for d in moved])

    def head(self) -> dict:
        """The last entry of the log: ``{"format", "store_id", "seq", "hash", "time"}`` (seq None when empty),
        for a witness to keep and ``facesel central audit --expect`` to check later."""
        with _reachable(self.location):
            limit = log_line_limit()
            row = self.conn.execute(f"SELECT seq, hash, {pg_audit.BOUNDED_LINE} FROM audit ORDER BY seq DESC LIMIT 1",
                                    (limit,)).fetchone()
        if row is not None and row[2] is None:
            raise ValueError(f"central store {self.location}: the log's last {log_line_too_long(row[0], row[3], limit)}")
        seq, digest, when = (None, None, None) if row is None else (row[0], row[1], json.loads(row[2])["time"])
        return {"format": "facesel-central-head", "store_id": self.store_id, "seq": seq, "hash": digest, "time": when}

    def audit_hashes(self, seqs: list[int]) -> dict[int, str]:
        """The hash of each central log entry in ``seqs`` that exists."""
        with _reachable(self.location):
            rows = self.conn.execute("SELECT seq, hash FROM audit WHERE seq = ANY(%s)", (list(seqs),)).fetchall()
        return dict(rows)

    def audit_lines(self) -> list[str]:
        """The log as JSON lines, for ``facesel audit verify --log`` or safekeeping elsewhere."""
        with _reachable(self.location):
            return list(pg_audit.lines(self.conn))

    def purge(self, now: float | None = None, allow_future: bool = False) -> int:
        """See :meth:`VaultBackend.purge`. A row is purged by the seal time its ``received`` entry logged
        (:mod:`facesel.central.purge_check`): only when that time is past the retention, whatever the
        row's own time says (a backdated row is kept, review 12b; a row dated later is purged on
        time, review 13a); each row refused is named in :attr:`purge_refused` (one line each)."""
        now = checked_purge_time(now, float(self.clock()), allow_future, lambda purge_time, clock_time:
                                 self.append_audit("purge-clock-override", purge_time=purge_time, clock_time=clock_time))
        cutoff = now - self._authority.retention_seconds
        total, refused = 0, {}
        self.purge_refused = []
        while True:
            # The rows' times choose candidates; each must be expired by its logged seal (review 12b,
            # finding 2: a backdated row was purged as routine). Refused rows are passed over.
            limit = _PURGE_CHUNK + len(refused)
            with _reachable(self.location):
                seen = self.conn.execute(
                    "SELECT record_id, blob_key, camera_id, sealed_at FROM records WHERE purged_at IS NULL AND "
                    "sealed_at < %s ORDER BY sealed_at, camera_id, record_id LIMIT %s", (cutoff, limit)).fetchall()
            total += self._purge_rows([r for r in seen if (r[2], r[0]) not in refused], now, cutoff, refused)
            if len(seen) < limit:  # every candidate seen: each purged or refused
                break
        after = ("", "")
        while True:
            # Rows dated later than their logged seal (review 13a): candidates by the log's time.
            with _reachable(self.location):
                seen = moved_later(self.conn, cutoff, _PURGE_CHUNK, after)
            total += self._purge_rows(seen, now, cutoff, refused)
            if len(seen) < _PURGE_CHUNK:
                self.purge_refused = list(refused.values())
                return total
            after = (seen[-1][2], seen[-1][0])

    def _purge_rows(self, rows: list[tuple], now: float, cutoff: float, refused: dict) -> int:
        """Purge those of ``rows`` (``(record_id, blob_key, camera_id, sealed_at)``) that their logged
        seal time says expired; note the others in ``refused`` (key -> reason). The number purged."""
        with _reachable(self.location):
            logged = logged_seal_times(self.conn, [(r[2], r[0]) for r in rows])
        candidates, sealed = [], {}
        for record_id, key, camera_id, sealed_at in rows:
            why = purge_refusal((camera_id, record_id), sealed_at, logged.get((camera_id, record_id)), cutoff)
            if why:
                refused[(camera_id, record_id)] = why
            else:
                candidates.append((record_id, key, camera_id))
                sealed[(camera_id, record_id)] = next(iter(logged[(camera_id, record_id)]))
        for _, key, _ in candidates:
            if key is not None:
                # Object first: a crash before the row is marked leaves an expired row whose
                # object is gone, which the next purge marks; never a purged row with an object.
                self.blobs.delete(key)
        with _reachable(self.location), self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
            doomed = self.conn.execute(
                "UPDATE records SET data = NULL, purged_at = %s FROM unnest(%s::text[], %s::text[]) AS "
                "k(camera_id, record_id) WHERE records.camera_id = k.camera_id AND records.record_id = k.record_id "
                "AND purged_at IS NULL RETURNING records.record_id, epoch_id, sealed_at, records.camera_id",
                (now, [c[2] for c in candidates], [c[0] for c in candidates])).fetchall()
            for record_id, epoch_id, row_time, camera_id in sorted(doomed, key=lambda r: (r[2], r[0], r[3])):
                # The entry names the seal time the purge went by (the logged one), and the row's when
                # it differed (a moved row: central audit named it before).
                logged_time = sealed[(camera_id, record_id)]
                moved = {} if row_time == logged_time else {"row_sealed_at": row_time}
                pg_audit.append(self.conn, now, "purge", record_id=record_id, camera_id=camera_id,
                                epoch_id=epoch_id, sealed_at=logged_time, reason="retention", **moved)
        return len(doomed)

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()
