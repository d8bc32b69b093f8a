"""`facesel eval intercut --verbose`: each line names the clips it cut together, distinctly (ux22)."""

from pathlib import Path

import numpy as np

from facesel.eval import intercut


def test_verbose_lines_tell_the_clips_of_a_long_prefix_apart(monkeypatch):
    # Three clips of one family whose names agree on their first 28 characters, as the shared
    # data's video-retalking clips do; the line used to show `video-retalking__examples_fa` for each.
    names = ["video-retalking__examples_face_2.mp4", "video-retalking__examples_face_5.mp4",
             "video-retalking__examples_face_7.mp4"]
    frames = [np.zeros((8, 8, 3), np.uint8)] * 2

    def material(root, shot, shots, families_only):
        yield "retalking", "control", names, frames, [0, 1]

    def run(frames, owner, fps, detector, scorer, shot_return, cut_veto, **settings):
        return {"snapshots": 2, "per_person": {0: 1, 1: 1}, "wrong_joins": 0, "links": 0, "seconds": 0.0,
                "shot_returns": []}

    monkeypatch.setattr(intercut, "material", material)
    monkeypatch.setattr(intercut, "run_intercut", run)
    lines = []
    results = intercut.evaluate(Path("."), detector=object(), scorer=object(), log=lines.append)
    assert len(results) == 1 and len(lines) == 1
    assert "examples_face_2 | examples_face_5 | examples_face_7" in lines[0]


def test_clip_label_keeps_a_name_without_a_repository_prefix():
    assert intercut.clip_label("arcade_walkers_1080p.mp4") == "arcade_walkers_1080p"
    assert intercut.clip_label("sample-videos__asl_gestures_no.mkv") == "asl_gestures_no"
