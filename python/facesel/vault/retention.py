"""Retention on the authority side: crypto-shredding epoch secrets whose records have all expired,
then re-keying what is left so that keystore backups taken earlier become useless.

A record sealed at time t expires at t + retention (the camera's :meth:`Vault.purge` deletes it).
Every record of an epoch is sealed before the epoch's ``not_after``, so once
``not_after + retention`` has passed, no record of that epoch may still be kept anywhere, and its
secret is destroyed: copies and backups of those records become undecryptable.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

from facesel.setting_checks import check_flag
from facesel.vault.audit import AuditLog
from facesel.vault.consistency import checked_purge_time
from facesel.vault.authority import rekey
from facesel.vault.encoding import read_json
from facesel.vault.keys import FORMAT_EPOCH, Keystore, epoch_from_file


def epoch_shred_time(not_after: float, retention_seconds: float) -> float:
    """Unix seconds after which an epoch's secret must be destroyed."""
    return float(not_after) + float(retention_seconds)


def _not_after(keystore: Keystore, epoch_id: int) -> float:
    """The end of an epoch's window, from its key file (type- and range-checked; a FIFO, device or
    folder in its place is refused, never waited on)."""
    path = keystore.epoch_path(epoch_id)
    return epoch_from_file(read_json(path, FORMAT_EPOCH), str(path)).not_after


def shreddable_epochs(keystore: Keystore, now: float) -> list[int]:
    """Ids of the epochs still in ``keystore`` whose retention has passed at ``now``."""
    retention = keystore.meta["retention_seconds"]
    return [e for e in keystore.epoch_ids() if epoch_shred_time(_not_after(keystore, e), retention) <= now]


def shred_expired(authority_dir: str | os.PathLike, now: float | None = None, dry_run: bool = False,
                  master: bytes | None = None, passphrases: Sequence[bytes | None] | None = None,
                  kdf_level: str | None = None, *, insecure_kdf: bool = False,
                  allow_shared_passphrase: bool = False, allow_future: bool = False) -> list[int]:
    """Destroy the wrapped secrets of expired epochs, re-key the rest, and log it.

    Parameters
    ----------
    authority_dir : path-like
        The folder made by ``facesel authority init`` (holds ``keystore/``).
    now : float, optional
        Unix seconds (default: the current time).
    dry_run : bool
        Only report what would be shredded (needs no key).
    allow_future : bool
        Accept a ``now`` more than ``PURGE_CLOCK_TOLERANCE`` seconds ahead of the clock (logged as
        ``shred-clock-override``); refused otherwise, as a non-finite ``now`` always is.
    master : bytes
        The master key (from K shares); required unless ``dry_run``. After the shred the
        remaining epochs are re-wrapped under a fresh master key and ``shares/`` holds a new
        sharing of it (:func:`facesel.vault.authority.rekey`), so a keystore backup from before
        the shred opens nothing with the new shares.
    passphrases : sequence of bytes or None, optional
        One per new share (None: unprotected); see :func:`facesel.vault.authority.rekey` for
        ``kdf_level``, ``insecure_kdf`` and ``allow_shared_passphrase``.

    Returns
    -------
    list of int
        The epoch ids shredded (or that would be).
    """
    authority_dir = Path(authority_dir)
    for name, flag in (("dry_run", dry_run), ("insecure_kdf", insecure_kdf),
                       ("allow_shared_passphrase", allow_shared_passphrase)):
        check_flag(flag, name)  # allow_future: checked_purge_time
    keystore = Keystore(authority_dir / "keystore")
    clock_now = time.time()
    now = clock_now if now is None else float(now)
    if not math.isfinite(now):
        raise ValueError(f"the time given is {now!r}: a finite time is needed to shred epoch secrets")
    doomed = shreddable_epochs(keystore, now)
    if dry_run:
        return doomed
    if master is None:
        raise ValueError("shredding needs K shares: the remaining epochs are re-wrapped under a fresh master key")
    keystore.check_master(master)
    log = AuditLog(authority_dir / "audit.log", clock=lambda: now, signer=keystore.signer(master))
    # A time ahead of the clock (a mistyped year) would destroy the epochs cameras seal to today:
    # refused as for purges, or logged when explicitly allowed.
    checked_purge_time(now, clock_now, allow_future, lambda shred_time, clock_time: log.append(
        "shred-clock-override", authority_id=keystore.authority_id, shred_time=shred_time, clock_time=clock_time),
        what="shred epoch secrets")
    retention = float(keystore.meta["retention_seconds"])
    for epoch_id in doomed:
        not_after = _not_after(keystore, epoch_id)
        keystore.shred(epoch_id)
        log.append("shred", authority_id=keystore.authority_id, epoch_id=epoch_id, not_after=not_after,
                   retention_seconds=retention)
    if doomed:
        rekey(authority_dir, master, passphrases, kdf_level, insecure_kdf=insecure_kdf,
              allow_shared_passphrase=allow_shared_passphrase)
        log.append("rekey", authority_id=keystore.authority_id, epochs_kept=len(Keystore(keystore.path).epoch_ids()),
                   reason="after shredding: backups of the old keystore must not open with the new shares")
    return doomed
