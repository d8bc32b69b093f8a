"""``facesel authority init|register|revoke-camera|extend|shred``: the offline authority's key material,
the cameras it accepts (and those whose keys it no longer trusts), and crypto-shredding."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path

from facesel.cli.argtypes import TIME_FORMS, int_within, time_text
from facesel.cli.vault_errors import clean_errors
from facesel.core_dumps import keep_memory_private
from facesel.vault.authority import (create_authority, extend_authority, register_camera, registered_already,
                                     revoke_camera)
from facesel.vault.consistency import checked_purge_time
from facesel.vault.fsutil import atomic_write, read_regular
from facesel.vault.keys import KDF_LEVELS, Keystore
from facesel.vault.retention import shred_expired, shreddable_epochs, signed_terms
from facesel.vault.shares import ShareFile, check_passphrase, generate_passphrase, reconstruct_master
from facesel.vault.signing import CameraPublic
from facesel.vault.timeparse import format_duration, format_time, parse_duration, parse_time


def new_passphrases(args: argparse.Namespace, n: int, prefix: str = "") -> list[bytes | None] | None:
    """One passphrase per new share: from a file (one line each), an environment variable (the
    same for all), prompts, or generated and written one file per holder; None only with
    ``--no-passphrase``. Passphrases are the default: shares never lie unprotected by accident."""
    keep_memory_private()  # new passphrases, and the master key made with them (review 7, finding 2)
    get = lambda name: getattr(args, prefix + name, None)  # noqa: E731 -- init and shred share the flags
    chosen = [name for name in ("passphrase_file", "passphrase_env", "generate_passphrases") if get(name)]
    chosen += ["passphrase"] if get("passphrase") else []
    chosen += ["no_passphrase"] if get("no_passphrase") else []
    flag = lambda name: "--" + (prefix + name).replace("_", "-")  # noqa: E731
    if len(chosen) > 1:
        raise ValueError(f"give one of {', '.join(flag(c) for c in chosen)}, not several")
    if not chosen:
        raise ValueError(f"share passphrases are required: give {flag('passphrase')} (prompt), {flag('passphrase_file')} "
                         f"FILE, {flag('passphrase_env')} VAR or {flag('generate_passphrases')} DIR "
                         f"({flag('no_passphrase')} only for tests)")
    if get("passphrase_file"):
        lines = passphrase_lines(get("passphrase_file"), flag("passphrase_file"))
        if len(lines) != n:
            raise ValueError(f"{flag('passphrase_file')} must have one passphrase per share ({n} non-empty lines), "
                             f"got {len(lines)}")
        return [ln.encode() for ln in lines]
    if get("passphrase_env"):
        value = os.environ.get(get("passphrase_env"))
        if not value:
            raise ValueError(f"{flag('passphrase_env')}: environment variable {get('passphrase_env')} is empty or unset")
        check_passphrase(value.encode(), f"the passphrase in {get('passphrase_env')}")
        if n > 1 and not args.one_passphrase_for_all:
            raise ValueError(f"{flag('passphrase_env')} gives all {n} shares the same passphrase, so one person who "
                             f"knows it unlocks every share: give {flag('passphrase_file')} (one a line), "
                             f"{flag('generate_passphrases')} or {flag('passphrase')}, or accept it with "
                             "--one-passphrase-for-all")
        return [value.encode()] * n
    if get("generate_passphrases"):
        return _generated(Path(get("generate_passphrases")), n, flag("generate_passphrases"))
    if get("passphrase"):
        typed: list[bytes] = []
        for i in range(1, n + 1):
            typed.append(_prompted(i, n, typed, getattr(args, "one_passphrase_for_all", False)))
        return typed
    return None


PROMPT_TRIES = 3


def _prompted(i: int, n: int, earlier: list[bytes], allow_shared: bool) -> bytes:
    """Holder ``i`` types a passphrase; a weak one, or one an earlier holder chose (unless
    ``allow_shared``), is refused at once and asked again (at most :data:`PROMPT_TRIES` times), so
    nobody learns it was refused only after every holder typed theirs twice."""
    for attempt in range(1, PROMPT_TRIES + 1):
        first = getpass.getpass(f"passphrase for share {i} of {n}: ")
        try:
            check_passphrase(first.encode(), f"the passphrase for share {i}")
            if first.encode() in earlier and not allow_shared:
                raise ValueError(f"the passphrase for share {i} is an earlier holder's: each holder needs their own "
                                 "(or accept one for all with --one-passphrase-for-all)")
        except ValueError as err:
            if attempt == PROMPT_TRIES:
                raise
            print(f"{err}; try again ({PROMPT_TRIES - attempt} tries left)", file=sys.stderr)
            continue
        if first != getpass.getpass(f"repeat passphrase for share {i}: "):
            raise ValueError(f"the two passphrases typed for share {i} do not match")
        return first.encode()
    raise AssertionError("unreachable")


def _generated(folder: Path, n: int, flag: str) -> list[bytes]:
    """Random passphrases for a folder that is not the share folder (written by :func:`save_generated`
    once the shares exist): each holder gets their share and, separately, their passphrase."""
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(f"{flag} {folder} must be a new or empty folder")
    return [generate_passphrase().encode() for _ in range(n)]


def save_generated(args: argparse.Namespace, phrases: list[bytes | None] | None, prefix: str = "") -> None:
    """Write generated passphrases one file per holder (``holder-<i>.txt``, 0600)."""
    folder = getattr(args, prefix + "generate_passphrases", None)
    if not folder or phrases is None:
        return
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for i, phrase in enumerate(phrases, 1):
        atomic_write(folder / f"holder-{i}.txt", bytes(phrase) + b"\n", mode=0o600)


def warn_shares_together(shares_dir: Path, threshold: int, shares: int) -> None:
    """Tell the operator, on stderr, that shares lying together in one folder are one theft away
    from the master key."""
    print(f"facesel authority: WARNING all {shares} shares lie together in {shares_dir}, and any {threshold} of them "
          "open every record: move each share to its holder (e.g. one removable drive each) and delete it here; "
          "next time write them apart with --share-out DIR, once per holder", file=sys.stderr)


def _check_apart(args: argparse.Namespace, authority_dir: Path, prefix: str = "") -> None:
    folder = getattr(args, prefix + "generate_passphrases", None)
    if folder and Path(folder).resolve().is_relative_to(authority_dir.resolve()):
        raise ValueError(f"--{prefix.replace('_', '-')}generate-passphrases {folder} lies inside the authority "
                         f"folder {authority_dir}: keep the passphrases apart from the shares")


def passphrase_lines(path: str | os.PathLike, flag: str) -> list[str]:
    """The non-empty lines of a passphrase file, which only its owner may read or write (as
    ``--generate-passphrases`` writes them); ValueError naming ``flag`` and the fix otherwise."""
    try:
        text = read_regular(Path(path), 1 << 20, private=True).decode("utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{flag}: {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        detail = err.strerror if isinstance(err, OSError) and err.strerror else "not UTF-8 text"
        raise ValueError(f"{flag}: {path}: {detail}") from None
    return [ln for ln in text.splitlines() if ln]


def share_passphrase_source(args: argparse.Namespace, share_paths: list[str]):
    """A ``passphrase_for(ShareFile)`` callable for opening: ``--passphrase-file`` once (one line
    per share, in ``--share`` order, or one line for all) or once per share (each holder's own
    file, in ``--share`` order); an env var serves all shares; otherwise prompt on a terminal."""
    by_path: dict[str, bytes] = {}
    sources: dict[str, str] = {}  # where each share's passphrase comes from, for a wrong one's error
    files = getattr(args, "passphrase_file", None) or []
    files = [files] if isinstance(files, str) else list(files)
    if files:
        texts = [passphrase_lines(f, "--passphrase-file") for f in files]
        if len(files) == len(share_paths) and len(files) > 1:
            if any(not t for t in texts):
                raise ValueError("--passphrase-file: a holder's passphrase file is empty")
            lines = [t[0] for t in texts]
        elif len(files) == 1 and len(texts[0]) in (1, len(share_paths)):
            lines = texts[0] * len(share_paths) if len(texts[0]) == 1 else texts[0]
        else:
            raise ValueError(f"--passphrase-file: give one file with 1 or {len(share_paths)} lines, or one file per "
                             f"--share ({len(share_paths)})")
        by_path = {str(Path(p).resolve()): ln.encode() for p, ln in zip(share_paths, lines)}
        for i, share_path in enumerate(share_paths):
            if len(files) > 1:
                where = f"--passphrase-file {files[i]}, the file given in --share order for it"
            elif len(texts[0]) == 1 and len(share_paths) > 1:
                where = (f"--passphrase-file {files[0]}, whose one line is used for all {len(share_paths)} shares; "
                         "each holder's own file: one --passphrase-file per --share, in the same order")
            else:
                where = f"line {i + 1} of --passphrase-file {files[0]} (one line per --share, in order)"
            sources[str(Path(share_path).resolve())] = where
    env_value = os.environ.get(args.passphrase_env) if getattr(args, "passphrase_env", None) else None
    if getattr(args, "passphrase_env", None) and not env_value:
        raise ValueError(f"--passphrase-env: environment variable {args.passphrase_env} is empty or unset")

    def passphrase_for(share: ShareFile) -> bytes | None:
        key = str(share.path.resolve())
        if key in by_path:
            return by_path[key]
        if env_value:
            return env_value.encode()
        if sys.stdin.isatty():
            return getpass.getpass(f"passphrase for {share.path}: ").encode()
        raise ValueError(f"{share.path} is passphrase-protected: give --passphrase-file or --passphrase-env")

    def source_of(share: ShareFile) -> str | None:
        key = str(share.path.resolve())
        if key in sources:
            return sources[key]
        return f"--passphrase-env {args.passphrase_env}" if env_value else None

    passphrase_for.source_of = source_of
    return passphrase_for


def _master(args: argparse.Namespace, keystore: Keystore) -> bytes:
    keep_memory_private()  # passphrases and the master key closed to same-user readers (review 7, finding 2)
    master, _ = reconstruct_master(args.share, keystore, share_passphrase_source(args, args.share))
    return master


@clean_errors
def _init(args: argparse.Namespace) -> int:
    start = time.time() if args.start is None else parse_time(args.start, "--start")
    epoch = parse_duration(args.epoch, "--epoch")
    retention = parse_duration(args.retention, "--retention")
    horizon = parse_duration(args.horizon, "--horizon")
    if not 1 <= args.threshold <= args.shares <= 255:
        raise ValueError(f"--threshold K must be between 1 and --shares N (at most 255), got K={args.threshold} "
                         f"N={args.shares}")
    if args.threshold == 1 and not args.allow_single_share:
        raise ValueError("--threshold 1 makes every share a copy of the master key; use 2 or more, or add "
                         "--allow-single-share if one holder alone may open records")
    out = Path(args.out)
    for existing in ("authority.pub", "keystore", "shares"):
        if (out / existing).exists():
            raise ValueError(f"{out} already holds key material ({existing}); refusing to overwrite it")
    _check_apart(args, out)
    from facesel.vault.authority import epoch_count_problem

    if (problem := epoch_count_problem(start, horizon, epoch)) is not None:  # before the holders' passphrases
        raise ValueError(problem)
    phrases = new_passphrases(args, args.shares)
    pub = create_authority(
        out, shares=args.shares, threshold=args.threshold, epoch_seconds=epoch, retention_seconds=retention,
        horizon_seconds=horizon, start=start, passphrases=phrases, kdf_level=args.kdf_level,
        allow_single_share=args.allow_single_share, insecure_kdf=args.insecure_kdf_for_tests,
        allow_shared_passphrase=args.one_passphrase_for_all, share_dirs=args.share_out)
    save_generated(args, phrases)
    where = ", ".join(args.share_out) if args.share_out else out / "shares"
    print(f"authority {pub.authority_id}: {pub.threshold}-of-{pub.shares} shares in {where}")
    print(f"  fingerprint {pub.fingerprint}  (cameras pin this: facesel camera init --authority-fingerprint ...)")
    print(f"  {len(pub.epochs)} epoch keys from {format_time(pub.epochs[0].not_before)} "
          f"to {format_time(pub.epochs[-1].not_after)}; retention {format_duration(pub.retention_seconds)}")
    if retention < epoch:  # valid (README, "Privacy notes"), but the copies' bound is then mostly the epoch
        print(f"  note: the retention ({format_duration(retention)}) is shorter than an epoch "
              f"({format_duration(epoch)}): each record is still deleted {format_duration(retention)} after its "
              f"seal, but a copy made outside the vault stays openable until its epoch's secret is shredded, up "
              f"to an epoch plus the retention ({format_duration(epoch)} + {format_duration(retention)}) after the "
              "seal; an --epoch no longer than the retention keeps that under twice the retention")
    print(f"  cameras get: {out / 'authority.pub'}   keep offline: {out / 'keystore'}")
    if args.generate_passphrases:
        print(f"  passphrases: {Path(args.generate_passphrases)}/holder-<i>.txt, one per holder")
    print("  hand each share file (and, separately, its passphrase) to a different holder; delete them here")
    if not args.share_out:
        warn_shares_together(out / "shares", pub.threshold, pub.shares)
    return 0


def _authority_dir(value) -> Path:
    """``--dir``, checked before any share is read: named with what it is instead."""
    from facesel.vault.keys import authority_dir_problem

    problem = authority_dir_problem(value)
    if problem is not None:
        raise FileNotFoundError(f"--dir {value}: {problem}")
    return Path(value)


@clean_errors
def _register(args: argparse.Namespace) -> int:
    directory = _authority_dir(args.dir)
    camera = CameraPublic.load(args.camera)
    pub = registered_already(directory, camera)
    if pub is not None:  # before any share is asked for; nothing is signed or written
        print(f"authority {pub.authority_id}: camera {camera.camera_id} is already registered with this key: nothing "
              f"changed ({directory / 'authority.pub'} serial {pub.serial}, {len(pub.cameras)} camera(s))")
        return 0
    pub = register_camera(directory, _master(args, Keystore(directory / "keystore")), camera)
    print(f"authority {pub.authority_id}: camera {camera.camera_id} registered ({len(pub.cameras)} camera(s)); "
          f"give it the new {directory / 'authority.pub'}")
    return 0


@clean_errors
def _revoke_camera(args: argparse.Namespace) -> int:
    directory = _authority_dir(args.dir)
    since = time.time() if args.from_time is None else parse_time(args.from_time, "--from")
    pub = revoke_camera(directory, _master(args, Keystore(directory / "keystore")), args.camera, since)
    revoked = pub.revoked_from(args.camera)
    if revoked is not None and revoked < since:
        print(f"authority {pub.authority_id}: camera {args.camera}'s key is already revoked from the earlier "
              f"{format_time(revoked)}; nothing changed")
        return 0
    print(f"authority {pub.authority_id}: camera {args.camera}'s key revoked from {format_time(since)} "
          f"(authority.pub serial {pub.serial}): records it sealed from then on are refused")
    print(f"  give the new {directory / 'authority.pub'} to the central store (facesel central init --authority), "
          "the cameras and whoever verifies bundles; records dated earlier stay valid (their seal time is the "
          "key holder's word)")
    return 0


@clean_errors
def _extend(args: argparse.Namespace) -> int:
    directory = _authority_dir(args.dir)
    until = parse_time(args.until, "--until")
    before = (directory / "authority.pub").read_bytes() if (directory / "authority.pub").is_file() else None
    if before is not None:  # a --until too far is said before the holders give their shares
        from facesel.vault.authority import extension_problem
        from facesel.vault.keys import AuthorityPublic

        if (problem := extension_problem(AuthorityPublic.load(directory / "authority.pub"), until)) is not None:
            raise ValueError(problem)
    pub = extend_authority(directory, _master(args, Keystore(directory / "keystore")), until)
    if before is not None and (directory / "authority.pub").read_bytes() == before:
        # Idempotent, like register-camera: every epoch up to --until exists; the file is unchanged.
        print(f"authority {pub.authority_id}: epoch keys already reach {format_time(pub.epochs[-1].not_after)}, "
              f"past --until {format_time(until)}; nothing changed")
        return 0
    print(f"authority {pub.authority_id}: epoch keys now end at {format_time(pub.epochs[-1].not_after)}; "
          f"give cameras the new {directory / 'authority.pub'}")
    return 0


@clean_errors
def _shred(args: argparse.Namespace) -> int:
    now = time.time() if args.now is None else parse_time(args.now, "--now")
    directory = _authority_dir(args.dir)
    if args.dry_run:
        done = shred_expired(directory, now=now, dry_run=True)
        print(f"would shred {len(done)} epoch secret(s)" + (f": {', '.join(map(str, done))}" if done else ""))
        return 0
    if not args.share:
        raise ValueError("shredding needs K shares (--share, repeated): the remaining epochs are re-wrapped "
                         "under a fresh master key and new shares are issued")
    # Before any passphrase is asked for; shred_expired checks again and logs an allowed override.
    checked_purge_time(now, time.time(), args.allow_future_now, lambda *_: None, what="shred epoch secrets")
    keystore = Keystore(directory / "keystore")
    master = _master(args, keystore)
    if not shreddable_epochs(keystore, now, signed_terms(directory, keystore)):
        print("shredded 0 epoch secret(s); the master key and the shares are unchanged")
        return 0
    _check_apart(args, directory, prefix="new_")
    phrases = new_passphrases(args, int(keystore.meta["shares"]), prefix="new_")
    done = shred_expired(directory, now=now, master=master, passphrases=phrases, kdf_level=args.kdf_level,
                         insecure_kdf=args.insecure_kdf_for_tests, allow_shared_passphrase=args.one_passphrase_for_all,
                         allow_future=args.allow_future_now)
    save_generated(args, phrases, prefix="new_")
    print(f"shredded {len(done)} epoch secret(s): {', '.join(map(str, done))}")
    print(f"  the other epochs are re-wrapped under a new master key; new shares in {directory / 'shares'}.")
    print("  Every holder must destroy their old share: old shares with an old keystore backup would open the "
          "shredded epochs.")
    warn_shares_together(directory / "shares", int(keystore.meta["threshold"]), int(keystore.meta["shares"]))
    return 0


def add_passphrase_sources(p: argparse.ArgumentParser) -> None:
    """Add ``--passphrase-file`` and ``--passphrase-env`` (the passphrases of protected shares) to ``p``."""
    p.add_argument("--passphrase-file", action="append", metavar="FILE",
                   help="passphrases of protected shares: one file with one per line in --share order, or one "
                        "file per --share (repeat, in --share order)")
    p.add_argument("--passphrase-env", metavar="VAR", help="environment variable holding the passphrase of all shares")


def _add_new_passphrases(p: argparse.ArgumentParser, prefix: str = "") -> None:
    dest = prefix.replace("-", "_")
    p.add_argument(f"--{prefix}passphrase", dest=f"{dest}passphrase", action="store_true",
                   help="prompt for a passphrase for each new share")
    p.add_argument(f"--{prefix}passphrase-file", dest=f"{dest}passphrase_file", metavar="FILE",
                   help="file with one passphrase per new share, one a line")
    p.add_argument(f"--{prefix}passphrase-env", dest=f"{dest}passphrase_env", metavar="VAR",
                   help="environment variable holding one passphrase for all new shares (several shares: only with "
                        "--one-passphrase-for-all)")
    p.add_argument(f"--{prefix}generate-passphrases", dest=f"{dest}generate_passphrases", metavar="DIR",
                   help="generate a random passphrase per holder into DIR/holder-<i>.txt (keep DIR apart from the shares)")
    p.add_argument(f"--{prefix}no-passphrase", dest=f"{dest}no_passphrase", action="store_true",
                   help="leave the new shares unprotected (tests only)")
    p.add_argument("--kdf-level", choices=sorted(KDF_LEVELS), default=None,
                   help="Argon2id cost for protected shares (default: FACESEL_KDF_LEVEL or moderate; 'min' only "
                        "with --insecure-kdf-for-tests)")
    p.add_argument("--insecure-kdf-for-tests", action="store_true",
                   help="accept the Argon2id level 'min' (8 KiB, 1 pass: thousands of guesses a second); tests only")
    p.add_argument("--one-passphrase-for-all", action="store_true",
                   help="accept the same passphrase for several shares (one person who knows it unlocks them all)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facesel authority`` (init, register, revoke-camera, extend, shred, head) to ``subparsers``."""
    authority = subparsers.add_parser("authority", help="offline key material: init, register, revoke-camera, "
                                      "extend, shred, head")
    sub = authority.add_subparsers(dest="authority_command", metavar="ACTION", required=True)

    p = sub.add_parser("init", help="make epoch keys, the master key's K-of-N shares and a signed authority.pub")
    p.add_argument("--out", required=True, help="new folder for authority.pub, keystore/ and shares/")
    p.add_argument("--shares", type=int_within(1, 255), required=True, help="N: number of share holders (1 to 255)")
    p.add_argument("--threshold", type=int_within(1, 255), required=True,
                   help="K: shares needed to open records (at least 2; at most N)")
    p.add_argument("--allow-single-share", action="store_true", help="accept K=1 (every share is then the master key)")
    p.add_argument("--epoch", default="1d", help="epoch length (default 1d); one key pair per epoch")
    p.add_argument("--retention", default="30d", help="how long records are kept (default 30d)")
    p.add_argument("--horizon", default="365d", help="how far ahead epoch keys are made (default 365d)")
    p.add_argument("--start", type=time_text, help=f"first epoch's time ({TIME_FORMS}; default now)")
    p.add_argument("--share-out", action="append", metavar="DIR",
                   help="write share i to the i-th --share-out folder (repeat once per share: each holder's own "
                        "drive) instead of all together in OUT/shares")
    _add_new_passphrases(p)
    p.set_defaults(func=_init)

    p = sub.add_parser("register", help="accept a camera: add its public key to authority.pub (needs K shares)")
    p.add_argument("--dir", required=True, help="the authority folder")
    p.add_argument("--camera", required=True, help="the camera's camera.pub (or its folder)")
    p.add_argument("--share", action="append", required=True, help="a share file (repeat K times)")
    add_passphrase_sources(p)
    p.set_defaults(func=_register)

    p = sub.add_parser("revoke-camera", help="stop trusting a camera's key from a time on (a stolen camera); "
                       "re-signs authority.pub (needs K shares)")
    p.add_argument("--dir", required=True, help="the authority folder")
    p.add_argument("--camera", required=True, metavar="ID", help="the registered camera id whose key is revoked")
    p.add_argument("--from", type=time_text, dest="from_time", metavar="TIME",
                   help=f"records sealed at or after this time are refused ({TIME_FORMS}; default now): the last "
                        "moment the key is known to have been only in the camera's hands, e.g. the theft's time. "
                        "Earlier records stay valid: their seal time is the key holder's word")
    p.add_argument("--share", action="append", required=True, help="a share file (repeat K times)")
    add_passphrase_sources(p)
    p.set_defaults(func=_revoke_camera)

    p = sub.add_parser("extend", help="make epoch keys further ahead (needs K shares)")
    p.add_argument("--dir", required=True, help="the authority folder")
    p.add_argument("--share", action="append", required=True, help="a share file (repeat K times)")
    p.add_argument("--until", type=time_text, required=True, help=f"make keys up to this time ({TIME_FORMS})")
    add_passphrase_sources(p)
    p.set_defaults(func=_extend)

    p = sub.add_parser("shred", help="destroy epoch secrets whose retention has passed, then re-key (K shares)")
    p.add_argument("--dir", required=True, help="the authority folder")
    p.add_argument("--now", type=time_text, metavar="TIME", help=f"current time ({TIME_FORMS}; default now)")
    p.add_argument("--dry-run", action="store_true", help="only list the epochs that would be shredded")
    p.add_argument("--allow-future-now", action="store_true",
                   help="accept a --now more than 5 minutes ahead of the clock (logged): it shreds epochs early")
    p.add_argument("--share", action="append", default=[], help="a share file (repeat K times)")
    add_passphrase_sources(p)
    _add_new_passphrases(p, prefix="new-")
    p.set_defaults(func=_shred)

    from facesel.cli.authority_head import register_head

    register_head(sub)
