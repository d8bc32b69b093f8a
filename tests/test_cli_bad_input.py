"""A careless operator's input to the command line (ux12's round): times and durations that are not
numbers a clock can reach, a folder where a file belongs. Each ends in one clear line naming the
flag and the value, exit status 1 (2, a usage error, for a TIME flag since ux26), and nothing written."""

from __future__ import annotations

import re

import pytest
from test_vault_common import DAY, T0, orl_faces, run_cli, run_cli_exit, sealed_vault

NINES = "9" * 400  # float() of it is inf


def _one_line_error(code, err, command, flag):
    assert code == 1, err
    assert err.count("\n") == 1 and re.match(rf"facesel {command}( [a-z-]+)?: error:", err), err
    assert flag in err and "Traceback" not in err


def _time_usage_error(code, err, command, flag):
    # A TIME flag's value is checked by the parser since ux26: a usage error (exit 2) naming the flag,
    # as a number out of range is (ux19), where it was exit 1 once the command had started.
    assert code == 2, err
    last = err.rstrip("\n").splitlines()[-1]
    assert re.match(rf"facesel {command}( [a-z-]+)?: error: argument {flag}: must be ", last), err
    assert "Traceback" not in err


@pytest.mark.parametrize(("flag", "value"), [
    ("--start", "nan"), ("--start", "inf"), ("--start", "1e30"), ("--start", "-1"),
    ("--retention", f"{NINES}d"), ("--retention", "99999999999d"), ("--horizon", NINES), ("--epoch", NINES),
])
def test_authority_init_refuses_unreachable_times_and_writes_nothing(tmp_path, capsys, flag, value):
    # Before: nan/inf said "cannot convert float NaN to integer", 1e30 made an authority whose first
    # epoch starts in the year 3e22, and a duration over 1000 years left a half-written keystore that
    # made the corrected command refuse the folder ("already holds key material").
    out = tmp_path / "authority"
    code, _, err = run_cli_exit(capsys, "authority", "init", "--out", out, "--shares", 3, "--threshold", 2,
                                "--no-passphrase", f"{flag}={value}")
    (_time_usage_error if flag == "--start" else _one_line_error)(code, err, "authority", flag)
    assert not out.exists()
    code, _, err = run_cli(capsys, "authority", "init", "--out", out, "--shares", 3, "--threshold", 2,
                           "--no-passphrase", "--horizon", "2d", "--start", T0)
    assert code == 0, err


def test_create_authority_checks_everything_before_writing(tmp_path):
    from facesel.vault.authority import create_authority

    out = tmp_path / "authority"
    with pytest.raises(ValueError, match="retention"):
        create_authority(out, shares=3, threshold=2, epoch_seconds=DAY, retention_seconds=1e20,
                         horizon_seconds=2 * DAY, start=T0)
    with pytest.raises(ValueError, match="start"):
        create_authority(out, shares=3, threshold=2, epoch_seconds=DAY, retention_seconds=30 * DAY,
                         horizon_seconds=2 * DAY, start=float("nan"))
    assert not out.exists()


@pytest.fixture(scope="module")
def vault(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("vault")
    adir, vault_dir, ids = sealed_vault(root, orl_faces(shared_data, 2))
    return adir, vault_dir, ids, root / "auth-cam-1"


def _files(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("value", ["nan", "inf", "-5", NINES])
def test_purge_refuses_a_now_that_is_not_a_time(vault, capsys, value):
    # Before: --now nan compared false with every seal time: "purged 0 expired record(s)", exit 0.
    _, vault_dir, _, camera = vault
    before = _files(vault_dir)
    code, _, err = run_cli_exit(capsys, "purge", "--vault", vault_dir, "--camera", camera, f"--now={value}")
    _time_usage_error(code, err, "purge", "--now")
    assert _files(vault_dir) == before


@pytest.mark.parametrize("flag", ["--from", "--to"])
def test_list_refuses_a_window_that_is_not_a_time(vault, capsys, flag):
    # Before: --from nan listed 0 records, exit 0, as if the vault were empty.
    adir, vault_dir, _, _ = vault
    code, _, err = run_cli_exit(capsys, "list", "--vault", vault_dir, "--authority", adir, flag, "nan")
    _time_usage_error(code, err, "list", flag)
    code, out, err = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir, "--from", T0, "--to", T0 + DAY)
    assert code == 0 and "2 record(s)" in out, out + err


@pytest.mark.parametrize("argv", [
    ["run", "clip.mp4", "--dry-run", "--config", "{folder}"],
    ["serve", "--check", "--config", "{folder}"],
])
def test_a_folder_given_as_the_config_file_is_one_error_line(tmp_path, capsys, argv):
    # Before: IsADirectoryError with a traceback (serve.config.load_config opens the path as a file).
    argv = [a.format(folder=tmp_path) for a in argv]
    code, _, err = run_cli(capsys, *argv)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"facesel {argv[0]}: error:") and str(tmp_path) in err


