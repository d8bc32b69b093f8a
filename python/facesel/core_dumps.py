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
"""

from __future__ import annotations

import resource

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
