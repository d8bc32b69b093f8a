"""``facesel authority head`` and ``--expect-authority FILE``: the authority folder's explicit witness.

``facesel authority head --dir ADIR --out FILE`` writes the folder's state (``authority.pub``'s serial
and fingerprint, the signed head of its ``audit.log``) to a file kept elsewhere; every command that
reads the authority (``open``, ``audit verify``, ``central init``, ``central open``, ``review``) takes
``--expect-authority FILE`` and refuses a folder that no longer holds that state, as ``facesel audit
head`` / ``audit verify --expect`` do for a vault's log (see :mod:`facesel.vault.authority_witness`).
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from facesel.cli.vault_errors import clean_errors
from facesel.vault.authority_witness import authority_head, expectation_problems, read_authority_head
from facesel.vault.fsutil import atomic_write
from facesel.writable import refuse_unwritable_file

EXPECT_HELP = ("a state of the authority's folder witnessed earlier (a file from 'facesel authority head --out'): "
               "refused when authority.pub's serial is lower or the authority's log no longer holds that head")


def add_expect_authority(p: argparse.ArgumentParser) -> None:
    """Add ``--expect-authority FILE`` to a command that reads the authority."""
    p.add_argument("--expect-authority", metavar="FILE", help=EXPECT_HELP)


def refuse_unwitnessed(args: argparse.Namespace, pub_path: Path) -> None:
    """ValueError naming both sides when the authority folder of ``pub_path`` is older than
    ``--expect-authority`` witnessed (nothing when the option is not given)."""
    given = getattr(args, "expect_authority", None)
    if given is None:
        return
    problems = expectation_problems(pub_path, read_authority_head(given), f"--expect-authority {given}")
    if problems:
        raise ValueError("; ".join(problems))


@clean_errors
def _authority_head(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if not (folder / "authority.pub").exists():
        raise FileNotFoundError(f"--dir {folder}: no authority.pub there; give the authority's folder")
    head = authority_head(folder)
    text = json.dumps(head, indent=1, sort_keys=True)
    if args.out:
        if Path(args.out).is_dir():
            raise ValueError(f"--out {args.out} is a folder: give the head file's path, e.g. "
                             f"{Path(args.out) / 'authority-head.json'}")
        refuse_unwritable_file("--out", args.out, replaced=True)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(Path(args.out), (text + "\n").encode("utf-8"), mode=0o644)
        log = "no log yet" if head["log"] is None else f"log seq {head['log']['seq']}"
        print(f"authority head (authority.pub serial {head['serial']}, {log}) written to {args.out}; keep a copy "
              f"elsewhere, check later with --expect-authority {shlex.quote(str(args.out))} (open, audit verify, "
              "central init, central open, review)")
    else:
        print(text)
    return 0


def register_head(sub: argparse._SubParsersAction) -> None:
    """Add ``facesel authority head`` to the ``authority`` command's ``sub``."""
    p = sub.add_parser("head", help="print the authority folder's state (authority.pub serial, log head), to be "
                       "filed away by a witness")
    p.add_argument("--dir", required=True, help="the authority folder")
    p.add_argument("--out", help="also write the head to this file")
    p.set_defaults(func=_authority_head)
