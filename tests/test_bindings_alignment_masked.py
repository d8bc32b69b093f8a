"""Unaligned and masked arrays at the _core boundary (docs/review.md, review round 17a).

Unaligned: a uint8 buffer sliced at an odd byte offset and viewed as float32 / int64 / float64 is
C-contiguous and of the right dtype, so pybind11 passed it to the core as it was; reading it through a
float* is undefined behaviour (UBSan's -fsanitize=alignment stopped on it in every binding that reads
arrays). Now a binding that copies its arguments (as_array) copies an unaligned one, and a binding
that reads in place by design (YuNet's maps, region_merge's faces, mean_level's levels) refuses it
with a ValueError naming the argument.

Masked: a numpy.ma.MaskedArray passed as its data, the mask ignored. Now refused (TypeError naming
the argument): the caller says which values are meant (``filled``) or that the data is
(``numpy.ma.getdata``). facesel itself never passes one.

Each array argument of every valid call in tests/binding_calls.py is checked, lists of arrays
included. The last test repeats the unaligned calls in a child under the ASan + UBSan build of the
core (experiments/sanitized_core.sh) when that build is present, and skips otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from facesel import _core  # noqa: F401  (the module under test; imported early so a build error shows here)

import binding_calls

ROOT = Path(__file__).resolve().parents[1]

# (entry, argument) pairs read in place by design: an unaligned array is refused, not copied.
READ_IN_PLACE = {
    ("yunet_decode", "scores"), ("yunet_decode", "boxes"), ("yunet_decode", "marks"),
    ("region_merge", "faces"), ("mean_level", "a"), ("mean_level", "b"),
}


def _get(value, path):
    for p in path:
        value = value[p]
    return value


def array_arguments(min_itemsize: int = 1) -> list[tuple[str, str, tuple]]:
    """(entry, argument, path into a list argument) of every array in the valid calls of _core."""
    out = []
    for entry, spec in binding_calls.calls("_core").items():
        for arg, value in spec.args().items():
            for path, array in binding_calls.arrays_in(value):
                if array.dtype.itemsize >= min_itemsize and array.size:
                    out.append((entry, arg, path))
    return out


def _label(entry: str, arg: str, path: tuple) -> str:
    return entry + ":" + arg + "".join(f"[{p}]" for p in path)


def unaligned(a: np.ndarray, offset: int) -> np.ndarray:
    """a's values in a uint8 buffer sliced `offset` bytes off its start, viewed as a's dtype."""
    raw = np.empty(a.nbytes + offset, np.uint8)
    out = raw[offset:].view(a.dtype).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned and out.flags.c_contiguous
    return out


def call_with(entry: str, arg: str, path: tuple, make):
    """Run the valid call of `entry` with the array at (arg, path) replaced by make(array)."""
    spec = binding_calls.calls("_core")[entry]
    args = spec.args()
    args[arg] = binding_calls.replace_at(args[arg], path, make(_get(args[arg], path)))
    return spec.target()(**args)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, _core.RegionPlan):
        return all(_same(getattr(a, k), getattr(b, k)) for k in ("cuts", "index", "corners", "backs"))
    return a == b or (a != a and b != b)


UNALIGNED = [(e, a, p) for e, a, p in array_arguments(min_itemsize=2)]


@pytest.mark.parametrize("entry,arg,path", UNALIGNED, ids=[_label(*c) for c in UNALIGNED])
def test_an_unaligned_array_is_copied_or_refused_by_name(entry, arg, path):
    plain = call_with(entry, arg, path, lambda a: a)
    for offset in sorted({1, _get_itemsize(entry, arg, path) - 1}):
        if (entry, arg) in READ_IN_PLACE:
            with pytest.raises(ValueError, match=rf"{arg}.* must be aligned to its dtype's \d bytes") as err:
                call_with(entry, arg, path, lambda a: unaligned(a, offset))
            assert "byte(s) past an aligned address" in str(err.value)
        else:
            assert _same(call_with(entry, arg, path, lambda a: unaligned(a, offset)), plain)


def _get_itemsize(entry, arg, path) -> int:
    return _get(binding_calls.calls("_core")[entry].args()[arg], path).dtype.itemsize


def test_the_read_in_place_arguments_are_among_the_calls():
    # READ_IN_PLACE names real arguments (a renamed one would silently drop out of the test above)
    assert READ_IN_PLACE <= {(e, a) for e, a, _ in UNALIGNED}


MASKED = array_arguments()


@pytest.mark.parametrize("entry,arg,path", MASKED, ids=[_label(*c) for c in MASKED])
@pytest.mark.parametrize("first_masked", [True, False], ids=["first value masked", "nothing masked"])
def test_a_masked_array_is_refused_naming_the_argument(entry, arg, path, first_masked):
    def masked(a):
        mask = np.zeros(a.shape, bool)
        mask.flat[0] = first_masked
        return np.ma.masked_array(a, mask=mask)

    with pytest.raises(TypeError, match=rf"{arg}.* must be a plain numpy.ndarray, got a numpy.ma.MaskedArray "
                                        rf"\({int(first_masked)} of \d+ values masked\)"):
        call_with(entry, arg, path, masked)


def test_a_masked_arrays_data_is_still_accepted():
    # the way out the message names: numpy.ma.getdata gives the plain array, accepted as before
    boxes = np.ma.masked_array(np.array([[10, 12, 40, 50]], np.float32), mask=[[True, False, False, False]])
    assert len(_core.region_plan(np.ma.getdata(boxes), (200, 300, 3), 2.0, 40.0, 16, 1.0, False)) >= 0
    assert isinstance(_core.crowded(np.ma.getdata(boxes).astype(np.float64)), np.ndarray)


def run_unaligned_cases() -> None:
    """Every unaligned call of the test above, in this process (the sanitized child's body)."""
    for entry, arg, path in UNALIGNED:
        for offset in sorted({1, _get_itemsize(entry, arg, path) - 1}):
            try:
                call_with(entry, arg, path, lambda a: unaligned(a, offset))
            except ValueError as err:
                assert (entry, arg) in READ_IN_PLACE, f"{entry} {arg}: {err}"
    print("unaligned cases:", len(UNALIGNED), flush=True)


SANITIZED_SO = sorted((ROOT / "build" / "asan" / "python" / "bindings").glob("_core*.so"))


@pytest.mark.skipif(not SANITIZED_SO, reason="no ASan + UBSan build of the core (experiments/sanitized_core.sh build)")
def test_unaligned_calls_run_clean_under_the_sanitized_core():
    # -fsanitize=alignment reports a float read at an odd address; -fno-sanitize-recover aborts
    code = "import test_bindings_alignment_masked as t; t.run_unaligned_cases()"
    env = {k: v for k, v in os.environ.items() if k != "FACESEL_ASAN_BUILD"}
    proc = subprocess.run(["bash", str(ROOT / "experiments" / "sanitized_core.sh"), "run", sys.executable, "-c", code],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    # the first report's line (file:line: runtime error ..., or ASan's ERROR line), then the tail
    first = [line for line in proc.stderr.splitlines() if "runtime error" in line or "ERROR: AddressSanitizer" in line][:1]
    report = "\n".join(first) + "\n...\n" + proc.stderr[-1500:]
    assert proc.returncode == 0 and "runtime error" not in proc.stderr and "AddressSanitizer" not in proc.stderr, report
    assert f"unaligned cases: {len(UNALIGNED)}" in proc.stdout
