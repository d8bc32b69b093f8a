"""Small encodings shared by the key files: base64 fields, canonical JSON, and reading a versioned
JSON key file with one clear error for every way it can be wrong (never a raw ``[Errno ...]``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from facesel.vault.errors import KeyMaterialError
from facesel.vault.fields import describe
from facesel.vault.fsutil import ExposedSecretError, FileTooBigError, NotRegularFileError, read_regular

VERSION = 1
MAX_KEY_FILE = 64 << 20  # no key file is near this; a bigger one is refused before it is read


def b64(data: bytes) -> str:
    """``data`` as standard base64 text (ASCII, padded): the form bytes take in every JSON file."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, what: str, length: int | None = None) -> bytes:
    """Decode a base64 field; KeyMaterialError naming ``what`` when it is not base64 or not ``length`` bytes."""
    if not isinstance(text, str) or len(text) > MAX_KEY_FILE:
        raise KeyMaterialError(f"{what} must be a base64 string, got {describe(text)}")
    try:
        data = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise KeyMaterialError(f"{what} is not valid base64") from None
    if length is not None and len(data) != length:
        raise KeyMaterialError(f"{what} must be {length} bytes, got {len(data)}")
    return data


def canonical(obj: dict) -> bytes:
    """The one byte form of ``obj`` that is signed or hashed: JSON, sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _format_of(data) -> str | None:
    """The ``format`` a facesel key file names (``facesel-camera-public``...), or None."""
    found = data.get("format") if isinstance(data, dict) else None
    return found if isinstance(found, str) and found.startswith("facesel-") and len(found) <= 64 else None


def _other_format(path: Path, expected_format: str) -> str | None:
    """The facesel format of a file that is readable by others, when it is another format than the
    secret one expected (a public key given in its place); None when it is that format or unknown."""
    try:
        found = _format_of(json.loads(read_regular(path, MAX_KEY_FILE).decode("utf-8")))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return found if found != expected_format else None


def read_json(path: Path, expected_format: str, private: bool = False) -> dict:
    """A JSON key file of ``expected_format`` and version :data:`VERSION`.

    Only a regular file is read (a FIFO, device or folder in its place is refused at once, never
    waited on), and only up to :data:`MAX_KEY_FILE` bytes. ``private``: a secret key file, refused
    when group or others may read or write it.
    """
    path = Path(path)
    try:
        data = json.loads(read_regular(path, MAX_KEY_FILE, private=private).decode("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    except ExposedSecretError as err:
        other = _other_format(path, expected_format)
        if other is not None:  # e.g. camera.pub given for camera.key: "chmod 600 camera.pub" would be wrong advice
            raise KeyMaterialError(f"{path}: not a {expected_format} file (it is a {other} file)") from None
        raise KeyMaterialError(f"{path} is a secret {expected_format} file, but {err.strerror}") from None
    except FileTooBigError:
        raise KeyMaterialError(f"{path}: far too big for a {expected_format} file") from None
    except NotRegularFileError as err:
        raise KeyMaterialError(f"{path} is {err.strerror}: not a {expected_format} file") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        detail = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
        raise KeyMaterialError(f"{path}: not a readable {expected_format} file ({detail})") from None
    if not isinstance(data, dict) or data.get("format") != expected_format:
        other = _format_of(data)
        raise KeyMaterialError(f"{path}: not a {expected_format} file" + (f" (it is a {other} file)" if other else ""))
    version = data.get("version")
    if isinstance(version, bool) or version != VERSION:
        raise KeyMaterialError(f"{path}: unsupported {expected_format} version {describe(version)}")
    return data
