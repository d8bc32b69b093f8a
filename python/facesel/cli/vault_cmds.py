"""``facesel purge|list|open|audit verify|audit head``: the vault's retention, inventory, opening and log check."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from facesel.cli.argtypes import TIME_FORMS, time_text
from facesel.cli.authority_head import add_expect_authority, refuse_unwitnessed
from facesel.cli.authority import share_passphrase_source
from facesel.cli.terminate import sigterm_as_exit
from facesel.cli.pipe_safe import listing
from facesel.cli.vault_errors import clean_errors
from facesel.writable import refuse_filled_folder, refuse_unloggable, refuse_unwritable_file, refuse_unwritable_folder
from facesel.vault.audit import signed_head, verify
from facesel.vault.consistency import RECORD_SUFFIX, custody_problems
from facesel.vault.authority_witness import vault_copy_problem, vault_log_problems
from facesel.vault.cross_logs import authority_log_problems
from facesel.vault.errors import AuditError, KeyMaterialError, RecordError, VaultLockedError
from facesel.vault.fsutil import atomic_write, read_regular
from facesel.vault.identity import load_identity, require_vault_folder
from facesel.vault.index import IndexRow
from facesel.vault.keys import AuthorityPublic
from facesel.vault.opening import (
    RecordNotHere,
    logged_records,
    open_index,
    open_records,
    select_rows,
    trusted_authority,
    verified_record,
)
from facesel.vault.signing import check_fingerprint
from facesel.vault.store import Vault
from facesel.vault.timeparse import format_time, parse_time


def _anchor(args: argparse.Namespace) -> tuple[AuthorityPublic | None, str | None]:
    """The trusted authority file (``--authority FILE`` or an authority folder) and ``--fingerprint``."""
    anchor = None
    # "is not None", not truth: "" (`--authority "$PUB"` with PUB unset) was taken as no flag at all, an
    # unanchored check with only a note; the parser now refuses it (cli/suggest_parser.py, ux19)
    if getattr(args, "authority", None) is not None:
        path = Path(args.authority)
        if not path.exists():  # else "X does not exist", naming no flag
            raise FileNotFoundError(f"--authority {path}: no such file or folder (authority.pub, or the authority's folder)")
        if path.is_dir() and not (path / "authority.pub").exists():  # else "X/authority.pub does not exist" (ux16)
            hint = (f"the authority's keystore: give {path.parent / 'authority.pub'}"
                    if (path / "authority.json").exists() else "a folder without an authority.pub")
            raise FileNotFoundError(f"--authority {path}: {hint}")
        anchor = AuthorityPublic.load(path / "authority.pub" if path.is_dir() else path)
    pin = check_fingerprint(args.fingerprint, "--fingerprint") if getattr(args, "fingerprint", None) is not None else None
    return anchor, pin


def _unanchored_note(command: str, anchor, pin) -> None:
    if anchor is None and pin is None:
        print(f"facesel {command}: note: checked against the vault's own authority.pub; give --authority or "
              "--fingerprint to anchor the check in a trusted copy", file=sys.stderr)


@clean_errors
def _purge(args: argparse.Namespace) -> int:
    vault_dir = Path(args.vault)
    require_vault_folder(vault_dir)  # "(vault.json is missing)" for a mistyped folder before (ux25)
    if not (vault_dir / "vault.json").is_file():
        raise FileNotFoundError(f"no vault at {vault_dir} (vault.json is missing)")
    now = None if args.now is None else parse_time(args.now, "--now")
    authority = Path(args.authority) if args.authority else vault_dir / "authority.pub"
    try:
        vault = Vault(vault_dir, authority, camera=args.camera, purge_at_start=False)
    except VaultLockedError:
        raise VaultLockedError(f"the camera has vault {vault_dir} open; it purges expired records itself while "
                               "it runs") from None
    with vault:
        purged = vault.purge(now, allow_future=args.allow_future_now)
        remaining = len(vault.rows())
    print(f"purged {purged} expired record(s) from {vault_dir}; {remaining} kept")
    return 0


def _checked_rows(vault_dir: Path, identity, rows) -> tuple[list[IndexRow], list[str]]:
    """Rows rebuilt from each record's authenticated header, and one line per record that fails."""
    logged = logged_records(vault_dir, identity)  # the seals: digest and size (a larger file is refused unread)
    good, problems = [], []
    for row in rows:
        try:
            parsed = verified_record(identity, vault_dir, row, logged)
            good.append(IndexRow.from_header(parsed.header, row.size, row.sha256))
        except RecordNotHere:
            continue  # the running camera is sealing it, or just purged it (both logged)
        except RecordError as err:
            problems.append(str(err))
    return good, problems


