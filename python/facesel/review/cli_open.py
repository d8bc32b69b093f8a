"""What ``facesel open`` adds after ``open_records`` has written its folders: ``index.html``, and
with ``--bundle FILE`` the same evidence bundle as the desk's export.

The bundle needs each record's one-time key, so the master key is rebuilt a second time from the
same share files; the passphrases come from a source that remembers what it was told during this
command only (:func:`remembering`), so a holder typing at a prompt is not asked twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from facesel.review.bundle import build_bundle
from facesel.review.memory_open import Opening, record_bytes, record_key, record_key_of
from facesel.vault.audit import AuditLog
from facesel.vault.errors import AuditError
from facesel.vault.fsutil import atomic_write
from facesel.vault.identity import load_identity
from facesel.vault.keys import Keystore
from facesel.vault.opening import OpenedRecord, logged_records, trusted_authority, verified_record
from facesel.vault.shares import ShareFile, reconstruct_master


def remembering(source: Callable[[ShareFile], bytes | None] | None):
    """Wrap a passphrase source so that each share's passphrase is asked for once per command."""
    if source is None:
        return None
    seen: dict[str, bytes | None] = {}

    def ask(share: ShareFile) -> bytes | None:
        key = str(Path(share.path).resolve())
        if key not in seen:
            seen[key] = source(share)
        return seen[key]

    ask.source_of = getattr(source, "source_of", None)  # where a wrong passphrase came from (ux20)
    return ask


def open_entry(vault_dir: Path, out_dir: Path, record_ids: list[str]) -> dict:
    """The vault's ``open`` entry that ``open_records`` just wrote for ``out_dir``."""
    for entry in reversed(AuditLog(vault_dir / "audit.log").entries()):
        if entry.get("event") == "open" and entry.get("output") == str(out_dir.resolve()) \
                and entry.get("record_ids") == record_ids:
            return entry
    raise AuditError(f"no open entry for {out_dir} in {vault_dir / 'audit.log'}")


def write_open_bundle(vault_dir: Path, share_paths: Sequence[str], keystore_dir: Path, opened: list[OpenedRecord],
                      out_dir: Path, bundle_path: Path, passphrase_for=None) -> Path:
    """Write the evidence bundle of the records ``open_records`` just opened into ``out_dir``."""
    vault_dir, out_dir = Path(vault_dir), Path(out_dir)
    keystore = Keystore(keystore_dir)
    master, _ = reconstruct_master(share_paths, keystore, passphrase_for)
    authority = trusted_authority(keystore, vault_dir)
    identity = load_identity(vault_dir, anchor=authority)
    ids = [r.row.record_id for r in opened]
    entry = open_entry(vault_dir, out_dir, ids)
    authority_log = keystore.path.parent / "audit.log"
    authority_entry = next((e for e in reversed(AuditLog(authority_log).entries())
                            if e.get("event") == "open" and e.get("vault_entry") == entry["hash"]), None)
    if authority_entry is None:
        raise AuditError(f"the authority's log {authority_log} has no entry of this opening")
    logged = logged_records(vault_dir, identity)  # digests and sizes: a larger file is refused unread
    sealed, keys = {}, {}
    for item in opened:
        parsed = verified_record(identity, vault_dir, item.row, logged)
        sealed[record_key_of(item.row)] = record_bytes(parsed)
        keys[record_key_of(item.row)] = record_key(parsed, keystore.unwrap(master, parsed.epoch_id))
    opening = Opening(vault_dir, identity, authority, list(opened), sealed, keys, entry, authority_entry,
                      keystore.signer(master), entry.get("case"), entry["reason"], list(entry.get("shares", [])),
                      authority_log)
    data = build_bundle(opening)
    atomic_write(Path(bundle_path), data, mode=0o600)
    return Path(bundle_path)
