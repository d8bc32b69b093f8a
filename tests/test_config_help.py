"""Every PipelineConfig setting's help renders on the command line (argparse formats help strings
with ``%``: a bare percent sign in one of them broke ``facesel run -h`` once)."""

from __future__ import annotations

import argparse
from dataclasses import fields

from facesel.config import PipelineConfig, add_arguments


def test_every_setting_renders_in_the_help():
    parser = argparse.ArgumentParser(prog="facesel run")
    add_arguments(parser)
    text = parser.format_help()
    for f in fields(PipelineConfig):
        assert "--" + f.name.replace("_", "-") in text


def _options_with_a_default(parser: argparse.ArgumentParser, path: str):
    """(command, option, default, help) of every option, in every subcommand, whose default is a value."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options_with_a_default(sub, f"{path} {name}")
        elif action.option_strings and action.default not in (None, False, True, [], argparse.SUPPRESS):
            yield path, action.option_strings[-1], action.default, action.help or ""


def test_every_option_with_a_default_states_it_in_its_help():
    # ux15: `facesel train -h` showed --lr and --base-channels, and `facesel review -h` --idle and
    # --passphrase-delay, without the value used when they are left out.
    from facesel.cli import build_parser

    found = list(_options_with_a_default(build_parser(), "facesel"))
    assert len(found) > 50  # the walk reached the subcommands
    silent = [f"{command} {option} (default {default!r})" for command, option, default, text in found
              if "default" not in text.lower()]
    assert silent == []


def test_the_top_level_help_states_the_exit_codes_the_readme_gives():
    # ux15: the exit codes were written only in README.md, not where a user of the command looks.
    import re
    from pathlib import Path

    from facesel.cli import build_parser

    text = " ".join(build_parser().format_help().split())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("**Exit codes.**"):].split("\n\n", 1)[0]
    for code in sorted(set(re.findall(r"\b(0|1|2|3|130|143)\b", paragraph)), key=int):
        assert re.search(rf"\b{code} ", text), code
    assert "Exit status" in text and "one line on stderr" in text and "usage error" in text


def test_no_help_shows_a_python_name_as_a_placeholder():
    # ux15: `facesel list -h`, `open -h` and `central list/open -h` showed "--from FROM_" (the
    # argparse dest, renamed to dodge Python's keyword) where "--from TIME" was meant.
    import re

    from facesel.cli import build_parser

    def helps(parser):
        yield parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from helps(sub)

    texts = list(helps(build_parser()))
    assert len(texts) > 30
    assert [m for text in texts for m in re.findall(r"--[a-z-]+ [A-Z_]+_\b", text)] == []
