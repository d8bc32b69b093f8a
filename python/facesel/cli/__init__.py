"""The ``facesel`` command line. Each area registers its own subcommands from its own module."""

from __future__ import annotations

import argparse
import importlib
import sys

from facesel import __version__
from facesel.cli.suggest_parser import SuggestingArgumentParser
from facesel.core_dumps import forbid_core_dumps

# One module per area; each exposes ``register(subparsers)`` and sets ``func`` on its parsers.
_SUBCOMMAND_MODULES = [
    "facesel.cli.info",
    "facesel.cli.run",
    "facesel.cli.train",
    "facesel.cli.calibrate",
    "facesel.cli.score",
    "facesel.cli.eval",
    "facesel.cli.authority",
    "facesel.cli.camera",
    "facesel.cli.vault_cmds",
    "facesel.cli.central",
    "facesel.cli.batch",
    "facesel.cli.demo",
    "facesel.cli.serve",
    "facesel.cli.review",
]


EXIT_CODES = (
    "Exit status (README.md, 'Exit codes'): 0 done; 1 an error, said in one line on stderr; 2 a usage error "
    "(a mistyped flag, a value out of range); 3 'run': the input ended early, 'serve status': a camera is "
    "down, 'verify-bundle': intact but not checked against --fingerprint; 130 stopped by Ctrl-C; 143 'run' "
    "stopped by SIGTERM before the end of a file. 'facesel COMMAND -h' for a command's options."
)


def build_parser() -> argparse.ArgumentParser:
    """The ``facesel`` argument parser with every subcommand registered (:data:`_SUBCOMMAND_MODULES`)."""
    parser = SuggestingArgumentParser(
        prog="facesel",
        description="Keep one encrypted, high-quality face snapshot per passer-by; recognise nobody.",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"facesel {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def command_name(args: argparse.Namespace) -> str:
    """The words a user typed to pick the command, for the error prefix: ``authority init``, ``run``.

    A command with actions keeps the chosen one in ``<command>_command`` (``authority_command``,
    ``central_command``, ``audit_command``, ``eval_command``). Without it, ``facesel authority:
    error: ...`` did not say which action failed, where argparse's own usage errors say
    ``facesel authority init: error: ...`` (ux25).
    """
    action = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {action}" if action else args.command


def main(argv: list[str] | None = None) -> int:
    """Run ``facesel`` with ``argv`` (default: the command line); returns the exit status (see ``EXIT_CODES``)."""
    # Frames, crops, passphrases, keys and opened snapshots live in this process: a crash must not
    # write them to a core file (review 5, finding 2). First, before any of them is read.
    forbid_core_dumps()
    try:
        # Building the parser imports every command's module (a second or two on a loaded machine):
        # a Ctrl-C meanwhile, a user who saw a mistyped command, ended in a 30-line traceback (ux26).
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except EOFError:
        # A prompt (a passphrase) read from a standard input that is not a terminal and ended.
        print(f"facesel {command_name(args)}: error: standard input ended while a passphrase was being asked "
              "for (it is not a terminal); give the passphrases with --passphrase-file FILE (one per line) "
              "or --passphrase-env VAR", file=sys.stderr)
        return 1
    except (ValueError, OSError, RuntimeError) as err:
        # User-facing errors: one clear line and a non-zero exit, not a traceback. OSError as a
        # whole, not only FileNotFoundError and PermissionError: a folder given where a file
        # belongs (IsADirectoryError), a file where a folder belongs (NotADirectoryError), a full
        # disk are the operator's to fix, and the message names the path.
        print(f"facesel {command_name(args)}: error: {err}", file=sys.stderr)
        return 1
