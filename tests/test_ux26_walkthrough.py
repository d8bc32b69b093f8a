"""ux26: a new user's walkthrough of the README (docs/review.md, "Walkthrough ux26 (session 25)").

Each test fails on the code before its fix (said beside it). The shipped demo clip is the only
input read; no face is written anywhere (``--dry-run``, or a refusal before any frame).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_review_bundle import made  # noqa: F401
from test_serve import authority, camera, config_dict, fetch, keys  # noqa: F401
from test_vault_common import run_cli, run_cli_exit

import facesel
import facesel.cli as cli
from facesel.cli import run_session
from facesel.cli.eval_snapshots import other_input_note
from facesel.cli.run_outcome import nothing_kept_line
from facesel.run_settings import write_run_settings

DEMO = Path(facesel.__file__).parent / "demo_data" / "intel_face_demographics_walking.gif"


def test_ctrl_c_while_the_commands_are_loaded_is_exit_130_without_a_traceback(monkeypatch, capsys):
    # Before: building the parser imports every command's module (1-2 s on a loaded machine) outside
    # main's try, and a Ctrl-C then ended in a traceback of importlib's frames.
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["info"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_plaintext_out_of_an_earlier_run_is_refused_before_the_models_load(tmp_path, monkeypatch, capsys):
    # Before: the input was opened, the models loaded and the "input ... detector ..." line printed,
    # and only then did the sink refuse the folder, naming no flag.
    import facesel.selector

    def no_models(*_):
        raise AssertionError("the models were loaded")

    monkeypatch.setattr(facesel.selector, "default_detector", no_models)
    earlier = tmp_path / "run1"
    earlier.mkdir()
    (earlier / "tracks.jsonl").write_text("")
    code, out, err = run_cli(capsys, "run", DEMO, "--plaintext-out", earlier)
    assert (code, out) == (1, "")
    assert err == (f"facesel run: error: --plaintext-out {earlier} already holds a run (tracks.jsonl); "
                   "choose an empty folder\n")


def test_eval_snapshots_of_a_missing_video_says_so_without_a_note_on_the_runs_input(tmp_path, capsys):
    # Before: "note: the run in RUN read V, not nosuch.mp4: its snapshots are compared with the frames
    # of nosuch.mp4 (fine for a copy of the same video)", then "input not found: nosuch.mp4".
    run = tmp_path / "run1"
    run.mkdir()
    (run / "tracks.jsonl").write_text("")
    write_run_settings(run, input=str(DEMO), every=1, max_frames=None, fps=None)
    missing = tmp_path / "nosuch.mp4"
    assert other_input_note(missing, run) is None
    assert other_input_note(DEMO, run) is None  # the same input: no note either
    code, _, err = run_cli(capsys, "eval", "snapshots", missing, run, "--no-sheet", "--no-progress")
    assert code == 1 and "note:" not in err and str(missing) in err, err


def test_a_run_stopped_before_min_hits_frames_does_not_advise_more_frames(monkeypatch, capsys):
    # Before: "no person was kept: the input gave 0 frames, fewer than --min-hits 3 ... (give more
    # frames, or a lower --min-hits)" after a Ctrl-C, whose own line said why there were 0 frames.
    line = nothing_kept_line(0, 0, 0, 3, 20.0, None, stopped="SIGINT")
    assert line == "no person was kept: SIGINT stopped the input after 0 frames, before anyone was seen on " \
                   "--min-hits 3 frames"
    assert "give more frames" in nothing_kept_line(0, 0, 0, 3, 20.0, None)  # an input that was that short

    entered = run_session.RunSession.__enter__

    def stopped_at_once(self):  # as a SIGINT before the first frame
        session = entered(self)
        session.stop_reason = "SIGINT"
        return session

    monkeypatch.setattr(run_session.RunSession, "__enter__", stopped_at_once)
    code, out, err = run_cli(capsys, "run", DEMO, "--dry-run", "--no-progress")
    assert code == 130
    assert "give more frames" not in out + err
    assert "SIGINT stopped the input after 0 frames" in out and "INTERRUPTED by SIGINT after 0" in out, out


@pytest.mark.parametrize("view", [True, False])
def test_the_status_ports_404_names_the_view_when_it_is_on(authority, keys, tmp_path, view):  # noqa: F811
    # Before: every unknown path (the port's own address opened in a browser, a view URL without
    # its .jpg) said "not found: try /metrics or /healthz", and a mistyped camera "no camera 'x'".
    from facesel.serve.config import parse_config
    from facesel.serve.service import Service

    config = parse_config(config_dict(authority, {"walk": camera(DEMO, tmp_path / "walk", keys("walk"), loop=True)},
                                      view=view))
    service = Service(config).start()
    try:
        port = service.status.port
        for path in ("/", "/cameras/walk/view"):
            code, body = fetch(port, path)
            hint = "; the view: /cameras/NAME/view.jpg or view.mjpg (cameras: walk)" if view else ""
            assert (code, body) == (404, f"not found: try /metrics or /healthz{hint}\n"), path
        if view:
            assert fetch(port, "/cameras/walks/view.jpg") == (404, "no camera 'walks' (cameras: walk)\n")
    finally:
        service.stop()


@pytest.mark.parametrize("argv", [
    ["list", "--vault", "V", "--from", "yesterday"],
    ["open", "--vault", "V", "--share", "S", "--reason", "r", "--out", "O", "--to", "2026-12-07T25:00"],
    ["purge", "--vault", "V", "--camera", "C", "--now", "nan"],
    ["central", "list", "--from", "tomorrow"],
    ["authority", "extend", "--dir", "A", "--share", "S", "--until", "soon"],
    ["authority", "revoke-camera", "--dir", "A", "--camera", "c", "--share", "S", "--from", "-1"],
])
def test_a_time_flag_that_is_not_a_time_is_a_usage_error(capsys, argv):
    # Before: exit 1 once the command had started ("facesel list: error: --from must be Unix seconds
    # ..."), where README's exit codes call a flag's value out of its range a usage error (2), as
    # numbers are since ux19.
    flag = argv[-2]
    code, out, err = run_cli_exit(capsys, *argv)
    assert (code, out) == (2, ""), err
    command = " ".join(argv[:2 if argv[0] in ("central", "authority") else 1])
    assert err.rstrip("\n").splitlines()[-1].startswith(f"facesel {command}: error: argument {flag}: must be "), err


@pytest.mark.parametrize("command", [["open", "--vault", "V"], ["central", "open"]])
@pytest.mark.parametrize("filled", ["folder", "file"])
def test_an_opening_into_a_filled_out_names_the_flag_before_anything_is_read(tmp_path, capsys, command, filled):
    # Before: `facesel open ... --out opened` (the folder of an earlier opening) said "the output
    # folder opened must be new or empty", naming no flag; `central open` did not look before the
    # keystore was sought.
    out = tmp_path / "opened"
    if filled == "folder":
        out.mkdir()
        (out / "index.html").write_text("")
    else:
        out.write_text("")
    code, stdout, err = run_cli_exit(capsys, *command, "--share", tmp_path / "nosuch.json", "--reason", "r", "--all",
                                     "--out", out)
    what = "not empty" if filled == "folder" else "a file"
    assert (code, stdout) == (1, "")
    assert err == (f"facesel {' '.join(command[:2 if command[0] == 'central' else 1])}: error: --out {out}: {what}; "
                   "give a new or empty folder (nothing was read or logged)\n")


def test_verify_bundle_says_that_authority_is_no_pin(made, capsys):  # noqa: F811
    # Before: `verify-bundle B --authority authority.pub` (the file the user holds, taken for the
    # trust anchor) printed the unpinned verdict word for word as without it.
    adir, _, _, bundle = made
    code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--authority", adir / "authority.pub")
    headline = out.splitlines()[0]
    assert code == 3 and "NOT VERIFIED AS THE AUTHORITY'S" in headline
    assert (f"(--authority {adir / 'authority.pub'} was read for its revocations only: a file pins nothing, "
            "whoever may have written it) What it would prove:") in headline, headline
    code, out, _ = run_cli(capsys, "verify-bundle", bundle)
    assert code == 3 and "--authority" not in out.splitlines()[0]
