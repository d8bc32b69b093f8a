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


def test_an_fps_the_input_does_not_use_is_said(shared_data, capsys):
    # Before: `--fps 5` on a video with its own rate (12.5 here) changed nothing, without a word; a
    # new user reads "--fps" as the processing rate.
    from types import SimpleNamespace

    from facesel.cli.run import unused_fps_note

    gif = shared_data / "videos" / "intel_head_pose_female.gif"
    assert main(["run", str(gif), "--dry-run", "--no-progress", "--max-frames", "2", "--fps", "5"]) == 0
    assert (f"facesel run: note: --fps 5 is not used: {gif} gives its own frame rate (12.5 frames/s); --fps is the "
            "rate of an image folder (or of a video that gives none). To process fewer frames, use --every N"
            ) in capsys.readouterr().err
    assert main(["run", str(gif), "--dry-run", "--no-progress", "--max-frames", "2"]) == 0
    assert "--fps" not in capsys.readouterr().err
    folder = SimpleNamespace(kind="folder", fps=5.0, name="frames")
    rateless = SimpleNamespace(kind="file", fps=5.0, name="v.avi")  # the container gave none: --fps is its rate
    live = SimpleNamespace(kind="live", fps=None, name="rtsp://cam")
    assert unused_fps_note(5.0, folder) is None and unused_fps_note(5.0, rateless) is None
    assert unused_fps_note(None, live) is None
    assert unused_fps_note(5.0, live) == "--fps 5 is not used: a webcam or stream is timed by its own frames"


@pytest.mark.parametrize("argv, said", [
    (["status", "--check"], "--check goes with 'run' (the default action), not 'status'"),
    (["reload", "--check"], "--check goes with 'run' (the default action), not 'reload'"),
    (["status", "--pid-file", "x.pid"], "--pid-file goes with 'run' (the default action), not 'status'"),
    (["--json"], "--json goes with 'status', not 'run'"),
    (["reload", "--json"], "--json goes with 'status', not 'reload'"),
])
def test_a_serve_flag_its_action_does_not_read_is_a_usage_error(tmp_path, capsys, monkeypatch, argv, said):
    # Before: dropped without a word; `serve status --check` asked the running service (none here: exit 1,
    # "no facesel serve answers") instead of checking the file, `serve --json` started the service.
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "missing.toml"  # never read: the flags are refused first
    assert main(["serve", *argv, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"facesel serve: error: {said}: "), err


def test_a_batch_spool_that_is_a_file_is_named_before_the_store_is_asked(tmp_path, capsys, monkeypatch):
    # Before: "[Errno 17] File exists: 'X'" once the store had been asked, naming no flag.
    pytest.importorskip("psycopg")
    monkeypatch.setenv("FACESEL_CENTRAL", "host=127.0.0.1 port=1 dbname=x user=x")  # nobody listens
    spool = tmp_path / "spool"
    spool.write_text("")
    code = main(["batch", str(tmp_path / "a.mp4"), "--camera", str(tmp_path / "cam"), "--authority",
                 str(tmp_path / "authority.pub"), "--spool", str(spool)])
    assert code == 1
    assert capsys.readouterr().err.strip() == (f"facesel batch: error: --spool {spool}: a file, not a folder (the "
                                               "per-task vaults are made in it)")


def test_a_purge_time_ahead_of_the_clock_is_said_as_dates_and_a_readable_span():
    # Before: "the time given is 2.27427e+09 s ahead of the clock" for --now 2099-01-01 (vault purge,
    # central purge, authority shred): a number of seconds nobody reads as 72 years.
    import time

    from facesel.vault.consistency import checked_purge_time
    from facesel.vault.timeparse import format_time

    clock = float(int(time.time()) + 3600)  # ahead of the real clock too, which the check also reads
    for ahead, span in ((72.1 * 365.25 * 86400, "72.1 years"), (2.5 * 3600, "2.5 hours"), (420, "7 minutes"),
                        (25 * 86400, "25 days")):
        with pytest.raises(ValueError) as err:
            checked_purge_time(clock + ahead, clock, False, None)
        assert str(err.value) == (f"the time given ({format_time(clock + ahead)}) is {span} ahead of the clock "
                                  f"({format_time(clock)}): refusing to delete records before their time (an "
                                  "explicit override, --allow-future-now, is logged)")


def test_an_extension_beyond_the_epoch_limit_is_said_with_dates_before_any_share_is_read(tmp_path, capsys):
    # Before: "--until 32472144000.0 would give more than 100000 epochs", Unix seconds, after the holders
    # had given their shares (the master key is rebuilt first).
    from test_vault_common import make_authority

    from facesel.vault.authority import extension_problem
    from facesel.vault.keys import MAX_EPOCHS
    from facesel.vault.timeparse import format_time, parse_time

    pub, adir = make_authority(tmp_path / "authority")
    until = parse_time("2999-01-01", "--until")
    problem = extension_problem(pub, until)
    assert problem.startswith("--until 2999-01-01T00:00:00Z would give ") and ", more than 100000: the farthest " \
        "--until is " in problem and " epochs of 1 day" in problem
    farthest = parse_time(problem.rsplit(" ", 1)[1], "--until")
    assert extension_problem(pub, farthest) is None and extension_problem(pub, farthest + 1) is not None
    next_id = max(e.epoch_id for e in pub.epochs) + 1
    assert len(pub.epochs) + int(farthest // pub.epoch_seconds) - next_id + 1 == MAX_EPOCHS
    # the command line says it before the shares: a passphrase file that is not there is never read
    code = main(["authority", "extend", "--dir", str(adir), "--until", "2999-01-01",
                 "--share", str(adir / "shares" / "share-1-of-3.json"), "--passphrase-file", str(tmp_path / "none")])
    assert code == 1
    assert capsys.readouterr().err.strip() == f"facesel authority extend: error: {problem}"
    assert format_time(farthest).endswith("T23:59:59Z")


def test_too_many_epochs_are_said_naming_both_flags_before_any_passphrase_is_asked(tmp_path, capsys, monkeypatch):
    # Before: the holders typed their passphrases (--passphrase asks at the terminal; here its standard
    # input is empty, which ended the command there), then "horizon/epoch gives 1440001 epochs, more
    # than 100000; use longer epochs", naming neither flag.
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(["authority", "init", "--out", str(tmp_path / "a"), "--shares", "3", "--threshold", "2",
                 "--passphrase", "--epoch", "1m", "--horizon", "1000d"])
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        "facesel authority init: error: --horizon 1000 days (horizon_seconds) over epochs of 1 minute (--epoch, "
        "epoch_seconds) gives 1440001 epochs, more than 100000: use a longer --epoch or a shorter --horizon")
    assert not (tmp_path / "a").exists()
