"""An ArgumentParser that answers a mistyped subcommand or flag with "did you mean ...?"."""

from __future__ import annotations

import argparse
import re

from facesel.serve.suggest import did_you_mean

_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


def operand_hint(extra: str, parser: argparse.ArgumentParser) -> str:
    """``" (--record: RECORD_ID is given without a flag: facesel open ... RECORD_ID)"`` when the
    unknown flag ``extra`` names one of ``parser``'s operands, else "". ``facesel run --input V``
    was answered "did you mean '--min-iou'?", ``open --record ID`` "did you mean '--reason'?" and
    ``verify-bundle --bundle B`` nothing at all (ux27): the closest flag, where the user had the
    right word for an operand."""
    stem = extra.lstrip("-").split("=", 1)[0].replace("-", "_").lower().rstrip("s")
    for action in parser._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction) or not stem:
            continue
        shown = str(action.metavar or action.dest)
        names = {action.dest.lower().rstrip("s"), shown.lower().rstrip("s")}
        if stem in names or any(name.startswith(stem + "_") for name in names):
            return f" ({extra}: {shown} is given without a flag: {parser.prog} ... {shown})"
    return ""


class SuggestingArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors suggest the closest subcommand, choice or flag.

    Subparsers made by ``add_subparsers`` get this class too (argparse's default)."""

    after_parse = None
    """Optional ``after_parse(parser, namespace)`` set on one (sub)parser: checks between its arguments
    that argparse cannot say (``eval tracks``: a VIDEO taken in by ``--rules``); it may call
    ``parser.error`` (exit 2, the subcommand's usage line)."""

    def parse_known_args(self, args=None, namespace=None):
        """argparse's, then ``after_parse`` (when set) on the namespace."""
        namespace, extras = super().parse_known_args(args, namespace)
        self._refuse_empty_values(namespace)
        if self.after_parse is not None:
            self.after_parse(self, namespace)
        return namespace, extras

    def _refuse_empty_values(self, namespace) -> None:
        """A usage error for an argument given as the empty string: no facesel flag or operand takes
        one, and ``--vault "$V"`` with V unset was read as no flag (``--fingerprint ""``: no pin,
        ``--expect ""``: no witness, ``--plaintext-out ""``: nothing written) or as the current
        folder (``--vault ""``, ``open --out ""``), found only after the models loaded (ux19). A flag
        whose value may be left out (``review --central``: ``const=""``) keeps that meaning."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) or action.const == "" or action.dest is argparse.SUPPRESS:
                continue
            value = getattr(namespace, action.dest, None)
            given = value if isinstance(value, list) else [value]
            if any(v == "" for v in given if isinstance(v, str)):
                name = max(action.option_strings, key=len) if action.option_strings else (action.metavar or action.dest)
                self.error(f"argument {name}: empty value (a shell variable left unset?)")

    def parse_args(self, args=None, namespace=None):
        """argparse's, with a "did you mean" hint for each unknown option; the error is the chosen
        subcommand's (``facesel demo: error: unrecognized arguments: --video x`` and demo's usage
        line: it was ``facesel: error: ...`` under the top usage, naming no subcommand; ux25)."""
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = self._chosen(namespace)
            options = [s for s in parser._option_string_actions if s.startswith("--")]
            hints = "".join(operand_hint(extra, parser) or
                            did_you_mean(extra.split("=", 1)[0], options).replace(" (", f" ({extra}: ", 1)
                            for extra in extras if extra.startswith("-"))
            parser.error(f"unrecognized arguments: {' '.join(extras)}{hints}")
        return namespace

    def error(self, message: str):
        found = _INVALID_CHOICE.search(message)
        if found:
            message += did_you_mean(found.group(1), re.findall(r"'([^']*)'", found.group(2)))
        super().error(message)

    def _chosen(self, namespace) -> argparse.ArgumentParser:
        """The innermost subcommand's parser that was chosen (``authority`` then ``init``), or this one."""
        parser = self
        while True:
            action = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
            chosen = None if action is None else action.choices.get(getattr(namespace, action.dest, None))
            if chosen is None:
                return parser
            parser = chosen
