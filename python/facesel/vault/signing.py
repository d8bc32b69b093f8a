"""Ed25519 identities: the camera's signing key (``facesel camera init``) and signature helpers.

A camera folder made by ``facesel camera init`` holds::

    CAMDIR/camera.key   the camera's Ed25519 secret seed, its id, and the pinned authority
                        fingerprint (mode 0600; never leaves the camera)
    CAMDIR/camera.pub   the camera id and its Ed25519 public key (for ``facesel authority register``)

The camera signs every record it seals and every audit entry it writes. The pin is the
fingerprint of the authority's signing key, fixed at enrolment: the camera refuses to seal to an
``authority.pub`` that this key did not sign, so write access to the vault folder alone can no
longer swap the keys that records are sealed to.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.signing

from facesel.vault.encoding import b64, read_json, unb64
from facesel.vault.errors import KeyMaterialError
from facesel.vault.fsutil import atomic_write

FORMAT_CAMERA_KEY = "facesel-camera-key"
FORMAT_CAMERA_PUB = "facesel-camera-public"
SIGNATURE_BYTES = 64
# \A...\Z: "$" would also match before a final newline (review round 13c, finding 4)
CAMERA_ID = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")
FINGERPRINT = re.compile(r"\A[0-9a-f]{64}\Z")


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of an Ed25519 public key, as 64 hex characters (what a camera pins)."""
    return hashlib.sha256(b"facesel-signing-key-v1" + bytes(public_key)).hexdigest()


def check_camera_id(value: object) -> str:
    """A camera id: 1-128 characters of letters, digits and ``._:-`` (it names files and log lines)."""
    if not isinstance(value, str) or not CAMERA_ID.match(value):
        raise ValueError(f"camera id must be 1-128 letters, digits or . _ : - (starting with a letter or "
                         f"digit), got {value!r}")
    return value


def check_fingerprint(value: object, name: str = "authority fingerprint") -> str:
    """``value`` as a 64-character lower-case hex fingerprint (spaces trimmed); ValueError naming
    ``name`` otherwise.
    """
    text = str(value).strip().lower()
    if not FINGERPRINT.match(text):
        raise ValueError(f"{name} must be 64 hex characters (as printed by 'facesel authority init'), got {value!r}")
    return text


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    try:
        nacl.signing.VerifyKey(bytes(public_key)).verify(bytes(message), bytes(signature))
        return True
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Signer:
    """Something that signs audit entries and files: a camera or the authority.

    ``signer_id`` is ``camera:<id>`` or ``authority:<id>``; it names the key a verifier must use.
    """

    signer_id: str
    key: nacl.signing.SigningKey

    @property
    def public_key(self) -> bytes:
        """The Ed25519 public key (32 bytes) that verifies this signer's signatures."""
        return bytes(self.key.verify_key)

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature (64 bytes) of ``message``."""
        return bytes(self.key.sign(bytes(message)).signature)


def _read(path: Path, fmt: str, what: str, private: bool = False) -> dict:
    try:
        return read_json(path, fmt, private=private)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path} does not exist") from None


def _camera_doc(path: str | os.PathLike, file_name: str, fmt: str, what: str,
                private: bool = False) -> tuple[Path, dict, str]:
    """Read a camera file (or ``file_name`` in the folder given): its path, contents and camera id."""
    path = Path(path)
    if path.is_dir():
        path = path / file_name
    doc = _read(path, fmt, what, private)
    try:
        return path, doc, check_camera_id(doc.get("camera_id"))
    except ValueError as err:
        raise KeyMaterialError(f"{path}: {err}") from None


@dataclass(frozen=True)
class CameraPublic:
    """A camera's public identity, as the authority registers it."""

    camera_id: str
    public_key: bytes

    @classmethod
    def load(cls, path: str | os.PathLike) -> CameraPublic:
        """Read ``camera.pub`` (or that file in the folder ``path``); KeyMaterialError when malformed."""
        path, doc, camera_id = _camera_doc(path, "camera.pub", FORMAT_CAMERA_PUB, "camera public key file")
        return cls(camera_id, unb64(doc.get("public_key"), f"{path}: public key", 32))


@dataclass(frozen=True)
class CameraKey:
    """The camera's secret signing key, its id and the authority fingerprint it pinned."""

    camera_id: str
    key: nacl.signing.SigningKey
    pinned_authority: str
    path: Path | None = None

    @property
    def public(self) -> CameraPublic:
        """The camera's public identity (what the authority registers)."""
        return CameraPublic(self.camera_id, bytes(self.key.verify_key))

    @property
    def signer(self) -> Signer:
        """The :class:`Signer` of this camera (``camera:<id>``), for its log entries and records."""
        return Signer(f"camera:{self.camera_id}", self.key)

    @classmethod
    def create(cls, directory: str | os.PathLike, camera_id: str, authority_fingerprint: str) -> CameraKey:
        """Make a new camera key in ``directory`` (refuses to overwrite one)."""
        camera_id = check_camera_id(camera_id)
        pin = check_fingerprint(authority_fingerprint)
        directory = Path(directory)
        if (directory / "camera.key").exists():
            raise ValueError(f"{directory} already holds a camera key; refusing to overwrite it")
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = nacl.signing.SigningKey.generate()
        secret = {"format": FORMAT_CAMERA_KEY, "version": 1, "camera_id": camera_id, "seed": b64(bytes(key)),
                  "authority_fingerprint": pin}
        public = {"format": FORMAT_CAMERA_PUB, "version": 1, "camera_id": camera_id,
                  "public_key": b64(bytes(key.verify_key))}
        atomic_write(directory / "camera.key", json.dumps(secret, indent=1).encode("utf-8"), mode=0o600)
        atomic_write(directory / "camera.pub", json.dumps(public, indent=1).encode("utf-8"), mode=0o644)
        return cls(camera_id, key, pin, directory / "camera.key")

    @classmethod
    def load(cls, path: str | os.PathLike) -> CameraKey:
        """Read ``camera.key`` (or the folder holding it)."""
        # Whoever reads it signs seals and purges as this camera: refused when others may read it.
        path, doc, camera_id = _camera_doc(path, "camera.key", FORMAT_CAMERA_KEY, "camera key file", private=True)
        try:
            pin = check_fingerprint(doc.get("authority_fingerprint"))
        except ValueError as err:
            raise KeyMaterialError(f"{path}: {err}") from None
        return cls(camera_id, nacl.signing.SigningKey(unb64(doc.get("seed"), f"{path}: seed", 32)), pin, path)


def load_camera(source: CameraKey | str | os.PathLike) -> CameraKey:
    """Accept a :class:`CameraKey` or a path to ``camera.key`` (or its folder)."""
    if isinstance(source, CameraKey):
        return source
    if isinstance(source, (str, os.PathLike)):
        return CameraKey.load(source)
    raise TypeError(f"camera must be a CameraKey or the path of a camera key, got {type(source).__name__}")
