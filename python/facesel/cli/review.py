"""``facesel review`` (the investigator's desk in a browser) and ``facesel verify-bundle``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from facesel.cli.authority_head import add_expect_authority, refuse_unwitnessed
from facesel.cli.vault_cmds import warn_authority_log_behind
from facesel.cli.argtypes import number_within, port_number
from facesel.cli.argv_secrets import refuse_password_on_command_line
from facesel.cli.vault_errors import clean_errors

ENV_DSN = "FACESEL_CENTRAL"  # as facesel central and sync read it

UNPINNED = 3  # verify-bundle's exit status for an intact bundle whose authority key was not pinned


@clean_errors
def _review(args: argparse.Namespace) -> int:
    try:
        from facesel.review.serve import serve
    except ImportError as err:
        raise RuntimeError(f"facesel review needs the 'review' extra (pip install 'facesel[review]'): {err}") from None
    central = args.central
    if central == "":  # --central without a value: the DSN (and its password) from the environment
        central = os.environ.get(ENV_DSN)
        if not central:
            raise ValueError(f"--central without a DSN reads it from ${ENV_DSN}, which is empty or unset")
    elif central is not None:
        refuse_password_on_command_line(central, "--central", ENV_DSN)
    from facesel.vault.keys import keystore_problem

    problem = keystore_problem(args.keystore)  # named by its flag before anything starts
    if problem is not None:
        raise ValueError(f"--keystore {args.keystore}: {problem}")
    _warn_when_openings_cannot_be_logged(args)
    refuse_unwitnessed(args, Path(args.keystore).parent / "authority.pub")
    if args.vault:
        warn_authority_log_behind(Path(args.keystore).parent, Path(args.vault), "facesel review")
    serve(Path(args.vault) if args.vault else None, Path(args.keystore), host=args.host, port=args.port,
          allow_remote=args.allow_remote, idle_seconds=args.idle, passphrase_delay=args.passphrase_delay,
          central_dsn=central, public_origin=args.public_origin, tls_cert=args.tls_cert, tls_key=args.tls_key)
    return 0


def _warn_when_openings_cannot_be_logged(args: argparse.Namespace) -> None:
    """A vault (or the authority's folder) whose audit log cannot be written can be searched, not
    opened: an opening is logged first. Said at the start (ux17: the holders learnt it only after
    giving their shares); searching a read-only evidence copy stays possible."""
    from facesel.writable import unloggable_reason

    logs = [(f"the authority's keystore {args.keystore}", Path(args.keystore).parent / "audit.log")]
    if args.vault:
        logs.insert(0, (f"--vault {args.vault}", Path(args.vault) / "audit.log"))
    for what, log in logs:
        reason = unloggable_reason(log)
        if reason is not None:
            print(f"review: WARNING: {what}: its audit log {log} cannot be written ({reason}): records can be "
                  "found and listed, but not opened (an opening is logged there first)", file=sys.stderr)


def _shown(text: object) -> str:
    """``text`` for the terminal: every character that is not printable (ESC, CR, C1 controls, bidi
    overrides, ...) written as its escape. A report line quotes the bundle's words (a note, an
    error naming a field), and without --fingerprint those are anyone's: raw, a note's cursor
    moves rewrote the verdict line above it to "VERIFIED" (review round 13c, finding 3)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


