"""A new user's first mistakes at the command line (ux14's walk): a video that is empty, damaged or
unreadable, and a --vault that is mistyped, a file, or a folder that is no vault. Each ends in one
line that says what is wrong with the thing the user gave, exit status 1."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import facesel
import pytest
from test_vault_common import orl_faces, run_cli, sealed_vault


def _one_line_error(code, err, command):
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("facesel ")]
    assert len(lines) == 1 and re.match(rf"facesel {command}( [a-z-]+)?: error:", lines[0]), err
    assert "Traceback" not in err
    return lines[0]


def test_run_on_an_empty_file_says_it_is_empty(tmp_path, capsys):
    # Before: "OpenCV could not open it", the same words as for a damaged file.
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    line = _one_line_error(*run_cli(capsys, "run", "--dry-run", "--no-progress", clip)[::2], "run")
    assert f"cannot read video file {clip}: the file is empty (0 bytes)" in line


def test_run_on_a_damaged_file_says_what_it_may_be(shared_data, tmp_path, capsys):
    clip = tmp_path / "cut.mp4"  # the first 64 kB of a real video: no index (moov atom) to open it by
    clip.write_bytes((shared_data / "videos" / "arcade_walkers_1080p.mp4").read_bytes()[:65536])
    line = _one_line_error(*run_cli(capsys, "run", "--dry-run", "--no-progress", clip)[::2], "run")
    assert "not a video format it can decode, or the file is damaged or cut short" in line


def _as_nobody(call):
    """call() with another user's rights when run as root (who reads any file): a real denial."""
    as_root = os.geteuid() == 0
    if as_root:
        os.seteuid(65534)
    try:
        return call()
    finally:
        if as_root:
            os.seteuid(0)


@pytest.mark.parametrize("where", ["file", "folder"])
def test_run_on_an_unreadable_input_says_permission_denied(shared_data, tmp_path, capsys, where):
    # pytest's own tmp folders are 0700: build an open path of folders for the other user.
    home = Path(tempfile.mkdtemp(prefix="facesel-ux14-"))
    try:
        home.chmod(0o755)
        shut = home / "shut"
        shut.mkdir(mode=0o755)
        clip = shut / "clip.mp4"
        clip.write_bytes((shared_data / "videos" / "arcade_walkers_1080p.mp4").read_bytes()[:65536])
        (clip if where == "file" else shut).chmod(0o000 if where == "file" else 0o700)
        code, _, err = _as_nobody(lambda: run_cli(capsys, "run", "--dry-run", "--no-progress", clip))
        line = _one_line_error(code, err, "run")
        if where == "file":
            assert f"cannot read video file {clip}: Permission denied" in line
        else:  # before: "[Errno 13] Permission denied: '...'" from pathlib's exists()
            assert f"cannot read {clip}: permission denied on a folder that holds it" in line
    finally:
        shutil.rmtree(home)


@pytest.fixture(scope="module")
def vault(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("vault")
    return sealed_vault(root, orl_faces(shared_data, 1))[1]


@pytest.mark.parametrize("kind", ["missing", "file", "empty folder"])
@pytest.mark.parametrize("argv", [["list"], ["audit", "verify"], ["audit", "head"], ["purge", "--camera", "c"]],
                         ids=" ".join)
def test_a_vault_flag_that_names_no_vault_says_so(tmp_path, capsys, kind, argv):
    # Before: "X/authority.pub does not exist" (missing, empty) or "X/authority.pub: not a readable
    # facesel-authority-public file (Not a directory)" (a file): a file inside what is no vault.
    target = tmp_path / "vlt"
    if kind == "file":
        target.write_bytes(b"not a vault")
    elif kind == "empty folder":
        target.mkdir()
    line = _one_line_error(*run_cli(capsys, *argv, "--vault", target)[::2], argv[0])
    why = {"missing": "no such folder", "file": "it is a file, not a folder",
           "empty folder": "it holds neither vault.json nor authority.pub"}[kind]
    assert f"no vault at {target} ({why})" in line


def test_a_vault_without_its_authority_file_is_still_reported_as_damaged(vault, tmp_path, capsys):
    # A folder holding vault.json but not authority.pub is a damaged vault, not "no vault".
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "vault.json").write_bytes((Path(vault) / "vault.json").read_bytes())
    line = _one_line_error(*run_cli(capsys, "list", "--vault", copy)[::2], "list")
    assert "no vault at" not in line and "authority.pub" in line