def test_run_on_a_folder_of_mixed_sizes_is_one_error_line(shared_data, tmp_path, capsys):
    # Before: a cv2.error traceback from the detection schedule ("Sizes of input arguments do not match").
    from test_video import _mixed_folder

    folder = tmp_path / "frames"
    folder.mkdir()
    odd = _mixed_folder(shared_data / "videos", folder)
    code, _, err = run_cli(capsys, "run", folder, "--dry-run", "--no-progress", "--scorer", "laplacian")
    assert code == 1 and "Traceback" not in err and "cv2.error" not in err, err
    assert err.splitlines()[-1].startswith("facesel run: error: image folder") and odd in err


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--min-hits", "0", "must be in [1, inf], got 0"),
    ("--margin", "nan", "must be finite, got nan"),
    ("--max-age", "20000", "must be in [0, 10000], got 20000"),
    ("--min-iou", "2", "must be in (0.0, 1.0], got 2.0"),
    ("--max-distance", "0", "must be in (0.0, inf], got 0.0"),
    ("--fps", "nan", "must be a finite number > 0, got nan"),
    ("--open-timeout", "0", "must be a finite number > 0, got 0"),
])
def test_run_flag_out_of_range_is_a_usage_error_naming_the_flag(tmp_path, capsys, flag, value, says):
    # Before: exit 1 (the README's exit 2 is a usage error, as for --max-frames 0), the field's name
    # (min_hits) instead of the flag, after the input was opened; --min-iou 2 and --max-age 20000
    # passed PipelineConfig and failed only in the C++ tracker.
    from facesel.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["run", str(tmp_path / "clip.mp4"), "--dry-run", f"{flag}={value}"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.splitlines()[-1] == f"facesel run: error: argument {flag}: {says}"


@pytest.mark.parametrize("flag", ["--max-side", "--consensus-finalists", "--min-hits", "--detect-every"])
def test_a_whole_number_setting_beyond_64_bits_is_a_usage_error_naming_the_flag(tmp_path, capsys, flag):
    # ux19: `--max-side 1000...` (41 digits) passed the flags and ended after the models loaded in a
    # traceback (a detector's float() overflowed); `--consensus-finalists` of 31 digits in exit 1
    # naming the crop store's `top_k`, not the flag. The C++ core holds these in int64.
    from facesel.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["run", str(tmp_path / "clip.mp4"), "--dry-run", f"{flag}=1{'0' * 40}"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.splitlines()[-1] == (f"facesel run: error: argument {flag}: must fit in a 64-bit integer "
                                    f"(at most {2**63 - 1}), got 1{'0' * 40}")


def test_a_detector_given_a_side_beyond_a_float_names_it():
    # ux19: YuNetDetector(max_side=10**400) (and Selector(max_side=10**400) before the config's
    # bound) raised float()'s bare OverflowError, naming no setting
    from facesel.detect.base import check_number

    with pytest.raises(ValueError, match=r"^max_side must be finite, got 1000"):
        check_number(10**400, "max_side", low=32, integer=True)
    assert check_number(2**63, "max_side", low=32, integer=True) == 2**63


@pytest.mark.parametrize("setting", [{"min_iou": 2.0}, {"min_iou": 0.0}, {"max_distance": 0.0}, {"max_age": 20000},
                                     {"margin": 10.0}, {"region_min_px": 40000}])
def test_pipeline_config_refuses_what_the_stages_refuse(setting):
    # Before: accepted by PipelineConfig (so by `facesel serve --check`), refused only when a camera's
    # Selector was built (the C++ tracker, the crop store, the region search).
    from facesel.config import PipelineConfig

    name = next(iter(setting))
    with pytest.raises(ValueError, match=rf"^{name} must be in "):
        PipelineConfig(**setting)


def test_run_into_a_vault_that_is_a_file_names_it(shared_data, tmp_path, capsys):
    # Before: "facesel run: error: [Errno 17] File exists: 'v.mp4'" (mkdir of the vault folder).
    from test_vault_common import camera_dir, make_authority

    adir = make_authority(tmp_path / "auth", camera_id="cam-1")[1]
    not_a_folder = tmp_path / "v.mp4"
    not_a_folder.write_text("hello")
    clip = shared_data / "videos" / "intel_head_pose_female.gif"
    code, _, err = run_cli(capsys, "run", clip, "--vault", not_a_folder, "--authority", adir / "authority.pub",
                           "--camera", camera_dir(adir), "--max-frames", 2, "--no-progress", "--scorer", "laplacian")
    assert code == 1 and err.splitlines()[-1] == f"facesel run: error: vault {not_a_folder} must be a folder, got a file"
    assert not_a_folder.read_text() == "hello"


def test_vault_refuses_a_nan_purge_interval(tmp_path):
    from test_vault_common import camera_dir, make_authority

    from facesel.vault import Vault

    adir = make_authority(tmp_path / "auth", camera_id="cam-1")[1]
    with pytest.raises(ValueError, match="purge_interval"):
        Vault(tmp_path / "v", adir / "authority.pub", camera=camera_dir(adir), purge_interval=float("nan"))
    assert not (tmp_path / "v").exists()


def test_audit_head_out_a_folder_names_the_flag(vault, capsys, tmp_path):
    # Before: "facesel audit: error: .witness.1a2b3c4d.tmp: Is a directory" (the temporary file's name).
    _, vault_dir, _, _ = vault
    folder = tmp_path / "witness"
    folder.mkdir()
    code, _, err = run_cli(capsys, "audit", "head", "--vault", vault_dir, "--out", folder)
    _one_line_error(code, err, "audit", "--out")
    assert f"{folder} is a folder" in err and list(folder.iterdir()) == []


def test_run_json_reader_gone_does_not_end_the_run(shared_data, tmp_path):
    # Before: `facesel run --json ... | head -1` ended the run at the next event with "[Errno 32]
    # Broken pipe", exit 1: the people after that frame were never kept (5 of 7 records sealed on a
    # 40-frame arcade cut). The events are a side channel; the run now reads the input to its end.
    import os
    import subprocess
    import sys
    from pathlib import Path

    import facesel

    env = {**os.environ, "PYTHONPATH": str(Path(facesel.__file__).resolve().parents[1]), "PYTHONUNBUFFERED": "1"}
    clip = shared_data / "videos" / "intel_face_demographics_walking.gif"
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first event: the first write fails, every time
    try:
        done = subprocess.run([sys.executable, "-m", "facesel", "run", str(clip), "--dry-run", "--json",
                               "--no-progress", "--scorer", "laplacian"], stdout=write, stderr=subprocess.PIPE,
                              text=True, env=env, timeout=300)
    finally:
        os.close(write)
    assert done.returncode == 0, done.stderr
    assert "the --json event stream was closed by its reader" in done.stderr
    assert re.search(r"^frames 35 ", done.stderr, re.M), done.stderr  # every frame of the clip was read
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_run_console_reader_gone_keeps_every_snapshot(shared_data, tmp_path):
    # Before: `facesel run ... 2>&1 | head -1` ended the run at the next progress-bar refresh with a
    # broken pipe, exit 1: 0 of 7 records sealed on a 40-frame arcade cut. The console is lost now,
    # not the snapshots: the run ends as it would with a reader.
    import os
    import subprocess
    import sys
    from pathlib import Path

    import facesel

    env = {**os.environ, "PYTHONPATH": str(Path(facesel.__file__).resolve().parents[1])}
    clip = shared_data / "videos" / "intel_face_demographics_walking.gif"

    def run(out, **streams):
        return subprocess.run([sys.executable, "-m", "facesel", "run", str(clip), "--plaintext-out", str(out),
                               "--scorer", "laplacian"], env=env, timeout=300, **streams)

    read, write = os.pipe()
    os.close(read)
    try:
        gone = run(tmp_path / "gone", stdout=write, stderr=write)
    finally:
        os.close(write)
    kept = run(tmp_path / "kept", capture_output=True, text=True)
    assert kept.returncode == 0, kept.stderr
    assert gone.returncode == 0
    records = (tmp_path / "kept" / "tracks.jsonl").read_text().splitlines()
    assert len(records) >= 1
    assert len((tmp_path / "gone" / "tracks.jsonl").read_text().splitlines()) == len(records)


@pytest.mark.parametrize("apart", [False, True])
def test_authority_init_cut_short_leaves_nothing_and_can_be_rerun(tmp_path, monkeypatch, apart):
    # Before: Ctrl-C during a share's Argon2id left keystore/ (371 files) and some shares without
    # authority.pub or the passphrase files; `authority init` again refused: "already holds key
    # material (keystore)". Now the cut-short call removes what it wrote (key files shredded).
    from facesel.vault import authority

    real = authority.write_share
    calls = []

    def interrupted(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)

    out = tmp_path / "authority"
    holders = [tmp_path / f"holder-{i}" for i in (1, 2, 3)] if apart else None
    for folder in holders or []:
        folder.mkdir()
    settings = dict(shares=3, threshold=2, epoch_seconds=DAY, retention_seconds=30 * DAY, horizon_seconds=5 * DAY,
                    start=T0, share_dirs=holders)
    monkeypatch.setattr(authority, "write_share", interrupted)
    with pytest.raises(KeyboardInterrupt):
        authority.create_authority(out, **settings)
    assert calls[0].exists() is False  # the share written before the interruption was removed
    assert not out.exists()
    assert all(list(folder.iterdir()) == [] for folder in holders or [])
    monkeypatch.setattr(authority, "write_share", real)
    pub = authority.create_authority(out, **settings)
    assert pub.shares == 3 and (out / "authority.pub").is_file()


def test_dry_run_with_an_output_is_refused(tmp_path, capsys):
    # Before: --dry-run ("keep nothing") was ignored: the snapshots were sealed into --vault and
    # written in the clear into --plaintext-out all the same.
    for flag in ("--vault", "--plaintext-out"):
        out = tmp_path / flag.strip("-")
        extra = ["--authority", tmp_path / "authority.pub", "--camera", tmp_path / "cam"] if flag == "--vault" else []
        code, _, err = run_cli(capsys, "run", tmp_path / "clip.mp4", "--dry-run", flag, out, *extra)
        assert code == 1 and err.splitlines()[-1] == (f"facesel run: error: --dry-run keeps nothing, but {flag} "
                                                      "was given: leave out one of them")
        assert not out.exists()


def test_dry_run_with_a_config_leaves_its_vault_alone(shared_data, tmp_path, capsys):
    # Before: `facesel run --config FILE --dry-run` sealed every snapshot into the camera's vault.
    from test_vault_common import camera_dir, make_authority

    import time

    adir = make_authority(tmp_path / "auth", camera_id="cam-1", start=time.time() - DAY)[1]  # keys for now
    vault = tmp_path / "vault"
    config = tmp_path / "facesel.toml"
    config.write_text(f'[cameras.door]\nsource = "{shared_data / "videos" / "intel_head_pose_female.gif"}"\n'
                      f'vault = "{vault}"\nauthority = "{adir / "authority.pub"}"\ncamera_key = "{camera_dir(adir)}"\n')
    code, out, err = run_cli(capsys, "run", "--config", config, "--dry-run", "--no-progress", "--scorer", "laplacian",
                             "--max-frames", 8)
    assert code == 0, err
    assert "sealed" not in out and not vault.exists()


@pytest.mark.parametrize("command", [["train", "--out", "{out}"], ["calibrate", "--model", "{model}"],
                                     ["eval", "erc", "--out", "{out}"]])
@pytest.mark.parametrize("kind", ["file", "missing"])
def test_data_that_is_not_a_folder_says_what_it_is(tmp_path, capsys, command, kind):
    # Before: "--data folder not found: faces.zip" for a file that is there.
    from facesel.scoring.vae import shipped_model_dir

    data = tmp_path / "faces.zip"
    if kind == "file":
        data.write_bytes(b"PK")
    argv = [a.format(model=shipped_model_dir(), out=tmp_path / "out") for a in command]
    code, _, err = run_cli(capsys, *argv, "--data", data)
    expected = "a file" if kind == "file" else "not found"
    assert code == 1 and err.splitlines()[-1].endswith(f"error: --data must be a folder of faces, got {data} ({expected})")


def test_pid_file_that_is_a_folder_is_named_and_leaves_no_temporary(tmp_path):
    # Before: "[Errno 21] Is a directory: '.run.1234.tmp' -> 'run'", and the .tmp file stayed beside it.
    from facesel.serve.pidfile import PidFile

    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"--pid-file .*run is a folder"), PidFile(folder):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"] and list(folder.iterdir()) == []


def test_a_pid_file_whose_folder_is_missing_is_refused_naming_the_flag(tmp_path, capsys):
    # Before (ux20): the missing folders were made, silently (a typo made a new tree); now exit 2.
    from facesel.cli import main

    config = tmp_path / "facesel.toml"
    config.write_text("[cameras]\n")  # never read: the flag is refused first
    for given in (tmp_path / "run" / "sub" / "facesel.pid", tmp_path / "facesel.toml" / "facesel.pid"):
        with pytest.raises(SystemExit) as exited:
            main(["serve", "--config", str(config), "--pid-file", str(given)])
        err = capsys.readouterr().err
        assert exited.value.code == 2, err
        assert f"argument --pid-file: {given}: its folder {given.parent}" in err, err
        assert ("does not exist" if given.parent.name == "sub" else "is a file, not a folder") in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["facesel.toml"]  # nothing made
    from facesel.serve.pidfile import PidFile

    with pytest.raises(ValueError, match="--pid-file .*does not exist"), PidFile(tmp_path / "run" / "facesel.pid"):
        pass
    assert not (tmp_path / "run").exists()


def test_run_on_a_webcam_index_opencv_cannot_take_is_one_error_line(capsys):
    # Before: OpenCV's "Overload resolution failed ... integer won't fit into a C int", retried until
    # --open-timeout ran out, then printed as a seven-line error.
    code, _, err = run_cli(capsys, "run", "99999999999", "--dry-run", "--no-progress")
    _one_line_error(code, err, "run", "99999999999")
    assert "a webcam index must be in [0, 2147483647]" in err


@pytest.mark.parametrize("value", ["0", "-3"])
def test_demo_max_frames_below_one_is_a_usage_error(tmp_path, capsys, value):
    # Before: 0 was taken as "no limit" (the whole video ran, exit 0) and -3 failed at step 4, after
    # the authority's key material was made in --workdir.
    from facesel.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["demo", "--workdir", str(tmp_path / "demo"), "--max-frames", value])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"facesel demo: error: argument --max-frames: must be an integer >= 1, got '{value}'"
    assert not (tmp_path / "demo").exists()


