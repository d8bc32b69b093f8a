"""The desk's state: one investigator session, at most one opening, all in memory.

A session begins when the one-time start token (printed at start) is exchanged for a cookie;
the token then no longer works. It ends on demand or after ``idle_seconds`` without a request:
the opening is logged as ended and every decrypted byte, share value and the authority's signing
key are dropped. Nothing of it is ever written to disk.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from facesel.review.holders import AttemptLimiter, HolderCollector
from facesel.review.memory_open import Opening
from facesel.vault.keys import Keystore


@dataclass
class PendingOpening:
    """An opening request waiting for its holders: what (``(camera_id, record_id)`` pairs), why,
    the shares so far, and the late arrivals among the records that the investigator acknowledged
    (``(camera_id, record_id)`` -> why; with ``acknowledged``, the words ticked in the page)."""

    records: list[tuple[str, str]]
    case: str
    reason: str
    opened_by: str
    holders: HolderCollector
    after_revocation: dict[tuple[str, str], str] = field(default_factory=dict)
    acknowledged: str | None = None


@dataclass
class DeskState:
    """The desk's one session: where records come from, the session's secrets (start token,
    secret path, cookie id, CSRF token), the opening request being collected and the opening in
    progress, the records whose view is logged, and the lock every request takes."""

    source: object        # a facesel.review.sources.VaultSource or CentralSource
    keystore_dir: Path
    idle_seconds: float = 600.0
    passphrase_delay: float = 2.0
    clock: Callable[[], float] = time.monotonic
    start_token: str | None = field(default_factory=lambda: secrets.token_urlsafe(24))
    # Every page of the session lives under this secret path (review 7b, finding 1): browsers send
    # a loopback cookie to every port of 127.0.0.1, so the cookie alone must not open the desk.
    url_base: str = field(default_factory=lambda: "/s/" + secrets.token_urlsafe(18))
    session_id: str | None = None
    csrf: str | None = None
    last_seen: float = 0.0
    pending: PendingOpening | None = None
    opening: Opening | None = None
    viewed: set[tuple[str, str]] = field(default_factory=set)  # (camera, record id) whose view is logged
    message: str | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    limiter: AttemptLimiter | None = None  # shared by every opening request of this server's session

    def collector(self) -> HolderCollector:
        """A new request's holder collector, rate limited with the session's shared limiter."""
        if self.limiter is None:
            self.limiter = AttemptLimiter(self.passphrase_delay)
        return HolderCollector(self.keystore(), self.limiter)

    def begin(self, token: str) -> str | None:
        """Exchange the one-time start token for a session id (None when the token is wrong or used)."""
        with self.lock:
            if self.start_token is None or not secrets.compare_digest(self.start_token, token or ""):
                return None
            self.start_token = None
            self.session_id, self.csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            self.last_seen = self.clock()
            return self.session_id

    def current(self, cookie: str | None) -> bool:
        """True (and the idle timer restarts) when ``cookie`` is the live session."""
        with self.lock:
            self.expire_if_idle()
            if self.session_id is None or not cookie or not secrets.compare_digest(self.session_id, cookie):
                return False
            self.last_seen = self.clock()
            return True

    def expire_if_idle(self) -> bool:
        """End the session when it has been idle longer than ``idle_seconds``; True when it did."""
        with self.lock:
            if self.session_id is not None and self.clock() - self.last_seen > self.idle_seconds:
                self.end("idle timeout")
                return True
            return False

    def keystore(self) -> Keystore:
        """The authority's keystore (read anew: nothing of it is kept in the session)."""
        return Keystore(self.keystore_dir)

    def drop_pending(self) -> None:
        """Forget the opening request being collected, zeroing the share values it holds."""
        with self.lock:
            if self.pending is not None:
                self.pending.holders.forget()
            self.pending = None

    def end_opening(self, why: str) -> None:
        """End the current opening (logged with ``why``) and forget its decrypted records."""
        with self.lock:
            if self.opening is not None:
                self.opening.end(why)
            self.opening = None
            self.viewed.clear()

    def end(self, why: str) -> None:
        """End the session: log the opening's end, drop everything; a new start token is needed."""
        with self.lock:
            self.drop_pending()
            self.end_opening(why)
            self.session_id = self.csrf = None
            self.message = None
