"""Long evaluations say where they are: ``facesel eval switches`` ran about four minutes with its
defaults (two CPU minutes, measured here) and printed nothing until the end."""

from __future__ import annotations

import re

from facesel.cli import main


def test_eval_switches_prints_progress_on_stderr_and_results_on_stdout(shared_data, capsys):
    assert main(["eval", "switches", "--data", str(shared_data), "--splices-only", "--no-heldout",
                 "--frames", "10"]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines[0] == "switches: reading and detecting the signers and talking heads"
    ready = [line for line in lines if re.fullmatch(r"switches: \d+ clips ready \(\d+ s\); splicing them and "
                                                    r"tracking under 1 rule\(s\)", line)]
    judged = [int(m.group(1)) for line in lines if (m := re.fullmatch(r"switches: (\d+) splices judged .*", line))]
    assert ready and judged and judged[-1] == sum(int(n) for n in re.findall(r"(\d+) splices,", out))
    assert "all splices: switches caught" in out and "switches:" not in out  # stdout stays the results


def test_eval_snapshots_shows_a_progress_bar_over_the_census(tmp_path, capsys):
    # Before: nothing on stderr until the end (150 arcade frames: 93 s here), now a bar per frame;
    # --no-progress keeps stderr quiet.
    import pytest

    pytest.importorskip("dlib")
    from facesel.demo_data import demo_clip

    clip = demo_clip()
    assert main(["run", str(clip), "--plaintext-out", str(tmp_path / "run"), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["eval", "snapshots", str(clip), str(tmp_path / "run"), "--no-sheet"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"census: faces of every frame: 100%\|.*\| 35/35", err), err[-500:]
    assert main(["eval", "snapshots", str(clip), str(tmp_path / "run"), "--no-sheet", "--no-progress"]) == 0
    assert "census" not in capsys.readouterr().err
