"""Share files of the master key: writing them, reading them (passphrase or not), and rebuilding
and verifying the master key from K of them.

A share file is JSON. Unprotected, it holds the 32-byte share and a checksum that names a
damaged file. Protected, the share is sealed with XChaCha20-Poly1305 under a key derived from the
holder's passphrase with Argon2id (PyNaCl ``nacl.pwhash.argon2id``); the file's identity fields
(authority, index, K, N) are the associated data, so they cannot be edited unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings as sodium
import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import zxcvbn

from facesel.path_arg import path_arg
from facesel.vault import fields, shamir
from facesel.vault.errors import KeyMaterialError
from facesel.vault.fsutil import atomic_write
from facesel.vault.keys import (
    _AEAD_NONCE,
    FORMAT_SHARE,
    KDF_LEVELS,
    VERSION,
    Keystore,
    _b64,
    _canonical,
    _read_json,
    _unb64,
    check_kdf_level,
)


MIN_PASSPHRASE_CHARS = 12
MIN_DISTINCT_CHARS = 6
# Fewest guesses (zxcvbn's estimate) a passphrase must need. At the default Argon2id level a guess
# costs about 0.9 s of one core (measured), so 1e10 guesses are some 290 core-years; even at the
# test-only "min" level (about 17,000 guesses a second here) they are about a core-week.
MIN_GUESSES = 1e10
# Words an attacker who knows the setup would try first.
_CONTEXT_WORDS = ["facesel", "vault", "share", "holder", "authority", "camera", "passphrase", "password",
                  "secret", "master", "evidence", "snapshot", "face"]


def check_passphrase(passphrase: bytes, name: str = "passphrase") -> None:
    """Refuse passphrases an attacker with a share file could guess offline in little time.

    Two rules: at least :data:`MIN_PASSPHRASE_CHARS` characters with :data:`MIN_DISTINCT_CHARS`
    different ones, and at least :data:`MIN_GUESSES` guesses by zxcvbn's estimate, which matches
    the passphrase against the word lists shipped in that package (30,000 common passwords,
    English words, names, TV and film words) and the patterns guessers use (capitals, l33t,
    digits and years appended, keyboard walks, repeats, dates): "Password1234" falls to the
    second. Nothing is looked up over the network.
    """
    if not isinstance(passphrase, (bytes, bytearray)):
        raise TypeError(f"{name} must be bytes, got {type(passphrase).__name__}")
    text = bytes(passphrase).decode("utf-8", errors="replace")
    if len(text) < MIN_PASSPHRASE_CHARS or len(set(text)) < MIN_DISTINCT_CHARS:
        raise ValueError(f"{name} is too weak: use at least {MIN_PASSPHRASE_CHARS} characters with at least "
                         f"{MIN_DISTINCT_CHARS} different ones (e.g. four random words)")
    # zxcvbn's matching grows with length; past 100 characters a passphrase is long enough anyway.
    guesses = float(zxcvbn.zxcvbn(text[:100], user_inputs=_CONTEXT_WORDS)["guesses"])
    if guesses < MIN_GUESSES:
        raise ValueError(f"{name} is too easy to guess: it is built from common passwords, words or patterns "
                         f"(about {guesses:.0e} guesses, fewer than {MIN_GUESSES:.0e}); use four or more random "
                         "words, or --generate-passphrases")


def check_passphrases(passphrases: Sequence[bytes | None] | None, count: int, allow_shared: bool = False,
                      what: str = "share") -> None:
    """One passphrase per share, each strong (:func:`check_passphrase`) and, unless
    ``allow_shared``, no two alike: whoever knows a passphrase shared by K holders opens every record."""
    if passphrases is None:
        return
    if len(passphrases) != count:
        raise ValueError(f"one passphrase per share is needed ({count}), got {len(passphrases)}")
    for i, phrase in enumerate(passphrases, 1):
        if phrase is not None:
            check_passphrase(phrase, f"passphrase of {what} {i}")
    given = [bytes(p) for p in passphrases if p is not None]
    if len(set(given)) < len(given) and not allow_shared:
        raise ValueError("two or more shares would get the same passphrase, so one person who knows it unlocks all "
                         "of them: give each holder their own (a passphrase file with one a line, prompts, or "
                         "--generate-passphrases), or accept it explicitly with --one-passphrase-for-all")


def generate_passphrase() -> str:
    """Five random words' worth of entropy (about 100 bits) as 4 groups of 5 letters and digits."""
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"  # no look-alikes (l/1, o/0)
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def _share_ad(doc: dict) -> bytes:
    return _canonical({k: doc[k] for k in ("format", "version", "authority_id", "index", "threshold", "shares")})


