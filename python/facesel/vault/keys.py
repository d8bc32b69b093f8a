"""The authority's key hierarchy: epoch key pairs, the master key that wraps them, and its shares.

This module holds the public file and the keystore; :mod:`facesel.vault.shares` the share files;
:mod:`facesel.vault.authority` creation and extension. Layout made by ``facesel authority init``::

    DIR/authority.pub                 public, signed: authority id, retention, epoch public keys +
                                      windows, registered cameras, the signing key, a serial
    DIR/keystore/authority.json       authority id, master-key commitment, parameters, public signing key
    DIR/keystore/signing.key          the authority's Ed25519 signing key, AEAD-wrapped under the master key
    DIR/keystore/epoch-<id>.key       one X25519 epoch secret, AEAD-wrapped under the master key
    DIR/shares/share-<i>-of-<N>.json  Shamir share i of the master key (passphrase-sealed by default)
    DIR/audit.log                     the authority's own signed log (shreds, re-keys, every opening)

Why this shape:

* Each epoch has its own random X25519 key pair, and its secret exists only wrapped under the
  master key. Deleting ``epoch-<id>.key`` therefore destroys exactly that epoch (crypto-shredding):
  every copy of its records, backups included, becomes unreadable. Secrets *derived* from one
  master key could not be destroyed one at a time, which is why they are random and wrapped.
* The master key is never stored: it exists only as N shares, any K of which rebuild it
  (:mod:`facesel.vault.shamir`), checked against a keyed-hash commitment in the keystore.
* Cameras get ``authority.pub`` only. It carries public keys for epochs pre-generated up to a
  horizon (``--horizon``), each with its validity window, so a camera can seal without ever
  contacting the authority; past the horizon it refuses to seal until given a newer file
  (``facesel authority extend``).
* ``authority.pub`` is signed, and cameras pin the fingerprint of the signing key at enrolment, so
  nobody without K shares can make a camera seal to other keys; an extension must keep every
  existing epoch byte for byte (:func:`check_extension`).
* After a shred the remaining secrets are re-wrapped under a fresh master key with new shares
  (:func:`facesel.vault.authority.rekey`): a keystore backup opens nothing with the new shares.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

import nacl.bindings as sodium
import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.signing

from facesel.path_arg import path_arg
from facesel.vault import fields
from facesel.vault.encoding import VERSION, b64, canonical, read_json, unb64
from facesel.vault.errors import EpochUnavailableError, KeyMaterialError
from facesel.vault.fsutil import atomic_write, shred_file
from facesel.vault.signing import Signer, fingerprint, verify_signature
from facesel.vault.timeparse import format_time

FORMAT_PUBLIC = "facesel-authority-public"
FORMAT_KEYSTORE = "facesel-keystore"
FORMAT_EPOCH = "facesel-epoch-secret"
FORMAT_SHARE = "facesel-key-share"
FORMAT_SIGNING = "facesel-authority-signing-key"

MAX_EPOCHS = 100_000
MAX_CAMERAS = 100_000
_AEAD_NONCE = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

# Argon2id cost levels for passphrase-protected shares. "min" exists for tests only; the CLI
# default is "moderate" (libsodium: ~256 MiB). FACESEL_KDF_LEVEL overrides the default.
KDF_LEVELS = {
    "min": (argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN),
    "interactive": (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE),
    "moderate": (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE),
    "sensitive": (argon2id.OPSLIMIT_SENSITIVE, argon2id.MEMLIMIT_SENSITIVE),
}


# Levels an offline guesser runs through quickly: at "min" one core tries about 17,000 passphrases a
# second (measured here, against about 1 a second at "moderate"; the review measured 4,750): for
# tests only, and only behind an explicit insecure flag.
INSECURE_KDF_LEVELS = ("min",)


def default_kdf_level() -> str:
    """The Argon2id level from ``FACESEL_KDF_LEVEL`` (default ``moderate``)."""
    level = os.environ.get("FACESEL_KDF_LEVEL", "moderate")
    if level not in KDF_LEVELS:
        raise ValueError(f"FACESEL_KDF_LEVEL must be one of {sorted(KDF_LEVELS)}, got {level!r}")
    return level


def check_kdf_level(level: str | None, insecure_kdf: bool = False) -> str:
    """The Argon2id level to protect shares with (``level`` or the default), refused when it is
    one of :data:`INSECURE_KDF_LEVELS` and ``insecure_kdf`` (``--insecure-kdf-for-tests``) is not set."""
    level = level or default_kdf_level()
    if level not in KDF_LEVELS:
        raise ValueError(f"the Argon2id level (--kdf-level) must be one of {sorted(KDF_LEVELS)}, got {level!r}")
    if level in INSECURE_KDF_LEVELS and not insecure_kdf:
        ops, mem = KDF_LEVELS[level]
        raise ValueError(f"Argon2id level {level!r} ({mem // 1024} KiB, {ops} pass) lets anyone holding a share file "
                         "try thousands of passphrases a second: it is for tests only (--insecure-kdf-for-tests); "
                         "use 'interactive', 'moderate' (the default) or 'sensitive'")
    return level


# The shares and authority modules import these under their old private names.
_b64, _unb64, _canonical, _read_json = b64, unb64, canonical, read_json


# --------------------------------------------------------------------------------------------
# Public side
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpochKey:
    """One epoch's public key and the half-open time window [not_before, not_after) it seals."""

    epoch_id: int
    not_before: float
    not_after: float
    public_key: bytes

    def covers(self, t: float) -> bool:
        """Whether time ``t`` (Unix seconds) lies in this epoch's window [not_before, not_after)."""
        return self.not_before <= t < self.not_after

    def to_dict(self) -> dict:
        """The epoch as written in ``authority.pub`` (its public key in base64)."""
        return {"id": self.epoch_id, "not_before": self.not_before, "not_after": self.not_after,
                "public_key": _b64(self.public_key)}


