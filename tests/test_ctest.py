"""Builds the C++ tests (tests/cpp, FACESEL_TESTS=ON) from the source tree and runs them with ctest,
so that the one test command also covers the C++ core without Python in the loop."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cmake") is None and not os.environ.get("CI"), reason="cmake is not installed")
def test_cpp_unit_tests_pass_under_ctest(tmp_path):
    build = tmp_path / "build"
    configure = ["cmake", "-S", str(SOURCE), "-B", str(build), "-DFACESEL_TESTS=ON", "-DFACESEL_CUDA=OFF",
                 "-DCMAKE_BUILD_TYPE=Release"]
    if shutil.which("ninja"):
        configure += ["-G", "Ninja"]
    steps = [configure, ["cmake", "--build", str(build), "--parallel", "2"],
             ["ctest", "--test-dir", str(build), "--output-on-failure"]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{' '.join(step)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert "100% tests passed" in done.stdout, done.stdout
    # The fuzz harnesses' replays (fuzz/CMakeLists.txt, docs/review.md round 13d) ran among them.
    areas = re.findall(r"^set\(FACESEL_FUZZ_AREAS ([^)]*)\)", (SOURCE / "fuzz" / "CMakeLists.txt").read_text(), re.M)
    assert areas and len(areas[0].split()) == 8, areas
    for area in areas[0].split():
        assert f"fuzz_replay_{area} " in done.stdout, (area, done.stdout)
