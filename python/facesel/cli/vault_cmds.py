"""``facesel purge|list|open|audit verify``: the vault's retention, inventory, opening and log check."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facesel.cli.authority import share_passphrase_source
from facesel.vault.audit import AuditLog, verify
from facesel.vault.consistency import custody_problems
from facesel.vault.opening import open_index, open_records, select_rows
from facesel.vault.store import Vault
from facesel.vault.timeparse import format_time, parse_time


def _purge(args: argparse.Namespace) -> int:
    vault_dir = Path(args.vault)
    if not (vault_dir / "authority.pub").is_file():
        raise FileNotFoundError(f"no vault at {vault_dir} (authority.pub missing)")
    kwargs = {}
    if args.now is not None:
        now = parse_time(args.now, "--now")
        kwargs["clock"] = lambda: now
    log = AuditLog(vault_dir / "audit.log")
    before = len(log.entries())
    # Opening the vault recovers and purges; count the purge entries this command added.
    with Vault(vault_dir, vault_dir / "authority.pub", **kwargs) as vault:
        vault.purge()
        remaining = len(vault.rows())
    purged = sum(1 for e in log.entries()[before:] if e.get("event") == "purge")
    print(f"purged {purged} expired record(s) from {vault_dir}; {remaining} kept")
    return 0


def _list(args: argparse.Namespace) -> int:
    index = open_index(args.vault)
    try:
        if args.from_ is None and args.to is None:
            rows = index.rows()
        else:
            rows = select_rows(index, start=None if args.from_ is None else parse_time(args.from_, "--from"),
                               end=None if args.to is None else parse_time(args.to, "--to"))
    finally:
        index.close()
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=1))
        return 0
    print(f"{'record_id':32}  {'sealed_at (UTC)':20}  {'camera':12}  {'epoch':>7}  {'quality':>9}  {'bytes':>8}")
    for r in rows:
        quality = "-" if r.quality is None else f"{r.quality:.4g}"
        print(f"{r.record_id:32}  {format_time(r.sealed_at):20}  {r.camera_id[:12]:12}  {r.epoch_id:>7}  "
              f"{quality:>9}  {r.size:>8}")
    print(f"{len(rows)} record(s)")
    return 0


def _find_keystore(args: argparse.Namespace) -> Path:
    if args.keystore:
        return Path(args.keystore)
    # Default layout of `facesel authority init`: DIR/shares/share-*.json next to DIR/keystore.
    first = Path(args.share[0]).resolve()
    for candidate in (first.parent.parent / "keystore", first.parent / "keystore"):
        if (candidate / "authority.json").is_file():
            return candidate
    raise FileNotFoundError("no keystore found next to the share files; give --keystore DIR")


def _open(args: argparse.Namespace) -> int:
    opened = open_records(
        args.vault, args.share, _find_keystore(args), args.reason, args.out,
        record_ids=args.record_ids or None,
        start=None if args.from_ is None else parse_time(args.from_, "--from"),
        end=None if args.to is None else parse_time(args.to, "--to"),
        all_records=args.all, opened_by=args.by,
        passphrase_for=share_passphrase_source(args, args.share))
    print(f"opened {len(opened)} record(s) into {args.out}; logged in {Path(args.vault) / 'audit.log'}")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    if (args.vault is None) == (args.log is None):
        raise ValueError("give exactly one of --vault DIR or --log FILE")
    path = Path(args.log) if args.log else Path(args.vault) / "audit.log"
    expect = None
    if args.expect:
        seq, _, digest = args.expect.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise ValueError(f"--expect must be SEQ:SHA256HEX, got {args.expect!r}")
        expect = (int(seq), digest)
    result = verify(path, expect)
    if not result.ok:
        print(f"{path}: BROKEN ({result.kind}) {result.message}")
        return 1
    print(f"{path}: OK, {result.entries} entries; head seq {result.head_seq} hash {result.head_hash}")
    if args.vault is None:
        return 0
    problems = custody_problems(args.vault)
    for line in problems:
        print(f"{args.vault}: CUSTODY {line}")
    if problems:
        return 1
    print(f"{args.vault}: records and log agree")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("purge", help="delete records older than the retention period")
    p.add_argument("--vault", required=True, help="vault folder")
    p.add_argument("--now", help="current time (ISO 8601 or Unix seconds; default now)")
    p.set_defaults(func=_purge)

    p = subparsers.add_parser("list", help="list stored records (metadata only; no keys needed)")
    p.add_argument("--vault", required=True, help="vault folder")
    p.add_argument("--from", dest="from_", help="sealed at or after (ISO 8601 or Unix seconds)")
    p.add_argument("--to", help="sealed at or before")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_list)

    p = subparsers.add_parser("open", help="open records with K shares; logged in the audit log")
    p.add_argument("record_ids", nargs="*", metavar="RECORD_ID", help="records to open")
    p.add_argument("--vault", required=True, help="vault folder")
    p.add_argument("--share", action="append", required=True, help="a share file (repeat, K times at least)")
    p.add_argument("--reason", required=True, help="case reference: why the records are opened")
    p.add_argument("--from", dest="from_", help="open records sealed at or after this time")
    p.add_argument("--to", help="open records sealed at or before this time")
    p.add_argument("--all", action="store_true", help="open every record")
    p.add_argument("--out", required=True, help="new or empty folder for the decrypted snapshots")
    p.add_argument("--keystore", help="authority keystore folder (default: beside the share files)")
    p.add_argument("--by", help="who opens (default: the OS user name)")
    p.add_argument("--passphrase-file", help="passphrases of protected shares, one per line in --share order")
    p.add_argument("--passphrase-env", metavar="VAR", help="environment variable with the passphrase of all shares")
    p.set_defaults(func=_open)

    audit = subparsers.add_parser("audit", help="check the hash-chained audit log")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = sub.add_parser("verify", help="report the first edited, deleted, reordered or inserted entry; with "
                       "--vault also check that record files match the seals and purges logged")
    p.add_argument("--vault", help="vault folder (checks VAULT/audit.log)")
    p.add_argument("--log", help="any facesel audit log (e.g. the authority's audit.log)")
    p.add_argument("--expect", metavar="SEQ:HASH", help="an anchor recorded earlier: that entry must still match")
    p.set_defaults(func=_audit_verify)