@dataclass(frozen=True)
class AuthorityPublic:
    """The contents of ``authority.pub``: what a camera needs to seal, and nothing secret.

    The file is signed by the authority's Ed25519 signing key (``signing_key``; its secret is
    wrapped under the master key in the keystore). ``cameras`` maps each registered camera id to
    its Ed25519 public key: only records and log entries signed by one of them are accepted.
    ``serial`` grows with every re-signing, so an older file cannot replace a newer one.
    ``revocations`` maps a registered camera id to the time (Unix seconds) from which its key is no
    longer trusted (``facesel authority revoke-camera``): records it sealed from then on are refused.
    The key ``revocations`` is written (and signed) only when there is one, so a file without any
    keeps the bytes and signature it always had.
    """

    authority_id: str
    epoch_seconds: float
    retention_seconds: float
    threshold: int
    shares: int
    epochs: tuple[EpochKey, ...]
    signing_key: bytes = b""
    cameras: tuple[tuple[str, bytes], ...] = ()
    serial: int = 0
    signature: bytes = b""
    revocations: tuple[tuple[str, float], ...] = ()

    @property
    def fingerprint(self) -> str:
        """What a camera pins: the SHA-256 fingerprint of the authority's signing key."""
        return fingerprint(self.signing_key)

    def camera_key(self, camera_id: str) -> bytes | None:
        """The registered Ed25519 public key (32 bytes) of ``camera_id``, or None when not registered."""
        return dict(self.cameras).get(camera_id)

    def revoked_from(self, camera_id: str) -> float | None:
        """The time (Unix seconds) from which ``camera_id``'s key is revoked, or None when it is not."""
        return dict(self.revocations).get(camera_id)

    def epoch_for(self, t: float) -> EpochKey:
        """The epoch whose window contains time ``t`` (Unix seconds).

        Raises
        ------
        EpochUnavailableError
            When no pre-generated epoch covers ``t``: sealing must stop rather than fall back.
        """
        for epoch in self.epochs:
            if epoch.covers(t):
                return epoch
        last = format_time(self.epochs[-1].not_after) if self.epochs else "-"
        raise EpochUnavailableError(
            f"authority.pub of authority {self.authority_id} has no epoch key covering {format_time(t)} "
            f"(its keys end at {last}); get a newer authority.pub (facesel authority extend)"
        )

    def epoch(self, epoch_id: int) -> EpochKey:
        """The epoch with id ``epoch_id``; EpochUnavailableError when this file has none."""
        for epoch in self.epochs:
            if epoch.epoch_id == epoch_id:
                return epoch
        raise EpochUnavailableError(f"authority {self.authority_id} has no epoch {epoch_id}")

    def _signed_dict(self) -> dict:
        return {
            "format": FORMAT_PUBLIC, "version": VERSION, "authority_id": self.authority_id,
            "epoch_seconds": self.epoch_seconds, "retention_seconds": self.retention_seconds,
            "threshold": self.threshold, "shares": self.shares,
            "signing_key": _b64(self.signing_key), "serial": self.serial,
            "cameras": [{"camera_id": c, "public_key": _b64(k)} for c, k in self.cameras],
            "epochs": [e.to_dict() for e in self.epochs],
            # Only when non-empty: a file without revocations keeps its pre-revocation bytes and
            # signature, and an older facesel refuses (bad signature) a file that has some rather
            # than ignoring them.
            **({"revocations": [{"camera_id": c, "revoked_from": t} for c, t in self.revocations]}
               if self.revocations else {}),
        }

    def to_dict(self) -> dict:
        """The file's contents: the signed fields and the signature (base64)."""
        return {**self._signed_dict(), "signature": _b64(self.signature)}

    def signed_by(self, signer) -> AuthorityPublic:
        """A copy signed by ``signer`` (the authority's :class:`~facesel.vault.signing.Signer`)."""
        unsigned = replace(self, signing_key=signer.public_key, signature=b"")
        return replace(unsigned, signature=signer.sign(_canonical(unsigned._signed_dict())))

    def check_signature(self, pinned: str | None = None, source: str = "authority.pub") -> None:
        """Raise KeyMaterialError unless the file is signed by its signing key (and that key is ``pinned``)."""
        if pinned is not None and not secrets.compare_digest(self.fingerprint, pinned):
            raise KeyMaterialError(f"{source} is signed by authority key {self.fingerprint[:16]}..., not by the "
                                   f"pinned authority key {pinned[:16]}...: refusing it")
        if not verify_signature(self.signing_key, _canonical(self._signed_dict()), self.signature):
            raise KeyMaterialError(f"{source}: the authority's signature does not match its content "
                                   "(edited or forged authority file)")

    def save(self, path: Path) -> None:
        """Write the signed file to ``path`` (0644, atomically); ValueError when it is unsigned."""
        if not self.signature:
            raise ValueError("authority.pub must be signed before it is saved")
        atomic_write(Path(path), json.dumps(self.to_dict(), indent=1).encode("utf-8"), mode=0o644)

    @classmethod
    def from_dict(cls, data: dict, source: str = "authority.pub") -> AuthorityPublic:
        """Parse and check a public file's contents: every field's type and range, then the signature."""
        err = KeyMaterialError
        data = fields.mapping(data, "authority.pub", source, err)
        epochs = []
        for i, e in enumerate(fields.listing(data.get("epochs"), "epochs", source, err, MAX_EPOCHS)):
            e = fields.mapping(e, f"epochs[{i}]", source, err)
            epoch_id = fields.integer(e.get("id"), f"epochs[{i}].id", source, err)
            epochs.append(EpochKey(epoch_id, fields.time_value(e.get("not_before"), f"epochs[{i}].not_before", source, err),
                                   fields.time_value(e.get("not_after"), f"epochs[{i}].not_after", source, err),
                                   _unb64(e.get("public_key"), f"{source}: epoch {epoch_id} public key", 32)))
        cameras = []
        for i, c in enumerate(fields.listing(data.get("cameras", []), "cameras", source, err, MAX_CAMERAS)):
            c = fields.mapping(c, f"cameras[{i}]", source, err)
            cameras.append((fields.identifier(c.get("camera_id"), f"cameras[{i}].camera_id", source, err),
                            _unb64(c.get("public_key"), f"{source}: camera key", 32)))
        threshold = fields.integer(data.get("threshold"), "threshold", source, err, 1, 255)
        revocations = _parse_revocations(data, dict(cameras), source)
        pub = cls(fields.identifier(data.get("authority_id"), "authority_id", source, err),
                  fields.duration(data.get("epoch_seconds"), "epoch_seconds", source, err),
                  fields.duration(data.get("retention_seconds"), "retention_seconds", source, err),
                  threshold, fields.integer(data.get("shares"), "shares", source, err, threshold, 255),
                  tuple(sorted(epochs, key=lambda e: e.epoch_id)),
                  _unb64(data.get("signing_key"), f"{source}: signing key", 32), tuple(cameras),
                  fields.integer(data.get("serial", 0), "serial", source, err),
                  _unb64(data.get("signature"), f"{source}: signature", 64), revocations)
        if pub.retention_seconds <= 0 or pub.epoch_seconds <= 0:
            raise KeyMaterialError(f"{source}: epoch and retention must be positive")
        for before, after in zip(pub.epochs, pub.epochs[1:]):
            if after.epoch_id == before.epoch_id or after.not_before < before.not_after:
                raise KeyMaterialError(f"{source}: epochs {before.epoch_id} and {after.epoch_id} overlap")
        if any(not e.not_before < e.not_after for e in pub.epochs):
            raise KeyMaterialError(f"{source}: an epoch window is empty")
        pub.check_signature(source=source)
        return pub

    @classmethod
    def load(cls, path: Path) -> AuthorityPublic:
        """Read and check ``authority.pub`` at ``path`` (:meth:`from_dict`); KeyMaterialError for the
        authority's folder given instead of its file.
        """
        path = path_arg(path, "path")
        if path.is_dir() and (path / "authority.pub").is_file():
            # Vault("vault/", "authority/") said "authority is a folder, not a regular file: not a
            # facesel-authority-public file" (ux16); the command line's flags point to the file too.
            raise KeyMaterialError(f"{path} is the authority's folder, not its public file: give {path / 'authority.pub'}")
        return cls.from_dict(_read_json(path, FORMAT_PUBLIC), str(path))


