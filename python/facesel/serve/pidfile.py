"""``facesel serve --pid-file FILE``: the service's process id, for tools that want one.

Written (atomically) once the service has started, removed at a clean exit. A file left by a
process that died is replaced; a file naming a facesel process that still runs is an error (two
services on one config would fight over its vaults, which are locked anyway). ``facesel serve
status`` and ``reload`` need no pid file: they talk to the status port.
"""

from __future__ import annotations

import os
from pathlib import Path

from facesel.vault.fsutil import read_regular, write_temporary


def running_pid(path: Path) -> int | None:
    """The pid in ``path`` when that process runs and is a facesel (not a reused pid); else None."""
    try:  # a small regular file only: a FIFO or device planted there must not hang the start
        pid = int(read_regular(path, 64, follow=False).decode("ascii").strip())
    except (OSError, ValueError):
        return None
    if pid <= 0 or pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # runs under another user: it exists
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid  # no /proc: assume it is what the file says
    return pid if b"facesel" in command else None


def missing_folder(path) -> str | None:
    """Why ``path``'s folder cannot hold the pid file (missing, or not a folder), or why ``path`` must
    not be replaced by it (a device, FIFO, socket or link there), or None.

    The folder is not made: it used to be, with its parents, so a typo (``/run/facesl/...``)
    silently made a new tree beside the one a monitor reads (ux20)."""
    from facesel.writable import replaced_path_problem

    folder = Path(path).expanduser().parent
    if folder.is_dir():
        # The pid file is renamed over the path: /dev/null there (as root) became a regular file (ux23).
        problem = replaced_path_problem(path)
        return None if problem is None else f"{path}: {problem}"
    what = "is a file, not a folder" if folder.exists() else "does not exist"
    return f"{path}: its folder {folder} {what}; make the folder first (mkdir -p), or give a path in an existing one"


class PidFile:
    """A context manager: writes ``os.getpid()`` to ``path`` on enter, removes it on exit."""

    def __init__(self, path):
        self.path = Path(path)

    def __enter__(self) -> PidFile:
        other = running_pid(self.path)
        if other is not None:
            raise RuntimeError(f"--pid-file {self.path}: facesel serve already runs as pid {other}")
        if self.path.is_dir():  # else os.replace's error names the temporary file, which stayed behind
            raise ValueError(f"--pid-file {self.path} is a folder: give a file path, e.g. {self.path / 'facesel.pid'}")
        if (why := missing_folder(self.path)) is not None:
            raise ValueError(f"--pid-file {why}")
        # A new file under a random name (O_EXCL: a link planted at a guessable name is never
        # written through; review 6, finding 5), readable by monitoring tools as pid files are.
        tmp = write_temporary(self.path, f"{os.getpid()}\n".encode("ascii"), mode=0o644)
        try:
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if int(read_regular(self.path, 64, follow=False).decode("ascii").strip()) == os.getpid():
                self.path.unlink()
        except (OSError, ValueError):
            pass
