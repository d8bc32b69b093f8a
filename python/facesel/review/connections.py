"""Bounded connections for the desk's HTTP server (uvicorn's h11 protocol with two limits added).

uvicorn keeps a connection that never sends a complete request open forever, and accepts as many
as the process has file descriptors: a few hundred idle or trickling ("slowloris") sockets then
make ``accept`` fail with EMFILE, the page stops answering, and the desk can no longer open the
vault's files or append to its audit log while an opening is under way. The status port of
``facesel serve`` has the same guard (:mod:`facesel.serve.http_pool`); this is the asyncio form:

* a connection that is not handling a request (before its first one, between keep-alive requests,
  or trickling request headers) is closed ``IDLE_SECONDS`` after it last went idle; bytes that
  arrive without completing a request do not restart that clock;
* at most ``MAX_CONNECTIONS`` are open: a new one closes the longest-idle connection first (a busy
  one only when every connection is busy), so descriptors stay free for the vault;
* sockets are accepted ``ACCEPT_BATCH`` at a time, so that the cap acts between two bursts.
"""

from __future__ import annotations

from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_CONNECTIONS = 64
IDLE_SECONDS = 10.0
# uvicorn's backlog is both the kernel's listen queue and how many sockets asyncio accepts in one
# go before any protocol sees them (its default, 2048, accepts until EMFILE in one burst): small, so
# that the cap above acts between two bursts and descriptors never run out.
ACCEPT_BATCH = 16


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with an idle deadline and a cap on open connections (module docstring)."""

    max_connections = MAX_CONNECTIONS
    idle_seconds = IDLE_SECONDS

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.opened_at = self.idle_since = self.loop.time()
        self._deadline = None
        self._arm(self.idle_seconds)
        self._close_beyond_cap()

    def busy(self) -> bool:
        """True while a request is being answered (headers complete, response not yet sent)."""
        return self.cycle is not None and not self.cycle.response_complete

    def on_response_complete(self) -> None:
        """Mark the connection idle from now (its idle deadline starts), then h11's own handling."""
        self.idle_since = self.loop.time()
        super().on_response_complete()

    def connection_lost(self, exc) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._deadline = self.loop.call_later(max(0.05, seconds), self._check_idle)

    def _check_idle(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.busy():
            self._arm(self.idle_seconds)
            return
        left = self.idle_seconds - (self.loop.time() - self.idle_since)
        if left > 0:
            self._arm(left)
        else:
            self.transport.close()

    def _close_beyond_cap(self) -> None:
        others = [c for c in self.connections if c is not self and not c.transport.is_closing()]
        excess = len(others) + 1 - self.max_connections
        if excess <= 0:
            return
        # Longest idle first; busy ones last, oldest first among them.
        order = sorted(others, key=lambda c: (1, c.opened_at) if c.busy() else (0, c.idle_since))
        for conn in order[:excess]:
            conn.transport.close()
