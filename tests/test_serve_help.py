"""``facesel serve --help`` names the config file's keys (review 17b: it named none, so a new user
could not find ``max_frame_pixels`` or the pipeline's ``limits_in_seconds`` from the command line)."""

from __future__ import annotations

import re

import pytest


def _help(capsys) -> str:
    from facesel.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare as one line


def test_serve_help_names_every_camera_and_serve_key(capsys):
    from facesel.serve.config import CAMERA_KEYS, SERVE_KEYS

    words = set(re.findall(r"[a-z_]+", _help(capsys)))
    assert not (CAMERA_KEYS | SERVE_KEYS) - words


def test_serve_help_names_the_session_17_settings(capsys):
    text = _help(capsys)
    assert "max_frame_pixels (largest frame decoded, default 33177600)" in text
    assert "limits_in_seconds" in text and "docs/serve.md" in text