def _parse_revocations(data: dict, cameras: dict[str, bytes], source: str) -> tuple[tuple[str, float], ...]:
    """``revocations`` of a public file: each a registered camera, a finite time, one entry a camera."""
    err, out = KeyMaterialError, {}
    for i, r in enumerate(fields.listing(data.get("revocations", []), "revocations", source, err, MAX_CAMERAS)):
        r = fields.mapping(r, f"revocations[{i}]", source, err)
        camera_id = fields.identifier(r.get("camera_id"), f"revocations[{i}].camera_id", source, err)
        if camera_id not in cameras or camera_id in out:
            raise KeyMaterialError(f"{source}: revocations[{i}] names camera {camera_id!r}, which is "
                                   + ("revoked twice" if camera_id in out else "not registered"))
        out[camera_id] = fields.time_value(r.get("revoked_from"), f"revocations[{i}].revoked_from", source, err)
    return tuple(out.items())


def check_extension(old: AuthorityPublic, new: AuthorityPublic, source: str = "authority.pub") -> None:
    """Raise KeyMaterialError unless ``new`` keeps every epoch of ``old`` byte for byte (ids, windows,
    keys), comes from the same authority key, is not older (a lower serial), and keeps every
    revocation of ``old`` from the same or an earlier time (so no reader that takes the newer file
    can lose one)."""
    if new.authority_id != old.authority_id or new.signing_key != old.signing_key:
        raise KeyMaterialError(f"{source} belongs to authority {new.authority_id}, not to {old.authority_id}")
    if new.serial < old.serial:
        raise KeyMaterialError(f"{source} is older (serial {new.serial}) than the one in use (serial {old.serial})")
    given = {e.epoch_id: e for e in new.epochs}
    changed = [e.epoch_id for e in old.epochs if given.get(e.epoch_id) != e]
    if changed or (new.epoch_seconds, new.retention_seconds) != (old.epoch_seconds, old.retention_seconds):
        raise KeyMaterialError(f"{source} changes or drops epochs already in use ({changed[:5]}); refusing it")
    lost = [c for c, t in old.revocations if (new.revoked_from(c) is None or new.revoked_from(c) > t)]
    if lost:
        raise KeyMaterialError(f"{source} drops or postpones the revocation of camera(s) {lost[:5]}; refusing it")


