"""Files whose content decides where faces go must be changeable by their owner only (review
round 9, finding 5).

``facesel serve``'s config names each camera's vault, camera key and the authority whose key
every face is sealed to. Another account that may write it (a config made group-writable for a
team, a umask of 000, a folder others may write) points the camera at an authority and camera key
of its own, in a vault folder of its own: from the next reload or start, every face is sealed to
the attacker, and the K-of-N opening means nothing. An ``authority.pub`` others may replace is
held to the same rule (the camera key pins its authority, so a replaced one stops the camera). The rule is the one
OpenSSH applies to its own files: the owner is this user or root; nobody else may write the
file, nor its folder or any folder above it (which would let them put another file, or another
folder, in its place), except a folder with the sticky bit (``/tmp``); a group may write only when it is the owner's private group (its only
member, as a umask of 002 leaves files on systems that give each user a group of their own).
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path


def _private_group(gid: int, uid: int) -> bool:
    """Whether group ``gid`` holds the account ``uid`` alone (listed members and primary groups)."""
    try:
        owner = pwd.getpwuid(uid)
        members = set(grp.getgrgid(gid).gr_mem)
    except KeyError:
        return False
    if owner.pw_gid != gid or members - {owner.pw_name}:
        return False
    return not any(entry.pw_gid == gid and entry.pw_uid != uid for entry in pwd.getpwall())


def who_else_may_change(path: str | os.PathLike) -> str | None:
    """Why an account other than this user and root may change ``path`` (the file, or the folder
    it is in); None when nobody may. Links are followed, as the reader follows them."""
    path = Path(path)
    folder = path.resolve().parent
    # Every folder up to /, as OpenSSH's safe_path: whoever may write a grandparent renames the
    # folder and puts one of their own, with a config of their own, in its place (review 18).
    folders = [(folder, "its folder")] + [(above, f"the folder {above} above it") for above in folder.parents]
    for target, kind in [(path, "it")] + folders:
        why = _why_changeable(os.stat(target), kind, sticky_counts=kind != "it")
        if why is not None:
            return why
    return None


def _why_changeable(info: os.stat_result, kind: str, sticky_counts: bool) -> str | None:
    """Why an account other than this user and root may change what ``info`` describes (``kind``
    names it in the answer); None when nobody may. ``sticky_counts``: a folder with the sticky bit
    may be written by all (others may add entries, not move or delete ours)."""
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid not in (os.getuid(), 0):
        return f"{kind} belongs to another account (uid {info.st_uid})"
    sticky = sticky_counts and mode & stat.S_ISVTX
    if mode & 0o002 and not sticky:
        return f"every account may write {kind} (mode {mode:04o})"
    if mode & 0o020 and not sticky and not _private_group(info.st_gid, info.st_uid):
        return f"group {_group_name(info.st_gid)} may write {kind} (mode {mode:04o})"
    return None


def who_else_may_change_folder(path: str | os.PathLike) -> str | None:
    """Why an account other than this user may change folder ``path`` or move it away (the folder
    not this user's, or another account may write it or any folder above it, sticky ones aside);
    None when nobody may. A folder that does not exist yet is judged by the folders above it (it
    will be made owner-only). Links are followed."""
    path = Path(path).expanduser().resolve()
    if path.exists():
        info = os.stat(path)
        if info.st_uid != os.getuid():
            return f"it belongs to another account (uid {info.st_uid})"
        why = _why_changeable(info, "it", sticky_counts=False)
        if why is not None:
            return why
    for above in path.parents:
        if above.exists():
            why = _why_changeable(os.stat(above), f"the folder {above} above it", sticky_counts=True)
            if why is not None:
                return why
    return None


def refuse_changeable_by_others(path: str | os.PathLike, what: str) -> None:
    """ValueError naming ``what``, ``path``, the reason and the fix when :func:`who_else_may_change` finds one."""
    why = who_else_may_change(path)
    if why is not None:
        raise ValueError(f"{what} {path} decides where faces are sealed, but {why}: another account could point "
                         f"the cameras at a key of its own. Only its owner may change it: chmod go-w the file and its "
                         "folder (and chown them to this user or root)")


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
