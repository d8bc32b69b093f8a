"""Witnesses of the authority's folder: a whole older copy of it put back is caught.

The authority's folder holds ``authority.pub`` (signed, with a serial that grows at every change)
and its own signed, hash-chained ``audit.log`` with its head. Each file is checked by itself, and
``authority register``/``extend`` check the file against the log (review round 11, finding 3). But
the *whole folder* put back to an older copy (all three files from before a ``revoke-camera`` or an
opening: consistent among themselves, genuinely signed, no key needed) passed every check: the
revocation was gone, the later openings gone from the authority's record (review round 11, "still
open"). Only something kept outside the folder can tell. Two kinds of witness:

* **natural witnesses**, which exist anyway: each vault keeps a copy of the newest ``authority.pub``
  its camera was given (signed by the authority, so genuine whoever left it there) and logs its
  serial (``authority-updated``, signed by the camera); the central store keeps its copy too; and
  every opening of a vault is logged, signed by the authority, in the vault's log as well.
  :func:`newer_copy_problem` compares a copy with the folder's file; :func:`vault_log_problems`
  the vault's log with the folder's file.
* **an explicit witness**: ``facesel authority head --out FILE`` writes the folder's state (the
  serial and fingerprint of ``authority.pub``, the signed head of ``audit.log``) to a file the
  operator keeps elsewhere; ``--expect-authority FILE`` on the commands that read the authority
  (:func:`expectation_problems`) refuses a folder that no longer holds that state.
"""

from __future__ import annotations

import json
from pathlib import Path

from facesel.vault.audit import signed_head, verify
from facesel.vault.audit_verify import read_verified
from facesel.vault.errors import AuditError, KeyMaterialError
from facesel.vault.fsutil import read_regular
from facesel.vault.keys import AuthorityPublic

FORMAT_AUTHORITY_HEAD = "facesel-authority-head"


def _signer(pub: AuthorityPublic) -> dict[str, bytes]:
    return {f"authority:{pub.authority_id}": pub.signing_key}


def authority_head(authority_dir: str | Path) -> dict:
    """The state of the authority folder to be kept elsewhere (``facesel authority head``).

    Returns a dict: ``format``, ``authority_id``, ``fingerprint`` (of the signing key), ``serial``
    of ``authority.pub``, and ``log``: the signed head of ``audit.log`` (seq, hash, time,
    signature), or None when the authority has no log yet.

    Raises
    ------
    ValueError
        When the authority's log does not verify (no head to witness).
    """
    folder = Path(authority_dir)
    pub = AuthorityPublic.load(folder / "authority.pub")
    log = folder / "audit.log"
    head = None
    if log.exists() or log.is_symlink():
        result = verify(log, keys=_signer(pub))
        if not result.ok:
            raise ValueError(f"the authority's audit log {log} does not verify ({result.message}); no head to witness")
        head = signed_head(log)
    return {"format": FORMAT_AUTHORITY_HEAD, "authority_id": pub.authority_id, "fingerprint": pub.fingerprint,
            "serial": pub.serial, "log": head}


