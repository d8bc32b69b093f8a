"""The authority's key hierarchy: epoch key pairs, the master key that wraps them, and its shares.

Layout made by :func:`create_authority` (``facesel authority init``)::

    DIR/authority.pub                 public: authority id, retention, epoch public keys + windows
    DIR/keystore/authority.json       authority id, master-key commitment, parameters (no secret)
    DIR/keystore/epoch-<id>.key       one X25519 epoch secret, AEAD-wrapped under the master key
    DIR/shares/share-<i>-of-<N>.json  Shamir share i of the master key (optionally passphrase-sealed)

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
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import nacl.bindings as sodium
import nacl.exceptions
import nacl.public
import nacl.pwhash.argon2id as argon2id

from facesel.vault import shamir
from facesel.vault.errors import EpochUnavailableError, KeyMaterialError
from facesel.vault.fsutil import atomic_write, fsync_dir, shred_file
from facesel.vault.timeparse import format_time

VERSION = 1
FORMAT_PUBLIC = "facesel-authority-public"
FORMAT_KEYSTORE = "facesel-keystore"
FORMAT_EPOCH = "facesel-epoch-secret"
FORMAT_SHARE = "facesel-key-share"

MAX_EPOCHS = 100_000
_AEAD_NONCE = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

# Argon2id cost levels for passphrase-protected shares. "min" exists for tests only; the CLI
# default is "moderate" (libsodium: ~256 MiB). FACESEL_KDF_LEVEL overrides the default.
KDF_LEVELS = {
    "min": (argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN),
    "interactive": (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE),
    "moderate": (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE),
    "sensitive": (argon2id.OPSLIMIT_SENSITIVE, argon2id.MEMLIMIT_SENSITIVE),
}


def default_kdf_level() -> str:
    """The Argon2id level from ``FACESEL_KDF_LEVEL`` (default ``moderate``)."""
    level = os.environ.get("FACESEL_KDF_LEVEL", "moderate")
    if level not in KDF_LEVELS:
        raise ValueError(f"FACESEL_KDF_LEVEL must be one of {sorted(KDF_LEVELS)}, got {level!r}")
    return level


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str, length: int | None = None) -> bytes:
    try:
        data = base64.b64decode(str(text), validate=True)
    except (ValueError, TypeError):
        raise KeyMaterialError(f"{what} is not valid base64") from None
    if length is not None and len(data) != length:
        raise KeyMaterialError(f"{what} must be {length} bytes, got {len(data)}")
    return data


def _canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _read_json(path: Path, expected_format: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise KeyMaterialError(f"{path}: not a readable {expected_format} file ({err})") from None
    if not isinstance(data, dict) or data.get("format") != expected_format:
        raise KeyMaterialError(f"{path}: not a {expected_format} file")
    if data.get("version") != VERSION:
        raise KeyMaterialError(f"{path}: unsupported {expected_format} version {data.get('version')!r}")
    return data


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
        return self.not_before <= t < self.not_after

    def to_dict(self) -> dict:
        return {"id": self.epoch_id, "not_before": self.not_before, "not_after": self.not_after,
                "public_key": _b64(self.public_key)}


@dataclass(frozen=True)
class AuthorityPublic:
    """The contents of ``authority.pub``: what a camera needs to seal, and nothing secret."""

    authority_id: str
    epoch_seconds: float
    retention_seconds: float
    threshold: int
    shares: int
    epochs: tuple[EpochKey, ...]

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
        for epoch in self.epochs:
            if epoch.epoch_id == epoch_id:
                return epoch
        raise EpochUnavailableError(f"authority {self.authority_id} has no epoch {epoch_id}")

    def to_dict(self) -> dict:
        return {
            "format": FORMAT_PUBLIC, "version": VERSION, "authority_id": self.authority_id,
            "epoch_seconds": self.epoch_seconds, "retention_seconds": self.retention_seconds,
            "threshold": self.threshold, "shares": self.shares,
            "epochs": [e.to_dict() for e in self.epochs],
        }

    def save(self, path: Path) -> None:
        atomic_write(Path(path), json.dumps(self.to_dict(), indent=1).encode("utf-8"), mode=0o644)

    @classmethod
    def from_dict(cls, data: dict, source: str = "authority.pub") -> "AuthorityPublic":
        try:
            epochs = tuple(
                EpochKey(int(e["id"]), float(e["not_before"]), float(e["not_after"]),
                         _unb64(e["public_key"], f"{source}: epoch {e.get('id')} public key", 32))
                for e in data["epochs"]
            )
            pub = cls(str(data["authority_id"]), float(data["epoch_seconds"]), float(data["retention_seconds"]),
                      int(data["threshold"]), int(data["shares"]), tuple(sorted(epochs, key=lambda e: e.epoch_id)))
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, KeyMaterialError):
                raise
            raise KeyMaterialError(f"{source}: malformed authority public file ({err!r})") from None
        if pub.retention_seconds <= 0 or pub.epoch_seconds <= 0:
            raise KeyMaterialError(f"{source}: epoch and retention must be positive")
        return pub

    @classmethod
    def load(cls, path: Path) -> "AuthorityPublic":
        path = Path(path)
        return cls.from_dict(_read_json(path, FORMAT_PUBLIC), str(path))


def load_authority_public(source: "AuthorityPublic | str | os.PathLike") -> AuthorityPublic:
    """Accept an :class:`AuthorityPublic` or a path to ``authority.pub``."""
    if isinstance(source, AuthorityPublic):
        return source
    if isinstance(source, (str, os.PathLike)):
        return AuthorityPublic.load(Path(source))
    raise TypeError(f"authority_public must be a path or AuthorityPublic, got {type(source).__name__}")


# --------------------------------------------------------------------------------------------
# Master key, keystore, shares
# --------------------------------------------------------------------------------------------


def _derive(master: bytes, person: bytes, authority_id: str) -> bytes:
    # Keyed BLAKE2b as a KDF: domain-separated by ``person`` and bound to the authority.
    return hashlib.blake2b(authority_id.encode(), key=master, person=person, digest_size=32).digest()


def master_commitment(master: bytes, authority_id: str) -> str:
    """A public check value for the master key (keyed hash; reveals nothing about the key)."""
    return _derive(master, b"facesel-mchk-v1", authority_id).hex()


class Keystore:
    """The authority's private folder of wrapped epoch secrets (useless without K shares)."""

    def __init__(self, path: "str | os.PathLike") -> None:
        self.path = Path(path)
        meta_path = self.path / "authority.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"keystore not found: {meta_path} does not exist")
        self.meta = _read_json(meta_path, FORMAT_KEYSTORE)
        self.authority_id = str(self.meta["authority_id"])

    def epoch_path(self, epoch_id: int) -> Path:
        return self.path / f"epoch-{int(epoch_id)}.key"

    def epoch_ids(self) -> list[int]:
        ids = []
        for p in self.path.glob("epoch-*.key"):
            try:
                ids.append(int(p.stem.split("-", 1)[1]))
            except ValueError:
                continue
        return sorted(ids)

    def check_master(self, master: bytes) -> None:
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
        """The epoch's X25519 secret key (32 bytes).

        Raises
        ------
        EpochUnavailableError
            When the epoch's secret has been shredded (or never existed here).
        KeyMaterialError
            When the wrapped key does not open with this master key (tampered or wrong key).
        """
        path = self.epoch_path(epoch_id)
        if not path.is_file():
            raise EpochUnavailableError(
                f"the secret of epoch {epoch_id} is not in keystore {self.path}: it was shredded after its "
                "retention period (or this is the wrong keystore); its records can no longer be opened")
        doc = _read_json(path, FORMAT_EPOCH)
        try:
            epoch = EpochKey(int(doc["id"]), float(doc["not_before"]), float(doc["not_after"]),
                             _unb64(doc["public_key"], f"{path}: public key", 32))
            nonce = _unb64(doc["nonce"], f"{path}: nonce", _AEAD_NONCE)
            wrapped = _unb64(doc["wrapped"], f"{path}: wrapped key")
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, KeyMaterialError):
                raise
            raise KeyMaterialError(f"{path}: malformed epoch key file ({err!r})") from None
        if epoch.epoch_id != int(epoch_id) or doc.get("authority_id") != self.authority_id:
            raise KeyMaterialError(f"{path}: holds epoch {epoch.epoch_id} of {doc.get('authority_id')}, "
                                   f"expected epoch {epoch_id} of {self.authority_id}")
        try:
            secret = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                wrapped, self._ad(epoch), nonce, _derive(master, b"facesel-wrap-v1", self.authority_id))
        except nacl.exceptions.CryptoError:
            raise KeyMaterialError(f"{path}: the wrapped epoch secret does not open with this master key "
                                   "(tampered key file or wrong master key)") from None
        if sodium.crypto_scalarmult_base(secret) != epoch.public_key:
            raise KeyMaterialError(f"{path}: epoch secret does not match its public key")
        return secret

    def shred(self, epoch_id: int) -> None:
        """Destroy an epoch's wrapped secret (crypto-shredding all its records)."""
        shred_file(self.epoch_path(epoch_id))


