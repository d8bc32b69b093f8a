"""Verifying an audit log: the chain, each entry's hash, seq, signature and time, and the signed
head (and a head a witness kept), reporting the first problem found (:class:`VerifyResult`).
"""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from facesel.path_arg import path_arg
from facesel.vault.audit_format import (FUTURE_TOLERANCE, GENESIS, MAX_LOG_BYTES, _canonical, _entry_hash, _good_seq,
                                        _good_time, _head_body, _head_path, _read_head, _sig_ok)
from facesel.vault.errors import AuditError
from facesel.vault.fsutil import NotRegularFileError, read_regular

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
    """A failed :class:`VerifyResult`: ``kind`` of problem at 1-based ``line`` of ``count``."""
    return VerifyResult(False, count, None, None, line, kind, message)


def _parse_lines(lines: list[bytes]) -> list[dict | None]:
    """Each line as an entry, or None when it is not one. A line must be the exact canonical JSON
    of its entry (as :meth:`facesel.vault.audit.AuditLog._write` writes it): the hash and
    signature cover the parsed content, so other spacing, key order or a duplicate key (Python
    keeps the last one, other readers the first) would leave the signed bytes changed unnoticed
    (review 5, finding 7)."""
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
    """The problem with parsed ``entry`` at 1-based ``line`` (of ``count``), or None: its hash, its
    seq (``expected``; ``seen`` and ``all_seqs`` {seq: 0-based line} tell a deletion from a
    reordering or an insertion), its chain to ``prev``, its signature (when ``keys``) and its time
    (not before ``last_time``, not after ``now`` + :data:`FUTURE_TOLERANCE`)."""
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
    return _verify(path_arg(path, "path"), expect, keys, now, allow_torn=False)[0]


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
        head = _read_head(_head_path(path))
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
    """The problem with the signed ``head`` against the verified entries ``parsed`` (the last one
    ``head_seq``), or None; a missing head is one only when the log holds two or more entries."""
    count = len(parsed)
    anchor = _head_path(path)
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
    """Whether a signed head (its fields already checked) carries a valid signature by ``keys``."""
    body = _head_body(head["seq"], head["hash"], head["time"], str(head.get("signer")))
    return _sig_ok(keys, head.get("signer"), body, head.get("sig"))


def _check_expect(parsed: list[dict], head_seq: int | None, expect, keys, count: int) -> VerifyResult | None:
    """The problem with a witnessed head ``expect`` ((seq, hash) or a signed head dict) against
    the verified entries, or None: the entry it names must still be there with its hash."""
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
