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


def test_eval_intercut_counts_its_runs_on_stderr(shared_data, capsys):
    # Before: nothing at all until the end (the defaults' 38 runs: minutes on two cores) unless
    # --verbose, whose lines went to stdout with the results.
    import re

    from facesel.eval.intercut import planned_runs

    assert main(["eval", "intercut", "--data", str(shared_data), "--families", "other", "--shot", "4",
                 "--shots", "2"]) == 0
    out, err = capsys.readouterr()
    planned = planned_runs(shared_data, ["other"])
    total = sum(planned.values())
    lines = err.splitlines()
    assert lines[0] == (f"intercut: {total} runs ({planned['interview']} interviews, {planned['control']} controls); "
                        "a line here as each ends")
    done = [int(m.group(1)) for line in lines if (m := re.fullmatch(rf"intercut: (\d+) of {total} runs done \(\d+ s\)", line))]
    assert done == list(range(1, total + 1)) and total >= 2
    assert "intercut:" not in out and "other/interview:" in out  # stdout stays the results
