"""Staging folders of an opening, registered so that a killed opening's pictures are found again.

An opening writes its decrypted pictures into a hidden staging folder beside its output
(``.OUT.partial-XXXXXXXX``) and renames it to ``OUT`` at the end, so that the output is either
whole or absent. Python cleans the folder up on any exception, Ctrl-C and SIGTERM included; after
SIGKILL or a power cut nothing can, and the folder keeps the faces, hidden, wherever that output
was meant to go. Review 6 removed such a folder only when the next opening named the *same*
output (review 7, finding 1).

So every staging folder is registered first in one known, private place of the opening user:
``$XDG_STATE_HOME/facesel/openings`` (default ``~/.local/state/facesel/openings``; 0700, this
user's, not a link). Each opening holds a marker file there (the staging folder's path, device
and inode) under an exclusive ``flock`` for as long as it runs; the lock goes with the process,
however it ends. Every opening (``facesel open``, ``central open``, any output) first sweeps the
registry: a marker whose lock can be taken belongs to an opening that is gone, and its staging
folder is removed (only when it is still the very folder registered: same device and inode, this
user's, a folder and not a link, named like a staging folder) with a warning.

Openings of one user may run at once (two operators, two terminals), so a sweep can meet a marker
at any moment of another opening's life (flaky19). A marker appears under its name only once it is
locked and whole (it is written under a pending name, then renamed), and a sweep acts on a marker
only while it is still linked under that name once the sweep holds its lock: every unlink happens
under the lock, so a marker already spent by its own opening or by another sweep is passed over,
not read as a killed opening's (which made ``open`` fail with "...json does not exist").

A marker's pending file (``.NAME.json.pending``: JSON naming the staging folder, no picture; the
folder is still empty then) is left behind by an opening killed between writing it and renaming
it. A sweep removes such a file (and the empty folder it names, when it is still exactly that
folder) only when it is older than :data:`STALE_PENDING_SECONDS` *and* its lock can be taken *and*
the name still links to the file locked: a writer locks its pending file right after creating
it, so the age covers the instant between its create and its lock, where a concurrent writer's
fresh file is unlocked (ops22; flaky19's race in the other direction).

A machine without a usable registry (no home folder, or one other users may write) still opens,
with a warning that a killed opening would leave its pictures unregistered.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from facesel.vault.fsutil import fsync_dir

_log = logging.getLogger("facesel.vault")

STAGING_NAME = re.compile(r"\A\..+\.partial-[0-9a-f]{8}\Z", re.DOTALL)
_MARKER = re.compile(r"\A[0-9a-f]{16}\.json\Z")
_PENDING = re.compile(r"\A\.[0-9a-f]{16}\.json\.pending\Z")
STALE_PENDING_SECONDS = 3600.0
"""Age (by its modification time) from which an unlocked pending marker is taken for a killed
writer's: a live writer holds it unlocked only between its ``open`` and its ``flock``
(microseconds) and locked until its rename (a slow ``fsync`` included), so an hour leaves room
for a stalled process and for the clock being stepped; a pending file dated in the future is
never removed."""
_MARKER_MAX_BYTES = 64 * 1024


def registry_dir() -> Path:
    """Where this user's openings register their staging folders (not created here)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "facesel" / "openings"


def _usable_registry(create: bool) -> Path | None:
    """The registry folder when it is this user's private folder (made if ``create``), else None
    with a warning naming why. Another user's or a group-writable folder could hold markers that
    are not ours, so it is not used."""
    path = registry_dir()
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                pass
        info = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as err:
        _log.warning("cannot use %s to register the opening's staging folder (%s): a killed opening "
                     "would leave its decrypted pictures where nothing looks for them", path, err.strerror or err)
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        _log.warning("not using %s to register the opening's staging folder: it must be a folder of this "
                     "user that nobody else may read or write (chmod 700)", path)
        return None
    return path


