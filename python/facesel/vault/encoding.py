"""Small encodings shared by the key files: base64 fields, canonical JSON, and reading a versioned
JSON key file with one clear error for every way it can be wrong (never a raw ``[Errno ...]``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from facesel.vault.errors import KeyMaterialError

VERSION = 1
MAX_KEY_FILE = 64 << 20  # no key file is near this; a bigger one is refused before it is read


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, what: str, length: int | None = None) -> bytes:
    """Decode a base64 field; KeyMaterialError naming ``what`` when it is not base64 or not ``length`` bytes."""
    try:
        data = base64.b64decode(str(text), validate=True)
    except (ValueError, TypeError):
        raise KeyMaterialError(f"{what} is not valid base64") from None
    if length is not None and len(data) != length:
        raise KeyMaterialError(f"{what} must be {length} bytes, got {len(data)}")
    return data


def canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def read_json(path: Path, expected_format: str) -> dict:
    """A JSON key file of ``expected_format`` and version :data:`VERSION`, size-checked first."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_KEY_FILE:
            raise KeyMaterialError(f"{path}: {path.stat().st_size} bytes is far too big for a {expected_format} file")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise KeyMaterialError(f"{path} is a folder, not a {expected_format} file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        detail = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
        raise KeyMaterialError(f"{path}: not a readable {expected_format} file ({detail})") from None
    if not isinstance(data, dict) or data.get("format") != expected_format:
        raise KeyMaterialError(f"{path}: not a {expected_format} file")
    if data.get("version") != VERSION:
        raise KeyMaterialError(f"{path}: unsupported {expected_format} version {data.get('version')!r}")
    return data
