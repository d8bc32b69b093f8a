"""`--clip-window W` keeps the kept crop's whole +-W clip (ux21). The store held the crops within W
frames of the best by value, and the consensus pick (the default) chooses another finalist within
them, so the clip was cut to the overlap: on the arcade video 9 of 12 tracks got 5-8 of the 9
frames of `--clip-window 4`, the kept crop at the clip's edge."""

from __future__ import annotations

import json

from facesel.cli import main
from facesel.demo_data import demo_clip

WINDOW = 4


def _tracks(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "tracks.jsonl").read_text().splitlines()]


def _expected_clip(track: dict) -> list[int]:
    """The frames of the track within WINDOW of its kept frame (the track's series holds every
    frame it was seen on: far below series_capacity here)."""
    return [f for f in track["frame_indices"] if abs(f - track["best_frame"]) <= WINDOW]


def _check_whole_clips(path, out, capsys) -> None:
    assert main(["run", str(path), "--plaintext-out", str(out), "--clip-window", str(WINDOW), "--no-progress"]) == 0
    capsys.readouterr()
    tracks = _tracks(out)
    assert tracks
    for track in tracks:
        clip = [int(name.rsplit("_", 1)[1].split(".")[0]) for name in track["clip"]]
        assert clip == _expected_clip(track), (track["track_id"], track["best_frame"])


def test_the_kept_crop_gets_its_whole_clip_on_the_shipped_clip(tmp_path, capsys):
    _check_whole_clips(demo_clip(), tmp_path / "out", capsys)


def test_the_kept_crop_gets_its_whole_clip_on_the_arcade_video(shared_data, tmp_path, capsys):
    _check_whole_clips(shared_data / "videos" / "arcade_walkers_1080p.mp4", tmp_path / "out", capsys)