def read_authority_head(path: str | Path, flag: str = "--expect-authority") -> dict:
    """A head file written by ``facesel authority head --out FILE``, its fields type-checked (ValueError)."""
    path = Path(path)
    if not str(path) or not path.is_file():
        raise ValueError(f"{flag} {path}: no such file; give the file that 'facesel authority head --out FILE' wrote")
    try:
        head = json.loads(read_regular(path, 65536).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        head = None
    ok = isinstance(head, dict) and head.get("format") == FORMAT_AUTHORITY_HEAD \
        and isinstance(head.get("serial"), int) and not isinstance(head.get("serial"), bool) \
        and isinstance(head.get("authority_id"), str) and isinstance(head.get("fingerprint"), str) \
        and (head.get("log") is None or isinstance(head.get("log"), dict))
    if not ok:
        raise ValueError(f"{flag} {path}: not a head file from 'facesel authority head'")
    return head


def expectation_problems(pub_path: str | Path, witness: dict, witness_name: str) -> list[str]:
    """One line per way the authority folder of ``pub_path`` (its ``authority.pub``; ``audit.log``
    beside it) is older than the state ``witness`` (from :func:`read_authority_head`, kept in
    ``witness_name``) recorded. Empty: the folder holds at least what was witnessed."""
    pub_path = Path(pub_path)
    pub = AuthorityPublic.load(pub_path)
    if witness["authority_id"] != pub.authority_id or witness["fingerprint"] != pub.fingerprint:
        return [f"{witness_name} was witnessed on authority {witness['authority_id'][:64]}, not on {pub_path}'s "
                f"({pub.authority_id}): check the folder against the witness of its own authority"]
    problems = []
    if pub.serial < witness["serial"]:
        problems.append(f"{pub_path} has serial {pub.serial}, but {witness_name} witnessed serial {witness['serial']}: "
                        "the authority's folder was put back to an older copy (revocations and cameras added since "
                        "are missing); preserve it and investigate, then put the newer authority.pub back (a "
                        "vault's or the central store's copy, signed by the authority)")
    if witness["log"] is not None:
        log = pub_path.parent / "audit.log"
        if not log.exists() and not log.is_symlink():
            seq = witness["log"].get("seq")
            problems.append(f"{log} does not exist, but {witness_name} witnessed its entry seq {seq}: "
                            "the authority's log was deleted, or the folder put back to a copy from before it existed")
        else:
            result = verify(log, witness["log"], keys=_signer(pub))
            if not result.ok:
                problems.append(f"{log} against {witness_name}: {result.message} (the authority's log was cut or "
                                "put back to an older copy: openings and revocations logged since are missing)")
    return problems


def newer_copy_problem(pub: AuthorityPublic, pub_name: str, copy: AuthorityPublic, copy_name: str) -> str | None:
    """Why ``pub`` (the authority folder's file) is older than ``copy`` (a vault's or the store's copy,
    signed by the same key with a higher serial), or None. Only the authority signs such a file, so a
    copy with a higher serial proves that ``pub`` was put back to an older one."""
    if copy.signing_key != pub.signing_key or copy.authority_id != pub.authority_id or copy.serial <= pub.serial:
        return None
    return (f"{pub_name} has serial {pub.serial}, but {copy_name} is serial {copy.serial}, signed by the same "
            "authority: the authority's folder was put back to an older copy (revocations and cameras added "
            "since are missing); preserve it and investigate, then put the newest authority.pub the authority "
            "signed back in its folder")


def vault_copy_problem(pub: AuthorityPublic, pub_name: str, vault_dir: str | Path) -> str | None:
    """:func:`newer_copy_problem` for the copy of ``authority.pub`` in a vault folder (None when the
    vault has none or one that does not load: the vault's own checks say so)."""
    copy_path = Path(vault_dir) / "authority.pub"
    try:
        copy = AuthorityPublic.load(copy_path)
    except (KeyMaterialError, OSError, ValueError):
        return None
    return newer_copy_problem(pub, pub_name, copy, f"the vault's copy {copy_path}")


def vault_log_problems(pub: AuthorityPublic, pub_name: str, vault_log: str | Path,
                       keys: dict[str, bytes]) -> list[str]:
    """Serials of ``authority.pub`` that the vault's verified log (``keys``: its signers) records
    the camera as having been given (``authority-updated``), above the folder's file's serial.
    A log that does not verify gives no line here: its own check says so."""
    try:
        entries = read_verified(vault_log, keys)
    except (AuditError, FileNotFoundError):
        return []
    seen = [e for e in entries if e.get("event") == "authority-updated" and e.get("authority_id") == pub.authority_id
            and isinstance(e.get("serial"), int) and e["serial"] > pub.serial]
    if not seen:
        return []
    top = max(seen, key=lambda e: e["serial"])
    return [f"{pub_name} has serial {pub.serial}, but the vault's log {vault_log} records at seq {top.get('seq')} that "
            f"its camera was given authority.pub serial {top['serial']}: the authority's folder was put back to an "
            "older copy; preserve it and investigate, then put the newer authority.pub back"]
