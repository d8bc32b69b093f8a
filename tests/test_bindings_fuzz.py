"""Throws random shapes, dtypes, NaN/inf, empty arrays and wrong types at every binding: each call
either succeeds or raises ValueError/TypeError naming the bad argument; the process never crashes."""

from __future__ import annotations

import facesel
import numpy as np
import pytest
from facesel import _backend, _core
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8, np.bool_, np.complex64, object, "U3"]
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 1e-30, 3.0]


@st.composite
def arrays(draw, max_ndim: int = 4, max_side: int = 6) -> np.ndarray:
    """Arrays of any rank and dtype, possibly empty, non-contiguous, holding NaN/inf."""
    shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=0, max_size=max_ndim)))
    dtype = draw(st.sampled_from(DTYPES))
    size = int(np.prod(shape)) if shape else 1
    values = np.array(draw(st.lists(st.sampled_from(SPECIALS), min_size=size, max_size=size)), dtype=np.float64)
    values = values.reshape(shape)
    if dtype == "U3":
        return values.astype(str).astype("U3")
    if np.dtype(dtype).kind in "iub":
        return np.where(np.isfinite(values), values, 7).clip(-100, 100).astype(np.int64).astype(dtype)
    with np.errstate(all="ignore"):  # 1e30 overflows float16 on purpose
        out = values.astype(dtype)
    if out.ndim >= 2 and draw(st.booleans()):
        out = out.T  # non-contiguous
    return out


NOT_ARRAYS = st.sampled_from([None, 3, 2.5, "boxes", [[0, 0, 1, 1]], {"a": 1}, b"\x00", object()])
ANY_ARG = st.one_of(arrays(), NOT_ARRAYS)
BAD_SCALARS = st.sampled_from(
    [None, "3", 2.5, -1, 0, 1, 3, True, float("nan"), float("inf"), -7.5, 2**70, -(2**70), np.int64(4), np.float32(0.4), np.uint64(2**64 - 1), [1], 1e300]
)


def expect_clean(call, name: str):
    """Runs call(); a failure must be ValueError/TypeError naming `name`."""
    try:
        call()
    except (ValueError, TypeError) as err:
        assert name in str(err), f"error does not name {name!r}: {err}"


def valid_ll_inputs(n=2, l=3, d=5):
    rng = np.random.default_rng(0)
    return (
        rng.random((n, d), dtype=np.float32),
        rng.random((n, l, d), dtype=np.float32),
        rng.uniform(-2, 2, (n, l, d)).astype(np.float32),
    )


LL_FUNCTIONS = [("_core", _core.gaussian_log_rp), ("facesel", facesel.gaussian_log_rp)]
if _backend.cuda_compiled:
    # Without a device it must still validate first, then raise RuntimeError (not crash).
    LL_FUNCTIONS.append(("_cuda", _backend._cuda.gaussian_log_rp))


@pytest.mark.parametrize("which, func", LL_FUNCTIONS, ids=[n for n, _ in LL_FUNCTIONS])
@pytest.mark.parametrize("position, name", [(0, "x"), (1, "mu"), (2, "log_sigma")])
@FUZZ
@given(bad=ANY_ARG)
def test_gaussian_log_rp_fuzz(which, func, position, name, bad):
    args = list(valid_ll_inputs())
    args[position] = bad
    try:
        out = func(*args)
    except (ValueError, TypeError) as err:
        assert name in str(err), f"error does not name {name!r}: {err}"
    except RuntimeError as err:  # only the CUDA module without a device, after validation
        assert which == "_cuda" and "no usable CUDA device" in str(err)
    else:
        assert out.dtype == np.float64 and np.all(np.isfinite(out)) and out.shape == (args[0].shape[0],)


@FUZZ
@given(threads=BAD_SCALARS)
def test_gaussian_log_rp_threads_fuzz(threads):
    expect_clean(lambda: facesel.gaussian_log_rp(*valid_ll_inputs(), device="cpu", threads=threads), "threads")


