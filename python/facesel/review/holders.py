"""K of N holders, one at a time: each uploads a share file and types its passphrase.

What is kept between two holders is only the 32-byte share *value* each passphrase unlocked (in
a ``bytearray`` that is zeroed once the master key is rebuilt or the opening is abandoned). The
uploaded file and the passphrase are dropped as soon as the value is out: neither is stored,
logged or written anywhere. Refusals use the CLI's wording (wrong authority, duplicate share,
wrong passphrase).

Passphrase guessing is slowed twice: Argon2id makes every try expensive, and failed tries are rate
limited here: an :class:`AttemptLimiter` shared by every request of a session makes each try after
a failure wait longer (doubling, never reset by starting a new request), only one passphrase is
under check at a time (a try sent meanwhile is refused untried), and a request is cancelled after
:data:`MAX_FAILURES` wrong passphrases, so a new one, with its reason, must be made.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from facesel.vault import shamir
from facesel.vault.encoding import VERSION
from facesel.vault.errors import KeyMaterialError
from facesel.vault.keys import FORMAT_SHARE, Keystore
from facesel.vault.shares import ShareFile

MAX_SHARE_BYTES = 64 * 1024   # a share file is about 600 bytes; anything near this is not one
MAX_FAILURES = 5              # wrong passphrases before the opening request is cancelled


class TooManyAttempts(KeyMaterialError):
    """A passphrase try came too soon after a failure, or too many failed."""


def parse_share(data: bytes, name: str) -> ShareFile:
    """A share file from uploaded bytes, with the same field checks as :meth:`ShareFile.load`."""
    if len(data) > MAX_SHARE_BYTES:
        raise KeyMaterialError(f"{name}: {len(data)} bytes is far too big for a share file")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise KeyMaterialError(f"{name}: not a share file (not JSON)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_SHARE:
        raise KeyMaterialError(f"{name}: not a {FORMAT_SHARE} file")
    if doc.get("version") != VERSION:
        raise KeyMaterialError(f"{name}: unsupported share file version {doc.get('version')!r}")
    for key, kind in (("authority_id", str), ("index", int), ("threshold", int), ("shares", int), ("protected", bool)):
        if not isinstance(doc.get(key), kind) or (kind is int and isinstance(doc.get(key), bool)):
            raise KeyMaterialError(f"{name}: share file field {key!r} missing or malformed")
    return ShareFile(Path(name), doc)


@dataclass
class AttemptLimiter:
    """Wrong-passphrase bookkeeping shared by all opening requests of one session.

    After the n-th failure the next try must wait ``base_delay * 2**(n-1)`` seconds.
    """

    base_delay: float = 2.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    not_before: float = 0.0
    # Held while one passphrase is under check: the wait is decided by that try's outcome, so a try
    # that starts meanwhile would escape it (the page answers requests in a pool of threads).
    checking: threading.Lock = field(default_factory=threading.Lock)

    def wait_seconds(self) -> float:
        """Seconds until the next try is allowed (0 when it is)."""
        return max(0.0, self.not_before - self.clock())

    def failed(self) -> None:
        """Count a wrong passphrase: the wait before the next try doubles (``base_delay`` after the first)."""
        self.failures += 1
        self.not_before = self.clock() + self.base_delay * 2 ** (self.failures - 1)


@dataclass
class HolderCollector:
    """Gathers share values until the keystore's threshold K is reached.

    Parameters
    ----------
    keystore : Keystore
        Supplies the authority id, K and N, and the master-key commitment.
    limiter : AttemptLimiter
        The session's wait between tries (a new one when not given).
    """

    keystore: Keystore
    limiter: AttemptLimiter = field(default_factory=AttemptLimiter)
    _values: dict[int, bytearray] = field(default_factory=dict)
    failures: int = 0  # wrong passphrases in this request

    @property
    def threshold(self) -> int:
        """K: the shares needed to rebuild the master key."""
        return int(self.keystore.meta["threshold"])

    @property
    def total(self) -> int:
        """N: the shares made."""
        return int(self.keystore.meta["shares"])

    @property
    def given(self) -> list[int]:
        """Share indices accepted so far (for "2 of 3" and the log)."""
        return sorted(self._values)

    @property
    def complete(self) -> bool:
        """Whether K shares have been accepted."""
        return len(self._values) >= self.threshold

    @property
    def cancelled(self) -> bool:
        """Whether this request saw ``MAX_FAILURES`` wrong passphrases (it must start again)."""
        return self.failures >= MAX_FAILURES

    def wait_seconds(self) -> float:
        """Seconds until the session's next try is allowed."""
        return self.limiter.wait_seconds()

    def add(self, data: bytes, name: str, passphrase: str) -> int:
        """Unlock one uploaded share with its passphrase; returns its index.

        Raises
        ------
        KeyMaterialError
            Wrong authority, a share already given, a damaged file, or a wrong passphrase.
        TooManyAttempts
            The holder must wait (:meth:`wait_seconds`), or the opening was cancelled.
        """
        if not self.limiter.checking.acquire(blocking=False):
            raise TooManyAttempts("another passphrase is being checked: try again when it is done")
        try:
            return self._add(data, name, passphrase)
        finally:
            self.limiter.checking.release()

    def _add(self, data: bytes, name: str, passphrase: str) -> int:
        if self.cancelled:
            raise TooManyAttempts(f"{MAX_FAILURES} wrong passphrases: this opening request is cancelled; "
                                  "start a new one")
        wait = self.wait_seconds()
        if wait > 0:
            raise TooManyAttempts(f"too many attempts: wait {wait:.0f} s before the next passphrase")
        if self.complete:
            raise KeyMaterialError(f"all {self.threshold} shares needed are already given")
        share = parse_share(data, name)
        if share.doc["authority_id"] != self.keystore.authority_id:
            raise KeyMaterialError(f"{name}: share of authority {share.doc['authority_id']}, but this vault's "
                                   f"keystore belongs to authority {self.keystore.authority_id}")
        if share.index in self._values:
            raise KeyMaterialError(f"share {share.index} given twice ({name} is the same holder's share again)")
        try:
            value = share.secret(passphrase.encode("utf-8") if passphrase else None)
        except KeyMaterialError as err:
            if "wrong passphrase" in str(err):
                self.failures += 1
                self.limiter.failed()
                left = MAX_FAILURES - self.failures
                raise KeyMaterialError(f"{name}: wrong passphrase, or the share file is corrupt "
                                       f"({left} tr{'y' if left == 1 else 'ies'} left)") from None
            raise
        self._values[share.index] = bytearray(value)
        return share.index

    def combine(self) -> tuple[bytes, list[int]]:
        """The verified master key and the share indices used; the share values are zeroed.

        Raises
        ------
        KeyMaterialError
            Fewer than K shares, or shares that do not rebuild this keystore's master key.
        """
        if not self.complete:
            raise KeyMaterialError(f"{len(self._values)} of {self.threshold} shares given; "
                                   f"{self.threshold} are needed (K={self.threshold} of N={self.total})")
        used = self.given
        try:
            master = shamir.combine([(i, bytes(v)) for i, v in sorted(self._values.items())])
            self.keystore.check_master(master)
        finally:
            self.forget()
        return master, used

    def forget(self) -> None:
        """Zero and drop every share value held (Python may still hold copies it made; see docs)."""
        for value in self._values.values():
            value[:] = bytes(len(value))
        self._values.clear()
