"""Every PipelineConfig setting's help renders on the command line (argparse formats help strings
with ``%``: a bare percent sign in one of them broke ``facesel run -h`` once)."""

from __future__ import annotations

import argparse
import re
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


def test_every_time_flag_says_it_is_read_in_utc_unless_it_names_a_zone():
    # ux18: `open --from/--to` said only "open records sealed at or after this time", the others
    # "ISO 8601 or Unix seconds", while the review desk reads its window in the computer's local
    # time: away from UTC, `--from 2026-12-06T21:50` opened from 21:50 UTC without a word.
    from facesel.cli import build_parser
    from facesel.cli.argtypes import TIME_FORMS
    from facesel.vault.timeparse import parse_time

    def time_flags(parser, name):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    yield from time_flags(sub, f"{name} {sub_name}")
            elif action.metavar == "TIME" or set(action.option_strings) & {"--start", "--until"}:
                yield name, action, parser

    found = list(time_flags(build_parser(), "facesel"))
    assert len(found) >= 12, [(name, a.option_strings) for name, a, _ in found]
    for name, action, parser in found:
        stated = TIME_FORMS in action.help or (
            "(the same forms)" in action.help and any(TIME_FORMS in (a.help or "") for a in parser._actions))
        assert stated, (name, action.option_strings, action.help)
    # and the example says what parse_time does: a time without a zone is UTC
    first, second = re.findall(r"\d{4}-\d\d-\d\dT[\d:+]+", TIME_FORMS)
    assert parse_time(first) == parse_time(second) == 1796593800.0
