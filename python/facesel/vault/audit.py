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
import errno
import fcntl
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from facesel.vault import fields
from facesel.vault.errors import AuditError
from facesel.vault.fsutil import NotRegularFileError, atomic_write, open_regular, read_regular
from facesel.vault.signing import Signer, verify_signature

GENESIS = "0" * 64
FORMAT_HEAD = "facesel-audit-head"
_RESERVED = {"seq", "time", "event", "prev", "hash", "signer", "sig", "clock"}
MAX_LOG_BYTES = 1 << 30
# A log entry dated further ahead of the verifier's clock than this is refused (clock skew allowance).
FUTURE_TOLERANCE = 86400.0


def _canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _entry_hash(entry: dict) -> str:
    return hashlib.sha256(_canonical({k: v for k, v in entry.items() if k not in ("hash", "sig")})).hexdigest()


def _head_body(seq: int, digest: str, when: float, signer: str) -> bytes:
    return _canonical({"format": FORMAT_HEAD, "seq": seq, "hash": digest, "time": when, "signer": signer})


def _sig_ok(keys: Mapping[str, bytes], signer: object, message: bytes, sig: object) -> bool:
    if not isinstance(signer, str) or signer not in keys or not isinstance(sig, str):
        return False
    try:
        raw = base64.b64decode(sig, validate=True)
    except ValueError:
        return False
    return verify_signature(keys[signer], message, raw)


_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")


def _good_time(value: object) -> bool:
    """A finite JSON number within [0, MAX_TIME] (checked before any float(): a huge int overflows)."""
    return (not isinstance(value, bool) and isinstance(value, (int, float)) and
            (math.isfinite(value) if isinstance(value, float) else True) and 0 <= value <= fields.MAX_TIME)


