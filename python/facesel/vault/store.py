"""The camera-side vault: seal each TrackResult at once, sign it, store it atomically, index it, expire it.

Folder layout::

    VAULT/vault.json       the vault's id, camera and authority fingerprint, signed by the camera
    VAULT/authority.pub    copy of the authority's signed public file (pinned by the camera)
    VAULT/records/<id>.fsr sealed, camera-signed records (see facesel.vault.record)
    VAULT/index.sqlite     non-biometric metadata (WAL mode); a cache: the signed log and the records are the truth
    VAULT/audit.log        signed, hash-chained log of every seal, purge, open and recovery (+ .head)
    VAULT/quarantine/      record files found in records/ that the log does not know (never adopted)
    VAULT/.lock            held (flock) by the one process that writes

Crash safety: a record is written to a temporary file in ``records/`` and fsynced (file and
folder), indexed, its ``seal`` entry (with the file's SHA-256) is logged, then it is renamed into
place. A reader
sees complete records only; the next :class:`Vault` brings files, index and log back into
agreement (:mod:`facesel.vault.recovery`) before it seals anything: it finishes a logged seal
whose temporary file is complete, and moves any record file the log does not know into
``quarantine/``. Nothing is ever adopted on the strength of a file alone.

Time: a record is dated by the clock, but never before the latest seal time logged (a clock set
back would seal to an old epoch and expire fresh evidence at once). Purges that run as
housekeeping (at start, inside :meth:`Vault.seal`, :meth:`Vault.maybe_purge`) log a failure and
retry later; they never stop the camera from starting or sealing. While the vault is open, its
time (seal times, log times, purges) never runs further ahead than the clock's reading at start
plus the time that really passed (``CLOCK_BOOTTIME``): a clock stepped forward would make every
fresh record look expired, and date the log in the future.

Retention: :meth:`Vault.purge` deletes only records the signed log holds (sealed by this camera,
not logged as gone since), by the seal time *logged* when they were sealed, and only the file
logged then (SHA-256): a header dated back, a file planted under a never-sealed id, or a file that
differs from its seal is never purged (the last is quarantined). The log is verified once at
start and each entry appended since (by a forwarder or the authority too) as the purge reads it.

The camera holds public keys and its own signing key only: nothing here can decrypt a record.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from facesel.path_arg import path_arg
from facesel.redaction import redact_url
from facesel.types import TrackResult
from facesel.vault.audit import AuditLog, LogFollower
from facesel.vault.consistency import (
    PURGE_CLOCK_TOLERANCE,
    RECORD_SUFFIX,
    LoggedSeal,
    checked_purge_time,
    live_seals,
    logged_seal,
)
from facesel.vault.errors import AuditError, IndexDamagedError, KeyMaterialError, VaultLockedError, VaultWriteError
from facesel.vault.fsutil import (
    FileTooBigError,
    NotRegularFileError,
    fsync_dir,
    open_regular,
    read_regular,
    write_temporary,
)
from facesel.vault.identity import load_identity, vault_owner, write_identity
from facesel.vault.index import Index, IndexRow
from facesel.vault.keys import AuthorityPublic, check_extension, load_authority_public
from facesel.vault.log_anchor import LogAnchor
from facesel.vault.payload import PAYLOAD_KIND, encode_snapshot
from facesel.vault.record import RECORD_ID, make_header, new_record_id, seal_record
from facesel.vault.recovery import quarantine, recover
from facesel.vault.selection_args import check_seal_time as checked_seal_time
from facesel.vault.signing import CameraKey, load_camera

_log = logging.getLogger("facesel.vault")


def time_since_boot() -> float:
    """Seconds from a clock nobody can set that keeps counting while the machine sleeps
    (``CLOCK_BOOTTIME`` on Linux; ``time.monotonic`` elsewhere, which may pause in a suspend)."""
    boot = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boot) if boot is not None else time.monotonic()


def record_path(vault_dir: Path, record_id: str) -> Path:
    """Where record ``record_id`` lives in ``vault_dir`` (``records/<id>.fsr``); ValueError for an
    id that is not 32 lowercase hex characters (it becomes a file name)."""
    if not isinstance(record_id, str) or not RECORD_ID.match(record_id):
        raise ValueError(f"record id must be 32 lowercase hex characters, got {record_id!r}")
    return Path(vault_dir) / "records" / f"{record_id}{RECORD_SUFFIX}"


def _lock_holder(fd: int) -> str:
    """What holds a vault's write lock, from the pid its holder wrote into ``.lock``."""
    try:
        pid = int(os.pread(fd, 32, 0).decode("ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        pid = None
    if pid == os.getpid():
        return ("already open for writing in this process: another Vault on this folder is not closed yet "
                "(close it first, or keep using it)")
    return f"open for writing by {writer_process(pid)}"


def writer_process(pid: int | None) -> str:
    """``another process (pid N: COMMAND)`` for a live ``pid``, its command line's URLs masked;
    ``another process`` when the pid is unknown or gone."""
    if pid is not None and pid > 0 and os.path.exists(f"/proc/{pid}"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                command = file.read(65536).replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            command = ""
        # Masked before it is cut short (a cut URL loses the '@' that marks its password): this text
        # reaches logs and serve's /healthz, and the holder may be `facesel run rtsp://user:pw@...`
        # started through the Python API or before run refused secrets on its command line (review 18).
        command = redact_url(command)[:200]
        return f"another process (pid {pid}{': ' + command if command else ''})"
    return "another process"


class Vault:
    """Seal TrackResults into an encrypted, camera-signed, self-expiring evidence folder.

    Parameters
    ----------
    path : path-like
        The vault folder (created if missing; a failed first start leaves nothing behind).
    authority_public : path-like or AuthorityPublic
        The authority's signed ``authority.pub``. It must be signed by the authority key the
        camera pinned, register this camera, and keep every epoch the vault already uses.
    camera : path-like or CameraKey
        The camera's signing key (``facesel camera init``): signs records and log entries.
    camera_id : str, optional
        When given, must equal the camera key's id (a guard against mixing up cameras).
    clock : callable
        Returns Unix seconds (``time.time``); inject a fake clock in tests.
    purge_interval : float
        Seconds of clock time between automatic purges inside :meth:`seal` and :meth:`maybe_purge`.
    clip_format : {"png", "jpg"}
        Encoding of clip frames inside the sealed payload.
    purge_at_start : bool
        Purge expired records as the vault opens (default True).
    elapsed : callable
        Returns seconds from a clock nobody can set (:func:`time_since_boot`): how much time really
        passed since the vault opened. The vault's time (seal times, log times, purges) never runs
        further ahead than the clock's reading at start plus that (review 5, finding 1: a wall
        clock stepped forward by a wrong NTP answer deleted every fresh record as expired). A test
        that drives ``clock`` by hand passes the same fake clock here.

    Raises
    ------
    KeyMaterialError
        When ``authority.pub`` (given, or the vault's copy) is not signed by the pinned authority
        key, does not register this camera, or changes epochs in use; logged when the vault exists.
    AuditError
        When the audit log is missing, shortened or broken while the vault holds anything.
    VaultLockedError
        When another process has the vault open for writing.
    """

    def __init__(self, path: str | os.PathLike, authority_public: AuthorityPublic | str | os.PathLike,
                 camera: CameraKey | str | os.PathLike | None = None, camera_id: str | None = None,
                 clock: Callable[[], float] = time.time, purge_interval: float = 60.0,
                 clip_format: str = "png", purge_at_start: bool = True,
                 elapsed: Callable[[], float] = time_since_boot) -> None:
        if not callable(clock) or not callable(elapsed):
            raise TypeError(f"clock and elapsed must be callable, got {type(clock).__name__} and "
                            f"{type(elapsed).__name__}")
        self.elapsed = elapsed
        # What the clock read at start, and the unsettable clock then: the vault's time from now on
        # never runs ahead of them by more than the tolerance (see _time_now).
        self._anchor = (float(clock()), float(elapsed()))
        self._clock_ahead: tuple[float, float] | None = None  # (clock, time used) while it runs ahead
        self._clock_ahead_logged = False
        if isinstance(purge_interval, bool) or not isinstance(purge_interval, (int, float)) or not purge_interval >= 0:
            raise ValueError(f"purge_interval must be a non-negative number, got {purge_interval!r}")
        if clip_format not in ("png", "jpg"):
            raise ValueError(f"clip_format must be 'png' or 'jpg', got {clip_format!r}")
        if camera is None:
            raise TypeError("a vault needs the camera's signing key (camera=...; make one with 'facesel camera init')")
        self.camera = load_camera(camera)
        if camera_id is not None and camera_id != self.camera.camera_id:
            raise ValueError(f"camera id {camera_id!r} does not match the camera key, which belongs to "
                             f"{self.camera.camera_id!r}")
        self.camera_id = self.camera.camera_id
        self.clock, self.purge_interval, self.clip_format = clock, float(purge_interval), clip_format
        self.path = path_arg(path, "path")
        if self.path.exists() and not self.path.is_dir():  # else mkdir's "[Errno 17] File exists"
            raise ValueError(f"vault {self.path} must be a folder, got a file")
        self.records_dir = self.path / "records"
        given = load_authority_public(authority_public)
        given_error = None
        try:
            given.check_signature(self.camera.pinned_authority, "the given authority.pub")
        except KeyMaterialError as err:
            if not (self.path / "vault.json").is_file():
                raise  # before anything is created: a bad file leaves no folder
            given_error = err  # an existing vault logs the refusal
        if not (self.path / "vault.json").is_file():
            self._check_authority(given)  # a new vault needs this camera registered in the given file
        # What was here before a first start: a failed one removes exactly what it added.
        fresh = not (self.path / "vault.json").exists()
        existing = set(os.listdir(self.path)) if self.path.is_dir() else None
        self._lock_fd: int | None = None
        self.index: Index | None = None
        # The log is verified once at start (_check_log, or after creating it); the follower then
        # reads only what is appended. _boot_entries holds the verified entries while starting.
        self._follower: LogFollower | None = None
        self._boot_entries: list[dict] | None = None
        try:
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.records_dir.mkdir(exist_ok=True, mode=0o700)
            self._lock()
            self.audit = AuditLog(self.path / "audit.log", self._log_clock, self.camera.signer)
            if given_error is not None:
                self._check_log()
                self._refuse(given, given_error)
            self.authority = self._bind_authority(given)
            self.identity = load_identity(self.path, anchor=self.authority)
            if self.identity.camera_id != self.camera_id:
                raise KeyMaterialError(f"vault {self.path} belongs to camera {self.identity.camera_id!r}, not to "
                                       f"{self.camera_id!r}")
            self.index = self._open_index()
            if self._follower is None:  # a new vault: its log was written by this process just now
                self._follower = LogFollower(self.audit.path, self.identity.audit_keys(), self._verify_clock)
                self._boot_entries = self._follower.poll(check_head=True)
            # A log put back to an older copy is consistent in itself: only the camera's own memory
            # of the entry it saw last, kept beside its key, tells (review 7, finding 3).
            self._log_anchor = LogAnchor(self.camera.path, self.identity.vault_id, self.path)
            # ... found by the id vault.json names: that file must be this folder's (review 8, finding 3).
            self._log_anchor.check_folder(created=fresh)
            entries = self.logged_entries()
            self._log_anchor.check(entries)
            if entries:
                self._log_anchor.remember(entries[-1])
            self.audit.after_append = self._log_anchor.remember
            self.recovery = recover(self)
            # What the camera may purge comes from the signed log only, never from a file's header:
            # seals minus removals, kept up to date from the entries appended since (by this
            # process, a forwarder, an authority), each verified as it is read.
            self._live: dict[str, LoggedSeal] = live_seals(self.logged_entries(), self.camera_id)
            # The latest seal time this camera has logged: no record is dated before it (see
            # _seal_time). Its own seals only: other signers' clocks (an authority's) date nothing here.
            own_seals = (logged_seal(entry, self.camera_id) for entry in self.logged_entries())
            self._time_floor = max((seal.sealed_at for seal in own_seals if seal is not None), default=float("-inf"))
            self._warned_clock = False
            self._boot_entries = None  # only needed while starting; a long log would hold memory
            self._last_purge = float("-inf")
            if purge_at_start:
                self._purge_keeping_evidence(self._time_now()[0])
        except BaseException:
            self.close()
            if fresh:
                self._remove_new(existing)
            raise

    # -- life cycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Release the index and the write lock (idempotent)."""
        if self.index is not None:
            self.index.close()
            self.index = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _remove_new(self, existing: set[str] | None) -> None:
        """Undo a failed first start: a new folder goes, an existing one loses only what was added."""
        if existing is None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for name in set(os.listdir(self.path)) - existing:
            target = self.path / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)

    def _lock(self) -> None:
        """Take the vault's write lock (``.lock``, flock) without waiting: one writer a vault."""
        try:
            self._lock_fd = open_regular(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o600, follow=False)
        except OSError as err:
            raise VaultWriteError(f"cannot open vault {self.path} for writing: {err.strerror or err}") from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(self._lock_fd)
            os.close(self._lock_fd)
            self._lock_fd = None
            raise VaultLockedError(f"vault {self.path} is {holder}") from None
        # Who holds it, for the next one refused: "another process" was all it said, also to a
        # script whose own first Vault on the folder was still open (ux18).
        try:
            os.ftruncate(self._lock_fd, 0)
            os.pwrite(self._lock_fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # a full or read-only disk: the vault still opens (a purge may be what frees it)

    def _log_clock(self) -> float:
        """The audit log's clock: the vault's time (:meth:`_time_now`)."""
        return self._time_now()[0]

    def _time_now(self) -> tuple[float, float]:
        """(the time the vault goes by, the clock's reading).

        The clock's reading, but never more than :data:`PURGE_CLOCK_TOLERANCE` seconds past its
        reading at start plus the time that really passed since (``elapsed``, a clock nobody
        sets, that counts on while the machine sleeps). A wall clock stepped forward while the camera runs (a wrong or forged NTP answer, a
        GPS week rollover, a real-time clock glitch) made every record look older by the step, so
        that the next purge deleted them all as expired with signed ``purge`` entries; it also
        dated seals and log entries ahead, and once the clock was set right every verifier refused
        the log as "dated in the future": the camera did not start again and nothing could be
        opened until real time caught up (review 5, finding 1). Seal times, log times and purges
        now follow the elapsed time while the clock runs ahead; the reading is kept in the seal
        entries (``camera_clock``) and a ``clock-ahead`` entry, once per episode. A clock corrected
        forward for real is taken as it is at the next start.
        """
        raw = float(self.clock())
        wall, ticks = self._anchor
        bound = wall + (float(self.elapsed()) - ticks) + PURGE_CLOCK_TOLERANCE
        if raw <= bound:
            self._clock_ahead, self._clock_ahead_logged = None, False
            return raw, raw
        if self._clock_ahead is None:
            _log.warning("vault %s: the clock reads %.0f s more than the time passed since the vault opened; the "
                         "vault goes by the time passed (records dated, logged and expired by it) until the clock "
                         "agrees again; restart the camera once the clock is known to be right", self.path,
                         raw - bound + PURGE_CLOCK_TOLERANCE)
        self._clock_ahead = (raw, bound)
        return bound, raw

    def _log_clock_ahead(self) -> None:
        """Log (once per episode) that the clock runs ahead of the elapsed time. Never from inside
        an append: the log's own clock calls :meth:`_time_now` with the log locked."""
        if self._clock_ahead is None or self._clock_ahead_logged:
            return
        self._clock_ahead_logged = True
        raw, used = self._clock_ahead
        try:
            self.audit.append("clock-ahead", clock_time=raw, time_used=used,
                              reason="the clock ran ahead of the time passed since the vault opened")
        except (OSError, AuditError) as err:
            _log.error("vault %s: could not log that the clock runs ahead: %s", self.path, err)

    def _verify_clock(self) -> float:
        """The verifier's "now": log entries may be dated up to the later of the camera's clock and
        the real time."""
        return max(float(self.clock()), time.time())

    def _check_authority(self, given: AuthorityPublic, source: str = "the given authority.pub") -> None:
        """KeyMaterialError unless ``given`` is signed by the pinned authority key and registers this
        camera's key (``source`` names the file in the error)."""
        given.check_signature(self.camera.pinned_authority, source)
        if given.camera_key(self.camera_id) != bytes(self.camera.key.verify_key):
            raise KeyMaterialError(f"camera {self.camera_id!r} is not registered in {source} of authority "
                                   f"{given.authority_id} (run 'facesel authority register')")

    def _refuse(self, given: AuthorityPublic, err: Exception) -> None:
        """Log an ``authority-rejected`` entry for ``given``, then raise KeyMaterialError."""
        self.audit.append("authority-rejected", authority_id=given.authority_id, reason=str(err))
        raise KeyMaterialError(f"vault {self.path}: {err}; the attempt was logged") from None

    def _bind_authority(self, given: AuthorityPublic) -> AuthorityPublic:
        """The authority file the vault goes by. A new vault saves ``given`` and logs its creation;
        an existing one verifies its log, then keeps its own copy when ``given`` is older, or takes
        ``given`` when it extends that copy (logged), refusing anything else (logged)."""
        copy = self.path / "authority.pub"
        identity = self.path / "vault.json"
        log_exists = self.audit.path.exists() or self.audit.path.is_symlink()
        if not copy.exists() and not identity.exists() and not log_exists and not any(self.records_dir.iterdir()):
            given.save(copy)
            write_identity(self.path, self.camera, given, self.clock())
            self.audit.append("vault-created", authority_id=given.authority_id, camera_id=self.camera_id,
                              authority_fingerprint=given.fingerprint, epochs=len(given.epochs),
                              keys_until=given.epochs[-1].not_after if given.epochs else None)
            return given
        if not log_exists:
            raise AuditError(f"vault {self.path} holds records or key files but its audit log is missing: never a "
                             "fresh start; preserve the vault and investigate")
        owner = vault_owner(self.path)  # unverified here; load_identity checks its signature
        if owner != self.camera_id:
            raise KeyMaterialError(f"vault {self.path} belongs to camera {owner!r}, not to {self.camera_id!r}")
        self._check_log()
        self.audit.repair()
        try:
            bound = AuthorityPublic.load(copy)
            self._check_authority(bound, f"the vault's copy {copy}")
        except (KeyMaterialError, FileNotFoundError) as err:
            self._refuse(given, err)
        try:
            if given.serial < bound.serial:
                check_extension(given, bound)  # an older file: keep the newer copy it leads to
                return bound
            check_extension(bound, given)
            self._check_authority(given)
        except KeyMaterialError as err:
            self._refuse(given, err)
        if given.to_dict() != bound.to_dict():
            given.save(copy)
            self.audit.append("authority-updated", authority_id=given.authority_id, serial=given.serial,
                              epochs=len(given.epochs), cameras=len(given.cameras),
                              keys_until=given.epochs[-1].not_after if given.epochs else None)
        return given

    def _check_log(self) -> None:
        """Refuse to write after a log that does not verify (a torn last line alone is a crash)."""
        keys = {f"camera:{self.camera_id}": bytes(self.camera.key.verify_key)}
        try:
            bound = AuthorityPublic.load(self.path / "authority.pub")
            keys[f"authority:{bound.authority_id}"] = bound.signing_key
        except (KeyMaterialError, FileNotFoundError):
            pass  # _bind_authority refuses it next, and logs why
        if self._follower is not None:
            return  # already verified (the refusal path checks first, then binds)
        follower = LogFollower(self.audit.path, keys, self._verify_clock)
        try:
            self._boot_entries = follower.poll(check_head=True)  # a torn last line (a crash) is left out
        except AuditError as err:
            raise AuditError(f"vault {self.path}: the audit log does not verify ({err}); nothing was "
                             "written; preserve the vault and investigate") from None
        self._follower = follower

    def _open_index(self) -> Index:
        """The index, or a new one when the one here cannot be used: moved into ``quarantine/``
        (kept for investigation), logged, and rebuilt from the records by recovery.

        The index is a cache of the records' headers. Whoever can write the vault folder could stop
        the camera from starting (garbage under its name) or make every seal hang (a database of
        their own with a trigger on ``records``; review 5, finding 6); neither may keep the camera
        from sealing. Readers (``list``, the desk) change nothing and refuse such an index.
        """
        path = self.path / "index.sqlite"
        try:
            return Index(path)
        except IndexDamagedError as err:
            why = err
        folder = self.path / "quarantine"
        tag = secrets.token_hex(4)
        moved = []
        try:
            folder.mkdir(exist_ok=True, mode=0o700)
            for name in (path.name, path.name + "-wal", path.name + "-shm", path.name + "-journal"):
                source = path.with_name(name)
                if source.exists() or source.is_symlink():
                    os.rename(source, folder / f"{name}.{tag}")
                    moved.append(f"quarantine/{name}.{tag}")
            fsync_dir(folder)
            fsync_dir(self.path)
        except OSError:
            raise why from None  # could not move it: the camera stops with the reason, as before
        _log.error("vault %s: %s; moved to %s and rebuilt from the records", self.path, why, ", ".join(moved))
        self.audit.append("index-replaced", moved_to=moved, reason=str(why)[:300])
        return Index(path)

    def logged_entries(self) -> list[dict]:
        """While starting: every verified log entry so far, including those appended since the last call."""
        if self._boot_entries is None:
            raise RuntimeError("the verified entries are only kept while the vault starts")
        self._boot_entries.extend(self._follower.poll())
        return self._boot_entries

    # -- sealing ------------------------------------------------------------------------------

    def seal(self, track_result: TrackResult) -> str:
        """Encrypt ``track_result`` to the current epoch key, sign it, store it, log it and index it.

        Parameters
        ----------
        track_result : TrackResult
            ``best.crop`` (h, w, 3) uint8 BGR; ``best.clip`` optional list of such crops.

        Returns
        -------
        str
            The new record id (32 hex characters).

        Raises
        ------
        EpochUnavailableError
            When no epoch key covers the current time (nothing is written).
        VaultWriteError
            When the disk refuses the write (e.g. full); nothing is left behind.
        """
        self._check_open()
        now, raw = self._seal_time()
        self._log_clock_ahead()
        epoch = self.authority.epoch_for(now)  # refuse before doing anything
        if now - self._last_purge >= self.purge_interval:
            self._purge_keeping_evidence(now)
        record_id = new_record_id()
        best = track_result.best if isinstance(track_result, TrackResult) else None
        payload = encode_snapshot(track_result, record_id, self.clip_format)
        header = make_header(record_id, self.authority.authority_id, epoch.epoch_id, self.camera_id, now,
                             track_result.first_timestamp, track_result.last_timestamp,
                             best.quality, track_result.track_id, PAYLOAD_KIND)
        data = seal_record(header, payload, epoch.public_key, self.camera.signer)
        del payload  # the only plaintext copy; never written anywhere
        final = record_path(self.path, record_id)
        row = IndexRow.from_header(header, len(data), hashlib.sha256(data).hexdigest())
        tmp = indexed = None
        try:
            tmp = write_temporary(final, data)
            # The temporary's name must be durable before the log says "sealed": the log entry is
            # fsynced, and after a power cut a logged seal whose file never reached the folder
            # would be a record lost (recovery can only finish a seal whose temporary it finds).
            fsync_dir(self.records_dir)
            self.index.insert(row)
            indexed = True
            # The clock's own reading, when it was set back or ran ahead of the elapsed time.
            behind = {} if raw == now else {"camera_clock": raw}
            self.audit.append("seal", record_id=record_id, epoch_id=epoch.epoch_id, camera_id=self.camera_id,
                              sealed_at=now, size=row.size, sha256=row.sha256, **behind)
            self._time_floor = max(self._time_floor, now)
        except (OSError, sqlite3.Error, AuditError) as err:
            self._undo_seal(record_id, tmp, indexed)
            raise VaultWriteError(f"could not store record {record_id} in {self.path}: "
                                  f"{getattr(err, 'strerror', None) or err}; nothing was stored") from err
        try:
            # Not fsynced again: a rename a power cut undoes leaves the logged, complete temporary,
            # which the next start renames (the folder fsync before the log entry is the one that
            # counts; one flush a seal either way, measured 2.8x the seal time when both were made).
            os.replace(tmp, final)
        except OSError as err:
            # The seal is logged: the next start finishes it from the complete temporary file.
            raise VaultWriteError(f"record {record_id} was logged but not yet renamed into place in {self.path}: "
                                  f"{err.strerror or err}; the next start completes it") from err
        return record_id

    def _seal_time(self) -> tuple[float, float]:
        """(the time a record is dated and sealed to, the clock's reading).

        The clock's reading, but never earlier than the latest seal time this camera logged. A
        clock set back (a real-time clock reset to its firmware's date after a power loss, a wrong
        NTP answer) dated records in the past: sealed to an old epoch, perhaps shredded already,
        and expired at once by the first purge after the clock was set right (review 4, finding 8:
        fresh evidence logged as purged for retention). Seal times now only move forward, as the
        log's times do; the clock's reading is kept in the seal entry (``camera_clock``). Nor
        further ahead than the time passed since the start allows (:meth:`_time_now`).
        """
        held, raw = self._time_now()
        now = max(held, self._time_floor)
        if raw < now - PURGE_CLOCK_TOLERANCE and not self._warned_clock:
            self._warned_clock = True
            _log.warning("vault %s: the clock reads %.0f s before the last seal time logged; records are dated "
                         "from that time until the clock catches up (set the clock right)", self.path, now - raw)
        elif held >= now:
            self._warned_clock = False
        return now, raw

    def _purge_keeping_evidence(self, now: float) -> int:
        """Purge as housekeeping (at start, before a seal): a purge that fails is logged and tried
        again after ``purge_interval``, never allowed to stop the camera from starting or sealing.

        Keeping evidence beats deleting it: a log that does not verify, an index locked by another
        process, a file system that refuses a quarantine or an unlink (review 4, finding 3: each
        made ``seal`` raise, so the snapshot was lost, or the camera did not start at all). A purge
        interrupted half-way is finished by the next purge or the next start (:mod:`recovery`).
        """
        self._log_clock_ahead()
        try:
            return self.purge(min(now, self._time_now()[0]))
        except (AuditError, VaultWriteError) as err:
            _log.error("vault %s: no purge: %s; sealing goes on, the purge is tried again in %.0f s", self.path,
                       err, self.purge_interval)
            return 0
        finally:
            self._last_purge = now  # in the clock's terms, as the interval is measured

    def _undo_seal(self, record_id: str, tmp: Path | None, indexed: bool | None) -> None:
        """Take back a seal that failed before its log entry: its index row and temporary file."""
        if indexed:
            try:
                self.index.delete(record_id)
            except sqlite3.Error:
                pass  # recovery drops a row whose record never appeared
        if tmp is not None:
            tmp.unlink(missing_ok=True)

    # -- retention ----------------------------------------------------------------------------

    @property
    def retention_seconds(self) -> float:
        """How long a record is kept after its seal (the authority file's setting)."""
        return self.authority.retention_seconds

    def maybe_purge(self, now: float | None = None) -> int:
        """Purge if ``purge_interval`` seconds of clock time have passed since the last purge.

        Cheap enough to call once per frame, so that expiry also happens while nobody passes. A
        purge that fails is logged and tried again later, never raised: this is housekeeping, and
        the pipeline calling it must go on sealing (:meth:`purge` raises).
        """
        if now is not None:
            now = checked_seal_time(now, "now")  # maybe_purge(now="x") said "could not convert string to float"
        now = self._time_now()[0] if now is None else now
        return self._purge_keeping_evidence(now) if now - self._last_purge >= self.purge_interval else 0

    def purge(self, now: float | None = None, allow_future: bool = False) -> int:
        """Delete every record whose *logged* seal time lies more than the retention period before
        ``now``; log each. Neither the index nor a record file's header is trusted for this.

        Only records the signed log holds (sealed by this camera, not yet logged as gone) are
        candidates, with the seal time of their ``seal`` entry. Each file is compared with the
        SHA-256 logged at sealing first: a file that differs (replaced, or not a regular file) is
        moved to ``quarantine/`` and logged, never deleted. An expired record whose file is
        already gone is logged as ``record-missing``. Planted files the log never sealed are left
        for recovery to quarantine at the next start.

        Parameters
        ----------
        now : float, optional
            The time to purge at (default: the clock).
        allow_future : bool
            Accept a ``now`` more than :data:`PURGE_CLOCK_TOLERANCE` seconds ahead of the clock
            (and of the real time); the override is logged. Without it such a purge is refused:
            it would delete records before their time.

        Returns
        -------
        int
            The number of records deleted.

        Raises
        ------
        AuditError
            When entries appended to the log since the last purge do not verify (nothing is deleted).
        VaultWriteError
            When the file system or the index fails half-way (the next start completes it).
        """
        self._check_open()
        now = checked_purge_time(now, self._time_now()[0], allow_future, lambda purge_time, clock_time:
                                 self.audit.append("purge-clock-override", purge_time=purge_time, clock_time=clock_time))
        self._last_purge = now
        appended = self._follower.poll()
        if appended:
            self._log_anchor.remember(appended[-1])  # others' entries too (an opening's)
        live_seals(appended, self.camera_id, self._live)
        cutoff = now - self.retention_seconds
        expired = sorted((seal for seal in self._live.values() if seal.sealed_at < cutoff),
                         key=lambda seal: (seal.sealed_at, seal.record_id))
        count = 0
        for seal in expired:
            try:
                count += self._expire(seal, now)
            except (OSError, sqlite3.Error, AuditError) as err:
                # recover() finishes the index row and the file on the next start.
                raise VaultWriteError(f"purge of {self.path} interrupted at record {seal.record_id}: {err}") from err
            self._live.pop(seal.record_id, None)
        return count

    def _expire(self, seal: LoggedSeal, now: float) -> int:
        """Delete (1), quarantine or log as missing (0) the expired record of ``seal``."""
        path = record_path(self.path, seal.record_id)
        problem = None
        try:
            # At most the size logged: a larger file is not the one sealed (review round 15b)
            digest = hashlib.sha256(read_regular(path, seal.read_limit, follow=False)).hexdigest()
            if digest != seal.sha256:
                problem = (f"the file differs from the one logged as sealed at seq {seal.seq} (replaced); "
                           "kept for investigation instead of being purged")
        except FileNotFoundError:
            self.audit.append("record-missing", record_id=seal.record_id, sealed_at=seal.sealed_at,
                              reason="record file disappeared outside facesel (found when its retention ended)")
            self.index.delete(seal.record_id)
            return 0
        except (NotRegularFileError, FileTooBigError) as err:
            problem = f"the record path holds {err.strerror}; kept for investigation instead of being purged"
        if problem is not None:
            quarantine(self, path, problem, seal.record_id, seal.read_limit)
            self.index.delete(seal.record_id)
            return 0
        # Logged first: a reader that finds the file gone finds the reason in the log, and a crash
        # after the entry is finished by the next start (which checks the hash again).
        self.audit.append("purge", record_id=seal.record_id, epoch_id=seal.epoch_id, sealed_at=seal.sealed_at,
                          sha256=seal.sha256, seal_seq=seal.seq, purged_at=now, reason="retention")
        path.unlink(missing_ok=True)
        fsync_dir(self.records_dir)
        self.index.delete(seal.record_id)
        return 1

    def _check_open(self) -> None:
        """RuntimeError once the vault is closed."""
        if self.index is None:
            raise RuntimeError(f"vault {self.path} is closed")

    def rows(self, **filters) -> list[IndexRow]:
        """Index rows (see :meth:`facesel.vault.index.Index.rows` for the filters)."""
        self._check_open()
        return self.index.rows(**filters)
