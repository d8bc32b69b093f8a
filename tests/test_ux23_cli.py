"""A new user's walkthrough, session 22 (docs/review.md, "Walkthrough ux23"): command-line findings
outside the central store. Each test fails on the branch's base."""

from __future__ import annotations

import pytest
from facesel.cli import build_parser, main


def _subparser(*names):
    parser = build_parser()
    for name in names:
        parser = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices[name]
    return parser


def test_a_mistyped_training_method_is_a_usage_error_naming_the_flag(capsys, tmp_path):
    # Before: exit 1 once the command ran, under the Python name: "method must be one of ('paper',), got 'papr'".
    with pytest.raises(SystemExit) as stop:
        main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"), "--method", "papr"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith("facesel train: error: argument --method: invalid choice: 'papr'"), err
    assert "did you mean 'paper'?" in err
    method = next(a for a in _subparser("train")._actions if "--method" in a.option_strings)
    assert "(default paper" in method.help
    loop = pytest.importorskip("facesel.training.loop")  # the [train] extra: the flag's choices are the code's
    assert tuple(method.choices) == loop.TRAIN_METHODS
