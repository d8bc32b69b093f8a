"""``facesel central init|register-camera|cameras|list|open|purge|repair-rows|audit|head`` and ``facesel sync``.

The central store is named by ``--central DSN`` (a libpq connection string or URI) or, so that
a password need not appear on a command line, by the ``FACESEL_CENTRAL`` environment variable.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from pathlib import Path

from facesel.cli.argtypes import TIME_FORMS, time_text
from facesel.cli.authority import add_passphrase_sources
from facesel.cli.authority_head import add_expect_authority, refuse_unwitnessed
from facesel.cli.argv_secrets import refuse_password_on_command_line
from facesel.cli.pipe_safe import listing
from facesel.cli.vault_cmds import print_record_table
from facesel.vault.timeparse import parse_time

ENV_DSN = "FACESEL_CENTRAL"

# Packages of the ``central`` extra, imported only by these commands.
_CENTRAL_PACKAGES = ("psycopg", "psycopg_binary", "boto3", "botocore", "ray")


def needs_central_extra(func):
    """Turn a missing package of the ``central`` extra into one line naming the fix (not a traceback)."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except ImportError as err:
            missing = (getattr(err, "name", None) or "").split(".")[0]
            if missing not in _CENTRAL_PACKAGES:
                raise
            raise RuntimeError(f"this command needs {missing}, which is not installed: install the central "
                               "extra (pip install 'facesel[central]')") from None
    return wrapper


def central_dsn(args: argparse.Namespace) -> str:
    """The central store's connection string: ``--central``, else the environment's; ValueError when
    neither, or when ``--central`` holds a password (review 9, finding 4: the process list shows it
    to every account on the machine)."""
    if args.central:
        return refuse_password_on_command_line(args.central, "--central", ENV_DSN)
    dsn = os.environ.get(ENV_DSN)
    if not dsn:
        raise ValueError(f"give --central DSN or set {ENV_DSN}")
    return dsn


def _store(args: argparse.Namespace):
    from facesel.central.pg_backend import PostgresVault

    return PostgresVault(central_dsn(args))


def _selection(args: argparse.Namespace, record_ids=None):
    from facesel.central import Selection
    from facesel.vault.timeparse import format_time

    start = None if args.from_ is None else parse_time(args.from_, "--from")
    end = None if args.to is None else parse_time(args.to, "--to")
    if start is not None and end is not None and end < start:  # in the flags' words, as `facesel list` (ux23:
        # "end (1796083200.0) is before start (1796688000.0)", Unix seconds after the table's header)
        raise ValueError(f"--to ({format_time(end)}) is before --from ({format_time(start)})")
    return Selection(record_ids=tuple(record_ids) if record_ids else None,
                     camera_ids=tuple(args.camera) if args.camera else None, start=start, end=end)


def _note_unknown_cameras(args: argparse.Namespace, store, verb: str) -> None:
    """A ``--camera`` that names no camera registered in the store, said on stderr (ux23: a mistyped id
    listed 0 records, exit 0, as if the camera had sealed nothing)."""
    if not args.camera:
        return
    registered = sorted(camera.camera_id for camera in store.cameras())
    unknown = [camera for camera in dict.fromkeys(args.camera) if camera not in registered]
    for camera in unknown:
        print(f"facesel central {verb}: note: --camera {camera}: no camera of that id is registered in the store "
              f"(registered: {', '.join(registered) or 'none'}), so it has no record here", file=sys.stderr)


@needs_central_extra
def _init(args: argparse.Namespace) -> int:
    from facesel.central.pg_backend import PostgresVault
    from facesel.vault.keys import AuthorityPublic

    authority = Path(args.authority)
    if not authority.exists():  # else "X does not exist", naming no flag
        raise FileNotFoundError(f"--authority {authority}: no such file (the authority's authority.pub)")
    refuse_unwitnessed(args, authority / "authority.pub" if authority.is_dir() else authority)
    with PostgresVault.create(central_dsn(args), AuthorityPublic.load(authority), blob_url=args.blobs,
                              blob_endpoint=args.blob_endpoint, blob_threshold=args.blob_threshold) as store:
        blobs = f"; records of {store.blob_threshold} bytes or more in {store.blobs.url}" if store.blobs else ""
        print(f"central store {store.location} ready for authority {store.authority.authority_id} "
              f"(store id {store.store_id}){blobs}")
    return 0


