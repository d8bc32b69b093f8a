"""The audit log's format: the canonical bytes of an entry, its hash and signature, the checks of
its fields, and the signed head file beside the log (``<log>.head``).

The writer (:mod:`facesel.vault.audit`), the verifier (:mod:`facesel.vault.audit_verify`), the
follower (:mod:`facesel.vault.audit_follow`) and the evidence bundle's check
(:mod:`facesel.review.verify_bundle`) all read and write entries through these functions, so
there is one definition of what an entry's signed bytes are.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path

from facesel.vault import fields
# The one byte form of an entry that is hashed, signed and written (sorted keys, no spaces): the
# same as every other signed JSON of the vault.
from facesel.vault.encoding import canonical as _canonical
from facesel.vault.errors import AuditError
from facesel.vault.fsutil import NotRegularFileError, open_regular, read_regular
from facesel.vault.signing import verify_signature

GENESIS = "0" * 64
"""The ``prev`` of the first entry."""
FORMAT_HEAD = "facesel-audit-head"
_RESERVED = {"seq", "time", "event", "prev", "hash", "signer", "sig", "clock"}
"""The fields the log itself writes: an event's own fields may not take these names."""
MAX_LOG_BYTES = 1 << 30
"""A log larger than this (1 GiB) is refused rather than read into memory."""
# A log entry dated further ahead of the verifier's clock than this is refused (clock skew allowance).
FUTURE_TOLERANCE = 86400.0


def _entry_hash(entry: dict) -> str:
    """The hex SHA-256 of an entry's canonical form without its ``hash`` and ``sig``."""
    return hashlib.sha256(_canonical({k: v for k, v in entry.items() if k not in ("hash", "sig")})).hexdigest()


def _head_body(seq: int, digest: str, when: float, signer: str) -> bytes:
    """The bytes the signed head's ``sig`` signs."""
    return _canonical({"format": FORMAT_HEAD, "seq": seq, "hash": digest, "time": when, "signer": signer})


def _sig_ok(keys: Mapping[str, bytes], signer: object, message: bytes, sig: object) -> bool:
    """Whether ``sig`` (base64 text) is ``signer``'s Ed25519 signature of ``message`` by its key in
    ``keys``; False for an unknown signer or anything malformed (the fields come from the file)."""
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
    """An int (not a bool) within [0, MAX_INDEX]."""
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


def _head_path(log: Path) -> Path:
    """Where the signed head of the log ``log`` lives: ``<log>.head`` beside it."""
    return log.with_name(log.name + ".head")


def _open_log(path: Path, flags: int) -> int:
    """Open the log without following a symlink (a link could make the camera append elsewhere),
    and only when it is a regular file (a FIFO or device would hang or swallow the entries)."""
    try:
        return open_regular(path, flags, 0o600, follow=False)
    except NotRegularFileError as err:
        what = "a symbolic link; refusing to follow it" if err.errno == errno.ELOOP else f"{err.strerror}"
        raise AuditError(f"audit log {path} is {what}") from None


def signed_head(path: str | os.PathLike) -> dict:
    """The current signed head of a log (what ``facesel audit head`` prints)."""
    head = _read_head(_head_path(Path(path)))
    if head is None:
        raise FileNotFoundError(f"{path}.head does not exist: the log has no signed head yet")
    return head
