"""examples/cpp links facesel::core through the installed CMake package and runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import facesel
import pytest
from facesel.cli import main as cli_main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cpp"


def test_cmake_dir_holds_the_package(capsys):
    cmake_dir = facesel.cmake_dir()
    assert (cmake_dir / "facesel-config.cmake").is_file()
    assert (cmake_dir / "facesel-targets.cmake").is_file()
    prefix = cmake_dir.parents[1]  # .../facesel/lib
    assert list(prefix.glob("libfacesel_core.*")), f"no static library in {prefix}"
    assert (prefix.parent / "include" / "facesel" / "tracker.hpp").is_file()
    assert cli_main(["info", "--cmake-dir"]) == 0
    assert capsys.readouterr().out.strip() == str(cmake_dir)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cmake") is None and not os.environ.get("CI"), reason="cmake is not installed")
def test_example_builds_against_the_installed_package_and_runs(tmp_path):
    build = tmp_path / "build"
    configure = ["cmake", "-S", str(EXAMPLE), "-B", str(build), f"-Dfacesel_DIR={facesel.cmake_dir()}"]
    if shutil.which("ninja"):
        configure += ["-G", "Ninja"]
    for step in (configure + ["-DCMAKE_BUILD_TYPE=Release"], ["cmake", "--build", str(build)]):
        done = subprocess.run(step, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{' '.join(step)} failed:\n{done.stdout}\n{done.stderr}"
    exe = next(p for p in build.rglob("facesel_example*") if p.is_file() and os.access(p, os.X_OK))
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "facesel example: OK" in run.stdout
    assert "best frame 12" in run.stdout and "best frame 20" in run.stdout


def test_cmake_dir_from_a_source_tree_says_how_to_get_the_package(tmp_path, monkeypatch, capsys):
    # ux16: from a checkout on PYTHONPATH, `facesel info --cmake-dir` (the README's route to link the
    # C++ core) said only "no lib/cmake/facesel/facesel-config.cmake under [...]".
    from facesel import _backend

    real = _backend.cmake_dir

    def from_a_source_tree():  # facesel's folders hold no lib/cmake (only while it looks)
        with monkeypatch.context() as patch:
            patch.setattr(facesel, "__path__", [str(tmp_path)])
            return real()

    monkeypatch.setattr(_backend, "cmake_dir", from_a_source_tree)
    with pytest.raises(FileNotFoundError, match=r"comes with an installed facesel \('pip install \.' builds"):
        _backend.cmake_dir()
    assert cli_main(["info", "--cmake-dir"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("facesel info: error: no lib/cmake/facesel") and "pip install ." in err, err
    assert err.count("\n") == 1
