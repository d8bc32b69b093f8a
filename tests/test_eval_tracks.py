"""``facesel eval tracks`` end to end on the shared Intel head-pose clip (one person turning her head)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from facesel.cli import main
from facesel.eval.track_bench import RANDOM
from facesel.eval.track_signals import SIGNAL_NAMES


@pytest.mark.slow
def test_head_pose_clip_the_default_pick_is_matchable_and_the_report_is_complete(shared_data, tmp_path, capsys):
    pytest.importorskip("dlib")
    clip = shared_data / "videos" / "intel_head_pose_female.gif"
    out = tmp_path / "tracks"
    args = ["eval", "tracks", str(clip), "--out", str(out), "--rules", "default,detector", "--bootstrap", "50", "--window", "4s",
            "--no-progress"]
    assert main(args) == 0
    doc = json.loads((out / "tracks.json").read_text())
    assert (out / "tracks.md").is_file() and (out / "tracks.png").stat().st_size > 0
    tracks = doc["windows"]
    assert len(tracks) == 1  # one person, one track, shorter than a window
    assert doc["sources"] == {clip.name: "sample-videos"}  # from the manifest's origin_repo
    picks = tracks[0]["picks"]
    assert set(picks) == {"default", "detector", RANDOM}
    assert picks["default"]["matchable"] == 1.0 and picks["default"]["distance"] < 0.6
    for name, p in picks.items():  # the regret is measured from the track's best crop
        assert p["regret"] == pytest.approx(p["distance"] - tracks[0]["best_distance"])
    # the cache holds numbers only, and a rerun from it gives the same numbers
    cached = list((out / "track-cache").glob("tracks-*.npz"))
    assert len(cached) == 1 and set(np.load(cached[0]).files) == {"frames", "boxes", "scores", "landmarks", "track_ids", "embeddings"}
    signals = list((out / "track-cache").glob("signals-*.npz"))
    assert len(signals) == 1
    table = np.load(signals[0])
    assert set(SIGNAL_NAMES) <= set(table.files) and all(table[k].ndim <= 1 for k in table.files)
    assert main(args) == 0
    assert json.loads((out / "tracks.json").read_text())["windows"] == tracks
    assert "report:" in capsys.readouterr().out
