"""``facesel run`` on short real clips: plaintext output, reports, the vault, refusals."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest
from facesel.cli import build_parser, main

PNG_MAGIC = b"\x89PNG"
JPEG_MAGIC = b"\xff\xd8\xff"


@pytest.fixture(scope="module")
def clip(shared_data):
    return str(shared_data / "videos" / "intel_face_demographics_walking.gif")


@pytest.fixture(scope="module")
def head_pose(shared_data):
    return str(shared_data / "videos" / "intel_head_pose_female.gif")


def run_cli(*args) -> int:
    return main(["run", *map(str, args), "--scorer", "laplacian", "--no-progress"])


@pytest.fixture(scope="module")
def plaintext_run(clip, tmp_path_factory):
    """One run on the walking clip with --plaintext-out, --report and a clip window."""
    out, report = tmp_path_factory.mktemp("out"), tmp_path_factory.mktemp("report")
    assert run_cli(clip, "--plaintext-out", out, "--report", report, "--clip-window", "2", "--top-k", "2") == 0
    records = [json.loads(line) for line in (out / "tracks.jsonl").read_text().splitlines()]
    return out, report, records


def test_plaintext_out_writes_one_png_per_track_and_jsonl(plaintext_run):
    out, _, records = plaintext_run
    assert len(records) >= 1
    snapshots = sorted(p.name for p in out.glob("track_?????.png"))
    assert snapshots == sorted(r["snapshot"] for r in records)
    assert len({r["track_id"] for r in records}) == len(records)
    for r in records:
        image = cv2.imread(str(out / r["snapshot"]))
        assert image is not None and image.ndim == 3 and image.shape[0] > 8
        x1, y1, x2, y2 = r["box"]
        # The box grown by 25% on each side, clipped to the 480x270 frame.
        width = min(480, x2 + 0.25 * (x2 - x1)) - max(0, x1 - 0.25 * (x2 - x1))
        assert abs(image.shape[1] - width) <= 2
        assert r["first_frame"] <= r["best_frame"] <= r["last_frame"]
        # the kept frame's own value in the series; not necessarily its maximum: the default
        # consensus pick keeps the finalist most like its track, not the best-scored one
        assert r["quality"] == r["qualities"][r["frame_indices"].index(r["best_frame"])]
        assert len(r["boxes"]) == len(r["frame_indices"]) == len(r["qualities"])
        assert r["best_frame"] in [int(name.rsplit("_", 1)[1][:-4]) for name in r["clip"]]
        for name in r["clip"]:
            frame = int(name.rsplit("_", 1)[1][:-4])
            assert abs(frame - r["best_frame"]) <= 2 and (out / name).is_file()
        [runner_up] = r["top"]  # --top-k 2: the best and one runner-up
        # the consensus pick's top: its choice, then the best by score when that is another frame
        assert runner_up["frame"] != r["best_frame"]
        assert max(r["quality"], runner_up["quality"]) == max(r["qualities"])
        assert runner_up["frame"] in r["frame_indices"] and (out / runner_up["snapshot"]).is_file()


def test_report_has_a_plot_and_a_strip_per_track(plaintext_run):
    _, report, records = plaintext_run
    for r in records:
        quality = cv2.imread(str(report / f"track_{r['track_id']:05d}_quality.png"))
        strip = cv2.imread(str(report / f"track_{r['track_id']:05d}_strip.png"))
        assert quality is not None and quality.shape[0] > 100
        assert strip is not None and strip.shape[0] > 50
    assert len(list(report.iterdir())) == 2 * len(records)


def test_report_without_plaintext_holds_no_face_pixels(head_pose, tmp_path):
    report = tmp_path / "report"
    assert run_cli(head_pose, "--dry-run", "--report", report, "--max-frames", "12") == 0
    files = sorted(p.name for p in report.iterdir())
    assert files and all(name.endswith("_quality.png") for name in files)


def test_plaintext_help_says_it_is_for_testing_and_in_the_clear():
    run_parser = build_parser()._subparsers._group_actions[0].choices["run"]
    text = " ".join(run_parser.format_help().split())
    assert "FOR TESTING ONLY" in text and "UNENCRYPTED" in text and "in the clear" in text


def test_a_plaintext_run_warns_on_stderr_before_it_writes_faces(clip, tmp_path, capsys):
    # ux22: --preview warned at its start; --plaintext-out, the same faces as PNGs, did not.
    assert run_cli(clip, "--plaintext-out", tmp_path / "out", "--max-frames", "3") == 0
    err = capsys.readouterr().err
    assert f"WARNING: --plaintext-out writes FACES IN THE CLEAR to {tmp_path / 'out'}" in err


def test_refuses_when_nothing_would_be_kept(head_pose, capsys):
    assert run_cli(head_pose) == 1
    assert "nothing would be kept" in capsys.readouterr().err


def test_vault_and_authority_go_together(head_pose, tmp_path, capsys):
    assert run_cli(head_pose, "--vault", tmp_path / "v") == 1
    assert "--authority" in capsys.readouterr().err


def test_missing_input_is_one_clear_line(tmp_path, capsys):
    assert run_cli(tmp_path / "missing.mp4", "--dry-run") == 1
    err = capsys.readouterr().err
    assert "input not found" in err and "Traceback" not in err


def test_plaintext_out_refuses_a_folder_with_a_previous_run(head_pose, tmp_path, capsys):
    (tmp_path / "tracks.jsonl").write_text("")
    assert run_cli(head_pose, "--plaintext-out", tmp_path, "--max-frames", "3") == 1
    assert "already holds a run" in capsys.readouterr().err


def test_every_and_max_frames(head_pose, tmp_path, capsys):
    assert run_cli(head_pose, "--dry-run", "--every", "2", "--max-frames", "5") == 0
    assert "frames 5 " in capsys.readouterr().out


def test_vault_run_seals_exactly_the_snapshots_chosen(head_pose, tmp_path):
    """--vault and --plaintext-out in one run: opening the vault with 2 of 3 shares gives back the
    very crops written in the clear, and no vault file holds an image signature."""
    from facesel.vault import create_authority, enrol_camera, open_records

    authority = tmp_path / "authority"
    create_authority(authority, shares=3, threshold=2, epoch_seconds=86400.0, retention_seconds=7 * 86400.0,
                     horizon_seconds=2 * 86400.0, start=time.time())
    enrol_camera(authority, tmp_path / "camera", "cam-1", sorted((authority / "shares").iterdir())[:2])
    vault, out, opened_dir = tmp_path / "vault", tmp_path / "plain", tmp_path / "opened"
    assert run_cli(head_pose, "--vault", vault, "--authority", authority / "authority.pub",
                   "--camera", tmp_path / "camera", "--camera-id", "cam-1", "--plaintext-out", out) == 0
    records = [json.loads(line) for line in (out / "tracks.jsonl").read_text().splitlines()]
    assert len(records) >= 1
    for path in vault.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PNG_MAGIC not in data and JPEG_MAGIC not in data, path
    shares = sorted((authority / "shares").iterdir())[:2]
    opened = open_records(vault, shares, authority / "keystore", "facesel test", opened_dir, all_records=True)
    assert len(opened) == len(records)
    by_track = {r["track_id"]: cv2.imread(str(out / r["snapshot"])) for r in records}
    for item in opened:
        track_id = item.snapshot.meta["track"]["track_id"]
        assert np.array_equal(item.snapshot.crop(), by_track[track_id])
