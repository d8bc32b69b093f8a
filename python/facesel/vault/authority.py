"""Making an authority (``facesel authority init``) and generating epoch keys further ahead.

See :mod:`facesel.vault.keys` for the layout and the reasons behind it.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

import nacl.public

from facesel.vault import shamir
from facesel.vault.fsutil import atomic_write, fsync_dir
from facesel.vault.keys import (
    FORMAT_KEYSTORE,
    MAX_EPOCHS,
    VERSION,
    AuthorityPublic,
    EpochKey,
    Keystore,
    master_commitment,
)
from facesel.vault.shares import write_share


def _new_epochs(master: bytes, keystore: Keystore, epoch_seconds: float, first_id: int, count: int) -> list[EpochKey]:
    epochs = []
    for epoch_id in range(first_id, first_id + count):
        private = nacl.public.PrivateKey.generate()
        epoch = EpochKey(epoch_id, epoch_id * epoch_seconds, (epoch_id + 1) * epoch_seconds,
                         bytes(private.public_key))
        keystore.wrap(master, epoch, bytes(private))
        epochs.append(epoch)
    return epochs


def _epoch_count(start: float, horizon_seconds: float, epoch_seconds: float) -> tuple[int, int]:
    first = int(start // epoch_seconds)
    last = int((start + horizon_seconds) // epoch_seconds)
    count = last - first + 1
    if count > MAX_EPOCHS:
        raise ValueError(f"horizon/epoch gives {count} epochs, more than {MAX_EPOCHS}; use longer epochs")
    return first, count


def create_authority(out_dir: str | os.PathLike, shares: int, threshold: int, epoch_seconds: float,
                     retention_seconds: float, horizon_seconds: float, start: float,
                     passphrases: Sequence[bytes | None] | None = None,
                     kdf_level: str | None = None) -> AuthorityPublic:
    """Make all key material of a new authority in ``out_dir`` (see the module docstring).

    Parameters
    ----------
    shares, threshold : int
        N and K of the master-key sharing (1 <= K <= N <= 255).
    epoch_seconds, retention_seconds, horizon_seconds : float
        Epoch length, how long records are kept, and how far ahead epoch keys are generated.
    start : float
        Unix seconds: the first epoch is the one containing ``start``.
    passphrases : sequence of bytes or None, optional
        One entry per share (None: unprotected).
    kdf_level : str, optional
        Argon2id level for protected shares (see :data:`KDF_LEVELS`).
    """
    for name, value in (("epoch_seconds", epoch_seconds), ("retention_seconds", retention_seconds),
                        ("horizon_seconds", horizon_seconds)):
        if not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if passphrases is not None and len(passphrases) != shares:
        raise ValueError(f"passphrases must have one entry per share ({shares}), got {len(passphrases)}")
    out = Path(out_dir)
    pub_path, ks_dir, shares_dir = out / "authority.pub", out / "keystore", out / "shares"
    for existing in (pub_path, ks_dir, shares_dir):
        if existing.exists():
            raise ValueError(f"out_dir {out} already holds key material ({existing}); refusing to overwrite it")
    master = secrets.token_bytes(shamir.SECRET_BYTES)
    share_list = shamir.split(master, threshold, shares)  # validates K and N
    first, count = _epoch_count(start, horizon_seconds, epoch_seconds)
    authority_id = secrets.token_hex(8)

    out.mkdir(parents=True, exist_ok=True)
    ks_dir.mkdir(mode=0o700)
    shares_dir.mkdir(mode=0o700)
    meta = {"format": FORMAT_KEYSTORE, "version": VERSION, "authority_id": authority_id,
            "master_check": master_commitment(master, authority_id), "threshold": threshold, "shares": shares,
            "epoch_seconds": float(epoch_seconds), "retention_seconds": float(retention_seconds)}
    atomic_write(ks_dir / "authority.json", json.dumps(meta, indent=1).encode("utf-8"))
    keystore = Keystore(ks_dir)
    epochs = _new_epochs(master, keystore, float(epoch_seconds), first, count)
    for (index, share) in share_list:
        write_share(shares_dir / f"share-{index}-of-{shares}.json", authority_id, index, threshold, shares,
                    share, None if passphrases is None else passphrases[index - 1], kdf_level)
    pub = AuthorityPublic(authority_id, float(epoch_seconds), float(retention_seconds), threshold, shares,
                          tuple(epochs))
    pub.save(pub_path)
    fsync_dir(out)
    return pub


def extend_authority(out_dir: str | os.PathLike, master: bytes, until: float) -> AuthorityPublic:
    """Generate epoch keys up to time ``until`` and rewrite ``authority.pub`` (needs the master key)."""
    out = Path(out_dir)
    keystore = Keystore(out / "keystore")
    keystore.check_master(master)
    pub = AuthorityPublic.load(out / "authority.pub")
    next_id = max(e.epoch_id for e in pub.epochs) + 1
    last = int(until // pub.epoch_seconds)
    count = last - next_id + 1
    if count <= 0:
        return pub
    if len(pub.epochs) + count > MAX_EPOCHS:
        raise ValueError(f"until={until} would give more than {MAX_EPOCHS} epochs")
    new = _new_epochs(master, keystore, pub.epoch_seconds, next_id, count)
    extended = AuthorityPublic(pub.authority_id, pub.epoch_seconds, pub.retention_seconds, pub.threshold,
                               pub.shares, pub.epochs + tuple(new))
    extended.save(out / "authority.pub")
    return extended
