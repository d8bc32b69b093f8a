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