def _good_seq(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= fields.MAX_INDEX


def _read_head(path: Path) -> dict | None:
    """The head file as a dict, None when absent; AuditError when unreadable, malformed, or not a
    regular file (a FIFO, device, folder or link in its place is refused, never waited on)."""
    try:
        head = json.loads(read_regular(path, 65536, follow=False).decode("utf-8"))
    except FileNotFoundError:
        return None
    except NotRegularFileError:
        raise AuditError(f"{path}: the head is not a regular file") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        raise AuditError(f"{path}: the signed head is unreadable or malformed") from None
    if not (isinstance(head, dict) and _good_seq(head.get("seq")) and isinstance(head.get("hash"), str)
            and _HEX64.match(head["hash"]) and _good_time(head.get("time"))):
        raise AuditError(f"{path}: the signed head is unreadable or malformed")
    return head


def _open_log(path: Path, flags: int) -> int:
    """Open the log without following a symlink (a link could make the camera append elsewhere),
    and only when it is a regular file (a FIFO or device would hang or swallow the entries)."""
    try:
        return open_regular(path, flags, 0o600, follow=False)
    except NotRegularFileError as err:
        what = "a symbolic link; refusing to follow it" if err.errno == errno.ELOOP else f"{err.strerror}"
        raise AuditError(f"audit log {path} is {what}") from None


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
        self.head_path = self.path.with_name(self.path.name + ".head")
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
        now = float(self.clock())
        entry = {"seq": seq, "time": max(now, last_time), "event": event, **fields, "prev": prev,
                 "signer": self.signer.signer_id}
        if now < last_time:
            entry["clock"] = now  # the clock ran backwards: keep its reading, never the order
        entry["hash"] = _entry_hash(entry)
        entry["sig"] = base64.b64encode(self.signer.sign(bytes.fromhex(entry["hash"]))).decode()
        line = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
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


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``ok``, entry count, head, and the first problem found."""

    ok: bool
    entries: int
    head_seq: int | None
    head_hash: str | None
    line: int | None = None
    kind: str | None = None
    message: str = ""


def _fail(count: int, line: int, kind: str, message: str) -> VerifyResult:
    return VerifyResult(False, count, None, None, line, kind, message)


def _parse_lines(lines: list[bytes]) -> list[dict | None]:
    """Each line as an entry, or None when it is not one. A line must be the exact canonical JSON
    of its entry (as :meth:`AuditLog._write` writes it): the hash and signature cover the parsed
    content, so other spacing, key order or a duplicate key (Python keeps the last one, other
    readers the first) would leave the signed bytes changed unnoticed (review 5, finding 7)."""
    parsed: list[dict | None] = []
    for chunk in lines:
        try:
            entry = json.loads(chunk.decode("utf-8"))
            ok = (isinstance(entry, dict) and _good_seq(entry.get("seq")) and isinstance(entry.get("event"), str)
                  and isinstance(entry.get("hash"), str) and isinstance(entry.get("prev"), str)
                  and _good_time(entry.get("time")) and _canonical(entry) == chunk)
            parsed.append(entry if ok else None)
        except (UnicodeDecodeError, ValueError, RecursionError):
            parsed.append(None)
    return parsed


def _check_entry(entry: dict, line: int, count: int, prev: str, expected: int, last_time: float, now: float,
                 keys: Mapping[str, bytes] | None, seen: set, all_seqs: dict) -> VerifyResult | None:
    seq = entry["seq"]
    if _entry_hash(entry) != entry["hash"]:
        return _fail(count, line, "edited", f"line {line}: entry seq {seq} was edited (its content no longer "
                                            "matches its hash)")
    if seq != expected:
        if seq in seen:
            return _fail(count, line, "inserted", f"line {line}: entry seq {seq} appears a second time "
                                                  "(duplicated or inserted)")
        if seq > expected and expected in all_seqs and all_seqs[expected] > line - 1:
            return _fail(count, line, "reordered", f"line {line}: entry seq {seq} comes before seq {expected} "
                                                   "(entries reordered)")
        if seq > expected:
            return _fail(count, line, "deleted", f"line {line}: entries seq {expected}..{seq - 1} are missing "
                                                 "(deleted)")
        return _fail(count, line, "reordered", f"line {line}: entry seq {seq} comes after seq {expected - 1} "
                                               "(reordered or inserted)")
    if entry["prev"] != prev:
        return _fail(count, line, "inserted", f"line {line}: entry seq {seq} does not chain to the entry before "
                                              "it (an entry was inserted or replaced)")
    if keys is not None and not _sig_ok(keys, entry.get("signer"), bytes.fromhex(entry["hash"])
                                        if len(entry["hash"]) == 64 else b"", entry.get("sig")):
        return _fail(count, line, "unsigned", f"line {line}: entry seq {seq} is not signed by a registered camera "
                                              f"or the authority (signer {entry.get('signer')!r}; forged entry)")
    if entry["time"] < last_time:
        return _fail(count, line, "time", f"line {line}: entry seq {seq} is dated before the entry it follows "
                                          "(times must only move forward)")
    if entry["time"] > now + FUTURE_TOLERANCE:
        return _fail(count, line, "time", f"line {line}: entry seq {seq} is dated in the future")
    return None


def verify(path: str | os.PathLike, expect: tuple[int, str] | dict | None = None,
           keys: Mapping[str, bytes] | None = None, now: float | None = None) -> VerifyResult:
    """Check the chain, signatures, times and signed head of an audit log; report the first problem.

    Parameters
    ----------
    path : path of the log file.
    expect : (seq, hash) or a signed head (dict from ``facesel audit head``), optional
        A head witnessed earlier: the entry with this seq must still exist with this hash.
    keys : mapping of signer id to Ed25519 public key, optional
        When given, every entry and the head must carry a valid signature by one of these keys.
    now : float, optional
        The verifier's time (default: the clock); entries dated later are refused.
    """
    return _verify(Path(path), expect, keys, now, allow_torn=False)[0]


def read_verified(path: str | os.PathLike, keys: Mapping[str, bytes], now: float | None = None) -> list[dict]:
    """The entries of a log that verifies (chain, signatures by ``keys``, times, head), read once.

    A last line still being written by another process is left out (not an error). Decisions
    about records (what was sealed, what is gone) are taken from these entries only.

    Raises
    ------
    AuditError
        Naming the first problem when the log does not verify.
    FileNotFoundError
        When the log does not exist.
    """
    result, entries = _verify(Path(path), None, keys, now, allow_torn=True)
    if not result.ok:
        raise AuditError(f"audit log {path} does not verify ({result.kind}): {result.message}")
    return entries


def _verify(path: Path, expect, keys, now, allow_torn: bool) -> tuple[VerifyResult, list[dict]]:
    now = time.time() if now is None else float(now)
    try:
        # The head first: it is rewritten after each append, so read before the lines it can only
        # lag behind them, never run ahead (a camera may be appending while we read).
        head = _read_head(path.with_name(path.name + ".head"))
        head_error = None
    except AuditError as err:
        head, head_error = None, err
    try:
        data = read_regular(path, MAX_LOG_BYTES, follow=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"audit log not found: {path}") from None
    except NotRegularFileError as err:
        return _fail(0, 0, "anchor", f"{path} is {err.strerror}, not the vault's own log"), []
    except OSError as err:
        kind = "size" if err.errno == errno.EFBIG else "anchor"
        return _fail(0, 0, kind, f"{path}: {err.strerror or err}"), []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines and allow_torn:
        lines.pop()  # being written right now by another process; the next reader sees it whole
    elif lines:
        return _fail(len(lines), len(lines), "torn", f"line {len(lines)}: the last entry is incomplete (no newline)"), []
    parsed = _parse_lines(lines)
    count = len(lines)
    all_seqs = {e["seq"]: i for i, e in enumerate(parsed) if e is not None}
    prev, expected, seen, last_time = GENESIS, 0, set(), float("-inf")
    for i, entry in enumerate(parsed):
        if entry is None:
            return _fail(count, i + 1, "edited", f"line {i + 1}: not a valid audit entry (edited or corrupted)"), []
        problem = _check_entry(entry, i + 1, count, prev, expected, last_time, now, keys, seen, all_seqs)
        if problem is not None:
            return problem, []
        seen.add(entry["seq"])
        prev, expected, last_time = entry["hash"], expected + 1, entry["time"]
    head_seq = expected - 1 if expected else None
    if head_error is not None:
        problem = _fail(count, count, "anchor", str(head_error))
    else:
        problem = _check_head(path, head, parsed, head_seq, keys)
    if problem is None and expect is not None:
        problem = _check_expect(parsed, head_seq, expect, keys, count)
    if problem is not None:
        return problem, []
    return VerifyResult(True, count, head_seq, prev if expected else None), parsed


def _check_head(path: Path, head: dict | None, parsed: list[dict], head_seq: int | None, keys) -> VerifyResult | None:
    count = len(parsed)
    anchor = path.with_name(path.name + ".head")
    if head is None:
        if count >= 2:
            return _fail(count, count, "anchor", f"{anchor.name} (the signed head) is missing")
        return None
    if head_seq is None or head["seq"] > head_seq:
        return _fail(count, count, "deleted", f"the log ends at seq {head_seq} but {anchor.name} records seq "
                                              f"{head['seq']}: entries at the end were deleted")
    if parsed[head["seq"]]["hash"] != head["hash"]:
        return _fail(count, head["seq"] + 1, "edited", f"line {head['seq'] + 1}: entry seq {head['seq']} differs "
                                                       f"from the signed head in {anchor.name} (log rewritten)")
    if keys is not None and not _head_signed(head, keys):
        return _fail(count, count, "unsigned", f"{anchor.name}: the head is not signed by a registered key")
    return None


def _head_signed(head: dict, keys: Mapping[str, bytes]) -> bool:
    body = _head_body(head["seq"], head["hash"], head["time"], str(head.get("signer")))
    return _sig_ok(keys, head.get("signer"), body, head.get("sig"))


def _check_expect(parsed: list[dict], head_seq: int | None, expect, keys, count: int) -> VerifyResult | None:
    if isinstance(expect, dict):
        if not (_good_seq(expect.get("seq")) and isinstance(expect.get("hash"), str)
                and _good_time(expect.get("time"))):
            return _fail(count, count, "anchor", "the witnessed head is malformed")
        e_seq, e_hash = expect["seq"], expect["hash"]
        if keys is not None and not _head_signed(expect, keys):
            return _fail(count, count, "anchor", "the witnessed head is not signed by this vault's camera "
                                                 "or its authority")
    else:
        e_seq, e_hash = expect
        if not _good_seq(e_seq) or not isinstance(e_hash, str):
            return _fail(count, count, "anchor", "the witnessed head is malformed")
    if head_seq is None or e_seq > head_seq:
        return _fail(count, count, "deleted", f"witnessed entry seq {e_seq} is missing (log truncated or replaced)")
    if parsed[e_seq]["hash"] != e_hash:
        return _fail(count, e_seq + 1, "edited", f"line {e_seq + 1}: entry seq {e_seq} does not have the "
                                                 "witnessed hash (log rewritten)")
    return None


class LogFollower:
    """Reads the entries appended to a log since the last call, each one verified (chain,
    signature by ``keys``, time), so that a long-running writer can act on what *others* logged
    (a forwarder's purges, an authority's openings) without re-reading the whole log.

    The first :meth:`poll` reads the whole log. Entries are only ever taken from complete lines
    that chain onto the last entry already seen; anything else raises AuditError.
    """

    def __init__(self, path: str | os.PathLike, keys: Mapping[str, bytes], clock: Callable[[], float] = time.time):
        self.path, self.keys, self.clock = Path(path), dict(keys), clock
        self.offset, self.prev, self.expected, self.last_time = 0, GENESIS, 0, float("-inf")

    def poll(self, check_head: bool = False) -> list[dict]:
        """The new verified entries (possibly none).

        ``check_head`` (first poll only) also checks the signed head against the entries read, as
        :func:`verify` does; the head is read first, so an append meanwhile cannot put it ahead.

        Raises
        ------
        AuditError
            When the log shrank, is not a regular file, or a new entry (or the head) does not verify.
        """
        head = _read_head(self.path.with_name(self.path.name + ".head")) if check_head else None
        fd = _open_log(self.path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            if size < self.offset:
                raise AuditError(f"audit log {self.path} shrank from {self.offset} to {size} bytes: entries were "
                                 "removed; preserve the vault and investigate")
            if size > MAX_LOG_BYTES:
                raise AuditError(f"audit log {self.path} is larger than {MAX_LOG_BYTES} bytes")
            os.lseek(fd, self.offset, os.SEEK_SET)
            chunks, want = [], size - self.offset
            while want > 0:
                block = os.read(fd, min(want, 1 << 20))
                if not block:
                    break
                chunks.append(block)
                want -= len(block)
        finally:
            os.close(fd)
        data = b"".join(chunks)
        complete = data[:data.rfind(b"\n") + 1]  # a line being appended right now waits for the next poll
        if not complete and not (check_head and self.offset == 0):
            return []
        lines = complete.split(b"\n")[:-1]
        now = float(self.clock())
        out = []
        for entry in _parse_lines(lines):
            line = self.expected + 1
            if entry is None:
                raise AuditError(f"audit log {self.path}: line {line} is not a valid audit entry (edited or corrupted)")
            problem = _check_entry(entry, line, line, self.prev, self.expected, self.last_time, now, self.keys,
                                   set(), {})
            if problem is not None:
                raise AuditError(f"audit log {self.path} does not verify: {problem.message}")
            self.prev, self.expected, self.last_time = entry["hash"], self.expected + 1, entry["time"]
            out.append(entry)
        if check_head and self.offset == 0:
            problem = _check_head(self.path, head, out, self.expected - 1 if self.expected else None, self.keys)
            if problem is not None:
                raise AuditError(f"audit log {self.path} does not verify: {problem.message}")
        self.offset += len(complete)
        return out


def signed_head(path: str | os.PathLike) -> dict:
    """The current signed head of a log (what ``facesel audit head`` prints)."""
    head = _read_head(Path(path).with_name(Path(path).name + ".head"))
    if head is None:
        raise FileNotFoundError(f"{path}.head does not exist: the log has no signed head yet")
    return head