def _unindexed_seals(vault_dir: Path, identity) -> list[str]:
    """One line per record the signed log holds that the index does not list (a hidden record).

    The log is read before the index (a camera indexes a record before logging its seal), and a
    record found missing is checked again against a fresh read of the log (a purge running beside
    us logs first, then drops the row)."""
    try:
        live = logged_records(vault_dir, identity)
        index = open_index(vault_dir)
        try:
            indexed = index.ids()
        finally:
            index.close()
        missing = set(live) - indexed
        if missing:
            missing &= set(logged_records(vault_dir, identity))
    except AuditError as err:
        return [f"the audit log does not verify, so the index cannot be checked against it ({err})"]
    return [f"record {rid} (sealed {format_time(live[rid].sealed_at)}, log seq {live[rid].seq}) is in the signed log "
            "but missing from the index (hidden; 'facesel open' still finds it, the camera re-indexes it at its next "
            "start)" for rid in sorted(missing, key=lambda rid: live[rid].seq)]


def print_record_table(rows, camera_width: int, mark=None) -> None:
    """One line per index row (record id, time, camera, epoch, quality, size) under a header; the
    camera id is cut to ``camera_width`` characters. Shared by ``list`` and ``central list``;
    ``mark(row)``, when given, returns a word appended to the row's line ("" for none)."""
    print(f"{'record_id':32}  {'sealed_at (UTC)':20}  {'camera':{camera_width}}  {'epoch':>7}  {'quality':>9}  "
          f"{'bytes':>8}")
    for r in rows:
        quality = "-" if r.quality is None else f"{r.quality:.4g}"
        word = mark(r) if mark else ""
        print(f"{r.record_id:32}  {format_time(r.sealed_at):20}  {r.camera_id[:camera_width]:{camera_width}}  "
              f"{r.epoch_id:>7}  {quality:>9}  {r.size:>8}" + (f"  {word}" if word else ""))


@clean_errors
@listing
def _list(args: argparse.Namespace) -> int:
    vault_dir = Path(args.vault)
    anchor, pin = _anchor(args)
    identity = load_identity(vault_dir, anchor, pin)
    window = args.from_ is not None or args.to is not None
    # A window chooses by the signed log's seal times too (review 12b, finding 1), read before the index.
    live = logged_records(vault_dir, identity) if window else None
    index = open_index(vault_dir)  # read-only: listing changes nothing
    try:
        if not window:
            rows = index.rows()
        else:
            rows = select_rows(index, start=None if args.from_ is None else parse_time(args.from_, "--from"),
                               end=None if args.to is None else parse_time(args.to, "--to"), live=live)
        indexed = index.ids()
    finally:
        index.close()
    good, problems = _checked_rows(vault_dir, identity, rows)
    problems += _unindexed_seals(vault_dir, identity)
    for path in sorted((vault_dir / "records").glob(f"*{RECORD_SUFFIX}")):
        if path.name[:-len(RECORD_SUFFIX)] not in indexed:
            problems.append(f"record file {path.name} is not in the index (the camera quarantines or indexes it "
                            "at its next start)")
    _unanchored_note("list", anchor, pin)
    if args.json:
        print(json.dumps([r.to_dict() for r in good], indent=1))
    else:
        print_record_table(good, camera_width=12)
        left_out = f"; {len(problems)} left out, REJECTED (reasons on stderr)" if problems else ""
        print(f"{len(good)} record(s) of camera {identity.camera_id}{left_out}")  # as central list (ux21)
    for line in problems:
        print(f"facesel list: REJECTED {line}", file=sys.stderr)
    return 1 if problems else 0


