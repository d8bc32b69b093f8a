"""Keep a facesel process's memory off the disk: no core dump.

A facesel process holds what must never be written anywhere: the camera's frames and crops
(faces before they are sealed), a holder's passphrase, the master key rebuilt from K shares,
epoch secrets and decrypted snapshots. A crash, an ``abort()`` in a native library or a
``SIGQUIT`` writes the whole address space to a core file (in the working folder, or through a
crash collector such as ``systemd-coredump``, which keeps it under ``/var/lib``) wherever core
dumps are allowed, as service managers and containers often allow them (review 5, finding 2: a
desk aborted after an opening left a core file holding the decrypted crop).

:func:`forbid_core_dumps` sets the soft core size limit to 0 (children inherit it; the hard
limit is left as it is, so that a developer's debugger session may raise it on purpose); a pipe
collector is handed that limit and ``systemd-coredump`` then stores nothing. Not done:
``prctl(PR_SET_DUMPABLE, 0)``, which would also stop collectors that ignore the limit and
same-user ``ptrace``, but hands ``/proc/PID/fd`` and the like to root, so that an operator's own
monitoring (and the descriptor checks of the tests, run as an ordinary user) could no longer read
them; ``kernel.yama.ptrace_scope`` is the system's guard against same-user readers.

:func:`keep_memory_private` is for the short commands that hold passphrases, the master key or
decrypted pictures and end (``facesel open``, ``central open``, ``authority init/register/extend/
shred``; review 7, finding 2): there nobody monitors descriptors, and
``prctl(PR_SET_DUMPABLE, 0)`` is worth it. It stops another process of the same user from
reading the opening's memory (``/proc/PID/mem``, ``ptrace``, ``process_vm_readv``: the
passphrases, the master key, the decrypted crops) where ``kernel.yama.ptrace_scope`` is 0 or
absent, and any crash collector that ignores the core limit. It does **not** keep that memory
out of swap: ``mlock`` of a Python process's memory is not possible within the default
``RLIMIT_MEMLOCK`` (8 MiB; the interpreter and its libraries map far more, and ``mlockall`` with
``MCL_FUTURE`` makes allocations fail past the limit), and Python gives no page-aligned buffer of
its own to lock for bytes it copies freely. Encrypted swap, or none, on the opener's machine is
the remedy for that (docs/review.md). Root (``CAP_SYS_PTRACE``) reads any process whatever.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys

_done = False


def forbid_core_dumps() -> None:
    """Make this process write no core file (idempotent). Called by every ``facesel`` command
    and wherever a master key is made or rebuilt (:mod:`facesel.vault.shamir`), so that a program
    using the library gets it too.

    Raises
    ------
    OSError
        When the limit cannot be lowered (an unprivileged process always may; a sandbox that
        forbids ``setrlimit`` would mean an exposed process: better no opening).
    """
    global _done
    if _done:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    _done = True


_PR_SET_DUMPABLE = 4  # <linux/prctl.h>


def keep_memory_private() -> bool:
    """No core file, and no reading of this process's memory by other processes of its user
    (``prctl(PR_SET_DUMPABLE, 0)``; Linux only) for the rest of its life: call it before a
    passphrase is asked or a record decrypted in a command that then ends. Not for long-running
    services (see the module docstring). Returns whether the memory is now closed to same-user
    readers (False off Linux).

    Raises
    ------
    OSError
        When Linux refuses the ``prctl`` (it never does for this option; a sandbox that blocks
        it would leave the opening readable: better no opening).
    """
    forbid_core_dumps()
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_DUMPABLE, 0) failed: {os.strerror(err)}")
    return True