def test_demo_with_a_missing_input_makes_nothing(tmp_path, capsys):
    # Before: the authority and camera keys were made, then step 4 failed on the input, and the
    # corrected command was refused until --replace was added.
    code, _, err = run_cli(capsys, "demo", "--workdir", tmp_path / "demo", "--input", tmp_path / "nosuch.mp4")
    _one_line_error(code, err, "demo", "--input")
    assert not (tmp_path / "demo").exists()


def test_demo_workdir_that_is_a_file_names_the_flag(tmp_path, capsys):
    # Before: "facesel demo: error: [Errno 20] Not a directory: '...'".
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(capsys, "demo", "--workdir", tmp_path / "file")
    _one_line_error(code, err, "demo", "--workdir")


@pytest.mark.parametrize(("argv", "flag", "minimum"), [
    (["eval", "switches", "--frames", "0"], "--frames", 1),
    (["eval", "switches", "--frames", "-5"], "--frames", 1),
    (["eval", "switches", "--transition", "-1"], "--transition", 0),
    (["eval", "switches", "--max-frames", "0"], "--max-frames", 1),
    (["eval", "crowds", "--size", "0"], "--size", 1),
    (["eval", "crowds", "--columns", "0"], "--columns", 1),
    (["eval", "crowds", "--frames", "0"], "--frames", 1),
    (["eval", "crowds", "--tile", "0"], "--tile", 16),
])
def test_eval_sizes_out_of_range_are_usage_errors(capsys, argv, flag, minimum):
    # Before: switches with --frames 0/-5, --transition -1 or --max-frames 0 ran (minutes) and
    # printed "caught 0/0" with exit 0; crowds --size 0 said "range() arg 3 must not be zero",
    # --columns 0 and --tile 0 ended in a ZeroDivisionError / cv2.error traceback, --frames 0 in
    # "nan/person" with exit 0.
    from facesel.cli import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"facesel eval {argv[1]}: error: argument {flag}: must be an integer >= {minimum}, got {argv[-1]}"


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--method", "elbo", "argument --method: invalid choice: 'elbo' (choose from 'paper')"),
])
def test_train_settings_are_checked_before_any_face_is_loaded(tmp_path, capsys, flag, value, says):
    # Before: every face of --data was aligned first (minutes on lfw/train); then --batch-size 0 was
    # a ZeroDivisionError traceback and the others an error. Here --data is empty: loading it first
    # gave a different error. The numbers are flag types since ux19 (the next test), --method a
    # choice since ux23 (a usage error, exit 2; it was exit 1 as "method must be one of ('paper',)").
    from facesel.cli import main

    (tmp_path / "faces").mkdir()
    with pytest.raises(SystemExit) as stop:
        main(["train", "--data", str(tmp_path / "faces"), "--out", str(tmp_path / "model"), "--quiet", flag, value])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"facesel train: error: {says}")
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize(("argv", "says"), [
    (["train", "--data", "D", "--out", "M", "--batch-size", "0"], "must be an integer >= 1, got 0"),
    (["train", "--data", "D", "--out", "M", "--epochs", "0"], "must be an integer >= 1, got 0"),
    (["train", "--data", "D", "--out", "M", "--lr", "nan"], "must be a finite number > 0, got nan"),
    (["train", "--data", "D", "--out", "M", "--base-channels", "0"], "must be an integer >= 1, got 0"),
    (["train", "--data", "D", "--out", "M", "--threads", "100000"], "must be an integer in [1, 256], got 100000"),
    (["review", "--vault", "V", "--keystore", "K", "--idle", "nan"], "must be a number in [5, 86400], got nan"),
    (["review", "--vault", "V", "--keystore", "K", "--passphrase-delay", "0"], "must be a number in [0.5, 3600], got 0"),
    (["train", "--data", "D", "--out", "M", "--seed", "-1"], f"must be an integer in [0, {2**63 - 1}], got -1"),
    (["calibrate", "--model", "M", "--data", "D", "--seed", "-1"], f"must be an integer in [0, {2**63 - 1}], got -1"),
    (["authority", "init", "--out", "A", "--threshold", "2", "--shares", "0"], "must be an integer in [1, 255], got 0"),
    (["authority", "init", "--out", "A", "--shares", "3", "--threshold", "-1"], "must be an integer in [1, 255], got -1"),
], ids=lambda v: "-".join(v[:1] + v[-2:]) if isinstance(v, list) else None)
def test_numbers_out_of_range_of_train_review_and_authority_are_usage_errors_naming_the_flag(capsys, argv, says):
    # ux19: the README says numbers out of range are usage errors naming the flag in every subcommand;
    # these were exit 1 under their Python names (`batch_size must be an integer >= 1`), `--threads
    # 100000` as `threads must be <= 256`, `--shares 0` as `--threshold K must be between 1 and --shares N`;
    # `--seed -1` failed in numpy's generator after the whole folder was aligned, naming nothing
    from facesel.cli import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    command = " ".join(argv[:2]) if argv[0] == "authority" else argv[0]
    assert capsys.readouterr().err.splitlines()[-1] == f"facesel {command}: error: argument {argv[-2]}: {says}"


