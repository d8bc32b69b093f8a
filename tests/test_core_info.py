"""`facesel info` reports the build and compute path truthfully."""

from __future__ import annotations

import importlib.util
import json

import facesel
from facesel import _backend
from facesel.cli import main
from facesel.cli.info import collect


def test_info_agrees_with_the_installation():
    info = collect()
    assert info["facesel"] == facesel.__version__
    assert info["cuda_compiled"] == (importlib.util.find_spec("facesel._cuda") is not None) == facesel.cuda_compiled
    assert info["cuda_device_usable"] == facesel.HAS_CUDA
    assert not facesel.HAS_CUDA or info["cuda_device_count"] > 0
    assert info["cuda_probe"].startswith("usable" if facesel.HAS_CUDA else ("unavailable", "failed"))
    assert not facesel.HAS_CUDA or facesel.cuda_compiled
    assert info["cmake_dir"] == str(facesel.cmake_dir())
    assert "CPUExecutionProvider" in info["onnxruntime_providers"]


def test_info_json_is_machine_readable(capsys):
    assert main(["info", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["cuda_compiled"] == _backend.cuda_compiled
    assert set(printed) == set(collect())