def _find_keystore(args: argparse.Namespace) -> Path:
    for share in args.share:  # else a mistyped share said "no keystore found next to the share files"
        if not Path(share).exists():
            raise FileNotFoundError(f"--share {share}: no such file")
        if Path(share).is_dir():
            raise ValueError(f"--share {share}: a folder, not a share file (share-I-of-N.json)")
    if args.keystore:
        from facesel.vault.keys import keystore_problem

        problem = keystore_problem(args.keystore)
        if problem is not None:
            raise FileNotFoundError(f"--keystore {args.keystore}: {problem}")
        return Path(args.keystore)
    # Default layout of `facesel authority init`: DIR/shares/share-*.json next to DIR/keystore.
    first = Path(args.share[0]).resolve()
    for candidate in (first.parent.parent / "keystore", first.parent / "keystore"):
        if (candidate / "authority.json").is_file():
            return candidate
    raise FileNotFoundError("no keystore found next to the share files; give --keystore DIR")


@clean_errors
def _open(args: argparse.Namespace) -> int:
    from facesel.core_dumps import keep_memory_private
    from facesel.review.cli_open import open_entry, remembering, write_open_bundle
    from facesel.review.index_page import write_index

    if sum([bool(args.record_ids), args.from_ is not None or args.to is not None, bool(args.all)]) != 1:
        raise ValueError("choose exactly one of: record ids, a time window (--from/--to), or --all")
    if args.bundle and Path(args.bundle).exists():
        raise ValueError(f"--bundle {args.bundle} exists already; choose a new file")
    # Before any share is read: an --out that cannot be written used to cost the holders their
    # passphrases and leave an "open" and an "open-aborted" entry in both audit logs.
    refuse_unwritable_folder("--out", args.out)
    refuse_filled_folder("--out", args.out)
    if args.bundle:
        refuse_unwritable_file("--bundle", args.bundle)
    keystore = _find_keystore(args)
    refuse_unwitnessed(args, Path(keystore).parent / "authority.pub")  # before any share is read
    warn_authority_log_behind(Path(keystore).parent, Path(args.vault), "facesel open")
    refuse_unloggable(f"--vault {args.vault}", Path(args.vault) / "audit.log")
    refuse_unloggable(f"the authority's keystore {keystore}", Path(keystore).parent / "audit.log")
    keep_memory_private()  # passphrases, master key and faces closed to same-user readers (review 7, finding 2)
    passphrases = remembering(share_passphrase_source(args, args.share))  # asked once, also for --bundle
    with sigterm_as_exit():  # a SIGTERM while writing cleans up what was decrypted (review 6, finding 3)
        opened = open_records(
            args.vault, args.share, keystore, args.reason, args.out,
            record_ids=args.record_ids or None,
            start=None if args.from_ is None else parse_time(args.from_, "--from"),
            end=None if args.to is None else parse_time(args.to, "--to"),
            all_records=args.all, opened_by=args.by,
            passphrase_for=passphrases)
    print(f"opened {len(opened)} record(s) into {args.out}; logged in {Path(args.vault) / 'audit.log'} and in the "
          "authority's own audit.log")
    _report_unindexed(opened)
    if opened:
        entry = open_entry(Path(args.vault), Path(args.out), [r.row.record_id for r in opened])
        print(f"index of the opened records: {write_index(Path(args.out), opened, entry, Path(args.vault))}")
        if args.bundle:
            path = write_open_bundle(Path(args.vault), args.share, keystore, opened, Path(args.out),
                                     Path(args.bundle), passphrases)
            print(f"evidence bundle: {path} (check it with: facesel verify-bundle {shlex.quote(str(path))} "
                  f"--fingerprint {_keystore_fingerprint(keystore)}; send the fingerprint by another channel "
                  "than the bundle)")
    return 0


def warn_authority_log_behind(authority_dir: Path, vault_dir: Path, command: str) -> None:
    """Warn (not refuse) when the vault's log holds openings signed by the authority that the
    authority's own log lacks: its log was cut or put back to an older copy. A warning, since an
    authority folder restored from a backup after a loss lacks them for good, and refusing would
    lock every later opening of this vault out; ``audit verify --authority`` fails on it."""
    from facesel.vault.keys import Keystore

    try:
        identity = load_identity(vault_dir, anchor=trusted_authority(Keystore(authority_dir / "keystore"), vault_dir))
    except (KeyMaterialError, AuditError, OSError, ValueError):
        return  # the opening itself reports why the vault or the authority cannot be read
    for line in authority_log_problems(authority_dir, identity, vault_dir / "audit.log", only_behind=True):
        print(f"{command}: WARNING {line}", file=sys.stderr)


