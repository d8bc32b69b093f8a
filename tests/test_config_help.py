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
