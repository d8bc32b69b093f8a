"""``facesel run --plaintext-out`` keeps its frame settings in ``run.json``, and ``facesel eval
snapshots`` reads the video as the run did (ux23). Before, a run made with ``--every 2`` audited
with ``--every`` left at 1 compared each snapshot with another frame of the video, without a word
when those frames existed (docs/review.md, ux22's "Left as they are")."""

from __future__ import annotations

import json

import pytest
from facesel.cli import main
from facesel.run_settings import RUN_FILE, settings_for_audit


def _run_folder(tmp_path, **settings):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "tracks.jsonl").write_text("")
    record = {"input": "walkers.mp4", "every": 1, "max_frames": None, "fps": None, **settings}
    (folder / RUN_FILE).write_text(json.dumps(record))
    return folder


@pytest.fixture
def no_census(monkeypatch):
    """The census (minutes of detection and embedding) as a stand-in that fails when reached."""
    import facesel.eval.census as census

    def reached(*args, **kwargs):
        raise AssertionError("the census started")

    monkeypatch.setattr(census, "census", reached)


@pytest.mark.parametrize("flags, recorded, said", [
    (["--every", "2"], {"every": 1}, "--every 2: the run in {run} was made with --every 1"),
    (["--every", "1"], {"every": 3}, "--every 1: the run in {run} was made with --every 3"),
    (["--max-frames", "50"], {"max_frames": 40}, "--max-frames 50: the run in {run} was made with --max-frames 40"),
    (["--max-frames", "50"], {}, "--max-frames 50: the run in {run} was made without --max-frames"),
    (["--fps", "10"], {"fps": 25.0}, "--fps 10: the run in {run} was made with --fps 25"),
])
def test_a_frame_setting_other_than_the_run_s_is_refused_naming_both_before_the_census(
        tmp_path, capsys, no_census, flags, recorded, said):
    run = _run_folder(tmp_path, **recorded)
    assert main(["eval", "snapshots", str(tmp_path / "video.mp4"), str(run), "--no-sheet", *flags]) == 1
    err = capsys.readouterr().err
    assert said.format(run=run) in err and "leave" in err and "Traceback" not in err


def test_the_run_s_settings_are_taken_when_not_given_and_a_run_without_them_reads_every_1(tmp_path):
    run = _run_folder(tmp_path, every=2, max_frames=40)
    given = {"every": None, "max_frames": None, "fps": None}
    assert settings_for_audit(run, given) == {"every": 2, "max_frames": 40, "fps": None}
    assert settings_for_audit(run, {**given, "every": 2}) == {"every": 2, "max_frames": 40, "fps": None}
    (run / RUN_FILE).unlink()  # a run of a facesel before run.json: as before
    assert settings_for_audit(run, given) == {"every": 1, "max_frames": None, "fps": None}
    assert settings_for_audit(run, {**given, "every": 3})["every"] == 3
    (run / RUN_FILE).write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a facesel run's settings"):
        settings_for_audit(run, given)


def test_facesel_run_writes_its_frame_settings_beside_tracks_jsonl(shared_data, tmp_path):
    clip = shared_data / "videos" / "intel_head_pose_female.gif"
    out = tmp_path / "out"
    assert main(["run", str(clip), "--plaintext-out", str(out), "--every", "2", "--max-frames", "6",
                 "--scorer", "laplacian", "--no-progress"]) == 0
    assert json.loads((out / RUN_FILE).read_text()) == {"input": str(clip), "every": 2, "max_frames": 6, "fps": None}
    given = {"every": None, "max_frames": None, "fps": None}
    assert settings_for_audit(out, given) == {"every": 2, "max_frames": 6, "fps": None}
    with pytest.raises(ValueError, match="--every 1: the run in .* was made with --every 2"):
        settings_for_audit(out, {**given, "every": 1})


def test_an_audit_of_another_video_than_the_run_read_is_noted(tmp_path, capsys, no_census):
    # The run's input is in run.json: auditing another file (a copy, or the wrong video) is said on stderr.
    from facesel.cli.eval_snapshots import other_input_note

    video = tmp_path / "walkers.mp4"
    video.write_bytes(b"")
    run = _run_folder(tmp_path, input=str(video))
    assert other_input_note(video, run) is None
    assert other_input_note(tmp_path / "." / "walkers.mp4", run) is None
    other = tmp_path / "other.mp4"
    other.write_bytes(b"")  # an input that exists: a missing one is named by the audit's own error (ux26)
    assert other_input_note(other, run) == (f"the run in {run} read {video}, not {other}: its snapshots are compared "
                                            f"with the frames of {other} (fine for a copy of the same video)")
    main(["eval", "snapshots", str(other), str(run), "--no-sheet", "--every", "2"])  # refused after the note
    err = capsys.readouterr().err
    assert err.startswith(f"facesel eval snapshots: note: the run in {run} read {video}, not {other}")
    (run / RUN_FILE).unlink()
    assert other_input_note(other, run) is None  # no run.json: nothing to compare