def _keystore_fingerprint(keystore_dir: Path) -> str:
    """The authority's fingerprint from its own keystore (never from the vault folder's copy)."""
    from facesel.vault.encoding import unb64
    from facesel.vault.keys import Keystore
    from facesel.vault.signing import fingerprint

    return fingerprint(unb64(Keystore(keystore_dir).meta["signing_public"], "signing public key", 32))


def _report_unindexed(opened) -> None:
    """Say loudly when records chosen from the signed log were missing from the index."""
    missing = [o.row.record_id for o in opened if not o.indexed]
    if missing:
        print(f"facesel open: WARNING {len(missing)} opened record(s) were missing from the index (someone deleted "
              f"their rows; chosen from the signed log instead): {', '.join(missing[:10])}"
              f"{' ...' if len(missing) > 10 else ''}", file=sys.stderr)


def expect_refusal(text: str, writer: str) -> str:
    """Why ``--expect TEXT`` is neither SEQ:SHA256HEX nor an existing head file, for ``audit`` and
    ``central audit``: a head file's path with a typo was told only that the form was wrong (ux20)."""
    seq, colon, digest = text.partition(":")
    if colon and seq.isdigit():
        return (f"--expect {text}: SEQ:SHA256HEX needs the head's 64 hex characters after the colon, "
                f"got {len(digest)}")
    if text and not colon:
        return f"--expect {text}: no such file; give the head file that '{writer} --out FILE' wrote, or SEQ:SHA256HEX"
    return f"--expect must be SEQ:SHA256HEX or a head file from '{writer}', got {text!r}"


