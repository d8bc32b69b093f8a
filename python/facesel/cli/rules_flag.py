"""``eval tracks --rules``: names up to the next flag, so ``--rules default VIDEO`` took the video in as
a rule and argparse then said only "the following arguments are required: VIDEO".

The rules are comma separated, space separated up to the next flag, or the flag repeated
(``--rules default --rules detector``). Trailing words of ``--rules`` that are no rule name but a
file or folder that exists are the videos: a rule of that name could not run, so reading them as
videos changes the meaning of no command that worked. Otherwise a missing VIDEO is said with the way
out (VIDEO before ``--rules``, or ``--`` after the rules).

For that, VIDEO is declared optional (``nargs="*"``) to argparse; :func:`show_videos_as_required`
keeps its usage line from saying so.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def show_videos_as_required(parser: argparse.ArgumentParser, dest: str = "videos") -> None:
    """Fix ``parser.usage`` to the line argparse writes for a required ``nargs="+"`` positional
    ``dest`` (``VIDEO [VIDEO ...]``), not the ``[VIDEO ...]`` of the ``nargs="*"`` it is declared with.

    Call it after the last ``add_argument``: the line is argparse's own, formatted once with the
    positional's nargs set to "+" for the while, so it lists every flag and wraps as argparse does."""
    action = next(a for a in parser._actions if a.dest == dest)
    declared = action.nargs
    action.nargs = "+"
    try:
        line = parser.format_usage()
    finally:
        action.nargs = declared
    # format_usage gives "usage: PROG ...\n"; parser.usage is formatted with %-style "%(prog)s".
    body = line.split(": ", 1)[1].rstrip("\n").replace("%", "%%")
    parser.usage = body.replace(parser.prog, "%(prog)s", 1)


def split_videos_from_rules(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Move the videos that ``--rules`` took in to ``args.videos`` (after those given before it);
    ``parser.error`` (exit 2) when no VIDEO is left.

    ``args.rules``: list of str or None, each item one or more comma separated names; on return a
    flat list of names (or None: all rules). ``args.videos``: list of Path."""
    from facesel.eval.track_rules import rule_names

    if args.rules:
        known = set(rule_names())
        names = [name for item in args.rules for name in item.split(",") if name]
        taken = []
        while names and names[-1] not in known and Path(names[-1]).exists():
            taken.insert(0, Path(names.pop()))
        if taken and not names:
            parser.error(f"argument --rules: expected a rule name before {taken[0]} (a video; leave out --rules "
                         "for all rules)")
        args.videos = [*args.videos, *taken]
        args.rules = names
    if not args.videos:
        if args.rules:
            last = args.rules[-1]
            parser.error(f"the following arguments are required: VIDEO (--rules takes every word after it up to "
                         f"the next flag, and {last!r}, its last, is no rule name nor a file or folder that exists: "
                         f"put VIDEO before --rules, or end the rules with --, as in "
                         f"'--rules {','.join(args.rules[:-1]) or 'default'} -- VIDEO')")
        parser.error("the following arguments are required: VIDEO")
