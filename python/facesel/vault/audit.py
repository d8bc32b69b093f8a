"""Append-only, hash-chained, signed audit log (JSON lines) and its verifier.

Each line is one JSON object with ``seq`` (0, 1, 2, ...), ``time``, ``event``, event fields,
``prev`` (the previous entry's hash; 64 zeros for the first), ``signer`` (``camera:<id>`` or
``authority:<id>``), ``hash`` = SHA-256 of the canonical JSON of the entry without ``hash`` and
``sig``, and ``sig`` = the signer's Ed25519 signature of that hash. Editing, deleting, reordering
or inserting an entry breaks the chain at that point; recomputing the chain needs a signing key
that only the camera (or the authority) holds.

``audit.log.head`` is the signed head: the last ``seq``, its hash and time, rewritten after every
append. It catches a cut-off tail, and a torn last line is only ever treated as a crash (and cut)
when the head proves that no complete entry was lost. ``facesel audit head`` prints it so that a
witness can file it away; ``facesel audit verify --expect HEAD`` later proves that the log still
contains that entry (in the spirit of Certificate Transparency).

Times only move forward: an entry is never dated before the one it follows (a clock that runs
backwards is clamped, and its raw reading kept in ``clock``), and :func:`verify` rejects a log
whose times go backwards or lie in the future.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

# The format, the verifier and the follower live in modules of their own; their names are
# importable from here as before (``from facesel.vault.audit import verify``).
from facesel.vault.audit_follow import LogFollower
from facesel.vault.audit_format import (FORMAT_HEAD, FUTURE_TOLERANCE, GENESIS, MAX_LOG_BYTES, _HEX64, _RESERVED,
                                        _canonical, _entry_hash, _good_seq, _good_time, _head_body, _head_path,
                                        _open_log, _read_head, signed_head)
from facesel.vault.audit_verify import VerifyResult, read_verified, verify
from facesel.vault.errors import AuditError
from facesel.vault.fsutil import NotRegularFileError, atomic_write, read_regular
from facesel.vault.signing import Signer

__all__ = ["AuditLog", "FORMAT_HEAD", "FUTURE_TOLERANCE", "GENESIS", "LogFollower", "MAX_LOG_BYTES", "VerifyResult",
           "read_verified", "signed_head", "verify"]


class AuditLog:
    """Appends signed entries to one log file; safe across processes (``flock`` around each append).

    Parameters
    ----------
    path : Path
        The log file (created on first append). ``<path>.head`` holds the signed head.
    clock : callable, optional
        Returns Unix seconds; injectable for tests.
    signer : Signer, optional
        Signs every entry and the head. Needed to append; reading needs none.
    """

    def __init__(self, path: str | os.PathLike, clock: Callable[[], float] = time.time,
                 signer: Signer | None = None) -> None:
        self.path = Path(path)
        self.head_path = _head_path(self.path)
        self.clock = clock
        self.signer = signer
        # Called with each entry this object appended (the camera anchors its log: log_anchor.py).
        self.after_append: Callable[[dict], None] | None = None

    def append(self, event: str, **fields) -> dict:
        """Append one signed entry and return it.

        Raises
        ------
        ValueError
            When a field name is reserved, or no signer was given.
        AuditError
            When the log's end is damaged or shorter than its signed head (nothing is written).
        OSError
            From the file system (e.g. disk full); the log is then unchanged.
        """
        if not isinstance(event, str) or not event:
            raise ValueError(f"event must be a non-empty string, got {event!r}")
        if self.signer is None:
            raise ValueError("an audit log entry needs a signer (the camera's or the authority's key)")
        clash = _RESERVED & set(fields)
        if clash:
            raise ValueError(f"audit fields may not be named {sorted(clash)}")
        fd = _open_log(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            seq, prev, last_time = self._tail(fd)
            entry = self._write(fd, seq, prev, last_time, event, fields)
        finally:
            os.close(fd)  # also releases the flock
        if self.after_append is not None:
            self.after_append(entry)
        return entry

    def repair(self) -> None:
        """Cut a torn last line (a crash mid-append) and record it now, not at the next append.

        Raises AuditError, like :meth:`append`, when the log was shortened instead.
        """
        if self.signer is None:
            raise ValueError("repairing the audit log needs a signer")
        fd = _open_log(self.path, os.O_RDWR | os.O_APPEND)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._tail(fd)
        finally:
            os.close(fd)

    def _write(self, fd: int, seq: int, prev: str, last_time: float, event: str, fields: dict) -> dict:
        """Sign and append entry ``seq`` (chained to ``prev``, dated no earlier than ``last_time``)
        to the locked log ``fd``, then rewrite the signed head; returns the entry."""
        now = float(self.clock())
        entry = {"seq": seq, "time": max(now, last_time), "event": event, **fields, "prev": prev,
                 "signer": self.signer.signer_id}
        if now < last_time:
            entry["clock"] = now  # the clock ran backwards: keep its reading, never the order
        entry["hash"] = _entry_hash(entry)
        entry["sig"] = base64.b64encode(self.signer.sign(bytes.fromhex(entry["hash"]))).decode()
        line = _canonical(entry) + b"\n"  # the canonical form: the verifier accepts no other
        size = os.fstat(fd).st_size
        try:
            written = os.write(fd, line)  # one write with O_APPEND: never interleaved with another
            if written != len(line):
                raise OSError(f"short write to audit log {self.path}")
            os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, size)  # leave no partial line behind
            raise
        try:
            body = _head_body(entry["seq"], entry["hash"], entry["time"], self.signer.signer_id)
            head = {**json.loads(body), "sig": base64.b64encode(self.signer.sign(body)).decode()}
            atomic_write(self.head_path, json.dumps(head).encode(), mode=0o644)
        except OSError:
            pass  # the entry is durable; a head one behind is what a crash leaves too
        return entry

    def _tail(self, fd: int) -> tuple[int, str, float]:
        """Next seq, prev hash and the last entry's time.

        A torn last line (power loss mid-write) is cut off and recorded, but only when the signed
        head shows that every complete entry is still there; otherwise the log was shortened.
        """
        size = os.fstat(fd).st_size
        head = _read_head(self.head_path)
        if size == 0:
            if head is not None:
                raise AuditError(f"audit log {self.path} is empty but its signed head records seq {head['seq']}: "
                                 "the log was deleted or truncated; preserve the vault and investigate")
            return 0, GENESIS, float("-inf")
        if size > MAX_LOG_BYTES:
            raise AuditError(f"audit log {self.path} is {size} bytes, more than {MAX_LOG_BYTES}")
        # Read backwards until the last complete line is in hand (an entry can be long).
        chunk = 1 << 16
        while True:
            chunk = min(size, chunk)
            os.lseek(fd, size - chunk, os.SEEK_SET)
            data = os.read(fd, chunk)
            complete, newline, torn = data.rpartition(b"\n")
            if chunk == size or b"\n" in complete:
                break
            chunk *= 4
        if not newline:
            complete, torn = b"", data
        lines = complete.split(b"\n") if (complete or newline) else []
        if chunk < size:
            lines = [b"", *lines[-1:]]  # more entries lie before; only the last one is needed
        last = self._parse_last(lines)
        last_seq = -1 if last is None else int(last["seq"])
        if head is not None and head["seq"] > last_seq:
            raise AuditError(f"audit log {self.path} ends at seq {last_seq} but its signed head records seq "
                             f"{head['seq']}: entries were removed; preserve the vault and investigate")
        if head is None and len(lines) >= 2:
            raise AuditError(f"audit log {self.path} has {len(lines)} entries but its signed head is missing; "
                             "preserve the vault and investigate")
        prev = GENESIS if last is None else str(last["hash"])
        last_time = float("-inf") if last is None else float(last["time"])
        if torn:
            os.ftruncate(fd, size - len(torn))
            entry = self._write(fd, last_seq + 1, prev, last_time, "recovered-torn-entry",
                                {"torn_bytes": len(torn), "torn_sha256": hashlib.sha256(torn).hexdigest()})
            return entry["seq"] + 1, entry["hash"], entry["time"]
        return last_seq + 1, prev, last_time

    def _parse_last(self, lines: list[bytes]) -> dict | None:
        """The last of ``lines`` as an entry to chain onto (None when there are none); AuditError
        when it is damaged."""
        if not lines:
            return None
        try:
            last = json.loads(lines[-1])
            if not (isinstance(last, dict) and _good_seq(last.get("seq")) and isinstance(last.get("hash"), str)
                    and _HEX64.match(last["hash"]) and _good_time(last.get("time"))):
                raise ValueError("bad fields")
            return last
        except (ValueError, KeyError, TypeError, RecursionError):
            # Never chain new entries onto a damaged one: that would paper over the damage.
            raise AuditError(f"audit log {self.path}: the last entry is damaged; run 'facesel audit verify' "
                             "and preserve the log before anything else is written") from None

    def entries(self) -> list[dict]:
        """All parseable entries whose ``seq``, ``time`` and ``event`` have the right types (for
        listing; use :func:`verify` to check them). Other fields are as the file holds them:
        check their types before use."""
        try:
            data = read_regular(self.path, MAX_LOG_BYTES, follow=False)
        except FileNotFoundError:
            return []
        except NotRegularFileError as err:
            raise AuditError(f"audit log {self.path} is {err.strerror}; refusing to read it") from None
        except OSError as err:
            raise AuditError(f"audit log {self.path} cannot be read ({err.strerror or err})") from None
        out = []
        for line in data.decode("utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(entry, dict) and _good_seq(entry.get("seq")) and _good_time(entry.get("time")) \
                    and isinstance(entry.get("event"), str):
                out.append(entry)
        return out
