"""Following a log that others append to: the entries added since the last poll, each verified."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from facesel.vault.audit_format import GENESIS, MAX_LOG_BYTES, _head_path, _open_log, _read_head
from facesel.vault.audit_verify import _check_entry, _check_head, _parse_lines
from facesel.vault.errors import AuditError


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
        head = _read_head(_head_path(self.path)) if check_head else None
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