def test_the_sealed_vault_still_lists(vault, capsys):
    code, out, err = run_cli(capsys, "list", "--vault", vault)
    assert code == 0, err
    assert "1 record(s)" in out


def test_ctrl_c_during_the_demo_exits_130_not_1(shared_data, tmp_path):
    # Before: the demo reported the interrupted step as a failure: "step failed with exit code
    # 130", exit 1, as if something had gone wrong rather than the user stopping it.
    env = {**os.environ, "PYTHONPATH": str(Path(facesel.__file__).resolve().parents[1]),
           "FACESEL_DATA": str(shared_data)}
    proc = subprocess.Popen([sys.executable, "-m", "facesel", "demo", "--workdir", str(tmp_path / "demo")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        seen = []
        for line in proc.stderr:  # inside the run step (its first line): where a user is most likely to stop it
            seen.append(line)
            if line.startswith("input "):
                proc.send_signal(signal.SIGINT)
                break
        _, err = proc.communicate(timeout=120)
        err = "".join(seen) + err
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "facesel demo: stopped by Ctrl-C (SIGINT) during: facesel run" in err
    assert "run the demo again with --replace" in err and "step failed" not in err


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_calibrate_model_that_is_no_folder_says_so(shared_data, tmp_path, capsys, kind):
    model = tmp_path / "model.onnx"
    if kind == "file":
        model.write_bytes(b"onnx?")
    code, _, err = run_cli(capsys, "calibrate", "--model", model, "--data", shared_data / "faces" / "orl")
    line = _one_line_error(code, err, "calibrate")
    assert f"--model {model}: " + ("a file, not a folder" if kind == "file" else "no such folder") in line


@pytest.mark.parametrize("make", ["flag", "config", "yunet", "mtcnn", "vae"])
def test_onnx_threads_beyond_the_cap_are_refused_before_any_session(make, tmp_path, capsys):
    # Before: --onnx-threads 100000 ended facesel run in a SIGSEGV inside ONNX Runtime, and 2000
    # hung it past SIGTERM while the threads were made.
    from facesel.detect.base import MAX_ONNX_THREADS

    too_many = MAX_ONNX_THREADS + 1
    if make == "flag":
        with pytest.raises(SystemExit) as usage:
            run_cli(capsys, "run", "--dry-run", "--onnx-threads", too_many, tmp_path)
        assert usage.value.code == 2
        assert f"argument --onnx-threads: must be in [1, {MAX_ONNX_THREADS}], got {too_many}" in capsys.readouterr().err
        return
    if make == "config":
        from facesel.config import PipelineConfig

        call = lambda threads: PipelineConfig(onnx_threads=threads)  # noqa: E731
    elif make == "vae":
        from facesel.scoring.vae import VAEScorer

        call = lambda threads: VAEScorer(threads=threads)  # noqa: E731
    else:
        from facesel.detect.mtcnn import MTCNNDetector
        from facesel.detect.yunet import YuNetDetector

        call = {"yunet": YuNetDetector, "mtcnn": MTCNNDetector}[make]
        call = (lambda cls: lambda threads: cls(threads=threads))(call)
    with pytest.raises(ValueError, match=f"threads must be .*{MAX_ONNX_THREADS}.*got {too_many}"):
        call(too_many)
    assert call(MAX_ONNX_THREADS) is not None  # the cap itself is a valid setting


def test_train_threads_beyond_the_cap_are_refused_before_any_face_is_loaded(tmp_path, capsys):
    if not os.environ.get("CI"):  # torch is the [train] extra; CI installs it, so never skip there
        pytest.importorskip("torch", reason="facesel train needs torch (the [train] extra)")
    from facesel.training.loop import MAX_TRAIN_THREADS

    # a usage error naming the flag since ux19 (the flag's bound is written in cli/train.py, which
    # must not import torch: this checks it is the training loop's)
    with pytest.raises(SystemExit) as stop:
        run_cli(capsys, "train", "--data", tmp_path, "--out", tmp_path / "model", "--threads", MAX_TRAIN_THREADS + 1,
                "--quiet")
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"facesel train: error: argument --threads: must be an integer in [1, {MAX_TRAIN_THREADS}], "
        f"got {MAX_TRAIN_THREADS + 1}")
    assert not (tmp_path / "model").exists()


def test_score_takes_a_photo_above_half_the_largest_frame_and_names_the_file_it_cannot(tmp_path):
    # ux16: score pads each image by half its size (for tight face crops), so a 9000 px wide photo
    # became an 18000 px frame and was refused with "frame sides must be at most 16384 pixels, got
    # shape (18000, ...)": a shape the user never gave, and no file named. A damaged PNG also put
    # FFmpeg's "[png @ 0x...] Invalid PNG signature" above facesel's lines. In a subprocess: the
    # FFmpeg line is written by C code to the process's stderr.
    import cv2
    import numpy as np

    wide, beyond, damaged = tmp_path / "wide.png", tmp_path / "beyond.png", tmp_path / "damaged.png"
    assert cv2.imwrite(str(wide), np.full((48, 9000, 3), 128, np.uint8))
    assert cv2.imwrite(str(beyond), np.full((16, 17000, 3), 128, np.uint8))
    damaged.write_bytes(b"\x89PNG not a picture")
    done = subprocess.run([sys.executable, "-m", "facesel", "score", "--json", str(wide), str(beyond), str(damaged)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr
    import json

    rows = {Path(row["path"]).name: row for row in json.loads(done.stdout)["results"]}
    assert rows["wide.png"]["faces"][0]["box"] == [0.0, 0.0, 9000.0, 48.0], rows["wide.png"]
    assert rows["beyond.png"]["error"].startswith(f"{beyond}: frame sides must be at most 16384"), rows["beyond.png"]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"facesel score: error: {rows['beyond.png']['error']}",
                     f"facesel score: error: cannot read image file: {damaged}"], done.stderr


def test_the_detection_padding_stops_at_the_largest_frame():
    import numpy as np
    from facesel.align import pad_for_detection
    from facesel.detect.base import MAX_FRAME_SIDE

    padded, dx, dy = pad_for_detection(np.zeros((61, 63, 3), np.uint8))
    assert (dx, dy) == (32, 30) and padded.shape[:2] == (121, 127), "a face crop is padded by half, as before"
    padded, dx, dy = pad_for_detection(np.zeros((10, 9000, 3), np.uint8))
    assert padded.shape[1] <= MAX_FRAME_SIDE and dx > 0 and padded.shape[1] == 9000 + 2 * dx


def _frames(folder: Path, frames) -> Path:
    import cv2

    folder.mkdir()
    for i, frame in enumerate(frames):
        assert cv2.imwrite(str(folder / f"{i:03d}.png"), frame)
    return folder


def _nothing_kept(capsys, folder, *flags):
    """``facesel run FOLDER --dry-run``: (exit code, the "no person was kept" lines of stdout and stderr)."""
    code, out, err = run_cli(capsys, "run", "--dry-run", "--no-progress", folder, *flags)
    said = [line for line in out.splitlines() if "no person was kept" in line]
    told = [line for line in err.splitlines() if "no person was kept" in line]
    return code, said, told


def test_a_run_that_keeps_no_person_says_why_and_still_exits_0(tmp_path, capsys):
    # ux16b: a folder of fewer frames than --min-hits (or with no face) ended in "frames 2  tracks 0",
    # exit 0, without a word on why nothing was kept. 0 stays ("done" in 'facesel --help': it ran fine).
    import numpy as np

    grey = np.full((120, 160, 3), 128, np.uint8)
    code, said, told = _nothing_kept(capsys, _frames(tmp_path / "two", [grey] * 2))
    assert code == 0
    assert said == ["no person was kept: the input gave 2 frames, fewer than --min-hits 3: a person is kept only "
                    "after being seen on 3 frames (give more frames, or a lower --min-hits)"]
    assert told == [f"facesel run: {said[0]}"], "stdout may be a file: the line is on stderr too"
    code, said, _ = _nothing_kept(capsys, _frames(tmp_path / "four", [grey] * 4), "--min-face-size", "24")
    assert code == 0
    assert said == ["no person was kept: no face was detected on any of the 4 frames (faces smaller than "
                    "--min-face-size 24 pixels on their shorter side are left out; very small, dark, blurred or "
                    "turned-away faces are not found)"]


def test_a_face_on_fewer_frames_than_min_hits_is_named_and_a_kept_person_gets_no_such_line(shared_data, tmp_path,
                                                                                          capsys):
    import cv2
    import numpy as np

    video = cv2.VideoCapture(str(shared_data / "videos" / "intel_head_pose_female.gif"))
    faces = [video.read()[1] for _ in range(4)]
    video.release()
    blank = np.zeros_like(faces[0])
    code, said, _ = _nothing_kept(capsys, _frames(tmp_path / "glimpse", faces[:2] + [blank] * 3))
    assert code == 0
    assert said == ["no person was kept: faces were detected (2 times) but no track reached --min-hits 3 frames "
                    "(a face seen on fewer frames, or one that jumps between frames, is no person yet)"]
    code, said, told = _nothing_kept(capsys, _frames(tmp_path / "seen", faces))
    assert code == 0 and said == [] and told == []


def test_a_person_the_finaliser_drops_as_static_is_named_as_the_finaliser_s_doing(shared_data, tmp_path, capsys):
    # ux16c: the "closed, none kept by the finaliser" reason had no test. One photo of a face, the
    # same on every frame of a folder (25 frames/s): a face that never moves nor lives, which the
    # static rule drops once it has lasted min_static_seconds (2 s), and not before.
    import cv2

    from facesel.select.faceness import FacenessRule

    photo = cv2.imread(str(shared_data / "faces" / "fei" / "fei_004" / "4a.jpg"))
    assert photo is not None
    frames_for = round(FacenessRule().min_static_seconds * 25)
    code, said, told = _nothing_kept(capsys, _frames(tmp_path / "short", [photo] * (frames_for - 20)))
    assert code == 0 and said == [] and told == [], "a still face shorter than the static rule is kept"
    code, said, told = _nothing_kept(capsys, _frames(tmp_path / "still", [photo] * (frames_for + 25)))
    assert code == 0
    assert said == ["no person was kept: the finaliser dropped every closed track (1 tracks closed: 0 merged into "
                    "an earlier fragment, 0 kept (0 poor faces), dropped 0 not_face, 1 static, 0 duplicate); a face "
                    "that never moves is dropped as static: --keep-static keeps it"], said
    assert told == [f"facesel run: {said[0]}"]


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_ctrl_c_during_score_prints_the_scores_done_and_exits_130(tmp_path, capsys, monkeypatch, as_json):
    # ux16b: every image was scored at the end of the list, so Ctrl-C in a long 'facesel score' printed
    # only "interrupted": the images done were lost. Ctrl-C stands here as the interrupt arriving
    # while the third image is read (where the time goes), not as a real signal: no race with the end.
    import cv2
    import numpy as np
    from facesel.cli import score

    images = []
    for i, level in enumerate((90, 130, 170)):
        images.append(tmp_path / f"{i}.png")
        assert cv2.imwrite(str(images[-1]), np.full((64, 64, 3), level, np.uint8))
    real = score._faces

    def interrupted_at_the_third(image, detector):
        if int(image[0, 0, 0]) == 170:
            raise KeyboardInterrupt
        return real(image, detector)

    monkeypatch.setattr(score, "_faces", interrupted_at_the_third)
    code, out, err = run_cli(capsys, "score", *(["--json"] if as_json else []), *images)
    assert code == 130, err
    assert "facesel score: interrupted by Ctrl-C after 2 of 3 images: the scores above are those of the images done" in err
    if as_json:
        import json

        doc = json.loads(out)
        assert [row["path"] for row in doc["results"]] == [str(p) for p in images[:2]]
        assert all(np.isfinite(row["quality"]) for row in doc["results"])
        assert doc["interrupted"] == "stopped by Ctrl-C after 2 of 3 images"
    else:
        rows = [line.split("\t") for line in out.splitlines()]
        assert [row[0] for row in rows] == [str(p) for p in images[:2]], out
        assert all(np.isfinite(float(row[1])) for row in rows)