def _share_ad(doc: dict) -> bytes:
    return _canonical({k: doc[k] for k in ("format", "version", "authority_id", "index", "threshold", "shares")})


def write_share(path: Path, authority_id: str, index: int, threshold: int, shares: int, share: bytes,
                passphrase: bytes | None = None, kdf_level: str | None = None) -> None:
    """Write one share file; with a passphrase, the share is sealed under an Argon2id-derived key."""
    doc = {"format": FORMAT_SHARE, "version": VERSION, "authority_id": authority_id, "index": index,
           "threshold": threshold, "shares": shares}
    if passphrase:
        level = kdf_level or default_kdf_level()
        if level not in KDF_LEVELS:
            raise ValueError(f"kdf_level must be one of {sorted(KDF_LEVELS)}, got {level!r}")
        ops, mem = KDF_LEVELS[level]
        salt = secrets.token_bytes(argon2id.SALTBYTES)
        key = argon2id.kdf(32, passphrase, salt, opslimit=ops, memlimit=mem)
        nonce = secrets.token_bytes(_AEAD_NONCE)
        sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(share, _share_ad(doc), nonce, key)
        doc.update({"protected": True, "kdf": {"name": "argon2id", "opslimit": ops, "memlimit": mem,
                                                "salt": _b64(salt)},
                    "nonce": _b64(nonce), "sealed_share": _b64(sealed)})
    else:
        doc.update({"protected": False, "share": _b64(share),
                    "check": hashlib.blake2b(share, digest_size=16, person=b"facesel-share-v1").hexdigest()})
    atomic_write(Path(path), json.dumps(doc, indent=1).encode("utf-8"))