@clean_errors
def _verify_bundle(args: argparse.Namespace) -> int:
    from facesel.review.verify_bundle import BundleError, verify_bundle
    from facesel.vault.keys import AuthorityPublic
    from facesel.vault.signing import check_fingerprint

    # "is not None": `--fingerprint "$FP"` with FP unset ("") was read as no pin, exit 3 (ux19)
    pin = check_fingerprint(args.fingerprint, "--fingerprint") if args.fingerprint is not None else None
    if args.authority is not None and not os.path.isfile(args.authority):  # "/x does not exist" named no flag (ux25)
        raise FileNotFoundError(f"--authority {args.authority}: "
                                f"{'a folder' if os.path.isdir(args.authority) else 'no such file'}; give the later "
                                "authority.pub file")
    try:
        newer = None if args.authority is None else AuthorityPublic.load(args.authority)
        report = verify_bundle(args.bundle, pin, newer)
    except BundleError as err:
        print(f"{_shown(args.bundle)}: NOT VERIFIED: {_shown(err)}")
        return 1
    if pin is None:
        # Anyone can make a bundle that is consistent with a key of their own: without a fingerprint
        # from outside the bundle, "intact" is all that was shown, and the verdict must say so first.
        print(f"{_shown(args.bundle)}: NOT VERIFIED AS THE AUTHORITY'S: intact and self-consistent, but signed by "
              f"a key taken from the bundle itself (fingerprint {report.fingerprint}); anyone can make such a bundle. "
              f"Run again with --fingerprint FP from a trusted channel.{_not_a_pin(args.authority)} What it would prove:")
    else:
        print(f"{_shown(args.bundle)}: VERIFIED (case {_shown(repr(report.case))}, {len(report.records)} record(s)). "
              "It proves:")
    for line in report.proven:
        print(f"  - {_shown(line)}")
    for line in report.caveats:
        print(f"  note: {_shown(line)}")
    return 0 if pin is not None else UNPINNED


def _not_a_pin(authority) -> str:
    """What the unpinned verdict adds when ``--authority FILE`` was given: a user who gave the
    authority.pub they hold took it for the trust anchor, and the verdict read the same as without
    it (ux26). It is read for its revocations; a file, whoever wrote it, pins nothing."""
    if authority is None:
        return ""
    return (f" (--authority {_shown(authority)} was read for its revocations only: a file pins nothing, "
            "whoever may have written it)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facesel review`` and ``facesel verify-bundle`` to ``subparsers``."""
    p = subparsers.add_parser("review", help="the investigator's desk: find, open with K of N holders, view and "
                              "export evidence in a local browser page")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--vault", help="a camera's vault folder")
    where.add_argument("--central", metavar="DSN", nargs="?", const="",
                       help=f"the central store (PostgreSQL connection string); without a value, from ${ENV_DSN}, so "
                            "that its password is not on the command line (any local user can read those)")
    p.add_argument("--keystore", required=True,
                   help="the authority's keystore folder (the shares stay with their holders)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; any other needs --allow-remote)")
    p.add_argument("--port", type=port_number, default=0, help="port (default: a free one)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host (needs --tls-cert/--tls-key or an https --public-origin)")
    p.add_argument("--public-origin", metavar="URL",
                   help="the https://NAME[:PORT] browsers use through a TLS-terminating proxy: the only Host and "
                        "Origin accepted then; marks the session cookie Secure")
    p.add_argument("--tls-cert", metavar="PEM", help="serve TLS with this certificate chain (with --tls-key)")
    p.add_argument("--tls-key", metavar="PEM", help="the certificate's unencrypted private key")
    # the ranges of review/serve.py's MIN_IDLE..MAX_DELAY (it imports the desk), as flag types: a usage
    # error naming the flag (ux19), checked again by check_settings for Python callers
    p.add_argument("--idle", type=number_within(5.0, 86400.0), default=600.0,
                   help="seconds without a request before the session ends, and the desk with it (5 to 86400; "
                        "default 600)")
    p.add_argument("--passphrase-delay", type=number_within(0.5, 3600.0), default=2.0,
                   help="seconds a holder waits after a wrong passphrase (doubled after each further one; 0.5 to 3600; default 2)")
    add_expect_authority(p)
    p.set_defaults(func=_review)

    p = subparsers.add_parser("verify-bundle", help="check an evidence bundle offline: signatures, audit chain, "
                              "pictures against the sealed records; says what it proves")
    p.add_argument("bundle", help="the bundle zip (from facesel review or facesel open --bundle)")
    p.add_argument("--fingerprint", metavar="FP",
                   help="the authority fingerprint obtained from a trusted channel; without it the bundle is only "
                        "shown intact, not the authority's (exit status 3)")
    p.add_argument("--authority", metavar="FILE",
                   help="a later authority.pub of the bundle's authority: records sealed by a camera whose key it "
                        "revoked (at or after the revocation's time) are then refused")
    p.set_defaults(func=_verify_bundle)