def test_train_out_that_is_a_file_is_named_before_any_face_is_loaded(tmp_path, capsys):
    # Before: "[Errno 17] File exists" after aligning every face.
    pytest.importorskip("torch")
    (tmp_path / "faces").mkdir()
    (tmp_path / "model").write_text("x")
    code, _, err = run_cli(capsys, "train", "--data", tmp_path / "faces", "--out", tmp_path / "model", "--quiet")
    _one_line_error(code, err, "train", f"--out {tmp_path / 'model'}: a file, not a folder")  # ux16: the flag named


@pytest.mark.parametrize("value", ["inf", "1e300", "0", "nan"])
def test_sync_watch_must_be_a_sleepable_interval(capsys, value):
    # Before: inf and 1e300 were taken: the first sleep after a sync was an OverflowError traceback
    # ("timestamp out of range for platform time_t"); with the interruptible wait since, a forwarder
    # that synced once and never again.
    from facesel.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["sync", "--vault", "v", "--camera", "c", "--central", "host=127.0.0.1 port=1", "--watch", value])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"facesel sync: error: argument --watch: must be a number of seconds in (0, 86400], got '{value}'"


def test_sync_of_a_missing_vault_does_not_say_its_records_stay_queued(tmp_path, capsys):
    # Before: with the store down, "central store ... is unreachable ...; the records stay queued in
    # <the mistyped folder>", as if a vault were there.
    pytest.importorskip("psycopg")
    code, _, err = run_cli(capsys, "sync", "--vault", tmp_path / "nosuch", "--camera", tmp_path / "camera",
                           "--central", "host=127.0.0.1 port=1 dbname=x connect_timeout=2")
    _one_line_error(code, err, "sync", f"no vault at {tmp_path / 'nosuch'} (no such folder)")
    assert "queued" not in err


