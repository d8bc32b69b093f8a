"""``facesel authority init|extend|shred``: the offline authority's key material and crypto-shredding."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path

from facesel.vault.authority import create_authority, extend_authority
from facesel.vault.keys import KDF_LEVELS, Keystore
from facesel.vault.retention import shred_expired
from facesel.vault.shares import ShareFile, reconstruct_master
from facesel.vault.timeparse import format_time, parse_duration, parse_time


def _passphrases_for_init(args: argparse.Namespace) -> list[bytes | None] | None:
    """One passphrase per share, from a file (one line each, or one line for all), an env var
    (the same for all), or prompts (``--passphrase``); None when none is asked for."""
    n = args.shares
    if args.passphrase_file:
        lines = [ln for ln in Path(args.passphrase_file).read_text(encoding="utf-8").splitlines() if ln]
        if len(lines) not in (1, n):
            raise ValueError(f"--passphrase-file must have 1 or {n} non-empty lines, got {len(lines)}")
        return [ln.encode() for ln in (lines * n if len(lines) == 1 else lines)]
    if args.passphrase_env:
        value = os.environ.get(args.passphrase_env)
        if not value:
            raise ValueError(f"--passphrase-env: environment variable {args.passphrase_env} is empty or unset")
        return [value.encode()] * n
    if args.passphrase:
        out = []
        for i in range(1, n + 1):
            first = getpass.getpass(f"passphrase for share {i} of {n}: ")
            if not first or first != getpass.getpass(f"repeat passphrase for share {i}: "):
                raise ValueError(f"passphrases for share {i} are empty or do not match")
            out.append(first.encode())
        return out
    return None


def share_passphrase_source(args: argparse.Namespace, share_paths: list[str]):
    """A ``passphrase_for(ShareFile)`` callable for opening: file lines follow the order of
    ``--share``; an env var serves all shares; otherwise prompt on a terminal."""
    by_path: dict[str, bytes] = {}
    if getattr(args, "passphrase_file", None):
        lines = [ln for ln in Path(args.passphrase_file).read_text(encoding="utf-8").splitlines() if ln]
        if len(lines) not in (1, len(share_paths)):
            raise ValueError(f"--passphrase-file must have 1 or {len(share_paths)} non-empty lines, got {len(lines)}")
        lines = lines * len(share_paths) if len(lines) == 1 else lines
        by_path = {str(Path(p).resolve()): ln.encode() for p, ln in zip(share_paths, lines)}
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

    return passphrase_for


def _init(args: argparse.Namespace) -> int:
    start = time.time() if args.start is None else parse_time(args.start, "--start")
    pub = create_authority(
        args.out, shares=args.shares, threshold=args.threshold,
        epoch_seconds=parse_duration(args.epoch, "--epoch"), retention_seconds=parse_duration(args.retention, "--retention"),
        horizon_seconds=parse_duration(args.horizon, "--horizon"), start=start,
        passphrases=_passphrases_for_init(args), kdf_level=args.kdf_level)
    out = Path(args.out)
    print(f"authority {pub.authority_id}: {pub.threshold}-of-{pub.shares} shares in {out / 'shares'}")
    print(f"  {len(pub.epochs)} epoch keys from {format_time(pub.epochs[0].not_before)} "
          f"to {format_time(pub.epochs[-1].not_after)}; retention {pub.retention_seconds:g} s")
    print(f"  cameras get: {out / 'authority.pub'}   keep offline: {out / 'keystore'}")
    print("  hand each share file to a different holder and delete it here")
    return 0


def _extend(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    keystore = Keystore(directory / "keystore")
    master, _ = reconstruct_master(args.share, keystore, share_passphrase_source(args, args.share))
    pub = extend_authority(directory, master, parse_time(args.until, "--until"))
    print(f"authority {pub.authority_id}: epoch keys now end at {format_time(pub.epochs[-1].not_after)}; "
          f"give cameras the new {directory / 'authority.pub'}")
    return 0


def _shred(args: argparse.Namespace) -> int:
    now = time.time() if args.now is None else parse_time(args.now, "--now")
    done = shred_expired(args.dir, now=now, dry_run=args.dry_run)
    verb = "would shred" if args.dry_run else "shredded"
    print(f"{verb} {len(done)} epoch secret(s)" + (f": {', '.join(map(str, done))}" if done else ""))
    return 0


def _add_passphrase_sources(p: argparse.ArgumentParser) -> None:
    p.add_argument("--passphrase-file", help="file with one passphrase per share (in --share order), or one for all")
    p.add_argument("--passphrase-env", metavar="VAR", help="environment variable holding the passphrase of all shares")


def register(subparsers: argparse._SubParsersAction) -> None:
    authority = subparsers.add_parser("authority", help="offline key material: init, extend, shred")
    sub = authority.add_subparsers(dest="authority_command", metavar="ACTION", required=True)

    p = sub.add_parser("init", help="make epoch keys, the master key's K-of-N shares and authority.pub")
    p.add_argument("--out", required=True, help="new folder for authority.pub, keystore/ and shares/")
    p.add_argument("--shares", type=int, required=True, help="N: number of share holders")
    p.add_argument("--threshold", type=int, required=True, help="K: shares needed to open records")
    p.add_argument("--epoch", default="1d", help="epoch length (default 1d); one key pair per epoch")
    p.add_argument("--retention", default="30d", help="how long records are kept (default 30d)")
    p.add_argument("--horizon", default="365d", help="how far ahead epoch keys are made (default 365d)")
    p.add_argument("--start", help="first epoch's time (ISO 8601 or Unix seconds; default now)")
    p.add_argument("--passphrase", action="store_true", help="prompt for a passphrase for each share")
    _add_passphrase_sources(p)
    p.add_argument("--kdf-level", choices=sorted(KDF_LEVELS), default=None,
                   help="Argon2id cost for protected shares (default: FACESEL_KDF_LEVEL or moderate)")
    p.set_defaults(func=_init)

    p = sub.add_parser("extend", help="make epoch keys further ahead (needs K shares)")
    p.add_argument("--dir", required=True, help="the authority folder")
    p.add_argument("--share", action="append", required=True, help="a share file (repeat K times)")
    p.add_argument("--until", required=True, help="make keys up to this time")
    _add_passphrase_sources(p)
    p.set_defaults(func=_extend)

    p = sub.add_parser("shred", help="destroy epoch secrets whose retention has passed (crypto-shredding)")
    p.add_argument("--dir", required=True, help="the authority folder")
    p.add_argument("--now", help="current time (ISO 8601 or Unix seconds; default now)")
    p.add_argument("--dry-run", action="store_true", help="only list the epochs that would be shredded")
    p.set_defaults(func=_shred)