def sweep_killed_openings() -> list[Path]:
    """Remove the staging folders of this user's openings that ended without cleaning up
    (SIGKILL, a power cut), whatever output they were for. Openings still running hold their
    marker's lock and are left alone. Returns the folders removed (each one also logged)."""
    registry = _usable_registry(create=False)
    if registry is None:
        return []
    removed = []
    for marker in sorted(registry.iterdir()):
        if _PENDING.match(marker.name):
            _sweep_pending(marker)
            continue
        if not _MARKER.match(marker.name):
            continue
        try:
            fd = os.open(marker, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    continue  # a running opening's
                raise
            info = os.fstat(fd)
            if not _still_linked(marker, info):
                continue  # spent (by its opening or another sweep) between our open and our lock
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_size > _MARKER_MAX_BYTES:
                continue
            folder = _remove_registered(os.read(fd, _MARKER_MAX_BYTES))
            if folder is not None:
                removed.append(folder)
            os.unlink(marker)  # under the lock: no other sweep acts on it twice
        finally:
            os.close(fd)
    return removed


def _sweep_pending(pending: Path) -> None:
    """Remove ``pending``, the pending marker of a writer killed before its rename, when it is
    stale (see the module docstring): unlocked, still linked, older than :data:`STALE_PENDING_SECONDS`."""
    try:
        fd = os.open(pending, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return  # renamed by its writer, or removed by another sweep
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return  # a live writer's, between its lock and its rename
            raise
        info = os.fstat(fd)
        if not _still_linked(pending, info):
            return  # renamed into a marker (or removed) between our open and our lock
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_size > _MARKER_MAX_BYTES:
            return
        age = time.time() - info.st_mtime
        if not STALE_PENDING_SECONDS <= age:
            return  # possibly a live writer's, between its create and its lock
        _remove_registered(os.read(fd, _MARKER_MAX_BYTES))  # its folder is empty: no picture yet
        os.unlink(pending)  # under the lock, as markers are
        _log.warning("removed %s, the unfinished registration of an opening killed %.0f s ago (no picture "
                     "was written yet)", pending, age)
    finally:
        os.close(fd)


def _still_linked(marker: Path, info: os.stat_result) -> bool:
    """Whether ``marker`` still names the file whose status is ``info`` (that our fd is open on).

    Markers are unlinked only under their lock, so once a sweep holds the lock and finds the
    marker still linked, it stays so until this sweep unlinks it."""
    try:
        now = os.lstat(marker)
    except FileNotFoundError:
        return False
    return (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino)


def _remove_registered(text: bytes) -> Path | None:
    """Remove the staging folder a marker names, if it is still exactly that folder."""
    try:
        entry = json.loads(text)
        folder, dev, ino, out = Path(entry["staging"]), int(entry["dev"]), int(entry["ino"]), entry["out"]
    except (ValueError, KeyError, TypeError):
        return None
    if not folder.is_absolute() or not STAGING_NAME.match(folder.name):
        return None
    try:
        info = folder.lstat()
    except OSError:
        return None  # renamed into place before the marker went, or removed already
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or (info.st_dev, info.st_ino) != (dev, ino):
        return None
    shutil.rmtree(folder, ignore_errors=True)
    _log.warning("removed %s, the decrypted pictures of an opening to %s that was killed before it finished",
                 folder, out)
    return folder


@contextmanager
def staging_folder(out_dir: Path) -> Iterator[Path]:
    """A new private staging folder beside ``out_dir``, registered while the block runs.

    The block writes into it and renames it to ``out_dir``; on any exception (an interruption
    included) the folder is removed and the exception goes on. Killed openings of this user are
    swept first (see the module docstring).
    """
    sweep_killed_openings()
    staging = out_dir.absolute().parent / f".{out_dir.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)  # a kill before the marker is written leaves an empty folder only
    marker_fd = None
    try:
        marker_fd = _register(staging, out_dir)
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if marker_fd is not None:
            _unregister(*marker_fd)


def write_staged(out_dir: Path, write: Callable[[Path], None]) -> None:
    """Have ``write(folder)`` fill a registered staging folder, then put it in place as ``out_dir``
    (which must be absent or empty); on any exception the staging folder is removed and the
    exception goes on."""
    with staging_folder(out_dir) as staging:
        write(staging)
        if out_dir.exists():
            out_dir.rmdir()  # empty (the caller checked)
        os.rename(staging, out_dir)
        fsync_dir(out_dir.parent)


def _register(staging: Path, out_dir: Path) -> tuple[int, Path] | None:
    """Write and lock the marker of ``staging``; None (with a warning) without a usable registry."""
    registry = _usable_registry(create=True)
    if registry is None:
        return None
    info = staging.lstat()
    name = secrets.token_hex(8)
    marker = registry / f"{name}.json"
    # Written under a name sweeps skip, and renamed only once locked and whole: a sweep that ran
    # between our create and our lock would have taken the empty marker for a killed opening's
    # and unlinked it, leaving this opening unregistered (flaky19).
    pending = registry / f".{name}.json.pending"
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        text = json.dumps({"staging": str(staging), "dev": info.st_dev, "ino": info.st_ino, "out": str(out_dir),
                           "pid": os.getpid()}, sort_keys=True).encode("utf-8")
        os.write(fd, text)
        os.fsync(fd)  # a power cut must not lose the marker of pictures that reach the disk
        os.rename(pending, marker)  # the lock goes with the open file, not the name
        dir_fd = os.open(registry, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        os.close(fd)
        pending.unlink(missing_ok=True)
        marker.unlink(missing_ok=True)
        raise
    return fd, marker


def _unregister(fd: int, marker: Path) -> None:
    """Drop the marker once the staging folder is renamed into place or removed."""
    try:
        marker.unlink(missing_ok=True)
    finally:
        os.close(fd)