@needs_central_extra
def _register(args: argparse.Namespace) -> int:
    from facesel.vault.signing import CameraPublic

    cameras = [CameraPublic.load(path) for path in args.camera_pub]  # all read before anything changes
    with _store(args) as store:
        for camera in cameras:
            new = store.register_camera(camera.camera_id, camera.public_key, note=args.note or "")
            print(f"camera {camera.camera_id}: {'registered' if new else 'already registered'}")
    return 0


@needs_central_extra
@listing
def _cameras(args: argparse.Namespace) -> int:
    with _store(args) as store:
        cameras = store.cameras()
    for camera in cameras:
        print(f"{camera.camera_id}  {'signing key registered' if camera.public_key else 'no signing key'}")
    print(f"{len(cameras)} camera(s)")
    return 0


@needs_central_extra
@listing
def _list(args: argparse.Namespace) -> int:
    from facesel.cli.streamed_rows import CountedRows, print_json_array

    # Printed as the store's cursor yields them, never kept (review 8, finding 1): the store's
    # owner decides how many rows there are.
    late = _LateArrivals()
    selection = _selection(args)  # its flags checked before the store is asked
    with _store(args) as store:
        _note_unknown_cameras(args, store, "list")
        if args.unverified:
            rows = CountedRows(store.iter_rows(selection))
            trust, refused = "as the store gives them, unchecked (--unverified)", _Refusals()
        else:
            rows, trust, refused = _verified_rows(args, store, late)
        if args.json:
            print_json_array(late.json_item(r) for r in rows)
        else:
            print_record_table(rows, camera_width=16, mark=late.mark)
        # Records the log puts in the selection whose rows are elsewhere or gone (review 12b for a camera
        # or window, 13a for everything): counted apart from the rows refused (a relabelled row is both
        # a row refused and a record of its true camera without a row).
        missing = _Refusals()
        if not args.unverified:
            for line in store.missing_from(selection):
                missing(line)
        if not args.json:
            print(f"{rows.count} record(s) from {len(rows.cameras)} camera(s), {trust}"
                  + (f"; {late.count} of them AFTER-REVOCATION (arrived after their camera's key was revoked: "
                     f"reasons on stderr; central open needs {late.flag})" if late.count else "")
                  + (f"; {refused.count} row(s) left out, REJECTED (reasons on stderr)" if refused.count else "")
                  + (f"; {missing.count} record(s) the store's log holds in this selection without their row, "
                     "REJECTED (reasons on stderr)" if missing.count else ""))
    # Flagged rows are listed, exit status unchanged: each is a genuine record of a registered key
    # (an honest late upload is flagged too); the listing marks it, the opening asks for the flag.
    return 1 if refused.count or missing.count else 0


class _LateArrivals:
    """Rows of a verified listing flagged AFTER-REVOCATION (review round 11): each reason printed to
    stderr as it comes, the row marked in the table (``mark``) or given the field
    ``arrived_after_revocation`` in ``--json``; only a count and the current row's reason are kept."""

    def __init__(self) -> None:
        from facesel.central.arrivals import OPEN_FLAG

        self.count, self.current, self.flag = 0, None, OPEN_FLAG

    def __call__(self, row, reason: str | None) -> None:
        """Note the row about to be yielded (its reason, or None)."""
        self.current = None if reason is None else (row.camera_id, row.record_id, reason)
        if reason is not None:
            self.count += 1
            print(f"facesel central list: AFTER-REVOCATION {reason}", file=sys.stderr)

    def _of(self, row) -> str | None:
        current = self.current
        return current[2] if current and current[:2] == (row.camera_id, row.record_id) else None

    def mark(self, row) -> str:
        return "AFTER-REVOCATION" if self._of(row) else ""

    def json_item(self, row) -> dict:
        reason = self._of(row)
        return row.to_dict() if reason is None else {**row.to_dict(), "arrived_after_revocation": reason}


