"""Refuse, before any work starts, an output path that facesel could not write (the command
line's output flags, and each camera's ``vault`` in a ``serve`` config).

Without this check an unwritable ``--plaintext-out``, ``--report``, ``--vault``, ``--preview``,
``--workdir`` or ``--out`` failed only when the first file was written: after the models had
loaded and (for ``run``) after the first line said the input was being read, with Python's
``[Errno 13] Permission denied: 'x'``, which names neither the flag nor the folder at fault.
Here the error names the flag, the value and the folder that refuses, e.g.
``--plaintext-out /srv/out/run1: cannot be made: permission denied on /srv/out``.

``os.access`` is asked for the effective user id, which is what the later ``open``/``mkdir`` use;
a check and a later write can still race, which only moves the error back to the write itself:
the same one-line error as before this module.
"""

from __future__ import annotations

import os
from pathlib import Path


def _nearest_existing(path: Path) -> Path:
    """``path`` itself or its closest ancestor that exists (``Path('.')`` at the worst)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def _writable_folder(folder: Path) -> bool:
    # The effective user, as open() and mkdir() use (the same as the real one unless set-uid).
    effective = os.access in os.supports_effective_ids
    return os.access(folder, os.W_OK | os.X_OK, effective_ids=effective)


def refuse_unwritable_folder(flag: str, value: str | os.PathLike) -> None:
    """Raise ``ValueError`` naming ``flag`` when the folder ``value`` can
    neither be written into (it exists) nor be made (it does not). A file where the folder belongs
    is left to the caller's own, more specific, message."""
    path = Path(value).expanduser()
    existing = _nearest_existing(path)
    if existing == path:
        if path.is_dir() and not _writable_folder(path):
            raise ValueError(f"{flag} {value}: cannot write into it: {_why_not_writable(path)}")
        return
    if not existing.is_dir():
        raise ValueError(f"{flag} {value}: cannot be made: {existing} is a file, not a folder")
    if not _writable_folder(existing):
        raise ValueError(f"{flag} {value}: cannot be made: {_why_not_writable(existing)} on {existing}")


def refuse_filled_folder(flag: str, value: str | os.PathLike) -> None:
    """Raise ``ValueError`` naming ``flag`` when ``value`` is a file or a folder that holds something:
    an opening's output must be new or empty. Before any share is read; the opening's own check
    said "the output folder X must be new or empty", naming no flag (ux26). A link is left to it."""
    path = Path(value).expanduser()
    if path.is_symlink() or not path.exists():
        return
    if not path.is_dir():
        raise ValueError(f"{flag} {value}: a file; give a new or empty folder (nothing was read or logged)")
    if next(path.iterdir(), None) is not None:
        raise ValueError(f"{flag} {value}: not empty; give a new or empty folder (nothing was read or logged)")


def replaced_path_problem(value: str | os.PathLike) -> str | None:
    """Why ``value`` must not be replaced by a new regular file, or None (it is one, a folder, or absent).

    Outputs written atomically (a new file beside it, renamed over it) replace whatever the path
    names: ``facesel audit head --out /dev/null`` run as root replaced the machine's ``/dev/null``
    with a regular file (ux23), and ``--out /dev/stdout`` would replace that link. A device, a FIFO,
    a socket or a symbolic link there is refused instead (folders are left to the caller's message).
    """
    import stat

    path = Path(value).expanduser()
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None  # absent (or unreadable: the write will say so)
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kinds = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    target = f" (to {os.readlink(path)})" if stat.S_ISLNK(mode) else ""
    return (f"{kind}{target}, not a regular file: this output is written as a new file renamed over the "
            f"path, which would put a regular file in place of the {kind.split(' ', 1)[-1]}; give the path "
            "of a regular file (or a new one)")


def refuse_unwritable_file(flag: str, value: str | os.PathLike, *, replaced: bool = False) -> None:
    """As :func:`refuse_unwritable_folder`, for a file ``value``: its folder (made when missing)
    must take new files, since facesel writes beside the file and renames (atomic replace).
    ``replaced``: the output is renamed over ``value``, so a device, FIFO, socket or link there is
    refused too (:func:`replaced_path_problem`)."""
    path = Path(value).expanduser()
    if path.is_dir():
        return  # the caller says "a folder, not a file" in its own words
    if replaced and (problem := replaced_path_problem(path)) is not None:
        raise ValueError(f"{flag} {value}: {problem}")
    folder = _nearest_existing(path.parent)
    if not folder.is_dir():
        raise ValueError(f"{flag} {value}: cannot be made: {folder} is a file, not a folder")
    if not _writable_folder(folder):
        raise ValueError(f"{flag} {value}: cannot be written: {_why_not_writable(folder)} on {folder}")


def _why_not_writable(path: Path) -> str:
    """``read-only file system`` or ``permission denied``: why ``os.access`` said no for ``path``
    (a vault on a disk mounted read-only was said "permission denied", even to root; ux17)."""
    try:
        if os.statvfs(_nearest_existing(path)).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except OSError:
        pass
    return "permission denied"


def unloggable_reason(log: str | os.PathLike) -> str | None:
    """Why the audit log ``log`` (an existing file, or one to be made in an existing folder) cannot
    be appended to (``read-only file system``, ``permission denied``), or None when it can or
    when its folder is not there (the caller's own messages say so)."""
    path = Path(log).expanduser()
    folder = path.parent
    if not folder.is_dir():
        return None
    effective = os.access in os.supports_effective_ids
    writable = os.access(folder, os.W_OK | os.X_OK, effective_ids=effective) and (
        not path.exists() or os.access(path, os.W_OK, effective_ids=effective))
    return None if writable else _why_not_writable(path)


def refuse_unloggable(what: str, log: str | os.PathLike) -> None:
    """Raise ``ValueError`` when the audit log ``log`` cannot be written (:func:`unloggable_reason`):
    an opening is logged before anything is decrypted, and the log failing only then cost the
    share holders their passphrases (``facesel open`` of a vault on a read-only disk said
    ``audit.log: Read-only file system`` after they had typed them; ux17).

    ``what`` names the log's owner for the message (``--vault /mnt/v``)."""
    reason = unloggable_reason(log)
    if reason is not None:
        raise ValueError(f"{what}: its audit log {Path(log).expanduser()} cannot be written ({reason}): an opening "
                         "is logged there before anything is decrypted; no share was read")
