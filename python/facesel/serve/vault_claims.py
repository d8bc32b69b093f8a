"""One ``facesel serve`` per vault folder: the service holds each camera's vault folder for its life.

A second service on the same vault folders (another port) used to start and run with every
camera down, retrying ``VaultLockedError`` until the first stopped (ux20). Now the start is
refused, naming the folder and the holder's pid and command line.

The claim is an exclusive ``flock`` on the vault folder itself (the directory), the mechanism the
vault's own write lock (``VAULT/.lock``, :meth:`facesel.vault.Vault._lock`) uses, but on another
object: that lock is taken by each camera's writer thread when it opens its vault, and a second
``flock`` from this process on ``.lock`` would refuse it. Like that lock, the claim goes with the
process: a service that died (SIGKILL, a crash) leaves nothing that blocks the next start.

Two services started at the same instant: each claims its folders in one order (sorted resolved
paths), without waiting, before any camera or the status port starts, and gives back what it got
when one is refused. The first folder they share is taken by exactly one of them; the other is
refused there and holds nothing, so neither runs with its cameras locked out.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from facesel.vault.errors import VaultLockedError
from facesel.vault.store import writer_process


def _flock_holder(folder: Path) -> int | None:
    """The pid holding a ``flock`` on ``folder`` (from ``/proc/locks``), or None when not found."""
    try:
        info = folder.stat()
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    device = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    for line in text.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 4242 00:2f:1234567 0 EOF"; blocked waiters ("->") are not holders
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device:
            try:
                pid = int(fields[4])
            except ValueError:
                return None
            return pid if pid > 0 else None
    return None


class VaultClaims:
    """The vault folders this service holds: ``claim`` before a camera starts, ``release`` after it stopped."""

    def __init__(self):
        self._held: dict[Path, int] = {}

    def held(self) -> set[Path]:
        """The resolved folders held now."""
        return set(self._held)

    def claim_all(self, cameras) -> None:
        """Claim the vault of every enabled camera in ``cameras`` (CameraConfig values) not held yet.

        All or nothing: when one is refused, those taken by this call are given back and
        ``VaultLockedError`` names the camera, the folder and the service holding it.
        """
        wanted = sorted({c.vault.resolve(): c for c in cameras if c.enabled}.items(), key=lambda item: str(item[0]))
        taken = []
        try:
            for folder, camera in wanted:
                if folder not in self._held:
                    self._claim(folder, camera.name)
                    taken.append(folder)
        except BaseException:
            for folder in taken:
                self.release(folder)
            raise

    def _claim(self, folder: Path, camera: str) -> None:
        try:  # made as the vault would make it, so that a fresh folder is claimed too (two first starts)
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return  # the camera's vault says what is wrong with the folder, as before
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = _flock_holder(folder)
            where = "this process (another Service on this config is running)" if holder == os.getpid() \
                else writer_process(holder)
            raise VaultLockedError(
                f"cameras.{camera}.vault: {folder} is held by another facesel serve: {where}; one service per "
                "vault folder: stop that one first (facesel serve status --config ITS_CONFIG shows its port), "
                "or give this config other vault folders") from None
        self._held[folder] = fd

    def release(self, folder: Path) -> None:
        """Give ``folder`` back (after its camera stopped); nothing when not held."""
        fd = self._held.pop(folder, None)
        if fd is not None:
            os.close(fd)  # releases the flock

    def release_all_but(self, keep: set[Path] = frozenset()) -> None:
        """Give back every folder not in ``keep``."""
        for folder in list(self._held):
            if folder not in keep:
                self.release(folder)