def _expectation(text: str | None):
    """``--expect``: SEQ:HASH, or a head file written by ``facesel audit head``."""
    if text is None:  # "" (an unset shell variable) is refused below, not read as no witness (ux19)
        return None
    seq, colon, digest = text.partition(":")
    if colon and seq.isdigit() and len(digest) == 64:
        return int(seq), digest
    path = Path(text)
    if not text or not path.exists():  # Path('') is the current folder
        raise ValueError(expect_refusal(text, "facesel audit head"))
    try:
        head = json.loads(read_regular(path, 65536).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError(f"--expect {path}: not a head file from 'facesel audit head'") from None
    if not isinstance(head, dict):
        raise ValueError(f"--expect {path}: not a head file from 'facesel audit head'")
    return head


def _refuse_another_vaults_head(expect, given: str, identity, vault_dir: Path) -> None:
    """ValueError when ``--expect`` is the head file of another vault (its ``vault_id``): checked
    against this log it reported ``BROKEN (deleted) witnessed entry seq N is missing (log truncated or
    replaced)``, a tampering verdict on a log nobody touched, when both vaults are the same camera's
    (a second folder, or the vault made again), whose key signed both heads (ux18)."""
    if not isinstance(expect, dict) or expect.get("vault_id") in (None, identity.vault_id):
        return
    raise ValueError(f"--expect {given}: a head witnessed on vault {str(expect['vault_id'])[:64]}, not on this vault "
                     f"({identity.vault_id}, --vault {vault_dir}); check it against the vault it was witnessed on")


@clean_errors
def _audit_verify(args: argparse.Namespace) -> int:
    if (args.vault is None) == (args.log is None):
        raise ValueError("give exactly one of --vault DIR or --log FILE")
    anchor, pin = _anchor(args)
    expect = _expectation(args.expect)
    if args.log:
        path = Path(args.log)
        keys = None
        if anchor is not None:
            keys = {f"authority:{anchor.authority_id}": anchor.signing_key,
                    **{f"camera:{c}": k for c, k in anchor.cameras}}
        result = verify(path, expect, keys=keys)
        if not result.ok:
            print(f"{path}: BROKEN ({result.kind}) {result.message}")
            return 1
        signed = "signatures checked" if keys is not None else "signatures not checked (give --authority)"
        print(f"{path}: OK, {result.entries} entries; head seq {result.head_seq} hash {result.head_hash}; {signed}")
        return 0
    vault_dir = Path(args.vault)
    identity = load_identity(vault_dir, anchor, pin)
    path = vault_dir / "audit.log"
    if not path.is_file() and not path.is_symlink():
        raise ValueError(f"vault {vault_dir} has no audit log (audit.log is missing): its history is gone")
    _refuse_another_vaults_head(expect, args.expect, identity, vault_dir)
    if args.expect_authority is not None:
        if not (args.authority and Path(args.authority).is_dir()):
            raise ValueError("--expect-authority needs --authority DIR (the authority's folder it was witnessed on)")
        refuse_unwitnessed(args, Path(args.authority) / "authority.pub")
    result = verify(path, expect, keys=identity.audit_keys())
    if not result.ok:
        print(f"{path}: BROKEN ({result.kind}) {result.message}")
        return 1
    print(f"{path}: OK, {result.entries} entries; head seq {result.head_seq} hash {result.head_hash}; signed by "
          f"camera {identity.camera_id} and authority {identity.authority.authority_id}")
    # Files against seals and purges, each purge against its logged seal time plus the retention,
    # each seal against its epoch's window.
    problems = [f"CUSTODY {line}" for line in custody_problems(vault_dir, identity.authority)]
    if args.authority and Path(args.authority).is_dir():
        problems += [f"AUTHORITY {line}" for line in authority_log_problems(Path(args.authority), identity, path)]
        problems += [f"AUTHORITY {line}" for line in _authority_behind_vault(Path(args.authority), identity, vault_dir)]
    _unanchored_note("audit verify", anchor, pin)
    for line in problems:
        print(f"{vault_dir}: {line}")
    if problems:
        return 1
    print(f"{vault_dir}: records and log agree")
    _revocation_note(vault_dir, identity, path)
    return 0


def _revocation_note(vault_dir: Path, identity, log_path: Path) -> None:
    """A note when the authority revoked the vault's camera key: the log is intact, but what the
    key signed from the revocation's time on is refused by every reader (ux21: "OK" and "records
    and log agree" alone read as a vault whose records all count)."""
    from facesel.vault.audit import AuditLog

    revoked = identity.authority.revoked_from(identity.camera_id)
    if revoked is None:
        return
    late = sum(1 for e in AuditLog(log_path).entries() if e.get("event") == "seal" and e.get("sealed_at", 0) >= revoked)
    print(f"{vault_dir}: note: the authority revoked camera {identity.camera_id}'s key from {format_time(revoked)} "
          f"(authority.pub serial {identity.authority.serial}): {late} record(s) sealed from then on are refused by "
          "every reader ('facesel list' names them), and the log's entries the camera signed from then on are "
          "that key's word only")


def _authority_behind_vault(authority_dir: Path, identity, vault_dir: Path) -> list[str]:
    """The vault as a natural witness of the authority's folder: its copy of authority.pub, or a
    serial its log says the camera was given, above the folder's (an older folder put back)."""
    pub_path = authority_dir / "authority.pub"
    pub = AuthorityPublic.load(pub_path)
    problems = vault_log_problems(pub, str(pub_path), vault_dir / "audit.log", identity.audit_keys())
    copy = vault_copy_problem(pub, str(pub_path), vault_dir)
    return ([copy] if copy else []) + problems


@clean_errors
def _audit_head(args: argparse.Namespace) -> int:
    vault_dir = Path(args.vault)
    identity = load_identity(vault_dir)
    result = verify(vault_dir / "audit.log", keys=identity.audit_keys())
    if not result.ok:
        raise ValueError(f"the audit log does not verify ({result.message}); no head to witness")
    head = {**signed_head(vault_dir / "audit.log"), "vault_id": identity.vault_id, "camera_id": identity.camera_id}
    text = json.dumps(head, indent=1, sort_keys=True)
    if args.out:
        if Path(args.out).is_dir():  # else os.replace's error, naming the temporary file
            raise ValueError(f"--out {args.out} is a folder: give the head file's path, e.g. "
                             f"{Path(args.out) / 'head.json'}")
        refuse_unwritable_file("--out", args.out, replaced=True)  # else "permission denied: DIR/.head.json.1a2b.tmp"
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(Path(args.out), (text + "\n").encode("utf-8"), mode=0o644)
        print(f"signed head seq {head['seq']} written to {args.out}; keep a copy elsewhere, check later with "
              f"facesel audit verify --vault {shlex.quote(str(vault_dir))} --expect {shlex.quote(str(args.out))}")
    else:
        print(text)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the vault's commands: ``facesel purge``, ``list``, ``open``, ``audit`` (verify, head) to ``subparsers``."""
    p = subparsers.add_parser("purge", help="delete records older than the retention period")
    p.add_argument("--vault", required=True, help="vault folder")
    p.add_argument("--camera", required=True, help="the camera's key folder (purges are logged and signed)")
    p.add_argument("--authority", help="authority.pub to use (default: the vault's pinned copy)")
    p.add_argument("--now", type=time_text, metavar="TIME", help=f"purge as of this time ({TIME_FORMS}; default now; not in the future)")
    p.add_argument("--allow-future-now", action="store_true",
                   help="accept a --now in the future (deletes records early; logged as an override)")
    p.set_defaults(func=_purge)

    p = subparsers.add_parser("list", help="list stored records (metadata only; no keys needed)")
    p.add_argument("--vault", required=True, help="vault folder")
    _add_anchor(p)
    p.add_argument("--from", type=time_text, dest="from_", metavar="TIME", help=f"sealed at or after ({TIME_FORMS})")
    p.add_argument("--to", type=time_text, metavar="TIME", help="sealed at or before (the same forms)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_list)

    p = subparsers.add_parser("open", help="open records with K shares; logged in the audit log")
    p.add_argument("record_ids", nargs="*", metavar="RECORD_ID", help="records to open")
    p.add_argument("--vault", required=True, help="vault folder")
    p.add_argument("--share", action="append", required=True, help="a share file (repeat, K times at least)")
    p.add_argument("--reason", required=True, help="case reference: why the records are opened")
    p.add_argument("--from", type=time_text, dest="from_", metavar="TIME", help=f"open records sealed at or after this time ({TIME_FORMS})")
    p.add_argument("--to", type=time_text, metavar="TIME", help="open records sealed at or before this time (the same forms)")
    p.add_argument("--all", action="store_true", help="open every record")
    p.add_argument("--out", required=True, help="new or empty folder for the decrypted snapshots")
    p.add_argument("--keystore", help="authority keystore folder (default: beside the share files)")
    p.add_argument("--by", help="who opens (default: the OS user name)")
    p.add_argument("--passphrase-file", action="append", metavar="FILE",
                   help="passphrases of protected shares: one file, one per line in --share order, or one file "
                        "per --share (repeat)")
    p.add_argument("--passphrase-env", metavar="VAR", help="environment variable with the passphrase of all shares")
    p.add_argument("--bundle", metavar="FILE", help="also write the evidence bundle (zip) of these records; check it "
                   "offline with facesel verify-bundle")
    add_expect_authority(p)
    p.set_defaults(func=_open)

    audit = subparsers.add_parser("audit", help="check the hash-chained audit log")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = sub.add_parser("verify", help="report the first edited, deleted, reordered or inserted entry; with "
                       "--vault also check that record files match the seals and purges logged")
    p.add_argument("--vault", help="vault folder (checks VAULT/audit.log)")
    p.add_argument("--log", help="any facesel audit log (e.g. the authority's audit.log)")
    p.add_argument("--expect", metavar="HEAD", help="a head witnessed earlier (a file from 'facesel audit head', "
                   "or SEQ:HASH): that entry must still be in the log")
    _add_anchor(p, "; an authority folder also checks that every opening it logged is in the vault's log")
    add_expect_authority(p)
    p.set_defaults(func=_audit_verify)
    p = sub.add_parser("head", help="print the log's signed head, to be filed away by a witness")
    p.add_argument("--vault", required=True, help="vault folder")
    p.add_argument("--out", help="also write the head to this file")
    p.set_defaults(func=_audit_head)


def _add_anchor(p: argparse.ArgumentParser, extra: str = "") -> None:
    p.add_argument("--authority", metavar="PATH", help="a trusted authority.pub or authority folder" + extra)
    p.add_argument("--fingerprint", metavar="FP", help="the authority fingerprint to trust (64 hex)")
