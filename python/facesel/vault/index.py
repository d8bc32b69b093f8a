"""The vault's SQLite index (WAL mode): non-biometric metadata of each record, nothing else.

Columns: record id, camera id, epoch id, seal time, the track's first/last stream timestamps,
quality score, track number, record size and SHA-256 of the record file. No pixels, no
landmarks, no boxes, no embeddings. The index can always be rebuilt from the records' plaintext
headers; the record files are the truth.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from facesel.vault.errors import IndexDamagedError
from facesel.vault.fsutil import is_regular
from facesel.vault.selection_args import check_record_ids, check_seal_time

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    record_id       TEXT PRIMARY KEY,
    camera_id       TEXT NOT NULL,
    epoch_id        INTEGER NOT NULL,
    sealed_at       REAL NOT NULL,
    first_timestamp REAL,
    last_timestamp  REAL,
    quality         REAL,
    track_id        INTEGER,
    size            INTEGER NOT NULL,
    sha256          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_sealed_at ON records (sealed_at);
"""

COLUMNS = ("record_id", "camera_id", "epoch_id", "sealed_at", "first_timestamp", "last_timestamp",
           "quality", "track_id", "size", "sha256")
# Everything the schema of an index of ours holds: (type, name, table). Whoever can write the vault
# folder can leave a database of their own under the index's name; a trigger on ``records`` or a
# view in its place runs SQL of theirs inside every insert or query (review 5, finding 6: a
# recursive trigger made every seal hang for ever). Nothing else is accepted.
_OBJECTS = {("table", "records", "records"), ("index", "sqlite_autoindex_records_1", "records"),
            ("index", "records_sealed_at", "records")}


@dataclass(frozen=True)
class IndexRow:
    """One record's row in the vault's index: its plaintext header's fields (never the sender's
    word: :meth:`from_header`), its size in bytes and the SHA-256 of its sealed bytes (hex).
    """
    record_id: str
    camera_id: str
    epoch_id: int
    sealed_at: float
    first_timestamp: float | None
    last_timestamp: float | None
    quality: float | None
    track_id: int | None
    size: int
    sha256: str

    @classmethod
    def from_header(cls, header: dict, size: int, sha256: str) -> IndexRow:
        """The row of a record whose checked plaintext ``header`` is given, ``size`` bytes long, with
        hex digest ``sha256``.
        """
        return cls(header["record_id"], header["camera_id"], header["epoch_id"], header["sealed_at"],
                   header["first_timestamp"], header["last_timestamp"], header["quality"], header["track_id"],
                   size, sha256)

    def to_dict(self) -> dict:
        """The row as {column: value}, in :data:`COLUMNS` order."""
        return {c: getattr(self, c) for c in COLUMNS}


