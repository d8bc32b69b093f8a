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
from facesel.vault.errors import EpochUnavailableError, KeyMaterialError
from facesel.vault.keys import FORMAT_EPOCH, AuthorityPublic, Keystore, epoch_from_file


def epoch_shred_time(not_after: float, retention_seconds: float) -> float:
    """Unix seconds after which an epoch's secret must be destroyed."""
    return float(not_after) + float(retention_seconds)


def _not_after(keystore: Keystore, epoch_id: int) -> float:
    """The end of an epoch's window, from its key file (type- and range-checked; a FIFO, device or
    folder in its place is refused, never waited on)."""
    path = keystore.epoch_path(epoch_id)
    return epoch_from_file(read_json(path, FORMAT_EPOCH), str(path)).not_after


def signed_terms(authority_dir: str | os.PathLike, keystore: Keystore) -> AuthorityPublic:
    """The authority's own ``authority.pub`` (beside ``keystore``), signed by the keystore's signing
    key: the retention and epoch windows a shred may act on.

    ``keystore/authority.json`` and the epoch files' windows are plain JSON that anyone who can
    write the authority's folder may edit without any key: a ``retention_seconds`` of 1, or an
    epoch's ``not_after`` set back, made the next ``authority shred`` (run by K honest holders)
    destroy the secrets of epochs still in retention, every record of theirs in every vault and
    backup unopenable, logged as an ordinary shred (review round 11, attack20 finding 1). The
    signed file cannot be edited so.

    Raises
    ------
    KeyMaterialError
        The file is missing, not signed by the keystore's key, or its retention differs from the
        keystore's.
    """
    path = Path(authority_dir) / "authority.pub"
    if not path.exists() and not path.is_symlink():
        raise KeyMaterialError(f"{path} is missing: a shred takes the retention and the epochs' windows from the "
                               "authority's signed file")
    pub = AuthorityPublic.load(path)
    if pub.signing_key != keystore.signing_public or pub.authority_id != keystore.authority_id:
        raise KeyMaterialError(f"{path} is not signed by the keystore's authority key: nothing is shredded")
    if float(pub.retention_seconds) != float(keystore.meta["retention_seconds"]):
        raise KeyMaterialError(f"{keystore.path / 'authority.json'} says the retention is "
                               f"{keystore.meta['retention_seconds']:g} s, the authority's signed {path} "
                               f"{pub.retention_seconds:g} s: the keystore was edited; nothing is shredded")
    return pub


def shreddable_epochs(keystore: Keystore, now: float, authority: AuthorityPublic | None = None) -> list[int]:
    """Ids of the epochs still in ``keystore`` whose retention has passed at ``now``.

    With ``authority`` (:func:`signed_terms`), the retention and each epoch's window are the
    signed file's, and an epoch file whose window differs from it (or that it does not list) is
    refused (KeyMaterialError) rather than judged by its own, unsigned, word.
    """
    if authority is None:
        retention = keystore.meta["retention_seconds"]
        return [e for e in keystore.epoch_ids() if epoch_shred_time(_not_after(keystore, e), retention) <= now]
    doomed = []
    for epoch_id in keystore.epoch_ids():
        path = keystore.epoch_path(epoch_id)
        try:
            signed = authority.epoch(epoch_id)
        except EpochUnavailableError:
            raise KeyMaterialError(f"{path}: epoch {epoch_id} is not in the authority's signed authority.pub; "
                                   "nothing is shredded") from None
        own = epoch_from_file(read_json(path, FORMAT_EPOCH), str(path))
        if (own.epoch_id, own.not_before, own.not_after) != (signed.epoch_id, signed.not_before, signed.not_after):
            raise KeyMaterialError(f"{path}: its window differs from epoch {epoch_id}'s in the authority's signed "
                                   "authority.pub (the key file was edited); nothing is shredded")
        if epoch_shred_time(signed.not_after, authority.retention_seconds) <= now:
            doomed.append(epoch_id)
    return doomed


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
    doomed = shreddable_epochs(keystore, now, signed_terms(authority_dir, keystore))
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
    for epoch_id in doomed:  # every window authenticated (the wrap's associated data) before any is shredded
        keystore.read_epoch(master, epoch_id)
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
