"""Cameras' logs as anchors of the central log.

When a record is forwarded, the camera's own audit log keeps the seq and hash of the record's
``received`` entry in the central log (:mod:`facesel.central.sync`). The central chain alone
cannot reveal a complete rewrite by someone who recomputes every hash; these copies, spread over
every camera that ever forwarded, can: each one must still be found, unchanged, centrally.
"""

from __future__ import annotations

import os
from pathlib import Path

from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import FORWARDED
from facesel.vault.audit import AuditLog


def anchor_problems(store: PostgresVault, vault_dir: str | os.PathLike) -> tuple[int, list[str]]:
    """(anchors checked, one line per anchor of ``vault_dir`` that the central log contradicts).

    Only entries naming this store (``central_store``) are checked: a camera may have forwarded
    to another store before.
    """
    anchors = [e for e in AuditLog(Path(vault_dir) / "audit.log").entries()
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
