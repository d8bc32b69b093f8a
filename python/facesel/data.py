"""Where facesel finds the shared research data (real faces and videos) for tests and evaluation.

One setting: the ``FACESEL_DATA`` environment variable. Without it, ``../shared/data`` relative to
the current directory or to the source checkout is used when it exists. The data is never copied
into the package.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def data_root() -> Path | None:
    """The data folder, or None when it cannot be found."""
    env = os.environ.get("FACESEL_DATA")
    if env:
        path = Path(env).expanduser()
        return path if path.is_dir() else None
    for candidate in (Path.cwd() / ".." / "shared" / "data", _SOURCE_ROOT / ".." / "shared" / "data"):
        if candidate.is_dir():
            return candidate.resolve()
    return None


def data_env_problem() -> str | None:
    """Why ``FACESEL_DATA`` names no data folder (it is set, but to nothing or to a file), in words for
    an error line; None when it is unset or a folder. A mistyped FACESEL_DATA was told "set
    FACESEL_DATA", as if it were unset (ux16)."""
    env = os.environ.get("FACESEL_DATA")
    if not env:
        return None
    path = Path(env).expanduser()
    if path.is_dir():
        return None
    return f"FACESEL_DATA={env}: {'a file, not a folder' if path.exists() else 'no such folder'}"


def data_root_or_exit() -> Path:
    """:func:`data_root` for benchmark and experiment scripts: without the data, a hint on stderr
    and exit status 2 (the scripts' "cannot run here")."""
    root = data_root()
    if root is None:
        print(f"shared data not found ({data_env_problem() or 'set FACESEL_DATA'})", file=sys.stderr)
        raise SystemExit(2)
    return root
