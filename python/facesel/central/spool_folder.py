"""``facesel batch --spool``: a folder only this user may change (review round 15a, finding 1).

Each task seals into a vault folder of its own under the spool, and the records wait there until
they are forwarded to the central store (or ``facesel sync`` delivers them). The spool used to be
taken as found (``mkdir(exist_ok=True)``; the one check was that we may write it): a
``./facesel-spool`` in a shared folder, or one made by another account or left mode 0777, lets
another account delete or move a task's folder before it is forwarded. The records are sealed, so
no face leaks and no forgery is made, but they are lost, and a folder put in its place gets the
next task's vault. The rule is the vault's for its own folders (owned by this user, nobody else
may write it) with :mod:`facesel.trusted_files`' rule for the folders above (this user or root,
no other account may write them unless the sticky bit is set, as on ``/tmp``).
"""

from __future__ import annotations

import os

from facesel.trusted_files import who_else_may_change_folder


def refuse_shared_spool(value: str | os.PathLike, flag: str = "--spool") -> None:
    """Raise ``ValueError`` naming ``flag``, the folder, the reason (owner or mode) and the fix
    when an account other than this user may change the spool folder ``value`` or move it away."""
    why = who_else_may_change_folder(value)
    if why is not None:
        raise ValueError(f"{flag} {value}: {why}. Another account could delete or replace the per-task vaults "
                         "before their records reach the central store: use a folder of your own that only you "
                         "may write (chmod 700; chmod go-w the folders above it)")
