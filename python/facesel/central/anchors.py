"""Cameras' logs and the authority's log as anchors of the central log.

When a record is forwarded, the camera's own audit log keeps the seq and hash of the record's
``received`` entry in the central log (:mod:`facesel.central.sync`). The central chain alone
cannot reveal a complete rewrite by someone who recomputes every hash; these copies, spread over
every camera that ever forwarded, can: each one must still be found, unchanged, centrally. The
same holds for the authority's own ``audit.log``, which names the central entry of every opening
(:func:`authority_problems`).
"""

from __future__ import annotations

import os
from pathlib import Path

from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import FORWARDED
from facesel.vault.audit import read_verified
from facesel.vault.errors import AuditError, KeyMaterialError
from facesel.vault.identity import load_identity
from facesel.vault.keys import AuthorityPublic
from facesel.vault.timeparse import format_time


def anchor_problems(store: PostgresVault, vault_dir: str | os.PathLike,
                    authority: AuthorityPublic | None = None) -> tuple[int, list[str]]:
    """(anchors checked, one line per anchor of ``vault_dir`` that the central log contradicts).

    Only entries naming this store (``central_store``) are checked: a camera may have forwarded
    to another store before. The anchors are taken from the camera's log *verified* in the same
    read (chain, signatures, signed head; the vault's identity checked against ``authority``, the
    trusted authority.pub, when given): whoever rewrote the central log and could write the
    camera's folder would otherwise delete the anchors that contradict the rewrite, and the rest
    would "agree" (review 4, finding 1's class). A log that does not verify is reported as a
    problem, its anchors as proving nothing.
    """
    try:
        identity = load_identity(Path(vault_dir), anchor=authority)
        entries = read_verified(Path(vault_dir) / "audit.log", identity.audit_keys())
    except (AuditError, KeyMaterialError, FileNotFoundError) as err:
        return 0, [f"the camera's log does not verify, so its anchors prove nothing: {err}"]
    anchors = [e for e in entries
               if e.get("event") == "purge" and e.get("reason") == FORWARDED
               and e.get("central_store") == store.store_id and isinstance(e.get("central_seq"), int)]
    found = store.audit_hashes([e["central_seq"] for e in anchors])
    problems = []
    for entry in anchors:
        seq = entry["central_seq"]
        if seq not in found:
            problems.append(f"record {entry.get('record_id')}: central log entry seq {seq} is missing (log truncated)")
        elif found[seq] != entry.get("central_hash"):
            problems.append(f"record {entry.get('record_id')}: central log entry seq {seq} differs from the copy "
                            f"this camera kept at local seq {entry.get('seq')} (central log rewritten)")
    return len(anchors), problems


def authority_problems(store: PostgresVault, trusted: AuthorityPublic, authority_log: Path | None) \
        -> tuple[int, list[str]]:
    """(entries checked, one line per way the store disagrees with the authority's own records).

    ``trusted`` is the authority's own authority.pub: the store's copy must carry the same
    signing key (the table owner could swap it to sign forged openings), and each camera key in the
    store's ``cameras`` table must be the one the authority registered, where it registered one. ``authority_log`` is the
    authority's ``audit.log``: it must verify under that key, and every entry it holds that names
    this store (an opening, or an aborted one) must still be in the central log with the same hash.
    """
    problems = []
    if store.authority.signing_key != trusted.signing_key or store.authority.authority_id != trusted.authority_id:
        problems.append(f"the store's copy of authority.pub (authority {store.authority.authority_id}) does not carry "
                        f"the signing key of authority {trusted.authority_id}: it was replaced")
    for camera in store.cameras():
        # An opening takes the keys from the authority's file, never this table (review round 10b,
        # finding 5); a key here that differs from the authority's is the trace of a rewrite, and
        # of records signed with it that the store accepted.
        registered = trusted.camera_key(camera.camera_id)
        if registered is not None and camera.public_key is not None and camera.public_key != registered:
            problems.append(f"camera {camera.camera_id!r}: the store's cameras table holds another key than the "
                            "authority registered: the table was rewritten (records signed with that key are "
                            "refused on opening)")
    if authority_log is None or not authority_log.is_file():
        return 0, problems
    keys = {f"authority:{trusted.authority_id}": trusted.signing_key}
    try:  # verified and read in one read: not checked once and read again (it could change between)
        entries = read_verified(authority_log, keys)
    except AuditError as err:
        return 0, problems + [f"the authority's log {authority_log} is BROKEN: {err}"]
    named = [e for e in entries
             if e.get("central_store") == store.store_id and isinstance(e.get("central_seq"), int)]
    found = store.audit_hashes([e["central_seq"] for e in named])
    for entry in named:
        seq, what = entry["central_seq"], f"{entry.get('event')} at {format_time(entry['time'])} (reason " \
                                          f"{entry.get('reason')!r}, authority log seq {entry.get('seq')})"
        if seq not in found:
            problems.append(f"the authority logged an {what} as central entry seq {seq}, which is missing (deleted)")
        elif found[seq] != entry.get("central_entry"):
            problems.append(f"the authority logged an {what} as central entry seq {seq}, which differs now "
                            "(rewritten)")
    return len(named), problems