@pytest.mark.parametrize("value", ["99999", "-1", "65536"])
def test_review_port_out_of_range_is_a_usage_error(tmp_path, capsys, value):
    # Before: an OverflowError traceback from socket.bind ("port must be 0-65535"), after the vault
    # and keystore were opened.
    from facesel.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["review", "--vault", str(tmp_path / "v"), "--keystore", str(tmp_path / "k"), "--port", value])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"facesel review: error: argument --port: must be a port number in [0, 65535], got {value}"


def test_eval_tracks_on_a_folder_without_videos_is_one_error_line(tmp_path, capsys):
    # Before: a report of no clip at all (tracks.md, tracks.json) and exit status 0.
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "notes.txt").write_text("x")
    code, _, err = run_cli(capsys, "eval", "tracks", "--out", tmp_path / "out", "--no-progress", tmp_path / "clips")
    _one_line_error(code, err, "eval", f"folder {tmp_path / 'clips'} holds no videos")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("argv", "flag", "value", "says"), [
    (["eval", "erc", "--data", "D", "--out", "O"], "--limit-identities", "-1", "must be an integer >= 2"),
    (["eval", "erc", "--data", "D", "--out", "O"], "--train-limit", "-1", "must be an integer >= 1"),
    (["eval", "erc", "--data", "D", "--out", "O"], "--random-seeds", "-1", "must be an integer >= 1"),
    (["eval", "erc", "--data", "D", "--out", "O"], "--threads", "0", "must be an integer >= 1"),
    (["eval", "crowds"], "--layouts", "-1", "must be an integer >= 1"),
    (["eval", "crowds"], "--covered-link", "nan", "must be a finite number >= 0"),
    (["eval", "snapshots", "V", "R"], "--every", "0", "must be an integer >= 1"),
    (["eval", "snapshots", "V", "R"], "--max-frames", "-1", "must be an integer >= 1"),
    (["eval", "snapshots", "V", "R"], "--fps", "nan", "must be a finite number > 0"),
    (["eval", "snapshots", "V", "R"], "--threshold", "-1", "must be a finite number > 0"),
    (["eval", "snapshots", "V", "R"], "--min-frames", "-1", "must be an integer >= 1"),
])
def test_eval_numbers_out_of_range_are_usage_errors_naming_the_flag(tmp_path, capsys, argv, flag, value, says):
    # ux15: --train-limit -1 and --random-seeds -1 started a 6-minute evaluation (a slice [:-1], a
    # loop run no times), --layouts -1 was taken, and the others ended later in exit 1 under the
    # setting's Python name ("max_frames must be ...", "covered_gap_seconds must be ...").
    argv = [str(tmp_path / a) if a in ("D", "O", "V", "R") else a for a in argv]
    with pytest.raises(SystemExit) as usage:
        run_cli(capsys, *argv, f"{flag}={value}")
    assert usage.value.code == 2
    assert f"argument {flag}: {says}, got {value}" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["crowds", "switches"])
