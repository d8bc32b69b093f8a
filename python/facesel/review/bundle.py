"""The evidence bundle: one zip a court or a defence expert can check offline.

Layout (every path fixed; see docs/review.md)::

    manifest.json                  what the bundle claims, SHA-256 of every other file, and the
                                   authority's signature over all of it
    authority.pub                  the authority's public file (its signing key, the cameras' keys)
    vault.json                     the vault's identity, signed by its camera (vault bundles)
    sealed/<camera>/<record_id>.fsr         each record exactly as the camera sealed and signed it
    records/<camera>/<record_id>/crop.png   the decrypted snapshot, clip/NNNN.png, meta.json
    audit/vault-log.jsonl          the vault's audit entries from the first sealing of a bundled
                                   record up to the signed head (a contiguous, hash-chained slice)
    audit/vault-head.json          the vault log's signed head
    audit/authority-open.json      the authority's own log entry of this opening
    audit/central-open.json        (central bundles, instead of vault.json and the vault log) the
                                   store's entry of the opening, which the authority's entry names
    README.txt                     how to check it: ``facesel verify-bundle BUNDLE``

Records are named by camera and id (version 2, session 21): in the central store an id alone may
be held by several cameras. Version 1 bundles (``sealed/<record_id>.fsr``, ``records/<record_id>/``,
no ``camera_id``) stay verifiable. A record that arrived in the central store after its camera's
key was revoked carries ``after_revocation`` (why) in its manifest entry, and the manifest the
investigator's acknowledgement (``after_revocation_acknowledged``), both as the signed ``open``
entries name them, so the court's check states it.

``manifest.json`` holds each record's one-time AEAD key (it decrypts that record only): with it,
:mod:`facesel.review.verify_bundle` decrypts the signed sealed record and compares the result
with the snapshot files, so the pictures are proven to be what the camera sealed.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from hashlib import sha256
from pathlib import Path

from facesel.review.memory_open import Opening
from facesel.review.times import utc_text
from facesel.vault.audit import AuditLog, signed_head
from facesel.vault.encoding import b64, canonical
from facesel.vault.errors import AuditError
from facesel.vault.fsutil import read_regular
from facesel.vault.payload import BLOB_NAME

FORMAT_BUNDLE = "facesel-evidence-bundle"
BUNDLE_VERSION = 2  # records named by (camera, record id); 1: by id alone (still verified)
READ_VERSIONS = (1, 2)
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed member times: the bundle's bytes depend on its content only

README = """facesel evidence bundle

Check it offline, on any machine with facesel installed:

    facesel verify-bundle {name} --fingerprint AUTHORITY_FINGERPRINT

