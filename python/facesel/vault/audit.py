"""Append-only, hash-chained audit log (JSON lines) and its verifier.

Each line is one JSON object with ``seq`` (0, 1, 2, ...), ``time``, ``event``, event fields,
``prev`` (the previous entry's hash; 64 zeros for the first) and ``hash`` = SHA-256 of the
canonical JSON of the entry without ``hash``. Editing, deleting, reordering or inserting an entry
breaks the chain at that point, and :func:`verify` names the first line where it breaks.

A chain alone cannot reveal that its *tail* was cut off, or that everything after some point was
rewritten by someone who recomputed the hashes. Two anchors cover that: ``audit.head`` (the last
``seq`` and hash, rewritten after every append; catches truncation by anyone who does not also
edit it) and the head printed by ``facesel audit verify``, which an operator can record elsewhere
and later check with ``--expect SEQ:HASH`` (the only defence against a full rewrite).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from facesel.vault.errors import AuditError
from facesel.vault.fsutil import atomic_write

GENESIS = "0" * 64
_RESERVED = {"seq", "time", "event", "prev", "hash"}


def _entry_hash(entry: dict) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


class AuditLog:
    """Appends entries to one log file; safe across processes (``flock`` around each append).

    Parameters
    ----------
    path : Path
        The log file (created on first append). ``<path>.head`` holds the head anchor.
    clock : callable, optional
        Returns Unix seconds; injectable for tests.
    """

    def __init__(self, path: str | os.PathLike, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.clock = clock

    def append(self, event: str, **fields) -> dict:
        """Append one entry and return it.

        Raises
        ------
        ValueError
            When a field name is reserved.
        OSError
            From the file system (e.g. disk full); the log is then unchanged.
        """
        if not isinstance(event, str) or not event:
            raise ValueError(f"event must be a non-empty string, got {event!r}")
        clash = _RESERVED & set(fields)
        if clash:
            raise ValueError(f"audit fields may not be named {sorted(clash)}")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            seq, prev = self._tail(fd)
            entry = {"seq": seq, "time": float(self.clock()), "event": event, **fields, "prev": prev}
            entry["hash"] = _entry_hash(entry)
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
                atomic_write(self.head_path, json.dumps({"seq": seq, "hash": entry["hash"]}).encode(), mode=0o644)
            except OSError:
                pass  # the entry is durable; a stale (lower) anchor is still consistent for verify
            return entry
        finally:
            os.close(fd)  # also releases the flock

    def _tail(self, fd: int) -> tuple[int, str]:
        """Next seq and prev hash. A torn last line (power loss mid-write) is cut off and recorded."""
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, GENESIS
        # Read backwards until the start of the last line is in hand (an entry can be long).
        chunk, data = 1 << 16, b""
        while True:
            chunk = min(size, chunk)
            os.lseek(fd, size - chunk, os.SEEK_SET)
            data = os.read(fd, chunk)
            if chunk == size or b"\n" in data.rstrip(b"\n"):
                break
            chunk *= 4
        if not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            torn = data[cut:]
            os.ftruncate(fd, size - len(torn))
            seq, prev = self._tail(fd)
            entry = {"seq": seq, "time": float(self.clock()), "event": "recovered-torn-entry",
                     "torn_bytes": len(torn), "torn_sha256": hashlib.sha256(torn).hexdigest(), "prev": prev}
            entry["hash"] = _entry_hash(entry)
            os.write(fd, (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode())
            os.fsync(fd)
            return seq + 1, entry["hash"]
        lines = data.rstrip(b"\n").rsplit(b"\n", 1)
        try:
            last = json.loads(lines[-1])
            return int(last["seq"]) + 1, str(last["hash"])
        except (ValueError, KeyError, TypeError, RecursionError):
            # Never chain new entries onto a damaged one: that would paper over the damage.
            raise AuditError(f"audit log {self.path}: the last entry is damaged; run 'facesel audit verify' "
                             "and preserve the log before anything else is written") from None

    def entries(self) -> list[dict]:
        """All parseable entries (for listing; use :func:`verify` to check them)."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
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