@pytest.mark.parametrize("kind", ["missing", "file"])
def test_eval_data_that_is_no_folder_is_named(tmp_path, capsys, command, kind):
    # ux15: a mistyped --data was told "no shared data: give --data or set FACESEL_DATA".
    data = tmp_path / "data"
    if kind == "file":
        data.write_text("not a folder")
    code, _, err = run_cli(capsys, "eval", command, "--data", data)
    said = "no such folder" if kind == "missing" else "a file, not a folder"
    assert code == 1 and err.strip() == f"facesel eval {command}: error: --data {data}: {said}" + \
        ("" if kind == "missing" else " (the shared data folder)"), err


def test_eval_tracks_on_a_damaged_video_is_one_line_without_ffmpeg_noise(shared_data, tmp_path):
    # ux15: FFmpeg's own "[mov,mp4,...] moov atom not found" came before facesel's error line
    # (`facesel run` had kept it off stderr since session 13; `eval tracks` had not).
    import subprocess
    import sys

    clip = tmp_path / "cut.mp4"
    clip.write_bytes((shared_data / "videos" / "arcade_walkers_1080p.mp4").read_bytes()[:65536])
    done = subprocess.run([sys.executable, "-m", "facesel", "eval", "tracks", str(clip), "--out", str(tmp_path / "o"),
                           "--no-progress"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("facesel eval tracks: error: cannot read video file"), done.stderr


@pytest.mark.parametrize(("argv", "flag", "module"), [
    (["eval", "switches", "--json", "{file}/table.json"], "--json", "facesel.eval.switches"),
    (["eval", "crowds", "--json", "{file}/table.json"], "--json", "facesel.eval.crowds"),
    (["eval", "switches", "--json", "{folder}"], "--json", "facesel.eval.switches"),
    (["eval", "tracks", "{video}", "--out", "{file}"], "--out", "facesel.eval.track_bench"),
    (["eval", "tracks", "{video}", "--out", "{folder}/o", "--cache-dir", "{file}/cache"], "--cache-dir",
     "facesel.eval.track_bench"),
    (["eval", "erc", "--data", "{folder}", "--out", "{file}/o"], "--out", "facesel.eval.runner"),
    (["eval", "snapshots", "{video}", "{folder}", "--sheet", "{file}/sheet.png"], "--sheet",
     "facesel.eval.snapshot_audit"),
])
def test_eval_outputs_that_cannot_be_written_are_refused_before_the_evaluation(tmp_path, capsys, monkeypatch,
                                                                                argv, flag, module):
    # ux16: `eval switches/crowds --json` wrote the table only after minutes of evaluation, and a
    # path below a file (or a folder) then failed with "[Errno 2] No such file or directory",
    # naming no flag, the figures lost; --out and --cache-dir likewise. The evaluation here is a
    # stand-in that fails if it is ever reached.
    import importlib

    from facesel.demo_data import demo_clip

    target = importlib.import_module(module)
    entry = {"facesel.eval.switches": "evaluate", "facesel.eval.crowds": "evaluate",
             "facesel.eval.track_bench": "run_tracks", "facesel.eval.runner": "run_erc",
             "facesel.eval.snapshot_audit": "audit_run"}[module]

    def reached(*args, **kwargs):
        raise AssertionError("the evaluation started before its output was checked")

    monkeypatch.setattr(target, entry, reached)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    values = {"file": a_file, "folder": tmp_path, "video": demo_clip()}
    code, _, err = run_cli(capsys, *[part.format(**values) for part in argv], "--data", tmp_path) \
        if argv[1] in ("switches", "crowds") else run_cli(capsys, *[part.format(**values) for part in argv])
    _one_line_error(code, err, "eval", flag)
    assert "file, not a folder" in err or "a folder, not a file" in err, err


def _authority_layout(root):
    """The files of ``authority init --out ROOT/authority`` that the flag checks look at (contents
    unread): ROOT/authority/keystore/authority.json, ROOT/authority/authority.pub, and a share
    file ROOT/share-1-of-3.json. Returns (authority folder, share)."""
    authority = root / "authority"
    (authority / "keystore").mkdir(parents=True)
    (authority / "keystore" / "authority.json").write_text("{}")
    (authority / "authority.pub").write_text("{}")
    share = root / "share-1-of-3.json"
    share.write_text("{}")
    return authority, share


@pytest.mark.parametrize("command", ["review", "open"])
@pytest.mark.parametrize(("given", "says"), [
    ("authority", "the authority folder, not its keystore: give {authority}/keystore"),
    ("authority/authority.pub", "a file, not the keystore folder (authority init's DIR/keystore)"),
    ("typo", "no such folder"),
])
def test_a_keystore_flag_that_is_no_keystore_points_to_the_right_folder(tmp_path, capsys, command, given, says):
    # ux16: `--keystore authority` (the folder `authority register --dir` takes) was told only
    # "keystore not found: authority/authority.json does not exist", naming no flag; the public
    # file said ".../authority.pub/authority.json does not exist". Only the layout matters here:
    # `authority init --out authority` makes authority/keystore/authority.json and authority.pub.
    authority, share = _authority_layout(tmp_path)
    value = tmp_path / given
    argv = (["review", "--vault", tmp_path / "vault", "--keystore", value] if command == "review" else
            ["open", "--vault", tmp_path / "vault", "--share", share, "--keystore", value, "--reason", "case 1",
             "--all", "--out", tmp_path / "opened"])
    code, _, err = run_cli(capsys, *argv)
    _one_line_error(code, err, command, f"--keystore {value}: " + says.format(authority=authority))


@pytest.mark.parametrize(("argv", "flag"), [
    (["train", "--data", "{folder}", "--out", "{file}/model"], "--out"),
    (["train", "--data", "{folder}", "--out", "{file}"], "--out"),
    (["train", "--data", "{folder}", "--out", "{folder}/model", "--cache", "{file}/crops.npz"], "--cache"),
    (["calibrate", "--model", "{model}", "--data", "{folder}", "--cache", "{folder}"], "--cache"),
])
def test_train_and_calibrate_outputs_are_refused_before_the_faces_are_aligned(tmp_path, capsys, monkeypatch, argv,
                                                                               flag):
    # ux16: `train --out FILE/model` aligned the whole training folder (minutes on LFW) and then
    # failed with "[Errno 20] Not a directory: 'FILE/model'"; `--cache` (train and calibrate) the
    # same after the alignment. The alignment here is a stand-in that fails if it is reached.
    pytest.importorskip("torch")
    import facesel.training.data
    import facesel.training.pipeline
    from facesel.scoring.vae import shipped_model_dir

    def reached(*args, **kwargs):
        raise AssertionError("the faces were aligned before the output was checked")

    monkeypatch.setattr(facesel.training.pipeline, "load_training_crops", reached)
    monkeypatch.setattr(facesel.training.data, "load_training_crops", reached)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    values = {"file": a_file, "folder": tmp_path, "model": shipped_model_dir()}
    code, _, err = run_cli(capsys, *[part.format(**values) for part in argv])
    _one_line_error(code, err, argv[0], flag)
    assert "file, not a folder" in err or "a folder, not a file" in err, err


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_facesel_data_that_names_no_folder_is_said_not_asked_for(tmp_path, capsys, monkeypatch, kind):
    # ux16: with FACESEL_DATA mistyped, `eval crowds/switches` said "no shared data: give --data DIR
    # or set FACESEL_DATA" (it was set), and `facesel demo` took the shipped clip without a word.
    from facesel.cli.demo import _default_input

    data = tmp_path / "data"
    if kind == "file":
        data.write_text("x")
    said = "no such folder" if kind == "missing" else "a file, not a folder"
    monkeypatch.setenv("FACESEL_DATA", str(data))
    code, _, err = run_cli(capsys, "eval", "crowds")
    assert code == 1 and err.strip() == f"facesel eval crowds: error: no shared data: FACESEL_DATA={data}: {said}; " \
                                        "give --data DIR", err
    _default_input()
    assert f"using the demo clip shipped with facesel (FACESEL_DATA={data}: {said})" in capsys.readouterr().out


@pytest.mark.parametrize(("flag", "value"), [("--max-side", "10"), ("--coarse-max-side", "31")])
def test_a_detection_side_below_32_is_a_usage_error_naming_the_flag(tmp_path, capsys, flag, value):
    # ux16: `run --max-side 10` passed the flags (low=0: 0 turns shrinking off) and ended, after
    # the models loaded, in exit 1 under the setting's Python name: "max_side must be in [32, inf],
    # got 10" (README: out-of-range numbers are usage errors naming the flag).
    from facesel.config import PipelineConfig

    with pytest.raises(SystemExit) as usage:
        run_cli(capsys, "run", tmp_path / "clip.mp4", "--dry-run", f"{flag}={value}")
    assert usage.value.code == 2
    assert f"argument {flag}: must be 0 (off) or at least 32, got {value}" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"max_side must be 0 \(off\) or at least 32, got 10"):
        PipelineConfig(max_side=10)
    assert PipelineConfig(max_side=0, coarse_max_side=0).max_side == 0


@pytest.mark.parametrize(("argv", "says"), [
    (["central", "open", "--share", "{share}", "--reason", "r", "--all", "--out", "{file}/opened"],
     "--out {file}/opened: cannot be made: {file} is a file, not a folder"),
    (["central", "open", "--share", "{folder}/typo.json", "--reason", "r", "--all", "--out", "{folder}/opened"],
     "--share {folder}/typo.json: no such file"),
    (["central", "init", "--authority", "{folder}/typo.pub"], "--authority {folder}/typo.pub: no such file"),
])
def test_central_commands_name_a_bad_flag_before_asking_the_store(tmp_path, capsys, argv, says):
    # ux16: `central open` with an --out below a file or a mistyped --share, and `central init` with
    # a mistyped --authority, were first told the store's state ("central store x@127.0.0.1:1 is
    # unreachable", or "typo.pub does not exist" naming no flag); `facesel open` checks them first.
    pytest.importorskip("psycopg")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    share = tmp_path / "share-1-of-3.json"
    share.write_text("{}")
    values = {"file": a_file, "folder": tmp_path, "share": share}
    code, _, err = run_cli(capsys, *[part.format(**values) for part in argv], "--central", "host=127.0.0.1 port=1")
    _one_line_error(code, err, "central", says.format(**values))


@pytest.mark.parametrize("action", [["register", "--camera", "{folder}/camera.pub"], ["extend", "--until", "2099-01-01"],
                                    ["shred", "--dry-run"]])
@pytest.mark.parametrize(("given", "says"), [
    ("authority/keystore", "the authority's keystore, not its folder: give {authority}"),
    ("authority/authority.pub", "a file, not the authority folder (authority init's --out DIR)"),
    ("typo", "no such folder"),
])
def test_an_authority_dir_that_is_no_authority_folder_points_to_the_right_one(tmp_path, capsys, action, given, says):
    # ux16, the mirror of the --keystore row: `authority extend --dir authority/keystore` said
    # "keystore not found: authority/keystore/keystore: no such folder", and a mistyped --dir named
    # no flag. Only the layout matters: checked before any share is read.
    authority, share = _authority_layout(tmp_path)
    argv = ["authority", action[0], "--dir", tmp_path / given, *[a.format(folder=tmp_path) for a in action[1:]]]
    if action[0] != "shred":
        argv += ["--share", share]
    code, _, err = run_cli(capsys, *argv)
    _one_line_error(code, err, "authority", f"--dir {tmp_path / given}: " + says.format(authority=authority))


@pytest.mark.parametrize("command", [["list"], ["audit", "verify"]])
@pytest.mark.parametrize(("given", "says"), [
    ("authority/keystore", "the authority's keystore: give {authority}/authority.pub"),
    ("empty", "a folder without an authority.pub"),
])
def test_an_authority_folder_without_its_public_file_is_named_by_the_flag(tmp_path, capsys, command, given, says):
    # ux16: `list/audit verify --authority authority/keystore` said "authority/keystore/authority.pub
    # does not exist", naming no flag and not where the file is.
    authority, _ = _authority_layout(tmp_path)
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, *command, "--vault", tmp_path / "vault", "--authority", tmp_path / given)
    _one_line_error(code, err, command[0], f"--authority {tmp_path / given}: " + says.format(authority=authority))