@dataclass(frozen=True)
class ShareFile:
    """A parsed share file; :meth:`secret` returns the 32-byte share."""

    path: Path
    doc: dict

    @classmethod
    def load(cls, path: "str | os.PathLike") -> "ShareFile":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"share file not found: {path}")
        doc = _read_json(path, FORMAT_SHARE)
        for key, kind in (("authority_id", str), ("index", int), ("threshold", int), ("shares", int),
                          ("protected", bool)):
            if not isinstance(doc.get(key), kind):
                raise KeyMaterialError(f"{path}: share file field {key!r} missing or malformed")
        return cls(path, doc)

    @property
    def index(self) -> int:
        return int(self.doc["index"])

    @property
    def protected(self) -> bool:
        return bool(self.doc["protected"])

    def secret(self, passphrase: bytes | None = None) -> bytes:
        doc = self.doc
        if not self.protected:
            share = _unb64(doc.get("share"), f"{self.path}: share", 32)
            check = hashlib.blake2b(share, digest_size=16, person=b"facesel-share-v1").hexdigest()
            if not secrets.compare_digest(check, str(doc.get("check"))):
                raise KeyMaterialError(f"{self.path}: share is corrupt (checksum mismatch)")
            return share
        if not passphrase:
            raise KeyMaterialError(f"{self.path}: share is passphrase-protected; give its passphrase")
        kdf = doc.get("kdf") or {}
        ops, mem = int(kdf.get("opslimit", 0)), int(kdf.get("memlimit", 0))
        # Bound the cost a (possibly forged) file can make us pay.
        if not (argon2id.OPSLIMIT_MIN <= ops <= 4 * argon2id.OPSLIMIT_SENSITIVE
                and argon2id.MEMLIMIT_MIN <= mem <= argon2id.MEMLIMIT_SENSITIVE):
            raise KeyMaterialError(f"{self.path}: implausible Argon2id parameters ops={ops} mem={mem}")
        salt = _unb64(kdf.get("salt"), f"{self.path}: salt", argon2id.SALTBYTES)
        nonce = _unb64(doc.get("nonce"), f"{self.path}: nonce", _AEAD_NONCE)
        sealed = _unb64(doc.get("sealed_share"), f"{self.path}: sealed share")
        key = argon2id.kdf(32, passphrase, salt, opslimit=ops, memlimit=mem)
        try:
            return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, _share_ad(doc), nonce, key)
        except nacl.exceptions.CryptoError:
            raise KeyMaterialError(f"{self.path}: wrong passphrase, or the share file is corrupt") from None


def reconstruct_master(share_paths: Sequence["str | os.PathLike"], keystore: Keystore,
                       passphrase_for: Callable[[ShareFile], bytes | None] | None = None) -> tuple[bytes, list[int]]:
    """Rebuild and verify the master key from share files.

    Parameters
    ----------
    share_paths : sequence of path
    keystore : Keystore
        Supplies the authority id, the threshold and the master-key commitment.
    passphrase_for : callable, optional
        Called for each protected share; returns its passphrase.

    Returns
    -------
    (bytes, list of int)
        The 32-byte master key and the share indices used.
    """
    files = [ShareFile.load(p) for p in share_paths]
    threshold = int(keystore.meta["threshold"])
    by_index: dict[int, ShareFile] = {}
    for f in files:
        if f.doc["authority_id"] != keystore.authority_id:
            raise KeyMaterialError(f"{f.path}: share of authority {f.doc['authority_id']}, but the keystore "
                                   f"belongs to authority {keystore.authority_id}")
        if f.index in by_index:
            raise KeyMaterialError(f"share {f.index} given twice ({by_index[f.index].path} and {f.path})")
        by_index[f.index] = f
    if len(by_index) < threshold:
        raise KeyMaterialError(f"{len(by_index)} distinct share(s) given, but {threshold} are needed "
                               f"(threshold K={threshold} of N={keystore.meta['shares']})")
    pairs = []
    for index, f in sorted(by_index.items()):
        passphrase = passphrase_for(f) if (f.protected and passphrase_for is not None) else None
        pairs.append((index, f.secret(passphrase)))
    master = shamir.combine(pairs)
    keystore.check_master(master)
    return master, sorted(by_index)


# --------------------------------------------------------------------------------------------
# Creation and extension
# --------------------------------------------------------------------------------------------


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


def create_authority(out_dir: "str | os.PathLike", shares: int, threshold: int, epoch_seconds: float,
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


def extend_authority(out_dir: "str | os.PathLike", master: bytes, until: float) -> AuthorityPublic:
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
