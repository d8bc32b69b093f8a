"""Making an authority (``facesel authority init``), generating epoch keys further ahead,
registering cameras, and re-keying after a shred. Every change to ``authority.pub`` is signed by
the authority's signing key, whose secret is wrapped under the master key (K shares needed).

See :mod:`facesel.vault.keys` for the layout and the reasons behind it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import nacl.public
import nacl.signing

from facesel.path_arg import path_arg
from facesel.setting_checks import check_flag
from facesel.vault import shamir
from facesel.vault.audit import AuditLog, read_verified
from facesel.vault.errors import AuditError, KeyMaterialError
from facesel.vault.fields import MAX_DURATION, MAX_TIME
from facesel.vault.fsutil import atomic_write, fsync_dir, shred_file
from facesel.vault.keys import (
    FORMAT_KEYSTORE,
    MAX_EPOCHS,
    VERSION,
    AuthorityPublic,
    EpochKey,
    Keystore,
    check_extension,
    check_kdf_level,
    master_commitment,
)
from facesel.vault.shares import check_passphrases, reconstruct_master, write_share
from facesel.vault.signing import CameraKey, CameraPublic


def _new_epochs(master: bytes, keystore: Keystore, epoch_seconds: float, first_id: int, count: int) -> list[EpochKey]:
    epochs = []
    for epoch_id in range(first_id, first_id + count):
        private = nacl.public.PrivateKey.generate()
        epoch = EpochKey(epoch_id, epoch_id * epoch_seconds, (epoch_id + 1) * epoch_seconds,
                         bytes(private.public_key))
        keystore.wrap(master, epoch, bytes(private))
        epochs.append(epoch)
    return epochs


def epoch_count_problem(start: float, horizon_seconds: float, epoch_seconds: float) -> str | None:
    """Why the horizon over epochs of that length gives too many epochs (more than ``MAX_EPOCHS``),
    naming both settings as ``authority init`` spells them; None when it does not. ``authority
    init`` asks it before the holders' passphrases (ux23: the refusal came after them, as
    ``horizon/epoch gives 1440001 epochs``, naming neither flag)."""
    from facesel.vault.timeparse import format_duration

    count = int((start + horizon_seconds) // epoch_seconds) - int(start // epoch_seconds) + 1
    if count <= MAX_EPOCHS:
        return None
    return (f"--horizon {format_duration(horizon_seconds)} (horizon_seconds) over epochs of "
            f"{format_duration(epoch_seconds)} (--epoch, epoch_seconds) gives {count} epochs, more than "
            f"{MAX_EPOCHS}: use a longer --epoch or a shorter --horizon")


def _epoch_count(start: float, horizon_seconds: float, epoch_seconds: float) -> tuple[int, int]:
    if (problem := epoch_count_problem(start, horizon_seconds, epoch_seconds)) is not None:
        raise ValueError(problem)
    first = int(start // epoch_seconds)
    return first, int((start + horizon_seconds) // epoch_seconds) - first + 1


def check_sharing(shares: int, threshold: int, allow_single_share: bool) -> None:
    """K = 1 makes every share equal to the master key: refuse it unless asked for explicitly."""
    if threshold == 1 and shares >= 1 and not allow_single_share:
        raise ValueError("threshold K=1 makes every share a copy of the master key; use K >= 2, or pass "
                         "allow_single_share (--allow-single-share) if one holder alone may open records")


def _write_shares(shares_dir: Path, authority_id: str, master: bytes, threshold: int, shares: int,
                  passphrases: Sequence[bytes | None] | None, kdf_level: str | None, insecure_kdf: bool = False,
                  share_dirs: Sequence[Path] | None = None) -> None:
    """Share i goes to ``share_dirs[i-1]`` when given (one destination per holder), else to ``shares_dir``."""
    for (index, share) in shamir.split(master, threshold, shares):
        folder = shares_dir if share_dirs is None else Path(share_dirs[index - 1])
        write_share(folder / f"share-{index}-of-{shares}.json", authority_id, index, threshold, shares,
                    share, None if passphrases is None else passphrases[index - 1], kdf_level, insecure_kdf)


def check_share_dirs(share_dirs: Sequence[str | os.PathLike] | None, shares: int, out: Path) -> list[Path] | None:
    """One existing, distinct folder per share, none inside the authority folder or inside another."""
    if share_dirs is None:
        return None
    dirs = [Path(d) for d in share_dirs]
    if len(dirs) != shares:
        raise ValueError(f"give one destination per share (--share-out, {shares} times), got {len(dirs)}")
    resolved = [d.resolve() for d in dirs]
    for d, r in zip(dirs, resolved):
        if not d.is_dir():
            raise ValueError(f"share destination {d} is not an existing folder")
        if r.is_relative_to(out.resolve()):
            raise ValueError(f"share destination {d} lies inside the authority folder {out}: the point is to keep "
                             "the shares apart")
    for i, a in enumerate(resolved):
        for b in resolved[i + 1:]:
            if a.is_relative_to(b) or b.is_relative_to(a):
                raise ValueError(f"share destinations {a} and {b} are the same folder or one inside the other: give "
                                 "each holder their own (e.g. one removable drive each)")
    for i, d in enumerate(dirs, 1):
        if (d / f"share-{i}-of-{shares}.json").exists():
            raise ValueError(f"{d} already holds share-{i}-of-{shares}.json; refusing to overwrite it")
    return dirs


def create_authority(out_dir: str | os.PathLike, shares: int, threshold: int, epoch_seconds: float,
                     retention_seconds: float, horizon_seconds: float, start: float,
                     passphrases: Sequence[bytes | None] | None = None,
                     kdf_level: str | None = None, allow_single_share: bool = False, *,
                     insecure_kdf: bool = False, allow_shared_passphrase: bool = False,
                     share_dirs: Sequence[str | os.PathLike] | None = None) -> AuthorityPublic:
    """Make all key material of a new authority in ``out_dir`` (see the module docstring).

    Parameters
    ----------
    shares, threshold : int
        N and K of the master-key sharing (2 <= K <= N <= 255; K = 1 only with ``allow_single_share``).
    epoch_seconds, retention_seconds, horizon_seconds : float
        Epoch length, how long records are kept, and how far ahead epoch keys are generated.
        A retention shorter than an epoch is valid: the camera's purge deletes each record
        ``retention`` after its seal whatever the epoch, and an epoch's secret is shredded at its
        end plus the retention (:func:`facesel.vault.retention.epoch_shred_time`), so copies made
        outside the vault stay openable up to ``epoch + retention`` after their seal, as for any
        retention; with ``epoch <= retention`` that is under twice the retention.
    start : float
        Unix seconds: the first epoch is the one containing ``start``.
    passphrases : sequence of bytes or None, optional
        One entry per share (None: unprotected). Each must pass :func:`check_passphrase`, and no
        two may be alike unless ``allow_shared_passphrase``.
    kdf_level : str, optional
        Argon2id level for protected shares (see :data:`KDF_LEVELS`); the test-only ``"min"``
        needs ``insecure_kdf``.
    allow_single_share : bool
        Accept K = 1.
    insecure_kdf : bool
        Accept a test-only Argon2id level (:data:`facesel.vault.keys.INSECURE_KDF_LEVELS`).
    allow_shared_passphrase : bool
        Accept one passphrase for several shares.
    share_dirs : sequence of path, optional
        One existing folder per share (e.g. each holder's removable drive): share i is written
        to ``share_dirs[i-1]`` and never into ``out_dir/shares``.

    Returns
    -------
    AuthorityPublic
        The signed public file; its ``fingerprint`` is what cameras pin at enrolment.
    """
    # Every check before anything is written: a keystore half made by a refused call would make
    # the next, corrected call refuse the folder ("already holds key material").
    for name, value in (("epoch", epoch_seconds), ("retention", retention_seconds),
                        ("horizon", horizon_seconds)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_DURATION:
            raise ValueError(f"{name} must be a positive number of seconds up to {MAX_DURATION:.0f} "
                             f"(1000 years), got {value!r}")
    if isinstance(start, bool) or not isinstance(start, (int, float)) or not 0 <= start <= MAX_TIME:
        raise ValueError(f"start must be Unix seconds in [0, {MAX_TIME:.0f}], got {start!r}")
    if start + horizon_seconds + epoch_seconds > MAX_TIME:
        raise ValueError(f"start + horizon + epoch must end before Unix second {MAX_TIME:.0f}, got start {start!r}, "
                         f"horizon {horizon_seconds!r}, epoch {epoch_seconds!r}")
    # The opt-outs of a safeguard are taken as True or False only: allow_single_share="no" was a
    # truthy string that allowed K = 1, insecure_kdf="no" the test-only KDF (ux19)
    for name, flag in (("allow_single_share", allow_single_share), ("insecure_kdf", insecure_kdf),
                       ("allow_shared_passphrase", allow_shared_passphrase)):
        check_flag(flag, name)
    check_passphrases(passphrases, shares, allow_shared_passphrase)
    if passphrases is not None and any(p is not None for p in passphrases):
        check_kdf_level(kdf_level, insecure_kdf)  # before anything is written
    out = path_arg(out_dir, "out_dir")
    share_dirs = check_share_dirs(share_dirs, shares, out)
    pub_path, ks_dir, shares_dir = out / "authority.pub", out / "keystore", out / "shares"
    for existing in (pub_path, ks_dir, shares_dir):
        if existing.exists():
            raise ValueError(f"{out} already holds key material ({existing.name}); refusing to overwrite it")
    master = secrets.token_bytes(shamir.SECRET_BYTES)
    shamir.split(master, threshold, shares)  # validates K and N before anything is written
    check_sharing(shares, threshold, allow_single_share)
    first, count = _epoch_count(start, horizon_seconds, epoch_seconds)
    authority_id = secrets.token_hex(8)
    signing = nacl.signing.SigningKey.generate()

    made_out = not out.exists()
    try:
        return _make_authority(out, ks_dir, shares_dir, pub_path, share_dirs, master, authority_id, signing,
                               shares, threshold, epoch_seconds, retention_seconds, first, count, passphrases,
                               kdf_level, insecure_kdf)
    except BaseException:
        # Ctrl-C during the Argon2id of a share, a full disk...: remove exactly what this call made, so
        # that the same command can be run again (before, a half-made keystore without authority.pub
        # made it refuse the folder: "already holds key material").
        _remove_partial(out, made_out, ks_dir, shares_dir, pub_path, share_dirs, shares)
        raise


def _make_authority(out, ks_dir, shares_dir, pub_path, share_dirs, master, authority_id, signing, shares,
                    threshold, epoch_seconds, retention_seconds, first, count, passphrases, kdf_level,
                    insecure_kdf) -> AuthorityPublic:
    """The writing half of :func:`create_authority`, once everything is checked."""
    out.mkdir(parents=True, exist_ok=True)
    ks_dir.mkdir(mode=0o700)
    if share_dirs is None:
        shares_dir.mkdir(mode=0o700)
    meta = {"format": FORMAT_KEYSTORE, "version": VERSION, "authority_id": authority_id,
            "master_check": master_commitment(master, authority_id), "threshold": threshold, "shares": shares,
            "epoch_seconds": float(epoch_seconds), "retention_seconds": float(retention_seconds),
            "signing_public": base64.b64encode(bytes(signing.verify_key)).decode("ascii")}
    atomic_write(ks_dir / "authority.json", json.dumps(meta, indent=1).encode("utf-8"))
    keystore = Keystore(ks_dir)
    keystore.wrap_signing_key(master, bytes(signing))
    epochs = _new_epochs(master, keystore, float(epoch_seconds), first, count)
    _write_shares(shares_dir, authority_id, master, threshold, shares, passphrases, kdf_level, insecure_kdf,
                  share_dirs)
    pub = AuthorityPublic(authority_id, float(epoch_seconds), float(retention_seconds), threshold, shares,
                          tuple(epochs)).signed_by(keystore.signer(master))
    pub.save(pub_path)
    fsync_dir(out)
    return pub


def _remove_partial(out: Path, made_out: bool, ks_dir: Path, shares_dir: Path, pub_path: Path,
                    share_dirs: list[Path] | None, shares: int) -> None:
    """Undo a :func:`create_authority` cut short: every one of these paths was checked absent
    before the first write, so whatever is there now is this call's (key files are shredded)."""
    def shred_tree(folder: Path) -> None:
        if folder.is_dir() and not folder.is_symlink():
            for path in folder.iterdir():
                if path.is_file() and not path.is_symlink():
                    with contextlib.suppress(OSError):
                        shred_file(path)
            shutil.rmtree(folder, ignore_errors=True)

    shred_tree(ks_dir)
    if share_dirs is None:
        shred_tree(shares_dir)
    else:
        for index, folder in enumerate(share_dirs, 1):
            with contextlib.suppress(OSError):
                shred_file(folder / f"share-{index}-of-{shares}.json")
    pub_path.unlink(missing_ok=True)
    if made_out:
        with contextlib.suppress(OSError):
            out.rmdir()  # only when empty


def _trusted_public(out: Path, keystore: Keystore) -> AuthorityPublic:
    """The authority's ``authority.pub``, which the next change re-signs: signed by the keystore's
    key, and holding every revocation the authority's own signed log records (:func:`_rolled_back`)."""
    pub = AuthorityPublic.load(out / "authority.pub")
    if pub.signing_key != keystore.signing_public:
        raise KeyMaterialError(f"{out / 'authority.pub'} is not signed by this keystore's authority key")
    problem = _rolled_back(pub, out / "audit.log", keystore)
    if problem:
        raise KeyMaterialError(f"{out / 'authority.pub'} {problem}: it is an older file put back in place of the "
                               "current one; nothing was signed (restore the current authority.pub)")
    return pub


def _rolled_back(pub: AuthorityPublic, log: Path, keystore: Keystore) -> str | None:
    """Why ``pub`` is older than what the authority's signed ``log`` says it signed, or None.

    An older ``authority.pub`` is as genuinely signed as the current one, and whoever can write the
    authority's folder (no key needed) could put one back from before a ``revoke-camera``: the next
    ``register`` or ``extend`` re-signed it with a higher serial and no revocation, and a reader
    given that file (a new camera, a store whose copy predates the revocation) accepted the stolen
    key's records again (review round 11, attack20 finding 3). Every ``revoke-camera`` is logged,
    signed, with its camera, time and serial: the file must hold each one (at that time or earlier)
    and a serial at least as high.
    """
    if not log.exists() and not log.is_symlink():
        return None  # an authority that never revoked nor opened anything has no log yet
    try:
        entries = read_verified(log, {f"authority:{keystore.authority_id}": keystore.signing_public})
    except AuditError as err:
        return f"cannot be checked against the authority's own log ({err})"
    for entry in entries:
        if entry.get("event") != "revoke-camera":
            continue
        camera, since, serial = entry.get("camera_id"), entry.get("revoked_from"), entry.get("serial")
        held = pub.revoked_from(camera) if isinstance(camera, str) else None
        if held is None or not isinstance(since, (int, float)) or held > since:
            return (f"(serial {pub.serial}) does not hold the revocation of camera {camera!r} from {since!r} that the "
                    f"authority's log records at seq {entry.get('seq')}")
        if isinstance(serial, int) and pub.serial < serial:
            return f"has serial {pub.serial}, below the serial {serial} the authority's log records at seq {entry['seq']}"
    return None


def extension_problem(pub: AuthorityPublic, until: float) -> str | None:
    """Why epochs up to ``until`` cannot be made (more than ``MAX_EPOCHS`` in all), naming the farthest
    ``--until`` there is room for; None when they can. ``authority extend`` asks it before any share is
    read (ux23: ``--until 2999-01-01`` was refused as ``--until 32472144000.0 would give more than
    100000 epochs`` once the holders had typed their passphrases)."""
    from facesel.vault.timeparse import format_duration, format_time

    next_id = max(e.epoch_id for e in pub.epochs) + 1
    count = int(until // pub.epoch_seconds) - next_id + 1
    if len(pub.epochs) + max(count, 0) <= MAX_EPOCHS:
        return None
    farthest = (next_id + MAX_EPOCHS - len(pub.epochs)) * pub.epoch_seconds - 1
    return (f"--until {format_time(until)} would give {len(pub.epochs) + count} epochs of "
            f"{format_duration(pub.epoch_seconds)}, more than {MAX_EPOCHS}: the farthest --until is "
            f"{format_time(farthest)}")


def extend_authority(out_dir: str | os.PathLike, master: bytes, until: float) -> AuthorityPublic:
    """Generate epoch keys up to time ``until`` and re-sign ``authority.pub`` (needs the master key).

    Existing epochs are kept byte for byte; cameras refuse any file that changes one.
    """
    out = Path(out_dir)
    keystore = Keystore(out / "keystore")
    keystore.check_master(master)
    pub = _trusted_public(out, keystore)
    next_id = max(e.epoch_id for e in pub.epochs) + 1
    last = int(until // pub.epoch_seconds)
    count = last - next_id + 1
    if count <= 0:
        return pub
    if (problem := extension_problem(pub, until)) is not None:
        raise ValueError(problem)
    new = _new_epochs(master, keystore, pub.epoch_seconds, next_id, count)
    extended = replace(pub, epochs=pub.epochs + tuple(new), serial=pub.serial + 1).signed_by(keystore.signer(master))
    check_extension(pub, extended)
    extended.save(out / "authority.pub")
    return extended


def registered_already(out_dir: str | os.PathLike, camera: CameraPublic) -> AuthorityPublic | None:
    """The authority's ``authority.pub`` when it registers ``camera`` with this very key, else None.

    Needs no share: ``authority register`` asks it first, so that registering a camera again says
    so instead of asking K holders for their passphrases and answering "registered" as if the
    file had changed (ux20). The file is checked as a change would check it (:func:`_trusted_public`).
    """
    out = Path(out_dir)
    pub = _trusted_public(out, Keystore(out / "keystore"))
    return pub if pub.camera_key(camera.camera_id) == camera.public_key else None


def register_camera(out_dir: str | os.PathLike, master: bytes, camera: CameraPublic) -> AuthorityPublic:
    """Accept ``camera``: add its id and public key to ``authority.pub`` and re-sign it.

    A camera id is registered once; registering the same key again changes nothing, another key
    under a registered id is refused (a camera that lost its key gets a new id).
    """
    out = Path(out_dir)
    keystore = Keystore(out / "keystore")
    keystore.check_master(master)
    pub = _trusted_public(out, keystore)
    known = pub.camera_key(camera.camera_id)
    if known == camera.public_key:
        return pub
    if known is not None:
        raise ValueError(f"camera {camera.camera_id} is already registered with another key; give the new "
                         "camera another id")
    new = replace(pub, cameras=pub.cameras + ((camera.camera_id, camera.public_key),), serial=pub.serial + 1)
    new = new.signed_by(keystore.signer(master))
    new.save(out / "authority.pub")
    return new


def revoke_camera(out_dir: str | os.PathLike, master: bytes, camera_id: str, revoked_from: float) -> AuthorityPublic:
    """Revoke ``camera_id``'s key from ``revoked_from`` (Unix seconds) on: add it to ``authority.pub``'s
    signed revocations, raise the serial and re-sign.

    ``revoked_from`` should be the last moment the key is known to have been only in the camera's
    hands (a theft's time), not the revocation's: records signed from then on are refused by every
    reader given this file. Records dated earlier stay valid; their seal time is the key holder's
    word, so a thief can backdate records (docs/central.md, "Revoking a camera key"). Revoking
    again moves the time only earlier; a later time changes nothing.

    Raises
    ------
    ValueError
        When ``camera_id`` is not registered, or ``revoked_from`` is not a time in range.
    """
    out = Path(out_dir)
    keystore = Keystore(out / "keystore")
    keystore.check_master(master)
    pub = _trusted_public(out, keystore)
    if pub.camera_key(camera_id) is None:
        raise ValueError(f"camera {camera_id!r} is not registered with authority {pub.authority_id}: nothing to revoke")
    if isinstance(revoked_from, bool) or not isinstance(revoked_from, (int, float)) \
            or not 0 <= revoked_from <= MAX_TIME:
        raise ValueError(f"revoked_from must be a time in Unix seconds (0 to {MAX_TIME:.0f}), got {revoked_from!r}")
    earlier = pub.revoked_from(camera_id)
    if earlier is not None and earlier <= revoked_from:
        return pub
    kept = tuple((c, t) for c, t in pub.revocations if c != camera_id)
    new = replace(pub, revocations=kept + ((camera_id, float(revoked_from)),), serial=pub.serial + 1)
    signer = keystore.signer(master)
    new = new.signed_by(signer)
    new.save(out / "authority.pub")
    # The authority's own signed log (where its openings are logged) records it too: who was revoked
    # from when, under which serial; `central audit --authority` reads the same file.
    AuditLog(out / "audit.log", signer=signer).append("revoke-camera", camera_id=camera_id,
                                                      revoked_from=float(revoked_from), serial=new.serial)
    return new


def rekey(out_dir: str | os.PathLike, master: bytes, passphrases: Sequence[bytes | None] | None = None,
          kdf_level: str | None = None, *, insecure_kdf: bool = False, allow_shared_passphrase: bool = False) -> bytes:
    """Re-wrap every remaining epoch secret and the signing key under a fresh master key, and
    replace ``shares/`` with a new K-of-N sharing of it.

    Run after every shred: a keystore backup taken earlier, together with the new shares, then
    opens nothing (its wrapping key is gone), and the old shares do not fit the new keystore. The
    old shares must be destroyed by their holders; that is what makes the shred final.

    Returns
    -------
    bytes
        The new master key (the caller forgets it).
    """
    out = Path(out_dir)
    keystore = Keystore(out / "keystore")
    keystore.check_master(master)
    threshold, shares = int(keystore.meta["threshold"]), int(keystore.meta["shares"])
    check_passphrases(passphrases, shares, allow_shared_passphrase, "new share")
    if passphrases is not None and any(p is not None for p in passphrases):
        check_kdf_level(kdf_level, insecure_kdf)
    signer = keystore.signer(master)
    new_master = secrets.token_bytes(shamir.SECRET_BYTES)
    tag = secrets.token_hex(4)
    staging, staging_shares = out / f".keystore.new-{tag}", out / f".shares.new-{tag}"
    staging.mkdir(mode=0o700)
    staging_shares.mkdir(mode=0o700)
    meta = dict(keystore.meta, master_check=master_commitment(new_master, keystore.authority_id))
    atomic_write(staging / "authority.json", json.dumps(meta, indent=1).encode("utf-8"))
    fresh = Keystore(staging)
    fresh.wrap_signing_key(new_master, bytes(signer.key))
    for epoch_id in keystore.epoch_ids():
        epoch, secret = keystore.read_epoch(master, epoch_id)
        fresh.wrap(new_master, epoch, secret)
    _write_shares(staging_shares, keystore.authority_id, new_master, threshold, shares, passphrases, kdf_level,
                  insecure_kdf)
    # Swap the folders, then destroy the old ones file by file.
    old, old_shares = out / f".keystore.old-{tag}", out / f".shares.old-{tag}"
    os.rename(out / "keystore", old)
    os.rename(staging, out / "keystore")
    had_shares = (out / "shares").is_dir()  # not when the shares were written to separate destinations
    if had_shares:
        os.rename(out / "shares", old_shares)
    os.rename(staging_shares, out / "shares")
    fsync_dir(out)
    for folder in (old, old_shares) if had_shares else (old,):
        for path in folder.iterdir():
            shred_file(path)
        folder.rmdir()
    fsync_dir(out)
    return new_master


def enrol_camera(authority_dir: str | os.PathLike, camera_dir: str | os.PathLike, camera_id: str,
                 share_paths: Sequence[str | os.PathLike], passphrase_for=None) -> CameraKey:
    """Make a camera key pinned to this authority and register it (both sides in one call, for
    tests, demos and single-machine setups; in the field they run on different machines).

    Returns
    -------
    CameraKey
        The new camera's key; ``authority_dir/authority.pub`` now registers it.
    """
    out = path_arg(authority_dir, "authority_dir")
    path_arg(camera_dir, "camera_dir")  # before the shares are read
    keystore = Keystore(out / "keystore")
    trusted = _trusted_public(out, keystore)
    # The shares first: a missing passphrase or too few shares must leave no camera folder behind
    # (a rerun would be refused as "already holds a camera key").
    master, _ = reconstruct_master(share_paths, keystore, passphrase_for)
    camera = CameraKey.create(camera_dir, camera_id, trusted.fingerprint)
    register_camera(out, master, camera.public)
    return camera