def load_authority_public(source: AuthorityPublic | str | os.PathLike) -> AuthorityPublic:
    """Accept an :class:`AuthorityPublic` or a path to ``authority.pub``."""
    if isinstance(source, AuthorityPublic):
        return source
    if isinstance(source, (str, os.PathLike)):
        return AuthorityPublic.load(Path(source))
    raise TypeError(f"the authority must be a path to authority.pub or an AuthorityPublic, got {type(source).__name__}")


# --------------------------------------------------------------------------------------------
# Master key, keystore, shares
# --------------------------------------------------------------------------------------------


def _derive(master: bytes, person: bytes, authority_id: str) -> bytes:
    # Keyed BLAKE2b as a KDF: domain-separated by ``person`` and bound to the authority.
    return hashlib.blake2b(authority_id.encode(), key=master, person=person, digest_size=32).digest()


def epoch_from_file(doc: dict, source: str) -> EpochKey:
    """The public part of an epoch key file (``keystore/epoch-<id>.key``), every field checked."""
    err = KeyMaterialError
    epoch_id = fields.integer(doc.get("id"), "id", source, err)
    return EpochKey(epoch_id, fields.time_value(doc.get("not_before"), "not_before", source, err),
                    fields.time_value(doc.get("not_after"), "not_after", source, err),
                    _unb64(doc.get("public_key"), f"{source}: public key", 32))


