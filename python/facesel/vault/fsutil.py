"""Crash-safe file writing: temporary file in the same folder, fsync, rename, fsync the folder.

After a crash at any point a reader sees either the old state or the complete new file, never a
half-written one; the only debris is a ``.tmp`` file, which :func:`remove_stale_temporaries`
deletes on the next start.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

TMP_SUFFIX = ".tmp"


class NotRegularFileError(OSError):
    """A path that must be a regular file is a folder, FIFO, device, socket (or a refused link)."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a link")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: Path, flags: int = os.O_RDONLY, mode: int = 0o600, follow: bool = True) -> int:
    """Open ``path`` and return the descriptor only when it is a regular file.

    Opened non-blocking (a FIFO or device opens at once instead of waiting for a writer), then
    checked with ``fstat`` *after* opening, so a file swapped for a FIFO between a check and the
    open cannot make us hang. ``follow=False`` also refuses a symbolic link (``O_NOFOLLOW``).

    Raises
    ------
    NotRegularFileError
        (an OSError) naming the path and what it is instead.
    OSError
        From the file system (FileNotFoundError, PermissionError, ...).
    """
    extra = os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags | extra, mode)
    except OSError as err:
        if err.errno == errno.ELOOP and not follow:
            raise NotRegularFileError(errno.ELOOP, "a symbolic link (not followed)", str(path)) from None
        if err.errno == errno.EISDIR:
            raise NotRegularFileError(errno.EISDIR, "a folder, not a file", str(path)) from None
        if err.errno == errno.ENXIO:  # a FIFO opened for writing with no reader, or a socket
            raise NotRegularFileError(errno.ENXIO, "not a regular file", str(path)) from None
        raise
    try:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            raise NotRegularFileError(errno.EINVAL, f"{_kind(kind)}, not a regular file", str(path))
        # Back to blocking for the rest (a regular file ignores the flag, but be explicit).
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


class ExposedSecretError(OSError):
    """A secret file (a signing key, a password, a passphrase) that users other than its owner may
    read or write: refused as ssh refuses such a private key, with the ``chmod`` that fixes it."""


def read_regular(path: Path, max_bytes: int, follow: bool = True, private: bool = False) -> bytes:
    """The bytes of regular file ``path``, refused (NotRegularFileError / ValueError) when it is
    anything else or larger than ``max_bytes``; the size is checked on the open descriptor.

    ``private``: the file holds a secret, and is refused (:class:`ExposedSecretError`) when its
    mode lets group or others read or write it (checked on the open descriptor: a link's target)."""
    fd = open_regular(Path(path), os.O_RDONLY, follow=follow)
    try:
        info = os.fstat(fd)
        if private and stat.S_IMODE(info.st_mode) & 0o077:
            raise ExposedSecretError(errno.EACCES, f"other users may read or change it (mode "
                                                   f"{stat.S_IMODE(info.st_mode):04o}); only its owner may: "
                                                   f"chmod 600 {path}", str(path))
        size = info.st_size
        if size > max_bytes:
            raise FileTooBigError(errno.EFBIG, f"{size} bytes, more than the {max_bytes} allowed", str(path))
        chunks, total = [], 0
        while True:
            block = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
            if total > max_bytes:  # it grew while we read it
                raise FileTooBigError(errno.EFBIG, f"more than the {max_bytes} bytes allowed", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


class FileTooBigError(OSError):
    """A file is larger than what may be read of it."""


def is_regular(path: Path) -> bool:
    """True when ``path`` itself (not a link's target) is a regular file; never blocks."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


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
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if err.filename is not None:
            raise
        # os.write and os.fsync name no file: a full disk under `facesel audit head --out` said only
        # "No space left on device" (ux17). Named by the file the caller is writing, not the temporary.
        raise OSError(err.errno, err.strerror, str(path)) from err
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
        if not is_regular(tmp):
            continue  # not ours (we only ever make regular files): left for the owner to look at
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
    fd = open_regular(path, os.O_WRONLY, follow=False)
    try:
        size = os.fstat(fd).st_size
        _write_all(fd, b"\0" * size)
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()
    fsync_dir(path.parent)