def write_share(path: Path, authority_id: str, index: int, threshold: int, shares: int, share: bytes,
                passphrase: bytes | None = None, kdf_level: str | None = None, insecure_kdf: bool = False) -> None:
    """Write one share file; with a passphrase, the share is sealed under an Argon2id-derived key
    (level ``kdf_level``; the test-only ``min`` needs ``insecure_kdf``, see :func:`check_kdf_level`)."""
    doc = {"format": FORMAT_SHARE, "version": VERSION, "authority_id": authority_id, "index": index,
           "threshold": threshold, "shares": shares}
    if passphrase:
        ops, mem = KDF_LEVELS[check_kdf_level(kdf_level, insecure_kdf)]
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
    def load(cls, path: str | os.PathLike) -> ShareFile:
        """Read a share file and check its fields (authority id, threshold, shares, index, protected);
        the share itself is read by :meth:`secret`.
        """
        path = path_arg(path, "the share path")
        if not path.exists() and not path.is_symlink():  # anything else: read_json says what it is
            raise FileNotFoundError(f"share file not found: {path}")
        doc = _read_json(path, FORMAT_SHARE)
        where, err = str(path), KeyMaterialError
        fields.identifier(doc.get("authority_id"), "authority_id", where, err)
        threshold = fields.integer(doc.get("threshold"), "threshold", where, err, 1, shamir.MAX_SHARES)
        shares = fields.integer(doc.get("shares"), "shares", where, err, threshold, shamir.MAX_SHARES)
        fields.integer(doc.get("index"), "index", where, err, 1, shares)
        if not isinstance(doc.get("protected"), bool):
            raise KeyMaterialError(f"{path}: share file field 'protected' must be true or false")
        return cls(path, doc)

    @property
    def index(self) -> int:
        """The share's x coordinate (1 to ``shares``)."""
        return int(self.doc["index"])

    @property
    def protected(self) -> bool:
        """Whether the share is sealed under a passphrase."""
        return bool(self.doc["protected"])

    def secret(self, passphrase: bytes | None = None) -> bytes:
        """The 32-byte share: checked against its checksum, or decrypted with ``passphrase`` when
        protected (the file's Argon2id cost is bounded first). KeyMaterialError for a corrupt file, a
        missing or wrong passphrase.
        """
        doc = self.doc
        if not self.protected:
            share = _unb64(doc.get("share"), f"{self.path}: share", 32)
            check = hashlib.blake2b(share, digest_size=16, person=b"facesel-share-v1").hexdigest()
            if not secrets.compare_digest(check, str(doc.get("check"))):
                raise KeyMaterialError(f"{self.path}: share is corrupt (checksum mismatch)")
            return share
        if not passphrase:
            raise KeyMaterialError(f"{self.path}: share is passphrase-protected; give its passphrase")
        where = str(self.path)
        kdf = fields.mapping(doc.get("kdf"), "kdf", where, KeyMaterialError)
        # Bound the cost a (possibly forged) file can make us pay.
        ops = fields.integer(kdf.get("opslimit"), "kdf.opslimit", where, KeyMaterialError,
                             argon2id.OPSLIMIT_MIN, 4 * argon2id.OPSLIMIT_SENSITIVE)
        mem = fields.integer(kdf.get("memlimit"), "kdf.memlimit", where, KeyMaterialError,
                             argon2id.MEMLIMIT_MIN, argon2id.MEMLIMIT_SENSITIVE)
        salt = _unb64(kdf.get("salt"), f"{self.path}: salt", argon2id.SALTBYTES)
        nonce = _unb64(doc.get("nonce"), f"{self.path}: nonce", _AEAD_NONCE)
        sealed = _unb64(doc.get("sealed_share"), f"{self.path}: sealed share")
        key = argon2id.kdf(32, passphrase, salt, opslimit=ops, memlimit=mem)
        try:
            return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, _share_ad(doc), nonce, key)
        except nacl.exceptions.CryptoError:
            raise KeyMaterialError(f"{self.path}: wrong passphrase, or the share file is corrupt") from None


def reconstruct_master(share_paths: Sequence[str | os.PathLike], keystore: Keystore,
                       passphrase_for: Callable[[ShareFile], bytes | None] | None = None) -> tuple[bytes, list[int]]:
    """Rebuild and verify the master key from share files.

    Parameters
    ----------
    share_paths : sequence of path
    keystore : Keystore
        Supplies the authority id, the threshold and the master-key commitment.
    passphrase_for : callable, optional
        Called for each protected share; returns its passphrase. Its optional attribute
        ``source_of(share) -> str`` says where that passphrase came from, for a wrong one's error.

    Returns
    -------
    (bytes, list of int)
        The 32-byte master key and the share indices used.
    """
    if isinstance(share_paths, (str, bytes, os.PathLike)):
        # One path is iterated by characters: "share file not found: a" for "authority/shares/...".
        raise TypeError(f"share_paths must be a list of share files, got one {type(share_paths).__name__} "
                        f"({share_paths!r}): put it in a list, with the other holders' shares")
    if share_paths is None or not isinstance(share_paths, Iterable):
        # Before: "'NoneType' object is not iterable" from the list below, naming nothing (ux19)
        raise TypeError(f"share_paths must be a list of share files, got {type(share_paths).__name__}")
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
        try:
            pairs.append((index, f.secret(passphrase)))
        except KeyMaterialError as err:
            # Which of the given passphrases was tried (the command line's --passphrase-file lines are
            # matched to --share by order): "wrong passphrase" alone left a holder left out of the
            # command line, or two files swapped, looking like a wrong passphrase (ux20).
            source_of = getattr(passphrase_for, "source_of", None)
            source = source_of(f) if passphrase is not None and callable(source_of) else None
            if source:
                raise KeyMaterialError(f"{err} (its passphrase was taken from {source})") from None
            raise
    master = shamir.combine(pairs)
    keystore.check_master(master)
    return master, sorted(by_index)
