"""The C++ extensions never crash on bad input: every exported callable, with each of its arguments
replaced by bad values (tests/binding_calls.py), in a child process per callable.

Each bad call either succeeds or raises ValueError/TypeError whose message names the argument; a
right-dtype array of an impossible size (a huge broadcast view) is a ValueError raised before any
copy is allocated. A callable the extensions export without an entry in binding_calls.calls() fails
test_every_export_has_a_call, so a new binding cannot skip this check.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import facesel
import pytest
from facesel import _backend, _core

import binding_calls

HERE = Path(__file__).resolve().parent
MODULES = {"_core": _core}
if _backend.cuda_compiled:
    MODULES["_cuda"] = _backend._cuda

CASES = [(module, name) for module in MODULES for name in sorted(binding_calls.calls(module))]

# Without a device the CUDA module checks the arguments, then raises CudaError (a RuntimeError).
NO_DEVICE = "no usable CUDA device"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_export_has_a_call(module):
    missing = set(binding_calls.exported(MODULES[module])) - set(binding_calls.calls(module))
    assert not missing, f"{module} exports {sorted(missing)} without a valid call in tests/binding_calls.py"


def run_child(module: str, name: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(facesel.__file__).resolve().parents[1]), str(HERE)])}
    proc = subprocess.run([sys.executable, str(HERE / "binding_calls.py"), module, name], capture_output=True,
                          text=True, env=env, timeout=600)
    return proc, [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("module, name", CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_bad_input_is_refused_cleanly(module, name):
    proc, lines = run_child(module, name)
    finished = [line for line in lines if "outcome" in line]
    if proc.returncode != 0:
        started = [line["case"] for line in lines if "outcome" not in line]
        crashed = started[len(finished)] if len(started) > len(finished) else "(after the last call)"
        how = signal.Signals(-proc.returncode).name if proc.returncode < 0 else f"exit {proc.returncode}"
        pytest.fail(f"{module}.{name} {crashed!r}: the process died ({how}): {proc.stderr[-2000:]}")
    valid = finished[0]
    assert valid["case"] == "valid"
    no_device = valid["outcome"] in ("RuntimeError", "CudaError") and NO_DEVICE in valid["message"]
    if name == "RegionPlan":  # no constructor from Python
        assert valid["outcome"] == "TypeError" and "No constructor" in valid["message"], valid
    else:
        assert valid["outcome"] == "ok" or no_device, valid
    bad = []
    for line in finished[1:]:
        outcome, message, arg = line["outcome"], line.get("message", ""), line["arg"]
        if outcome == "ok" or (no_device and outcome == valid["outcome"] and NO_DEVICE in message):
            continue  # a value the binding accepts (e.g. a float64 array converted, an empty batch)
        if outcome not in ("ValueError", "TypeError") or arg not in message:
            bad.append(f"{line['case']}: {outcome}: {message}")
        elif line["case"].endswith("huge broadcast view") and outcome != "ValueError":
            bad.append(f"{line['case']}: a right-dtype array too large to copy must be a ValueError, got {outcome}: {message}")
    assert not bad, f"{module}.{name}: {len(bad)} of {len(finished) - 1} bad calls not refused cleanly:\n" + "\n".join(bad)
    assert len(finished) > 1 or not binding_calls.calls(module)[name].args(), "no bad call ran"