class _Refusals:
    """Counts the rows a verified listing leaves out, printing each one's reason to stderr as it comes
    (never kept: the store's owner decides how many there are)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, problem: str) -> None:
        self.count += 1
        print(f"facesel central list: REJECTED {problem}", file=sys.stderr)


def _verified_rows(args: argparse.Namespace, store, late):
    """(rows that verify, a CountedRows; what they were checked against, in words; the refusals)
    for ``central list`` without ``--unverified`` (review 10c, 10b's open item)."""
    from facesel.central.listing import checked_rows
    from facesel.central.verify import AUTHORITY_REGISTRY, authority_for_reading
    from facesel.cli.streamed_rows import CountedRows
    from facesel.cli.vault_cmds import _anchor

    anchor, _ = _anchor(args)
    if anchor is None:
        # Signed by the authority, but it is the store's choice of file, and it may predate a
        # camera's registration until 'central init --authority' is run again with the newer file
        # (PostgresVault._extend_authority).
        authority, registry = store.authority, ("the store's copy of authority.pub, which may predate the "
                                                "camera's registration (give the authority's own with --authority)")
        trust = ("each checked against its signed record, the cameras' keys from the store's copy of authority.pub "
                 "(give --authority to check against the authority's own)")
    else:
        authority, registry = authority_for_reading(anchor, store.authority), AUTHORITY_REGISTRY
        trust = f"each checked against its signed record, the cameras' keys from the authority's ({args.authority})"
    refused = _Refusals()

    def genuine():
        for checked in checked_rows(store, _selection(args), authority, registry):
            if checked.problem is None:
                late(checked.row, checked.after_revocation)
                yield checked.row
            else:
                refused(checked.problem)
    return CountedRows(genuine()), trust, refused


@needs_central_extra
def _open(args: argparse.Namespace) -> int:
    from facesel.central import pg_backend  # noqa: F401  (the central extra is named before the files are checked)
    from facesel.central.opening import open_from
    from facesel.cli.authority import share_passphrase_source
    from facesel.cli.terminate import sigterm_as_exit
    from facesel.cli.vault_cmds import _find_keystore
    from facesel.core_dumps import keep_memory_private
    from facesel.writable import refuse_filled_folder, refuse_unloggable, refuse_unwritable_folder

    keep_memory_private()  # passphrases, master key and faces closed to same-user readers (review 7, finding 2)
    selection = _selection(args, args.record_ids)
    if selection.is_empty() == (not args.all):  # checked first, in the flags' words, as `facesel open` does
        raise ValueError("choose exactly one of: record ids, --camera and/or a time window (--from/--to), or --all")
    # As `facesel open`: the shares, the keystore and --out are checked before the store is asked
    # (ux16: a mistyped --share or an --out below a file was first told the store's state).
    refuse_unwritable_folder("--out", args.out)
    refuse_filled_folder("--out", args.out)
    keystore = _find_keystore(args)
    refuse_unwitnessed(args, Path(keystore).parent / "authority.pub")  # before the store or any share is read
    refuse_unloggable(f"the authority's keystore {keystore}", Path(keystore).parent / "audit.log")
    with _store(args) as store, sigterm_as_exit():  # SIGTERM cleans up what was decrypted (review 6, finding 3)
        opened = open_from(store, args.share, keystore, args.reason, args.out,
                           selection=selection, all_records=args.all, opened_by=args.by,
                           passphrase_for=share_passphrase_source(args, args.share),
                           allow_after_revocation=args.allow_after_revocation)
        print(f"opened {len(opened)} record(s) from {len({o.row.camera_id for o in opened})} camera(s) into "
              f"{args.out}; logged, signed by the authority, in the audit log of {store.location} and in the "
              "authority's own audit.log")
        late = [o.row.record_id for o in opened if o.after_revocation]
        if late:
            print(f"WARNING: {len(late)} of them arrived after their camera's key was revoked (opened with "
                  f"--allow-after-revocation; each one's meta.json says so, the signed entries name them): "
                  f"{', '.join(late)}", file=sys.stderr)
    return 0


@needs_central_extra
def _purge(args: argparse.Namespace) -> int:
    now = time.time() if args.now is None else parse_time(args.now, "--now")
    with _store(args) as store:
        purged = store.purge(now, allow_future=args.allow_future_now)
        refused = getattr(store, "purge_refused", [])
        print(f"purged {purged} expired record(s) from {store.location}; {store.count()} kept"
              + (f" ({len(refused)} that looked expired, REFUSED: reasons on stderr)" if refused else ""))
    for line in refused:  # a row whose time the log does not vouch for (review 12b, finding 2)
        print(f"facesel central purge: REFUSED {line}", file=sys.stderr)
    return 1 if refused else 0


@needs_central_extra
def _repair_rows(args: argparse.Namespace) -> int:
    """``central repair-rows``: each row that disagrees with its record's signed header (and its
    ``received`` entry) rewritten from the verified header and logged (review round 13a)."""
    from facesel.central.repair import apply_repair, planned_repairs
    from facesel.central.verify import AUTHORITY_REGISTRY, authority_for_reading
    from facesel.cli.vault_cmds import _anchor
    from facesel.vault.errors import RecordError

    anchor, _ = _anchor(args)
    repaired = unrepairable = 0
    with _store(args) as store:
        if anchor is None:
            authority, registry = store.authority, ("the store's copy of authority.pub, which may predate the "
                                                    "camera's registration (give the authority's own with --authority)")
        else:
            authority, registry = authority_for_reading(anchor, store.authority), AUTHORITY_REGISTRY
        for repair in planned_repairs(store, authority, every_row=args.every_row, registry=registry):
            if repair.problem:
                unrepairable += 1
                print(f"facesel central repair-rows: {repair.describe()}", file=sys.stderr)
                continue
            if args.dry_run:
                print(f"would repair {repair.describe()}")
                repaired += 1
                continue
            try:
                entry = apply_repair(store, repair)
            except RecordError as err:
                unrepairable += 1
                print(f"facesel central repair-rows: {err}", file=sys.stderr)
                continue
            repaired += 1
            print(f"repaired {repair.describe()} (logged, seq {entry['seq']})")
        verb = "would repair" if args.dry_run else "repaired"
        print(f"{verb} {repaired} row(s) of {store.location}"
              + (f"; {unrepairable} NOT repairable (reasons on stderr)" if unrepairable else ""))
    return 1 if unrepairable else 0


def _expectation(text: str | None, trusted=None, store_authority=None) -> tuple[int, str] | None:
    """``--expect``: SEQ:SHA256HEX, or a head file written by ``facesel central head``; a signed
    head must be signed by the authority (``trusted``, else the store's copy ``store_authority``)."""
    if text is None:  # "" (an unset shell variable) is refused below, not read as no witness (ux19)
        return None
    seq, _, digest = text.partition(":")
    if seq.isdigit() and len(digest) == 64:
        return int(seq), digest
    path = Path(text)
    if not path.exists():
        from facesel.cli.vault_cmds import expect_refusal

        raise ValueError(expect_refusal(text, "facesel central head"))
    if not path.is_file():
        raise ValueError(f"--expect {text}: not a head file from 'facesel central head' (a folder or special file)")
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
        if head.get("format") != "facesel-central-head" or not isinstance(head.get("seq"), int) \
                or not isinstance(head.get("hash"), str):
            raise ValueError
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise ValueError(f"--expect {path}: not a head file from 'facesel central head'") from None
    if "sig" in head:
        from facesel.central.head import head_signature_ok

        authority = trusted or store_authority
        if authority is None or not head_signature_ok(head, authority):
            raise ValueError(f"--expect {path}: the head's signature is not the authority's (forged or edited)")
    return head["seq"], head["hash"]


def _trusted_authority(args: argparse.Namespace):
    """(trusted AuthorityPublic or None, the authority's audit.log or None) from ``--authority``."""
    if args.authority is None:  # "" is refused by the parser (cli/suggest_parser.py), never "no anchor"
        return None, None
    from facesel.vault.keys import AuthorityPublic

    path = Path(args.authority)
    if path.is_dir():
        return AuthorityPublic.load(path / "authority.pub"), path / "audit.log"
    return AuthorityPublic.load(path), None


@needs_central_extra
def _audit(args: argparse.Namespace) -> int:
    trusted, authority_log = _trusted_authority(args)
    expect = _expectation(args.expect, trusted) if args.log else None
    keys = None if trusted is None else {f"authority:{trusted.authority_id}": trusted.signing_key}
    if args.log:  # an export, checked offline: no store needed
        from facesel.central.pg_audit import verify_export

        result = verify_export(args.log, expect, keys)
        if not result.ok:
            print(f"{args.log}: BROKEN ({result.kind}) {result.message}")
            return 1
        signed = "signatures checked" if keys else "signatures not checked (give --authority)"
        print(f"{args.log}: OK, {result.entries} entries ({signed}); head seq {result.head_seq} "
              f"hash {result.head_hash}")
        return 0
    from facesel.central.anchors import anchor_problems, authority_problems

    for vault_dir in args.vault or []:  # a typo, not a log that fails to verify (ux23: "ANCHOR the camera's
        # log does not verify, so its anchors prove nothing: no vault at nosuch"); asked before the store
        if not Path(vault_dir).is_dir():
            raise ValueError(f"--vault {vault_dir}: {'a file, not a' if Path(vault_dir).exists() else 'no such'} "
                             "folder: give the camera's vault folder (the one 'facesel sync --vault' forwards)")
    with _store(args) as store:
        expect = _expectation(args.expect, trusted, store.authority)
        result = store.verify_audit(expect, authority=trusted)
        if args.export:
            Path(args.export).write_text("".join(line + "\n" for line in store.audit_lines()), encoding="utf-8")
        location = store.location
        if not result.ok:
            print(f"{location}: BROKEN ({result.kind}) {result.message}")
            return 1
        print(f"{location}: OK, {result.entries} entries; head seq {result.head_seq} hash {result.head_hash}")
        disagree = store.records_against_log()
        for line in disagree:
            print(f"{location}: RECORDS {line}")
        broken = bool(disagree)
        if trusted is not None:
            checked, problems = authority_problems(store, trusted, authority_log)
            for line in problems:
                print(f"{args.authority}: AUTHORITY {line}")
            broken |= bool(problems)
            if not problems:
                print(f"{args.authority}: the store's authority key matches; {checked} opening(s) the authority "
                      "logged are in the central log")
        else:
            print("note: openings checked against the store's own copy of authority.pub; give --authority DIR "
                  "(the authority folder) to check them against the authority's key and its own log",
                  file=sys.stderr)
        for vault_dir in args.vault or []:
            checked, problems = anchor_problems(store, vault_dir, trusted)
            for line in problems:
                print(f"{vault_dir}: ANCHOR {line}")
            broken |= bool(problems)
            if not problems:
                print(f"{vault_dir}: {checked} anchor(s) agree with the central log")
    return 1 if broken else 0


@needs_central_extra
def _head(args: argparse.Namespace) -> int:
    with _store(args) as store:
        if args.share:
            from facesel.central.head import sign_head
            from facesel.cli.authority import share_passphrase_source
            from facesel.cli.vault_cmds import _find_keystore

            head = sign_head(store, args.share, _find_keystore(args), share_passphrase_source(args, args.share))
        else:
            head = store.head()
    text = json.dumps(head, sort_keys=True)
    print(text, flush=True)  # first: a head the --out file cannot take is not lost (ux23: a full disk said only
    # "[Errno 28] No space left on device", naming no file, and the head was never shown)
    if args.out:
        try:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        except OSError as err:
            raise ValueError(f"--out {args.out}: could not be written ({err.strerror or err}); the head is "
                             "printed above: keep it from there") from None
    return 0


@needs_central_extra
def _sync(args: argparse.Namespace) -> int:
    if args.watch is None:
        return _sync_once(args)
    return _sync_watch(args)


def pass_moved(report) -> bool:
    """Whether a sync pass stored, found, deleted, left or refused any record (a watching forwarder
    prints only those passes)."""
    return bool(report.stored or report.duplicates or report.deleted or report.expired or report.skipped)


def _sync_pass(args: argparse.Namespace, should_stop=None, quiet_when_idle: bool = False):
    """One store-and-forward pass; prints its summary (with ``quiet_when_idle``, only when the pass
    moved something) and returns the report."""
    from facesel.central.sync import sync_vault

    with _store(args) as store:
        report = sync_vault(args.vault, store, args.camera, batch_size=args.batch, should_stop=should_stop)
    if quiet_when_idle and not pass_moved(report):
        return report
    print(f"{args.vault}: {report.stored} record(s) stored centrally, {report.duplicates} already there, "
          f"{report.deleted} local copies deleted, {report.expired} past retention (left to the local "
          f"purge), {len(report.skipped)} refused", flush=True)
    for record_id, why in report.skipped:
        print(f"  {record_id}: {why}", file=sys.stderr)
    return report


def _require_vault(vault) -> None:
    """While the store is down: a mistyped --vault was reported as "the records stay queued in
    nosuch" (for ever under --watch), as if a vault were there."""
    from facesel.vault.identity import require_vault_folder

    require_vault_folder(vault)  # a mistyped folder: "no such folder", not "(vault.json is missing)" (ux25)
    if not (Path(vault) / "vault.json").is_file():
        raise FileNotFoundError(f"no vault at {vault} (vault.json is missing)")


def _sync_once(args: argparse.Namespace) -> int:
    from facesel.central.pg_backend import CentralUnavailableError

    try:
        report = _sync_pass(args)
    except CentralUnavailableError as err:
        _require_vault(args.vault)
        raise RuntimeError(f"{err}; the records stay queued in {args.vault}") from None
    return 1 if report.skipped else 0


def _sync_watch(args: argparse.Namespace) -> int:
    """``sync --watch``: a forwarder that runs until SIGTERM or SIGINT, then exits 0.

    The signals only set a flag, read between batches and while waiting: a stop never cuts a batch
    between the central commit and the local log entry and deletion that follow it. A second
    SIGINT while a batch is still being shipped interrupts at once (exit 130, as any Ctrl-C; the
    records not yet logged locally are shipped again, as duplicates, by the next pass).
    """
    import signal

    from facesel.central.pg_backend import CentralUnavailableError

    # A plain flag, not a threading.Event: Event.set() from a handler that interrupted the same
    # thread inside Event.wait() can deadlock on the event's own lock.
    stopping = []

    def on_signal(signum, _frame):
        if stopping and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stopping.append(signum)

    def wait(seconds: float) -> None:
        end = time.monotonic() + seconds
        while not stopping and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    passes = stored = 0
    try:
        delay = args.watch
        while not stopping:
            try:
                # The first pass's line always shows (the forwarder started and reached the store);
                # after it, only a pass that moved a record prints: ux23 counted 2,880 lines a day
                # of "0 record(s) stored" at --watch 30.
                report = _sync_pass(args, should_stop=lambda: bool(stopping), quiet_when_idle=passes > 0)
                if passes == 0:
                    print(f"{args.vault}: watching: a pass every {args.watch:g} s; a line is printed only when "
                          "a pass stores, deletes or refuses a record", file=sys.stderr, flush=True)
                passes += 1
                stored += report.stored
                delay = args.watch
            except CentralUnavailableError as err:
                _require_vault(args.vault)
                delay = min(2 * delay, 10 * args.watch, 300.0)  # back off while the store is down
                print(f"{err}; records stay queued; retrying in {delay:.0f} s", file=sys.stderr, flush=True)
            wait(delay)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"{args.vault}: forwarder stopped by a signal after {passes} pass(es), {stored} record(s) stored "
          "centrally; records not yet shipped stay queued", file=sys.stderr)
    return 0