class Index:
    """Thin wrapper over the ``records`` table; every write is its own committed transaction."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.db = None
        # SQLite opens by name and would block on a FIFO in place of the database or its journal
        # files: refuse anything there but a regular file (checked just before; best effort, as
        # SQLite cannot be handed an already-checked descriptor).
        for name in (self.path.name, self.path.name + "-wal", self.path.name + "-shm", self.path.name + "-journal"):
            candidate = self.path.with_name(name)
            if (candidate.exists() or candidate.is_symlink()) and not is_regular(candidate):
                raise IndexDamagedError(f"{candidate} is not a regular file; the records are the truth: move it away "
                                        "and start the camera again to rebuild the index")
        try:
            if readonly:
                self._connect_readonly()
                return
            _owner_only(self.path)
            # isolation_level=None: we commit explicitly, so a failed insert never lingers in a
            # half-open transaction. timeout: wait for another process's short write lock.
            self.db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self.db.execute("PRAGMA trusted_schema=OFF")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
            _check_schema(self.db)
        except sqlite3.Error as err:
            if self.db is not None:
                self.db.close()
            raise IndexDamagedError(f"{self.path} is not a usable vault index ({err}); the records are the truth: move "
                              "it away and start the camera again to rebuild it") from None

    def _connect_readonly(self) -> None:
        """A reader changes nothing: no schema, no journal mode, no checkpoint. On read-only media
        SQLite cannot make the WAL's shared-memory file; then the file is read as immutable (rows
        still only in a leftover WAL are missed, and ``facesel list`` reports their record files)."""
        uri = self.path.resolve().as_uri()
        try:
            self._open_checked(uri + "?mode=ro")
        except sqlite3.OperationalError:
            if os.access(self.path.parent, os.W_OK):
                raise
            self._open_checked(uri + "?mode=ro&immutable=1")

    def _open_checked(self, uri: str) -> None:
        self.db = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None)
        try:
            self.db.execute("PRAGMA trusted_schema=OFF")
            _check_schema(self.db)
            self.db.execute("SELECT 1 FROM records LIMIT 1").fetchall()
        except sqlite3.Error:
            self.db.close()
            self.db = None
            raise

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    def insert(self, row: IndexRow) -> None:
        """Add ``row`` (its own committed transaction)."""
        with self._transaction():
            self.db.execute(f"INSERT INTO records ({','.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})",
                            tuple(getattr(row, c) for c in COLUMNS))

    def delete(self, record_id: str) -> None:
        """Remove the row of ``record_id`` (its own committed transaction); no error when absent."""
        with self._transaction():
            self.db.execute("DELETE FROM records WHERE record_id = ?", (record_id,))

    def _transaction(self):
        return _Tx(self.db)

    def ids(self) -> set[str]:
        """Every record id the index holds."""
        return {r[0] for r in self.db.execute("SELECT record_id FROM records")}

    def rows(self, record_ids: list[str] | None = None, start: float | None = None, end: float | None = None,
             expired_before: float | None = None) -> list[IndexRow]:
        """Rows ordered by seal time, filtered by ids, by a seal-time window [start, end] (Unix
        seconds), or by expiry. TypeError or ValueError for one id given bare or a time that is no
        finite number (:mod:`facesel.vault.selection_args`)."""
        record_ids = check_record_ids(record_ids)
        start, end = check_seal_time(start, "start"), check_seal_time(end, "end")
        expired_before = check_seal_time(expired_before, "expired_before")
        sql, args = f"SELECT {','.join(COLUMNS)} FROM records WHERE 1=1", []
        if record_ids is not None:
            sql += f" AND record_id IN ({','.join('?' * len(record_ids))})"
            args += list(record_ids)
        if start is not None:
            sql += " AND sealed_at >= ?"
            args.append(start)
        if end is not None:
            sql += " AND sealed_at <= ?"
            args.append(end)
        if expired_before is not None:
            sql += " AND sealed_at < ?"
            args.append(expired_before)
        return [IndexRow(*r) for r in self.db.execute(sql + " ORDER BY sealed_at, record_id", args)]


def _check_schema(db: sqlite3.Connection) -> None:
    """sqlite3.DatabaseError unless the database holds our ``records`` table, its two indexes and
    nothing else (no trigger, view or other table), with our columns: checked before any query of
    the table runs SQL that someone else wrote."""
    objects = set(db.execute("SELECT type, name, tbl_name FROM sqlite_schema"))
    if objects != _OBJECTS:
        strange = sorted(f"{kind} {name}" for kind, name, _ in objects - _OBJECTS)
        raise sqlite3.DatabaseError(f"its schema is not a vault index's (unexpected: {', '.join(strange)[:200]})"
                                    if strange else "its schema is not a vault index's (objects missing)")
    columns = tuple(row[1] for row in db.execute("PRAGMA table_info(records)"))
    if columns != COLUMNS:
        raise sqlite3.DatabaseError(f"its records table has other columns ({', '.join(map(str, columns))[:200]})")


def _owner_only(path: Path) -> None:
    """Make the index and its journal files readable by their owner only, before SQLite opens them.

    The rows are no pictures, but they say when people passed which camera. SQLite creates the
    database with the process's umask (0644 usually) and its ``-wal``/``-shm`` files with the
    database's mode, so a vault in a folder others may enter (one an installer made, 0755) leaked
    them: the database is created here, owner-only, and an existing one of ours is narrowed.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
    except FileExistsError:
        pass
    for name in (path.name, path.name + "-wal", path.name + "-shm", path.name + "-journal"):
        candidate = path.with_name(name)
        try:
            info = os.lstat(candidate)
        except FileNotFoundError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(candidate, stat.S_IMODE(info.st_mode) & 0o700)


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite may already have rolled back (e.g. on SQLITE_FULL)
