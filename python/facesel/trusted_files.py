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
    me = os.getuid()
    folder = path.resolve().parent
    # Every folder up to /, as OpenSSH's safe_path: whoever may write a grandparent renames the
    # folder and puts one of their own, with a config of their own, in its place (review 18).
    folders = [(folder, "its folder")] + [(above, f"the folder {above} above it") for above in folder.parents]
    for target, kind in [(path, "it")] + folders:
        info = os.stat(target)
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid not in (me, 0):
            return f"{kind} belongs to another account (uid {info.st_uid})"
        sticky = kind != "it" and mode & stat.S_ISVTX
        if mode & 0o002 and not sticky:
            return f"every account may write {kind} (mode {mode:04o})"
        if mode & 0o020 and not sticky and not _private_group(info.st_gid, info.st_uid):
            return f"group {_group_name(info.st_gid)} may write {kind} (mode {mode:04o})"
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