def verify(path: str | os.PathLike, expect: tuple[int, str] | None = None) -> VerifyResult:
    """Check the chain of an audit log and report the first edited/deleted/reordered/inserted entry.

    Parameters
    ----------
    path : path of the log file.
    expect : (seq, hash), optional
        An externally recorded anchor: the entry with this seq must exist with this hash.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audit log not found: {path}")
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        return _fail(len(lines), len(lines), "torn", f"line {len(lines)}: the last entry is incomplete (no newline)")
    parsed: list[dict | None] = []
    for chunk in lines:
        try:
            entry = json.loads(chunk.decode("utf-8"))
            ok = (isinstance(entry, dict) and isinstance(entry.get("seq"), int)
                  and isinstance(entry.get("hash"), str) and isinstance(entry.get("prev"), str))
            parsed.append(entry if ok else None)
        except (UnicodeDecodeError, ValueError, RecursionError):
            parsed.append(None)
    all_seqs = {e["seq"]: i for i, e in enumerate(parsed) if e is not None}
    prev, expected, seen = GENESIS, 0, set()
    for i, entry in enumerate(parsed):
        line = i + 1
        if entry is None:
            return _fail(len(lines), line, "edited", f"line {line}: not a valid audit entry (edited or corrupted)")
        seq = entry["seq"]
        if _entry_hash(entry) != entry["hash"]:
            return _fail(len(lines), line, "edited", f"line {line}: entry seq {seq} was edited (its content no "
                                                     "longer matches its hash)")
        if seq != expected:
            if seq in seen:
                return _fail(len(lines), line, "inserted", f"line {line}: entry seq {seq} appears a second time "
                                                           "(duplicated or inserted)")
            if seq > expected and expected in all_seqs and all_seqs[expected] > i:
                return _fail(len(lines), line, "reordered", f"line {line}: entry seq {seq} comes before seq "
                                                            f"{expected} (entries reordered)")
            if seq > expected:
                return _fail(len(lines), line, "deleted", f"line {line}: entries seq {expected}..{seq - 1} are "
                                                          "missing (deleted)")
            return _fail(len(lines), line, "reordered", f"line {line}: entry seq {seq} comes after seq "
                                                        f"{expected - 1} (reordered or inserted)")
        if entry["prev"] != prev:
            return _fail(len(lines), line, "inserted", f"line {line}: entry seq {seq} does not chain to the entry "
                                                       "before it (an entry was inserted or replaced)")
        seen.add(seq)
        prev, expected = entry["hash"], expected + 1
    head_seq = expected - 1 if expected else None
    head_hash = prev if expected else None
    anchor = path.with_name(path.name + ".head")
    if anchor.is_file():
        try:
            head = json.loads(anchor.read_text())
            a_seq, a_hash = int(head["seq"]), str(head["hash"])
        except (ValueError, KeyError, TypeError):
            return _fail(len(lines), len(lines), "anchor", f"{anchor}: head anchor is unreadable")
        if head_seq is None or a_seq > head_seq:
            return _fail(len(lines), len(lines), "deleted", f"the log ends at seq {head_seq} but {anchor.name} "
                                                            f"records seq {a_seq}: entries at the end were deleted")
        if parsed[a_seq]["hash"] != a_hash:
            return _fail(len(lines), a_seq + 1, "edited", f"line {a_seq + 1}: entry seq {a_seq} differs from the "
                                                          f"head anchor in {anchor.name} (log rewritten)")
    if expect is not None:
        e_seq, e_hash = expect
        if head_seq is None or e_seq > head_seq:
            return _fail(len(lines), len(lines), "deleted", f"expected entry seq {e_seq} is missing (log truncated)")
        if parsed[e_seq]["hash"] != e_hash:
            return _fail(len(lines), e_seq + 1, "edited", f"line {e_seq + 1}: entry seq {e_seq} does not have the "
                                                          "expected hash (log rewritten)")
    return VerifyResult(True, len(lines), head_seq, head_hash)
