"""An ArgumentParser that answers a mistyped subcommand or flag with "did you mean ...?"."""

from __future__ import annotations

import argparse
import re

from facesel.serve.suggest import did_you_mean

_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


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
        if self.after_parse is not None:
            self.after_parse(self, namespace)
        return namespace, extras

    def parse_args(self, args=None, namespace=None):
        """argparse's, with a "did you mean" hint for each unknown option."""
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            options = self._options_of(namespace)
            hints = "".join(did_you_mean(extra.split("=", 1)[0], options).replace(" (", f" ({extra}: ", 1)
                            for extra in extras if extra.startswith("-"))
            self.error(f"unrecognized arguments: {' '.join(extras)}{hints}")
        return namespace

    def error(self, message: str):
        found = _INVALID_CHOICE.search(message)
        if found:
            message += did_you_mean(found.group(1), re.findall(r"'([^']*)'", found.group(2)))
        super().error(message)

    def _options_of(self, namespace) -> list[str]:
        """Flags of the subcommand that was chosen (or of this parser)."""
        parser = self
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = getattr(namespace, action.dest, None)
                parser = action.choices.get(chosen, self)
        return [s for s in parser._option_string_actions if s.startswith("--")]
