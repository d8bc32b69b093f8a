"""facesel run's service-side behaviour: SIGTERM seals the open track and exits 0, the --json
event stream, --config in facesel serve's format, did-you-mean, the testing-only preview."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading

import cv2
import pytest
from facesel.cli import build_parser, main
from mjpeg_server import MJPEGServer, read_gif
from process_helpers import running

from test_sources import wait_for


@pytest.fixture(scope="module")
def head_pose(shared_data):
    return shared_data / "videos" / "intel_head_pose_female.gif"


def run_json(capsys, *args):
    code = main(["run", *map(str, args), "--scorer", "laplacian", "--no-progress", "--json"])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def test_json_events_are_metadata_only_and_match_the_tracks(shared_data, tmp_path, capsys):
    clip = shared_data / "videos" / "intel_face_demographics_walking.gif"
    code, events = run_json(capsys, clip, "--plaintext-out", tmp_path)
    assert code == 0  # stdout held nothing but JSON lines (json.loads above did not fail)
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "run_finished" and events[-1]["reason"] == "end of input"
    opened = {e["track_id"] for e in events if e["event"] == "track_opened"}
    closed = {e["track_id"]: e for e in events if e["event"] == "track_closed"}
    records = [json.loads(line) for line in (tmp_path / "tracks.jsonl").read_text().splitlines()]
    assert opened == set(closed) == {r["track_id"] for r in records} and records
    for r in records:
        assert closed[r["track_id"]]["best_frame"] == r["best_frame"]
        assert closed[r["track_id"]]["quality"] == pytest.approx(r["quality"])
    allowed = {"event", "track_id", "frame", "timestamp", "first_frame", "last_frame", "first_timestamp",
               "last_timestamp", "best_frame", "quality", "box", "frames", "tracks", "reason"}
    assert set().union(*events) <= allowed  # no crops, landmarks or thumbnails
    assert events[-1]["tracks"] == len(records)


@pytest.mark.parametrize("every", [1, 2])
def test_a_run_stopped_by_max_frames_does_not_call_it_the_end_of_input(shared_data, capsys, every):
    """ux21: a run that --max-frames stopped before the input's end said ``"reason": "end of input"``."""
    clip = shared_data / "videos" / "intel_face_demographics_walking.gif"  # 35 frames
    code, events = run_json(capsys, clip, "--dry-run", "--max-frames", 10, "--every", every)
    assert code == 0 and events[-1]["event"] == "run_finished"
    assert events[-1]["frames"] == 10 and events[-1]["reason"] == "--max-frames reached"
    code, events = run_json(capsys, clip, "--dry-run", "--max-frames", 100, "--every", every)
    assert code == 0 and events[-1]["frames"] == -(-35 // every) and events[-1]["reason"] == "end of input"


@pytest.mark.slow
def test_sigterm_mid_track_seals_it_and_exits_0(head_pose, tmp_path):
    """A live stream that never ends: SIGTERM while a person is in view closes and writes their
    track and exits 0 (it used to exit 143 and lose it)."""
    out = tmp_path / "out"
    with MJPEGServer(read_gif(head_pose), fps=12) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "facesel", "run", server.url, "--plaintext-out", str(out), "--json",
             "--scorer", "laplacian", "--no-progress"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        events: list[dict] = []
        reader = threading.Thread(target=lambda: events.extend(json.loads(line) for line in process.stdout))
        reader.start()
        # running() last, so that it exits first: the process is killed before its pipe is closed (see it)
        with contextlib.closing(process.stdout), running(process):
            assert wait_for(lambda: any(e["event"] == "track_opened" for e in events), timeout=90)
            process.send_signal(signal.SIGTERM)
            code = process.wait(60)
            reader.join(10)
    assert code == 0
    opened = [e["track_id"] for e in events if e["event"] == "track_opened"]
    closed = [e["track_id"] for e in events if e["event"] == "track_closed"]
    assert opened and set(opened) <= set(closed)
    assert events[-1] == {**events[-1], "event": "run_finished", "reason": "SIGTERM"}
    records = [json.loads(line) for line in (out / "tracks.jsonl").read_text().splitlines()]
    assert {r["track_id"] for r in records} == set(closed)
    assert all((out / r["snapshot"]).is_file() for r in records)


def test_config_file_fills_in_what_the_command_line_leaves_out(head_pose, tmp_path, capsys):
    from facesel.vault import create_authority, enrol_camera

    create_authority(tmp_path / "authority", shares=3, threshold=2, epoch_seconds=86400.0,
                     retention_seconds=86400.0 * 7, horizon_seconds=86400.0 * 2, start=__import__("time").time())
    enrol_camera(tmp_path / "authority", tmp_path / "door-key", "door-1", sorted((tmp_path / "authority" / "shares").iterdir())[:2])
    (tmp_path / "facesel.toml").write_text(
        f'[cameras.door]\nsource = "{head_pose}"\nvault = "vault"\nauthority = "authority/authority.pub"\n'
        'camera_key = "door-key"\n[cameras.door.pipeline]\ntop_k = 2\nmin_hits = 2\n')
    config = tmp_path / "facesel.toml"
    code, events = run_json(capsys, "--config", config, "--plaintext-out", tmp_path / "plain")
    assert code == 0
    records = [json.loads(line) for line in (tmp_path / "plain" / "tracks.jsonl").read_text().splitlines()]
    assert records and all(len(r["top"]) == 1 for r in records)  # the file's top_k = 2: one runner-up
    sealed = [e for e in events if e["event"] == "track_sealed"]
    assert len(sealed) == len(records) == len(list((tmp_path / "vault" / "records").glob("*.fsr")))
    from facesel.vault.identity import vault_owner

    assert vault_owner(tmp_path / "vault") == "door-1"  # sealed as the key's camera
    # a flag given on the command line wins over the file
    code, _ = run_json(capsys, "--config", config, "--plaintext-out", tmp_path / "plain3", "--top-k", "3")
    records = [json.loads(line) for line in (tmp_path / "plain3" / "tracks.jsonl").read_text().splitlines()]
    assert code == 0 and records and all(len(r["top"]) == 2 for r in records)
    assert main(["run", "--config", str(config), "--config-camera", "dor", "--dry-run"]) == 1
    assert "did you mean 'door'?" in capsys.readouterr().err


def test_mistyped_subcommand_and_flag_get_did_you_mean(capsys):
    with pytest.raises(SystemExit):
        main(["rnu", "video.mp4"])
    assert "did you mean 'run'?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "video.mp4", "--dryrun"])
    assert "did you mean '--dry-run'?" in capsys.readouterr().err


def test_preview_is_labelled_for_testing_and_has_every_frame(head_pose, tmp_path, capsys):
    help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["run"].format_help().split())
    assert "FOR TESTING ONLY" in help_text and "in the clear" in help_text
    preview = tmp_path / "preview.avi"
    code, events = run_json(capsys, head_pose, "--dry-run", "--preview", preview)
    assert code == 0
    capture = cv2.VideoCapture(str(preview))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames == events[-1]["frames"] == 23
