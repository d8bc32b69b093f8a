"""One check for the path arguments of the Python API.

``Path(None)`` raises ``expected str, bytes or os.PathLike object, not NoneType`` from inside
pathlib, naming no argument, and ``Path("")`` is the current folder: ``Vault("", ...)`` would make
a vault wherever the script runs. :func:`path_arg` refuses both, naming the argument (ux19).
"""

from __future__ import annotations

import os
from pathlib import Path


def path_arg(value, name: str) -> Path:
    """``value`` as a :class:`~pathlib.Path`; ``name`` is the argument's name for the error.

    Raises
    ------
    TypeError
        ``value`` is not a ``str`` or an ``os.PathLike`` of text (None, a number, bytes, a list).
    ValueError
        ``value`` is the empty string.
    """
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str or os.PathLike, got {_shown(value)}")
    if not text:
        raise ValueError(f"{name} must not be the empty string (write '.' for the current folder)")
    return Path(text)


def _shown(value) -> str:
    shown = repr(value)
    return shown if len(shown) <= 80 else f"a {type(value).__name__}"