@pytest.mark.parametrize(("form", "rules", "videos"), [
    (["--rules", "default", "{video}"], ["default"], 1),
    (["--rules", "default,detector", "{video}"], ["default", "detector"], 1),
    (["--rules", "default", "detector", "{video}", "{video}"], ["default", "detector"], 2),
    (["--rules", "default", "--rules", "detector", "--", "{video}"], ["default", "detector"], 1),
    (["{video}", "--rules", "default", "detector"], ["default", "detector"], 1),
], ids=["video after one rule", "after a comma list", "two videos after two rules", "repeated flag and --",
        "video first (the old form)"])
def test_eval_tracks_takes_a_video_after_its_rules(tmp_path, capsys, monkeypatch, form, rules, videos):
    # ux16b: --rules took every word up to the next flag, the video too, and argparse then said only
    # "the following arguments are required: VIDEO" (exit 2); a repeated --rules kept only the last.
    # The evaluation is a stand-in that records what it was given.
    import facesel.eval.track_bench
    from facesel.demo_data import demo_clip

    given = {}

    def record(videos, rules, out, **kwargs):
        given.update(videos=[str(v) for v in videos], rules=rules)
        return {"report": out / "tracks.md", "json": out / "tracks.json", "plot": None}

    monkeypatch.setattr(facesel.eval.track_bench, "run_tracks", record)
    video = str(demo_clip())
    argv = [part.format(video=video) for part in form]
    code, _, err = run_cli(capsys, "eval", "tracks", "--out", tmp_path / "o", "--no-progress", *argv)
    assert code == 0, err
    assert given == {"videos": [video] * videos, "rules": rules}


