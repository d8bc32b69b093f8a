"""Crash-safe file writing: temporary file in the same folder, fsync, rename, fsync the folder.

After a crash at any point a reader sees either the old state or the complete new file, never a
half-written one; the only debris is a ``.tmp`` file, which :func:`remove_stale_temporaries`
deletes on the next start.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

TMP_SUFFIX = ".tmp"


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # a regular file never returns 0 for a non-empty write; be safe
            raise OSError(errno.EIO, "short write")
        view = view[written:]


def write_temporary(path: Path, data: bytes, mode: int = 0o600) -> Path:
    """Write ``data`` durably to a new temporary file beside ``path``; return the temporary's path.

    The caller renames it to ``path`` (``os.replace``) when it is ready to publish it, or deletes it.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{TMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically and durably.

    Parameters
    ----------
    path : Path
        Final location. Its folder must exist.
    data : bytes
    mode : int
        Permission bits of the new file (owner-only by default: key and record files).

    Raises
    ------
    OSError
        From the file system (e.g. ``ENOSPC``); the temporary file is removed first and ``path``
        is left as it was.
    """
    path = Path(path)
    tmp = write_temporary(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete the ``.*.tmp`` leftovers of interrupted :func:`atomic_write` calls in ``directory``."""
    removed = []
    for tmp in Path(directory).glob(f".*{TMP_SUFFIX}"):
        try:
            tmp.unlink()
            removed.append(tmp)
        except FileNotFoundError:
            pass
    if removed:
        fsync_dir(Path(directory))
    return removed


def shred_file(path: Path) -> None:
    """Overwrite a small key file with zeros, fsync, and unlink it.

    The overwrite is best effort (copy-on-write and flash file systems may keep old blocks);
    what makes the secret unrecoverable is that no copy of it exists unwrapped and the master key
    needs K shares.
    """
    path = Path(path)
    size = path.stat().st_size
    fd = os.open(path, os.O_WRONLY)
    try:
        _write_all(fd, b"\0" * size)
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()
    fsync_dir(path.parent)
