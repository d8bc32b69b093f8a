"""The C++ extensions never crash on bad input: every exported callable, with each of its arguments
replaced by bad values (tests/binding_calls.py), in a child process per callable.

Each bad call either succeeds or raises ValueError/TypeError whose message names the argument; a
right-dtype array of an impossible size (a huge broadcast view) is a ValueError raised before any
copy is allocated; a method of an object made by Class.__new__ without __init__ is a TypeError, never
a call on unconstructed memory (it hung or returned garbage). A callable the extensions export without an entry in binding_calls.calls() fails
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


# The longest callable's bad calls take about 3 s on a loaded 2-core machine; a call that hangs
# (a Tracker whose __init__ never ran waited on its unconstructed mutex) is named, not waited out.
CHILD_TIMEOUT_S = 120


def run_child(module: str, name: str) -> tuple[int | str, str, list[dict]]:
    """(exit code, or "hung" when killed at the timeout; stderr; the JSON lines printed)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(facesel.__file__).resolve().parents[1]), str(HERE)])}
    try:
        proc = subprocess.run([sys.executable, str(HERE / "binding_calls.py"), module, name], capture_output=True,
                              text=True, env=env, timeout=CHILD_TIMEOUT_S)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as expired:
        code, out, err = "hung", expired.stdout or "", expired.stderr or ""
        out, err = (text.decode() if isinstance(text, bytes) else text for text in (out, err))
    return code, err, [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("module, name", CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_bad_input_is_refused_cleanly(module, name):
    code, stderr, lines = run_child(module, name)
    finished = [line for line in lines if "outcome" in line]
    if code != 0:
        started = [line["case"] for line in lines if "outcome" not in line]
        crashed = started[len(finished)] if len(started) > len(finished) else "(after the last call)"
        if code == "hung":
            how = f"no answer within {CHILD_TIMEOUT_S} s"
        else:
            how = signal.Signals(-code).name if code < 0 else f"exit {code}"
        pytest.fail(f"{module}.{name} {crashed!r}: the process died or hung ({how}): {stderr[-2000:]}")
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
        if "uninitialised" in line["case"] and outcome == "ok":  # garbage memory read as an object
            bad.append(f"{line['case']}: an object whose __init__ never ran was used: {line['result']}")
            continue
        if outcome == "ok" or (no_device and outcome == valid["outcome"] and NO_DEVICE in message):
            continue  # a value the binding accepts (e.g. a float64 array converted, an empty batch)
        if outcome not in ("ValueError", "TypeError") or arg not in message:
            bad.append(f"{line['case']}: {outcome}: {message}")
        elif "uninitialised" in line["case"] and outcome != "TypeError":
            bad.append(f"{line['case']}: an object whose __init__ never ran must be a TypeError, got {outcome}: {message}")
        elif line["case"].endswith("huge broadcast view") and outcome != "ValueError":
            bad.append(f"{line['case']}: a right-dtype array too large to copy must be a ValueError, got {outcome}: {message}")
    assert not bad, f"{module}.{name}: {len(bad)} of {len(finished) - 1} bad calls not refused cleanly:\n" + "\n".join(bad)
    assert len(finished) > 1 or not binding_calls.calls(module)[name].args(), "no bad call ran"