def test_eval_tracks_without_a_video_after_its_rules_says_how_to_give_one(tmp_path, capsys):
    typo = tmp_path / "clip.mp5"  # no such file: it cannot be told from a mistyped rule
    with pytest.raises(SystemExit) as usage:
        run_cli(capsys, "eval", "tracks", "--out", tmp_path / "o", "--rules", "default", typo)
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert (f"facesel eval tracks: error: the following arguments are required: VIDEO (--rules takes every word "
            f"after it up to the next flag, and '{typo}', its last, is no rule name nor a file or folder that "
            "exists: put VIDEO before --rules, or end the rules with --, as in '--rules default -- VIDEO')") in err


def test_eval_tracks_usage_shows_video_as_required(capsys):
    # ux16c: VIDEO is declared optional to argparse (nargs "*", checked after the parse so that one
    # taken in by --rules can be given back), and 'eval tracks -h' showed "[VIDEO ...]" as if a run
    # needed none. The usage line, in the help and in a usage error, now says VIDEO [VIDEO ...].
    with pytest.raises(SystemExit) as shown:
        run_cli(capsys, "eval", "tracks", "-h")
    assert shown.value.code == 0
    usage = capsys.readouterr().out.split("\n\n", 1)[0]
    words = usage.split()
    assert words[:4] == ["usage:", "facesel", "eval", "tracks"] and words[-3:] == ["VIDEO", "[VIDEO", "...]"], usage
    assert "[VIDEO ...]" not in usage.replace("VIDEO [VIDEO ...]", ""), usage
    flags = ["-h", "--window", "--no-held-out", "--out", "--rules", "--cache-dir", "--no-cache", "--bootstrap", "--seed",
             "--no-progress"]
    assert re.findall(r"(?<![\w-])--?[a-z][\w-]*", usage) == flags, usage  # the fixed line still lists every flag
    with pytest.raises(SystemExit) as missing:
        run_cli(capsys, "eval", "tracks", "--out", "o")
    assert missing.value.code == 2
    err = capsys.readouterr().err
    assert " ".join(err.split()).startswith(" ".join(words)), err
    assert "facesel eval tracks: error: the following arguments are required: VIDEO" in err


@pytest.mark.parametrize(("argv", "name"), [
    (["run", "clip.mp4", "--vault", "", "--authority", "a.pub", "--camera", "cam"], "--vault"),
    (["run", "clip.mp4", "--plaintext-out", ""], "--plaintext-out"),
    (["run", "", "--dry-run"], "INPUT"),
    (["score", "a.png", ""], "IMAGE"),
    (["serve", "status", "--config", ""], "--config"),
], ids=lambda v: "-".join(v) if isinstance(v, list) else v)
def test_an_argument_given_empty_is_a_usage_error_before_any_work(capsys, argv, name):
    # ux19: "" (a shell variable left unset) was `--plaintext-out ""`: no output and exit 0, or
    # `--vault ""`: refused after the models loaded under the Python name `path`, or the input
    # "source must be a path, URL or camera index, got ''" after they loaded
    from facesel.cli import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.splitlines()[-1] == f"facesel {argv[0]}: error: argument {name}: empty value (a shell variable left unset?)"


def test_a_training_seed_numpy_or_torch_would_refuse_is_named():
    # ux19: TrainConfig(seed=-1) reached np.random.default_rng only after the faces were aligned
    pytest.importorskip("torch")
    from facesel.training.loop import TrainConfig

    for seed in (-1, 2**63, 1.5, True):
        with pytest.raises(ValueError, match=r"^seed must be an integer in \[0, 2\*\*63\), got "):
            TrainConfig(seed=seed)
    assert TrainConfig(seed=2**63 - 1).seed == 2**63 - 1