Give the authority's fingerprint obtained from a trusted channel (not from this file): without it
the check shows only that the bundle is intact, not that it is the authority's (anyone can make a
self-consistent bundle under a key of their own). The check verifies the authority's and the
camera's signatures, the audit chain and its signed head, decrypts each sealed record with its
one-time key and compares it byte for byte with the pictures; it fails if any byte was altered.
"""


def _blob_file(name: str, blob: bytes) -> str:
    if not BLOB_NAME.match(name):
        raise ValueError(f"blob name {name!r} is not allowed")
    return name + (".png" if blob[:4] == b"\x89PNG" else ".jpg")


def log_slice(vault_dir: Path, record_ids: list[str]) -> tuple[list[dict], dict]:
    """Vault log entries from the first ``seal`` of ``record_ids`` to the signed head, and the head.

    Raises
    ------
    AuditError
        When a record has no seal entry, or the log does not reach its head.
    """
    head = signed_head(vault_dir / "audit.log")  # first: entries read after it reach at least this far
    entries = AuditLog(vault_dir / "audit.log").entries()
    seal_seq = {e["record_id"]: e["seq"] for e in entries if e.get("event") == "seal" and "record_id" in e}
    missing = [r for r in record_ids if r not in seal_seq]
    if missing:
        raise AuditError(f"no seal entry for record(s) {', '.join(missing)} in {vault_dir / 'audit.log'}")
    first = min(seal_seq[r] for r in record_ids)
    chosen = [e for e in entries if isinstance(e.get("seq"), int) and first <= e["seq"] <= head["seq"]]
    if [e["seq"] for e in chosen] != list(range(first, head["seq"] + 1)):
        raise AuditError(f"{vault_dir / 'audit.log'} has gaps between seq {first} and its head {head['seq']}")
    return chosen, head


def build_bundle(opening: Opening, created: float | None = None) -> bytes:
    """The zip of ``opening``'s records (see the module docstring), signed by the authority.

    Returns
    -------
    bytes
        The zip file; the caller decides where it goes (a download, or ``open --bundle FILE``).
    """
    if opening.ended or opening.signer is None:
        raise ValueError("this opening has ended; open the records again to export them")
    created = time.time() if created is None else float(created)
    files: dict[str, bytes] = {
        "authority.pub": json.dumps(opening.authority.to_dict(), indent=1).encode("utf-8"),
        "audit/authority-open.json": json.dumps(opening.authority_entry, indent=1, sort_keys=True).encode("utf-8"),
    }
    if opening.vault_dir is not None:
        source = {"source": "vault", "vault_id": opening.identity.vault_id, "camera_id": opening.identity.camera_id}
        entries, head = log_slice(opening.vault_dir, [r.row.record_id for r in opening.records])
        files.update({
            # regular file only, never followed, size capped: a FIFO put there cannot hang the export
            "vault.json": read_regular(opening.vault_dir / "vault.json", 1 << 20, follow=False),
            "audit/vault-log.jsonl": b"".join(canonical(e) + b"\n" for e in entries),
            "audit/vault-head.json": json.dumps(head, indent=1, sort_keys=True).encode("utf-8")})
    else:  # the central store: its log is hash-chained, not signed; the authority's entry names it
        source = {"source": "central", "store": opening.store_location}
        files["audit/central-open.json"] = json.dumps(opening.entry, indent=1, sort_keys=True).encode("utf-8")
    records, late = [], {}
    for item in opening.records:
        camera, rid = key = (item.row.camera_id, item.row.record_id)
        folder = f"records/{camera}/{rid}"  # a camera id is letters, digits and ._:- (never / nor ..)
        files[f"sealed/{camera}/{rid}.fsr"] = opening.sealed[key]
        pictures = {}
        for name, blob in sorted(item.snapshot.blobs.items()):
            path = f"{folder}/{_blob_file(name, blob)}"
            files[path] = blob
            pictures[name] = path
        files[f"{folder}/meta.json"] = json.dumps(
            {"header": item.header, "snapshot": item.snapshot.meta}, indent=1, sort_keys=True).encode("utf-8")
        entry = {"camera_id": camera, "record_id": rid, "sealed": f"sealed/{camera}/{rid}.fsr",
                 "record_key": b64(opening.keys[key]), "pictures": pictures, "meta": f"{folder}/meta.json",
                 "sealed_at_utc": utc_text(item.row.sealed_at)}
        if key in opening.after_revocation:
            entry["after_revocation"] = late[key] = opening.after_revocation[key]
        records.append(entry)
    files["README.txt"] = README.format(name="BUNDLE.zip").encode("utf-8")
    manifest = {"format": FORMAT_BUNDLE, "version": BUNDLE_VERSION, "created": created, **source,
                "authority_id": opening.authority.authority_id, "authority_fingerprint": opening.authority.fingerprint,
                "case": opening.case, "reason": opening.reason, "shares": opening.shares,
                "open_entry": {"seq": opening.entry["seq"], "hash": opening.entry["hash"]},
                "records": records, "files": {p: sha256(d).hexdigest() for p, d in sorted(files.items())}}
    if late:  # the words the investigator acknowledged in the page, as the open entries log them
        manifest["after_revocation_acknowledged"] = opening.acknowledgement
    manifest["signature"] = b64(opening.signer.sign(canonical(manifest)))
    return pack([("manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")),
                 *sorted(files.items())])


def member_info(path: str, size: int) -> zipfile.ZipInfo:
    """How the bundle writer stores a member of ``size`` bytes at ``path``: stored (uncompressed, so
    no zlib version matters), fixed time, attributes and system. Shared with the verifier's
    streaming comparison (:mod:`facesel.review.bundle_members`), which packs the same way."""
    info = zipfile.ZipInfo(path, _ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3
    info.external_attr = 0o600 << 16
    info.file_size = size
    return info


def pack(members: list[tuple[str, bytes]]) -> bytes:
    """The zip of ``members`` (in this order), byte for byte reproducible (:func:`member_info`).
    :func:`verify_bundle` packs the members it read again, as it reads them, and compares, so that
    no byte of the container can change unnoticed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path, data in members:
            zf.writestr(member_info(path, len(data)), data)
    return buffer.getvalue()