@FUZZ
@given(boxes=ANY_ARG)
def test_tracker_update_fuzz(boxes):
    tracker = facesel.Tracker(min_hits=1)
    tracker.update(np.array([[0, 0, 10, 10]], np.float32))
    expect_clean(lambda: tracker.update(boxes), "boxes")
    # The tracker still works afterwards.
    assert tracker.update(np.array([[1, 0, 11, 10]], np.float32)).track_ids.shape == (1,)


@pytest.mark.parametrize(
    "name", ["metric", "max_distance", "min_iou", "min_hits", "max_age", "predict_motion", "max_tracks", "association"]
)
@FUZZ
@given(value=st.one_of(BAD_SCALARS, st.sampled_from(["iou", "euclidean", "cosine", "dense", "", "\ud800"])))
def test_tracker_settings_fuzz(name, value):
    expect_clean(lambda: facesel.Tracker(**{name: value}), name)


@pytest.mark.parametrize("name", ["top_k", "clip_window"])
@FUZZ
@given(value=BAD_SCALARS)
def test_store_settings_fuzz(name, value):
    expect_clean(lambda: facesel.BestCropStore(**{name: value}), name)


@pytest.mark.parametrize("name", ["track_id", "frame_index", "quality", "handle"])
@FUZZ
@given(value=BAD_SCALARS)
def test_store_push_fuzz(name, value):
    store = facesel.BestCropStore(top_k=2, clip_window=1)
    store.push(1, 10, 0.5, 100)
    args = {"track_id": 1, "frame_index": 11, "quality": 0.25, "handle": 101}
    args[name] = value
    expect_clean(lambda: store.push(**args), name)
    closed = store.close(1)
    assert closed.best.handle == 100 or closed.best.quality == args["quality"]


@pytest.mark.parametrize("method", ["close", "discard", "best"])
@FUZZ
@given(value=BAD_SCALARS)
def test_store_track_id_fuzz(method, value):
    store = facesel.BestCropStore()
    store.push(3, 0, 1.0, 5)
    expect_clean(lambda: getattr(store, method)(value), "track_id")


@pytest.mark.parametrize("solver", [_core._sparse_assignment, _core._dense_gated_assignment])
@FUZZ
@given(cost=ANY_ARG)
def test_gated_assignment_fuzz(solver, cost):
    try:
        out = solver(cost)
    except (ValueError, TypeError) as err:
        assert "cost" in str(err)
    else:
        assert out.dtype == np.int64 and out.shape == (cost.shape[0],)


@FUZZ
@given(cost=ANY_ARG)
def test_linear_assignment_fuzz(cost):
    try:
        out = _core._linear_assignment(cost)
    except (ValueError, TypeError) as err:
        assert "cost" in str(err)
    else:
        assert out.dtype == np.int64 and out.shape == (cost.shape[0],)


def _yunet_maps(n=1, side=4):
    rng = np.random.default_rng(5)
    sides = (side, side // 2, side // 4)
    return ([rng.random((n, 1, s, s), dtype=np.float32) for s in sides],
            [rng.normal(size=(n, 4, s, s)).astype(np.float32) for s in sides],
            [rng.normal(size=(n, 10, s, s)).astype(np.float32) for s in sides])


YUNET_NAMES = ("scores", "boxes", "marks")


@FUZZ
@given(which=st.integers(0, 2), level=st.integers(0, 2), bad=ANY_ARG)
def test_yunet_decode_maps_fuzz(which, level, bad):
    maps = _yunet_maps()
    maps[which][level] = bad
    expect_clean(lambda: _core.yunet_decode(*maps, [8, 16, 32], 0.5, 0.45), YUNET_NAMES[which])


@FUZZ
@given(position=st.integers(0, 2), bad=BAD_SCALARS)
def test_yunet_decode_numbers_fuzz(position, bad):
    args = [[8, 16, 32], 0.5, 0.45]
    args[position] = bad
    expect_clean(lambda: _core.yunet_decode(*_yunet_maps(), *args), ("strides", "min_score", "nms_iou")[position])