def master_commitment(master: bytes, authority_id: str) -> str:
    """A public check value for the master key (keyed hash; reveals nothing about the key)."""
    return _derive(master, b"facesel-mchk-v1", authority_id).hex()


def _check_meta(meta: dict, source: str) -> dict:
    """``keystore/authority.json`` with every field checked (type and range), normalised."""
    err = KeyMaterialError
    out = dict(meta)
    out["authority_id"] = fields.identifier(meta.get("authority_id"), "authority_id", source, err)
    out["master_check"] = fields.text(meta.get("master_check"), "master_check", source, err, _HEX64)
    out["threshold"] = fields.integer(meta.get("threshold"), "threshold", source, err, 1, 255)
    out["shares"] = fields.integer(meta.get("shares"), "shares", source, err, out["threshold"], 255)
    out["epoch_seconds"] = fields.duration(meta.get("epoch_seconds"), "epoch_seconds", source, err)
    out["retention_seconds"] = fields.duration(meta.get("retention_seconds"), "retention_seconds", source, err)
    _unb64(meta.get("signing_public"), f"{source}: signing public key", 32)
    return out


_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")


def keystore_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` is not a keystore folder, in words that point to the right one (None when it
    holds an ``authority.json``). The authority folder of ``facesel authority init --out DIR``
    (given where its ``DIR/keystore`` belongs, as ``authority register --dir DIR`` takes it) was
    told only "DIR/authority.json does not exist" (ux16)."""
    path = Path(path)
    meta_path = path / "authority.json"
    if meta_path.exists() or meta_path.is_symlink():  # anything else: read_json says what it is
        return None
    if not path.exists():
        return "no such folder"
    if not path.is_dir():
        return "a file, not the keystore folder (authority init's DIR/keystore)"
    if (path / "keystore" / "authority.json").exists():
        return f"the authority folder, not its keystore: give {path / 'keystore'}"
    return f"not a keystore folder ({meta_path} does not exist)"


def authority_dir_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` is not an authority folder (``authority init --out DIR``: ``DIR/keystore``,
    ``DIR/authority.pub``), pointing to the right one; None when ``DIR/keystore`` is a keystore.
    The keystore given for ``--dir`` was told "keystore not found: authority/keystore/keystore" (ux16)."""
    path = Path(path)
    if not path.exists():
        return "no such folder"
    if not path.is_dir():
        return "a file, not the authority folder (authority init's --out DIR)"
    if (path / "authority.json").exists():
        return f"the authority's keystore, not its folder: give {path.parent}"
    inner = keystore_problem(path / "keystore")
    return None if inner is None else f"not an authority folder ({path / 'keystore'}: {inner})"


# The only names epoch_path writes: no sign, no leading zero, no spaces or underscores.
_EPOCH_FILE = re.compile(r"\Aepoch-(0|[1-9][0-9]*)\.key\Z")


class Keystore:
    """The authority's private folder of wrapped epoch secrets (useless without K shares)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = path_arg(path, "path")
        meta_path = self.path / "authority.json"
        problem = keystore_problem(self.path)
        if problem is not None:
            raise FileNotFoundError(f"keystore not found: {self.path}: {problem}")
        self.meta = _check_meta(_read_json(meta_path, FORMAT_KEYSTORE), str(meta_path))
        self.authority_id = self.meta["authority_id"]

    def epoch_path(self, epoch_id: int) -> Path:
        """Where the wrapped secret of epoch ``epoch_id`` lives (``epoch-ID.key`` in the keystore)."""
        return self.path / f"epoch-{int(epoch_id)}.key"

    def epoch_ids(self) -> list[int]:
        """The ids of the epochs whose wrapped secrets are still here (shredded ones are not), sorted.

        Raises
        ------
        KeyMaterialError
            For a file named like an epoch's that :meth:`epoch_path` never writes (``epoch-01.key``,
            ``epoch-+1.key``): ``int()`` read it as epoch 1's id, so a copy of epoch 1's file planted
            under such a name by whoever can write the folder made ``authority shred`` shred epoch 1,
            log it, then fail before the re-keying, leaving the copy (which the unchanged shares
            open) in the keystore and every later shred failing (review round 15b).
        """
        ids = []
        for p in self.path.glob("epoch-*.key"):
            match = _EPOCH_FILE.match(p.name)
            if match is None:
                raise KeyMaterialError(f"{p}: a file named like an epoch's secret, but not as facesel names one "
                                       f"(epoch-<id>.key): move it out of {self.path}; nothing was done")
            ids.append(int(match.group(1)))
        return sorted(ids)

    def check_master(self, master: bytes) -> None:
        """Raise KeyMaterialError unless ``master`` is this authority's master key (its commitment
        matches the keystore's ``master_check``).
        """
        if not secrets.compare_digest(master_commitment(master, self.authority_id), str(self.meta["master_check"])):
            raise KeyMaterialError(
                "the shares do not reconstruct this authority's master key: a share is wrong, "
                "corrupt, or from another authority"
            )

    def _ad(self, epoch: EpochKey) -> bytes:
        return _canonical({"format": FORMAT_EPOCH, "authority_id": self.authority_id, **epoch.to_dict()})

    def wrap(self, master: bytes, epoch: EpochKey, secret: bytes) -> None:
        """Store ``secret`` for ``epoch``, encrypted under a key derived from ``master``."""
        nonce = secrets.token_bytes(_AEAD_NONCE)
        wrapped = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            secret, self._ad(epoch), nonce, _derive(master, b"facesel-wrap-v1", self.authority_id))
        doc = {"format": FORMAT_EPOCH, "version": VERSION, "authority_id": self.authority_id,
               **epoch.to_dict(), "nonce": _b64(nonce), "wrapped": _b64(wrapped)}
        atomic_write(self.epoch_path(epoch.epoch_id), json.dumps(doc).encode("utf-8"))

    def unwrap(self, master: bytes, epoch_id: int) -> bytes:
        """The X25519 secret key (32 bytes) of epoch ``epoch_id``, unwrapped with ``master``
        (:meth:`read_epoch`).
        """
        return self.read_epoch(master, epoch_id)[1]

    def read_epoch(self, master: bytes, epoch_id: int) -> tuple[EpochKey, bytes]:
        """The epoch's public part and its X25519 secret key (32 bytes).

        Raises
        ------
        EpochUnavailableError
            When the epoch's secret has been shredded (or never existed here).
        KeyMaterialError
            When the wrapped key does not open with this master key (tampered or wrong key).
        """
        path = self.epoch_path(epoch_id)
        if not path.exists() and not path.is_symlink():
            raise EpochUnavailableError(
                f"the secret of epoch {epoch_id} is not in keystore {self.path}: it was shredded after its "
                "retention period (or this is the wrong keystore); its records can no longer be opened")
        doc = _read_json(path, FORMAT_EPOCH)
        epoch = epoch_from_file(doc, str(path))
        nonce = _unb64(doc.get("nonce"), f"{path}: nonce", _AEAD_NONCE)
        wrapped = _unb64(doc.get("wrapped"), f"{path}: wrapped key")
        if epoch.epoch_id != int(epoch_id) or doc.get("authority_id") != self.authority_id:
            raise KeyMaterialError(f"{path}: holds epoch {epoch.epoch_id} of {fields.describe(doc.get('authority_id'))}, "
                                   f"expected epoch {epoch_id} of {self.authority_id}")
        try:
            secret = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                wrapped, self._ad(epoch), nonce, _derive(master, b"facesel-wrap-v1", self.authority_id))
        except nacl.exceptions.CryptoError:
            raise KeyMaterialError(f"{path}: the wrapped epoch secret does not open with this master key "
                                   "(tampered key file or wrong master key)") from None
        if sodium.crypto_scalarmult_base(secret) != epoch.public_key:
            raise KeyMaterialError(f"{path}: epoch secret does not match its public key")
        return epoch, secret

    def wrap_signing_key(self, master: bytes, seed: bytes) -> None:
        """Store the authority's Ed25519 signing seed, encrypted under a key derived from ``master``."""
        nonce = secrets.token_bytes(_AEAD_NONCE)
        ad = _canonical({"format": FORMAT_SIGNING, "authority_id": self.authority_id})
        wrapped = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            bytes(seed), ad, nonce, _derive(master, b"facesel-sign-v1", self.authority_id))
        doc = {"format": FORMAT_SIGNING, "version": VERSION, "authority_id": self.authority_id,
               "nonce": _b64(nonce), "wrapped": _b64(wrapped)}
        atomic_write(self.path / "signing.key", json.dumps(doc).encode("utf-8"))

    def signer(self, master: bytes) -> Signer:
        """The authority's signing key (needs the master key, i.e. K shares)."""
        path = self.path / "signing.key"
        doc = _read_json(path, FORMAT_SIGNING)
        ad = _canonical({"format": FORMAT_SIGNING, "authority_id": self.authority_id})
        try:
            seed = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                _unb64(doc.get("wrapped"), f"{path}: wrapped key"), ad,
                _unb64(doc.get("nonce"), f"{path}: nonce", _AEAD_NONCE),
                _derive(master, b"facesel-sign-v1", self.authority_id))
        except nacl.exceptions.CryptoError:
            raise KeyMaterialError(f"{path}: the signing key does not open with this master key") from None
        key = nacl.signing.SigningKey(seed)
        if bytes(key.verify_key) != self.signing_public:
            raise KeyMaterialError(f"{path}: the signing key does not match the keystore's public signing key")
        return Signer(f"authority:{self.authority_id}", key)

    @property
    def signing_public(self) -> bytes:
        """The authority's Ed25519 public signing key (32 bytes), as the keystore records it."""
        return _unb64(self.meta.get("signing_public"), f"{self.path}: signing public key", 32)

    def shred(self, epoch_id: int) -> None:
        """Destroy an epoch's wrapped secret (crypto-shredding all its records)."""
        shred_file(self.epoch_path(epoch_id))