MAX_WATCH_SECONDS = 86400.0
"""Longest ``sync --watch`` interval: a day (inf synced once and then never again; before the
interruptible wait, inf or 1e300 slept into an OverflowError traceback)."""


def _watch_seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= MAX_WATCH_SECONDS:
        raise argparse.ArgumentTypeError(f"must be a number of seconds in (0, {MAX_WATCH_SECONDS:.0f}], got {text!r}")
    return value


def positive_int(text: str) -> int:
    """``text`` as an int >= 1 (an argparse type; ArgumentTypeError otherwise)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def add_central_argument(p: argparse.ArgumentParser) -> None:
    """Add ``--central DSN`` (default: the environment variable) to ``p``."""
    p.add_argument("--central", metavar="DSN", help=f"the central store: PostgreSQL connection string "
                   f"(default: ${ENV_DSN}); one with a password only there, never on the command line, which "
                   "every account on the machine can read")


def _selection_arguments(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument("--camera", action="append", help=f"{verb} records of this camera only (repeatable)")
    p.add_argument("--from", type=time_text, dest="from_", metavar="TIME", help=f"sealed at or after ({TIME_FORMS})")
    p.add_argument("--to", type=time_text, metavar="TIME", help="sealed at or before (the same forms)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facesel central`` (init, register-camera, cameras, list, open, purge, repair-rows, audit, head, sync)
    to ``subparsers``."""
    central = subparsers.add_parser("central", help="the central evidence store (PostgreSQL) for many cameras")
    sub = central.add_subparsers(dest="central_command", metavar="ACTION", required=True)

    p = sub.add_parser("init", help="create or upgrade the schema (in place, rows kept) and bind the store to an "
                       "authority; run it again with the authority's newer authority.pub to give the store it")
    add_central_argument(p)
    p.add_argument("--authority", required=True, help="the authority's public file (authority.pub)")
    p.add_argument("--blobs", metavar="s3://BUCKET[/PREFIX]", help="keep the ciphertext of large records (long "
                   "clips) in this S3-compatible bucket; credentials from the usual AWS variables or files")
    p.add_argument("--blob-endpoint", metavar="URL", help="endpoint of a non-AWS service (MinIO, Ceph, ...)")
    p.add_argument("--blob-threshold", type=positive_int, default=1 << 20, metavar="BYTES",
                   help="records of this size or more go to the bucket (default 1 MiB)")
    add_expect_authority(p)
    p.set_defaults(func=_init)

    p = sub.add_parser("register-camera", help="accept records from these cameras")
    add_central_argument(p)
    p.add_argument("camera_pub", nargs="+", metavar="CAMERA_PUB",
                   help="the camera's public key file (camera.pub, or the folder holding it), as written by "
                   "'facesel camera init'; it names the camera")
    p.add_argument("--note", help="free text kept with the registration (e.g. where the camera hangs)")
    p.set_defaults(func=_register)

    p = sub.add_parser("cameras", help="list the registered cameras")
    add_central_argument(p)
    p.set_defaults(func=_cameras)

    p = sub.add_parser("list", help="list records across cameras (metadata only; no keys needed); a record of a "
                       "camera whose key was revoked that arrived after the revocation is marked AFTER-REVOCATION")
    add_central_argument(p)
    _selection_arguments(p, "list")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--authority", metavar="PATH", help="a trusted authority.pub or the authority's folder: the "
                   "cameras' keys each record is checked under (default: the store's copy)")
    p.add_argument("--unverified", action="store_true", help="list the store's rows as they are, without reading "
                   "and checking each record (faster; a relabelled or forged row is listed like any other)")
    p.set_defaults(func=_list)

    p = sub.add_parser("open", help="open records across cameras with K shares; logged centrally")
    add_central_argument(p)
    p.add_argument("record_ids", nargs="*", metavar="RECORD_ID", help="records to open (an id several cameras "
                   "hold needs --camera too: a record is the store's by camera and id)")
    _selection_arguments(p, "open")
    p.add_argument("--all", action="store_true", help="open every record (as any selection, compared with the "
                   "store's log: a record it received whose row is gone stops the opening)")
    p.add_argument("--allow-after-revocation", action="store_true",
                   help="also open records of a camera whose key the authority revoked that arrived in the store "
                   "after the revocation's time (refused without it: such a record's seal time is the key "
                   "holder's word, so it may be a thief's backdated one); each is named in the signed entries "
                   "and its meta.json")
    p.add_argument("--share", action="append", required=True, help="a share file (repeat, K times at least)")
    p.add_argument("--reason", required=True, help="case reference: why the records are opened")
    p.add_argument("--out", required=True, help="new or empty folder for the decrypted snapshots")
    p.add_argument("--keystore", help="authority keystore folder (default: beside the share files)")
    p.add_argument("--by", help="who opens (default: the OS user name)")
    add_passphrase_sources(p)  # as `facesel open`: one file, or one per --share (repeat)
    add_expect_authority(p)
    p.set_defaults(func=_open)

    p = sub.add_parser("purge", help="drop the ciphertext of records older than the retention period, by the seal "
                       "time each record's arrival logged (a row whose time disagrees is named)")
    add_central_argument(p)
    p.add_argument("--now", type=time_text, metavar="TIME", help=f"current time ({TIME_FORMS}; default now; not in the future)")
    p.add_argument("--allow-future-now", action="store_true",
                   help="accept a --now ahead of the clock (deletes records early; logged)")
    p.set_defaults(func=_purge)

    p = sub.add_parser("repair-rows", help="rewrite each row that disagrees with its record (a camera or seal time "
                       "rewritten in the store's tables) from the record's verified signed header; each repair is "
                       "logged in the central log")
    add_central_argument(p)
    p.add_argument("--dry-run", action="store_true", help="list what would change, change nothing")
    p.add_argument("--every-row", action="store_true", help="read and check every live row's record too (finds "
                   "rewritten columns the log does not hold: quality, track, first/last time), not only the rows "
                   "that disagree with their 'received' entry")
    p.add_argument("--authority", metavar="PATH", help="a trusted authority.pub or the authority's folder: the "
                   "cameras' keys each record is verified under (default: the store's copy)")
    p.set_defaults(func=_repair_rows)

    p = sub.add_parser("audit", help="verify the central audit log's hash chain and the authority's signatures, and "
                       "that the rows agree with the arrivals and purges it logged")
    add_central_argument(p)
    p.add_argument("--expect", metavar="SEQ:HASH|FILE", help="an anchor recorded earlier (or a head file from "
                   "'facesel central head'): that entry must still match")
    p.add_argument("--authority", metavar="PATH", help="the authority folder (or its authority.pub): check the "
                   "openings' signatures with its key, and that every opening its own audit.log records is "
                   "still in the central log")
    p.add_argument("--vault", action="append", metavar="DIR", help="also check the central log against the "
                   "anchors this camera vault kept when forwarding (repeatable)")
    p.add_argument("--export", metavar="FILE", help="also write the log as JSON lines (checkable later with "
                   "'facesel central audit --log FILE')")
    p.add_argument("--log", metavar="FILE", help="check an export written by --export instead of the store")
    p.set_defaults(func=_audit)

    p = sub.add_parser("head", help="print the central log's head (seq, hash, time) for a witness to keep; "
                       "with K shares, signed by the authority and logged in its own audit.log")
    add_central_argument(p)
    p.add_argument("--out", metavar="FILE", help="also write it to FILE (for 'facesel central audit --expect FILE')")
    p.add_argument("--share", action="append", help="a share file (K times): the authority signs the head")
    p.add_argument("--keystore", help="authority keystore folder (default: beside the share files)")
    add_passphrase_sources(p)  # as `facesel open`: one file, or one per --share (repeat)
    p.set_defaults(func=_head)

    p = subparsers.add_parser("sync", help="ship a camera vault's records to the central store (store-and-forward)")
    p.add_argument("--vault", required=True, help="the camera's vault folder")
    p.add_argument("--camera", required=True, metavar="DIR",
                   help="the camera's key folder (facesel camera init): it signs the local log entries")
    add_central_argument(p)
    p.add_argument("--batch", type=positive_int, default=32, help="records per central transaction (default 32)")
    p.add_argument("--watch", type=_watch_seconds, metavar="SECONDS",
                   help="keep running: sync every SECONDS (at most a day; a pass's line is printed for the first pass "
                        "and then only when a pass moves a record), backing off (up to 10 x SECONDS, at most 5 min) "
                        "while the store is unreachable; SIGTERM or SIGINT ends it after the current batch "
                        "(exit 0)")
    p.set_defaults(func=_sync)
