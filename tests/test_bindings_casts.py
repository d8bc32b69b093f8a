"""The C++ bindings' casts never change what an array means (review round 16b).

Every binding takes float32, float64 or int64 arrays and converts other numeric dtypes (numpy's
float64 and int64 defaults, float16, ...). Two casts changed values silently, found by
experiments/binding_sweep.py: a finite float64 beyond float32's range became inf (a box of
x2 = 1e300 gave ``region_plan`` an empty plan, the box dropped without a word), and a uint64 above
int64's range wrapped to a negative int64 (a region at x = 2**63 + 5 was sampled at x = -2**63 + 5,
at the frame's left edge instead of its right). Both are now a ValueError naming the argument, the
value and its flat index; rounding (float64 or int64 to float32) stays accepted, as documented.
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel import _core


def _frame():
    return (np.arange(100 * 120 * 3) % 251).astype(np.uint8).reshape(100, 120, 3)


def _tracker():
    return _core.Tracker("iou", 100.0, 0.3, 1, 5, True, 100, "components", 0.0, False)


def _plan(boxes):
    return _core.region_plan(boxes, (200, 300, 3), 2.0, 40.0, 16, 1.0, False)


def _ll(x):
    return _core.gaussian_log_rp(x, np.zeros((1, 2, 3), np.float32), np.zeros((1, 2, 3), np.float32))


OVERFLOWING = {
    # (call, argument): each with a float64 array holding 1e300 at flat index 2
    "region_plan": (lambda a: _plan(a), "boxes", np.array([[0.0, 0.0, 1e300, 10.0]])),
    "Tracker.update boxes": (lambda a: _tracker().update(a), "boxes", np.array([[0.0, 0.0, 1e300, 10.0]])),
    "Tracker.update scores": (lambda a: _tracker().update(np.array([[0, 0, 9, 9], [1, 1, 5, 5], [2, 2, 8, 8]], np.float32), a),
                              "scores", np.array([0.5, 0.5, 1e300])),
    "gaussian_log_rp": (_ll, "x", np.array([[0.0, 0.0, 1e300]])),
}


@pytest.mark.parametrize("name", sorted(OVERFLOWING))
def test_a_float64_beyond_float32_is_refused_not_made_infinite(name):
    # on main: region_plan planned no square for the box; the others said "inf", not the 1e300 passed
    call, arg, array = OVERFLOWING[name]
    with pytest.raises(ValueError) as err:
        call(array)
    message = str(err.value)
    assert message.startswith(f"{arg} holds 1e+300 at flat index 2 (dtype float64)"), message
    assert "float32's range" in message, message


def test_float64_within_float32_range_is_still_rounded_and_accepted():
    boxes = np.array([[10.1, 10.2, 60.3, 60.4], [0.0, 0.0, 3.0e38, 10.0]])
    assert np.array_equal(_plan(boxes).cuts, _plan(boxes.astype(np.float32)).cuts)
    # a non-finite value passed as such keeps its meaning: the binding's own rule applies to it
    assert len(_plan(np.array([[0.0, 0.0, np.inf, 10.0]]))) == len(_plan(np.array([[0, 0, np.inf, 10]], np.float32)))
    with pytest.raises(ValueError, match=r"boxes row 0 must be finite"):
        _tracker().update(np.array([[0.0, 0.0, np.inf, 10.0]]))


def test_a_longdouble_beyond_float64_is_refused_for_a_float64_argument():
    if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:
        pytest.skip("numpy.longdouble is float64 on this platform")
    cost = np.array([[1.0, 2.0], [3.0, 4.0]], np.longdouble)
    cost[1, 0] = np.longdouble(np.finfo(np.float64).max) * 4
    with pytest.raises(ValueError, match=r"^cost holds .* at flat index 2 \(dtype float128\), beyond float64's range"):
        _core._linear_assignment(cost)


UINT64_REGIONS = {
    "grey_samples": (lambda r: _core.grey_samples(_frame(), r), "regions"),
    "pinned_patches": (lambda r: _core.pinned_patches(_frame(), np.zeros((1, 4), np.float32), r,
                                                      np.zeros((len(r), 144), np.float32)), "previous_regions"),
}


@pytest.mark.parametrize("name", sorted(UINT64_REGIONS))
def test_a_uint64_beyond_int64_is_refused_not_wrapped(name):
    # on main: 2**63 + 5 was read as -2**63 + 5 (grey_samples sampled the frame's left edge:
    # grey level 1, where numpy's reference on the same array samples its right edge: 107)
    call, arg = UINT64_REGIONS[name]
    regions = np.array([[5, 0, 50, 10], [2**63 + 5, 0, 2**64 - 1, 10]], np.uint64)
    with pytest.raises(ValueError) as err:
        call(regions)
    assert str(err.value).startswith(f"{arg} holds 9223372036854775813 at flat index 4 (dtype uint64), "
                                     "beyond int64's range"), str(err.value)


def test_uint64_within_int64_is_still_accepted():
    regions = np.array([[5, 0, 50, 10], [60, 20, 119, 99]], np.uint64)
    assert np.array_equal(_core.grey_samples(_frame(), regions), _core.grey_samples(_frame(), regions.astype(np.int64)))
