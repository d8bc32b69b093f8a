"""Retention on the authority side: crypto-shredding epoch secrets whose records have all expired.

A record sealed at time t expires at t + retention (the camera's :meth:`Vault.purge` deletes it).
Every record of an epoch is sealed before the epoch's ``not_after``, so once
``not_after + retention`` has passed, no record of that epoch may still be kept anywhere, and its
secret is destroyed: copies and backups of those records become undecryptable.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from facesel.vault.audit import AuditLog
from facesel.vault.errors import KeyMaterialError
from facesel.vault.keys import Keystore


def record_expires_at(sealed_at: float, retention_seconds: float) -> float:
    """Unix seconds after which a record sealed at ``sealed_at`` must be gone."""
    return float(sealed_at) + float(retention_seconds)


def epoch_shred_time(not_after: float, retention_seconds: float) -> float:
    """Unix seconds after which an epoch's secret must be destroyed."""
    return float(not_after) + float(retention_seconds)


def _not_after(keystore: Keystore, epoch_id: int) -> float:
    path = keystore.epoch_path(epoch_id)
    try:
        return float(json.loads(path.read_text())["not_after"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise KeyMaterialError(f"{path}: unreadable epoch key file ({err})") from None


def shreddable_epochs(keystore: Keystore, now: float) -> list[int]:
    """Ids of the epochs still in ``keystore`` whose retention has passed at ``now``."""
    retention = float(keystore.meta["retention_seconds"])
    return [e for e in keystore.epoch_ids() if epoch_shred_time(_not_after(keystore, e), retention) <= now]


def shred_expired(authority_dir: str | os.PathLike, now: float | None = None, dry_run: bool = False) -> list[int]:
    """Destroy the wrapped secrets of expired epochs and log each in ``authority_dir/audit.log``.

    Parameters
    ----------
    authority_dir : path-like
        The folder made by ``facesel authority init`` (holds ``keystore/``).
    now : float, optional
        Unix seconds (default: the current time).
    dry_run : bool
        Only report what would be shredded.

    Returns
    -------
    list of int
        The epoch ids shredded (or that would be).
    """
    authority_dir = Path(authority_dir)
    keystore = Keystore(authority_dir / "keystore")
    now = time.time() if now is None else float(now)
    doomed = shreddable_epochs(keystore, now)
    if dry_run:
        return doomed
    log = AuditLog(authority_dir / "audit.log", clock=lambda: now)
    retention = float(keystore.meta["retention_seconds"])
    for epoch_id in doomed:
        not_after = _not_after(keystore, epoch_id)
        keystore.shred(epoch_id)
        log.append("shred", authority_id=keystore.authority_id, epoch_id=epoch_id, not_after=not_after,
                   retention_seconds=retention)
    return doomed
