"""One valid call of every callable the C++ extensions export, and the bad calls derived from it.

Used by test_bindings_boundary.py, which runs ``python binding_calls.py NAME`` in a child process
per exported callable (a segfault or an OOM kill then ends the child, not the test run). The child
prints one JSON line when each call starts and one with its outcome, so that the parent names the
call a crash happened in.

A bad call replaces one argument of the valid call with one bad value: for an array, other dtypes,
ranks, empty, non-contiguous, read-only, NaN/inf/negative/huge values and a huge broadcast view;
for a scalar, None, strings, NaN/inf, negative, out-of-range and bool; for a list, None, empty,
a None item, and each bad value of its first item; for a method, an object whose __init__ never ran. A new binding needs only its valid call in
calls(): its bad calls follow.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

# The child's address space: far above any valid call here, far below the machine's memory, so
# that an allocation a bad call asks for fails in this process instead of starving the machine.
CHILD_ADDRESS_SPACE = 6 << 30

# Axis 0 of the huge broadcast views: their copies would need 8 GiB or more.
HUGE_ROWS = 1 << 31


@dataclass
class Call:
    """A valid call: ``target()`` builds the callable (a fresh object for methods), ``args()`` the
    keyword arguments by name (fresh arrays each time)."""

    target: Callable[[], Callable]
    args: Callable[[], dict]


def _core():
    from facesel import _core

    return _core


def _cuda():
    from facesel import _cuda

    return _cuda


def _tracker():
    # The private class's settings as facesel.Tracker passes them.
    return _core().Tracker("iou", 100.0, 0.3, 1, 5, True, 100, "components", 0.0, False)


def _tracker_with_track():
    tracker = _tracker()
    tracker.update(_boxes())
    return tracker


def _store():
    store = _core().BestCropStore(2, 1)
    store.push(1, 0, 0.5, 10)
    return store


def _boxes():
    return np.array([[10, 10, 60, 60], [100, 20, 140, 70]], np.float32)


def _plan():
    return _core().region_plan(_boxes(), (200, 300, 3), 2.0, 40.0, 16, 1.0, False)


def _ll_arrays(n=3, l=2, d=5):
    rng = np.random.default_rng(0)
    return {
        "x": rng.random((n, d), dtype=np.float32),
        "mu": rng.random((n, l, d), dtype=np.float32),
        "log_sigma": rng.uniform(-1, 1, (n, l, d)).astype(np.float32),
    }


def _yunet_maps():
    rng = np.random.default_rng(1)
    sides = (8, 4, 2)
    return {
        "scores": [rng.random((2, 1, s, s), dtype=np.float32) for s in sides],
        "boxes": [rng.normal(size=(2, 4, s, s)).astype(np.float32) for s in sides],
        "marks": [rng.normal(size=(2, 10, s, s)).astype(np.float32) for s in sides],
    }


def _frame():
    """A (100, 120, 3) uint8 colour frame (the cues' samplers read it; C-contiguous)."""
    return (np.arange(100 * 120 * 3) % 251).astype(np.uint8).reshape(100, 120, 3)


def _one_face(k=1):
    return (np.array([[1, 1, 20, 20]] * k, np.float32), np.full(k, 0.9, np.float32), np.ones((k, 5, 2), np.float32))


def _core_calls() -> dict[str, Call]:
    c = _core()
    plan_len = len(_plan())
    return {
        "gaussian_log_rp": Call(lambda: c.gaussian_log_rp, lambda: {**_ll_arrays(), "threads": 2}),
        "Tracker": Call(lambda: c.Tracker, lambda: dict(
            metric="iou", max_distance=100.0, min_iou=0.3, min_hits=1, max_age=5, predict_motion=True, max_tracks=100,
            association="components", start_score=0.0, second_pass=False)),
        "Tracker.update": Call(lambda: _tracker_with_track().update,
                               lambda: {"boxes": _boxes() + 2, "scores": np.array([0.9, 0.8], np.float32)}),
        "Tracker.flush": Call(lambda: _tracker_with_track().flush, dict),
        "Tracker.open_track_ids": Call(lambda: lambda: _tracker_with_track().open_track_ids, dict),
        "Tracker.__len__": Call(lambda: _tracker_with_track().__len__, dict),
        "_linear_assignment": Call(lambda: c._linear_assignment, lambda: {"cost": np.array([[0.1, 2.0], [1.0, 0.3]])}),
        "_sparse_assignment": Call(lambda: c._sparse_assignment,
                                   lambda: {"cost": np.array([[0.1, np.inf], [1.0, 0.3]])}),
        "_dense_gated_assignment": Call(lambda: c._dense_gated_assignment,
                                        lambda: {"cost": np.array([[0.1, np.inf], [1.0, 0.3]])}),
        "BestCropStore": Call(lambda: c.BestCropStore, lambda: {"top_k": 2, "clip_window": 1}),
        "BestCropStore.push": Call(lambda: _store().push,
                                   lambda: {"track_id": 1, "frame_index": 1, "quality": 0.75, "handle": 11}),
        "BestCropStore.close": Call(lambda: _store().close, lambda: {"track_id": 1}),
        "BestCropStore.discard": Call(lambda: _store().discard, lambda: {"track_id": 1}),
        "BestCropStore.best": Call(lambda: _store().best, lambda: {"track_id": 1}),
        "BestCropStore.admits": Call(lambda: _store().admits, lambda: {"track_id": 1, "quality": 0.75}),
        "BestCropStore.__contains__": Call(lambda: lambda track_id: track_id in _store(), lambda: {"track_id": 1}),
        "BestCropStore.__len__": Call(lambda: _store().__len__, dict),
        "BestCropStore.held_handles": Call(lambda: lambda: _store().held_handles, dict),
        "BestCropStore.track_ids": Call(lambda: lambda: _store().track_ids, dict),
        "BestCropStore.top_k": Call(lambda: lambda: _store().top_k, dict),
        "BestCropStore.clip_window": Call(lambda: lambda: _store().clip_window, dict),
        "RegionPlan": Call(lambda: c.RegionPlan, dict),  # no constructor: only region_plan makes one
        "RegionPlan.__len__": Call(lambda: _plan().__len__, dict),
        "RegionPlan.cuts": Call(lambda: lambda: _plan().cuts, dict),
        "RegionPlan.index": Call(lambda: lambda: _plan().index, dict),
        "RegionPlan.corners": Call(lambda: lambda: _plan().corners, dict),
        "RegionPlan.backs": Call(lambda: lambda: _plan().backs, dict),
        "region_plan": Call(lambda: c.region_plan, lambda: dict(
            boxes=_boxes(), frame_shape=(200, 300, 3), scale=2.0, face_px=40.0, min_px=16, base_shrink=0.5, fast=True)),
        "region_batches": Call(lambda: c.region_batches, lambda: {
            "regions": [np.zeros((20, 30, 3), np.uint8), np.ones((25, 17), np.uint8)], "pad_to": 32}),
        "region_merge": Call(lambda: c.region_merge, lambda: {
            "plan": _plan(), "faces": [_one_face() for _ in range(plan_len)], "nms_iou": 0.4}),
        "yunet_decode": Call(lambda: c.yunet_decode,
                             lambda: {**_yunet_maps(), "strides": [8, 16, 32], "min_score": 0.5, "nms_iou": 0.45}),
        # the switch cues' samplers (cpp/src/cue_samples.cpp)
        "colour_histograms": Call(lambda: c.colour_histograms, lambda: {
            "frame": _frame(), "boxes": np.array([[10.0, 12.0, 40.0, 50.0], [-5.0, 30.0, 90.0, 99.0]])}),
        "grey_samples": Call(lambda: c.grey_samples, lambda: {
            "frame": _frame(), "regions": np.array([[10, 12, 40, 50], [-5, 30, 90, 99]], np.int64)}),
        "pinned_patches": Call(lambda: c.pinned_patches, lambda: {
            "frame": _frame(), "boxes": np.array([[10.0, 12.0, 40.0, 50.0], [20.0, 30.0, 90.0, 99.0]], np.float32),
            "previous_regions": np.array([[16, 19, 34, 42]], np.int64),
            "previous_patches": np.arange(144, dtype=np.float32).reshape(1, 144)}),
        "box_jumps": Call(lambda: c.box_jumps, lambda: {
            "previous": np.array([[10.0, 12.0, 40.0, 50.0]], np.float32),
            "boxes": np.array([[11.0, 12.0, 45.0, 52.0]], np.float32)}),
        "crowded": Call(lambda: c.crowded, lambda: {"boxes": np.array([[10.0, 12.0, 40.0, 50.0], [20.0, 30.0, 90.0, 99.0]])}),
        "shadowed_pairs": Call(lambda: c.shadowed_pairs, lambda: {
            "boxes": np.array([[10.0, 12.0, 40.0, 50.0], [20.0, 30.0, 90.0, 99.0]]), "scores": [0.6, 0.9], "overlap": 0.1}),
        "take_levels": Call(lambda: c.take_levels, lambda: {"frame": _frame(), "index": np.array([0, 7, 299], np.int64)}),
        "mean_level": Call(lambda: c.mean_level, lambda: {
            "a": np.arange(12, dtype=np.float32), "b": np.full(12, 3.0, np.float32)}),
        # 6 -> 4 pixels on each axis: the ratio 3:2, one the exact area shrink takes
        "area_shrink_exact": Call(lambda: c.area_shrink_exact, lambda: {
            "image": np.arange(108, dtype=np.uint8).reshape(6, 6, 3), "width": 4, "height": 4}),
        "area_shrink_exact_ratio": Call(lambda: c.area_shrink_exact_ratio, lambda: {"src": 6, "dst": 4}),
        # 7 -> 5 pixels: a fractional shrink, OpenCV's general float32 area path
        "area_shrink_float": Call(lambda: c.area_shrink_float, lambda: {
            "image": np.arange(147, dtype=np.uint8).reshape(7, 7, 3), "width": 5, "height": 5}),
        "area_shrink_float_path": Call(lambda: c.area_shrink_float_path, dict),
        # an 8 x 8 sample (step 1) in 4 x 4 blocks: the scene thumbnail's grey area mean
        "sampled_block_grey": Call(lambda: c.sampled_block_grey, lambda: {
            "image": np.arange(192, dtype=np.uint8).reshape(8, 8, 3), "step": 1, "block_x": 4, "block_y": 4}),
    }


def _cuda_calls() -> dict[str, Call]:
    # Valid calls that do no device work (n = 0 with the pointer entry), so that a machine with a
    # GPU runs them too; without one each ends in CudaError after the arguments were checked.
    cu = _cuda()
    return {
        "device_count": Call(lambda: cu.device_count, dict),
        "probe": Call(lambda: cu.probe, lambda: {"device": 0, "inject_failure": ""}),
        "gaussian_log_rp": Call(lambda: cu.gaussian_log_rp, lambda: {**_ll_arrays(), "device": 0, "stream": None}),
        "gaussian_log_rp_device": Call(lambda: cu.gaussian_log_rp_device, lambda: dict(
            x_ptr=4096, mu_ptr=4096, log_sigma_ptr=4096, n=0, l=2, d=5, device=0, stream=None)),
        "_time_kernel_ms": Call(lambda: cu._time_kernel_ms, lambda: {**_ll_arrays(), "device": 0, "repeats": 1}),
    }


def calls(module: str) -> dict[str, Call]:
    return _core_calls() if module == "_core" else _cuda_calls()


def exported(module) -> list[str]:
    """Every public callable of an extension module: functions, classes (their constructor) and
    the methods and properties of each class (with __len__ and __contains__); exception types
    and pybind11's own attributes are not calls of ours, nor are constants (``CUE_GRID``)."""
    names = []
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("__") or (isinstance(obj, type) and issubclass(obj, BaseException)) or not callable(obj):
            continue
        names.append(name)
        if isinstance(obj, type):
            for attr in vars(obj):
                if attr in ("__len__", "__contains__") or not (attr.startswith("__") or attr.startswith("_pybind11")):
                    names.append(f"{name}.{attr}")
    return sorted(names)


SCALAR_BADS = [None, "3", "", 2.5, float("nan"), float("inf"), -float("inf"), -1, 0, 1 << 70, -(1 << 70), True,
               1e300, -7.5, np.float32(np.nan), np.int64(-5), np.uint64((1 << 64) - 1), [1], object()]


def _array_bads(a: np.ndarray) -> Iterator[tuple[str, object]]:
    yield "None", None
    yield "str", "array"
    yield "nested list", a.tolist()
    for dtype in (object, np.complex64, "U3", np.bool_, np.float16, np.float64, np.int64, np.uint8, np.int8):
        with np.errstate(all="ignore"):
            yield f"dtype {np.dtype(dtype).name}", a.astype(dtype)
    yield "ndim+1", a[None]
    yield "ndim-1", a.reshape(-1) if a.ndim > 1 else (a[0] if a.size else a.reshape(0, 0))
    yield "0-d", np.array(a.flat[0]) if a.size else np.array(0, a.dtype)
    yield "empty axis 0", a[:0]
    if a.ndim > 1:
        yield "empty last axis", a[..., :0]
        yield "Fortran order", np.asfortranarray(a)
    yield "non-contiguous", np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a
    readonly = a.copy()
    readonly.setflags(write=False)
    yield "read-only", readonly
    if a.size and a.ndim:
        yield "huge broadcast view", np.broadcast_to(a[:1], (HUGE_ROWS,) + a.shape[1:])
        yield "small broadcast view", np.broadcast_to(a[:1], a.shape)
        if a.dtype.kind == "f":
            for label, value in (("NaN", np.nan), ("+inf", np.inf), ("-inf", -np.inf), ("3e38", 3e38), ("-3e38", -3e38)):
                bad = a.copy()
                bad.flat[a.size // 2] = value
                yield f"holding {label}", bad
            yield "all 3e38", np.full_like(a, 3e38)
        if a.dtype.kind in "fi":
            yield "negated", -a - 1


def variants(value) -> Iterator[tuple[str, object]]:
    """(label, bad value) pairs derived from one valid value."""
    if isinstance(value, np.ndarray):
        yield from _array_bads(value)
    elif isinstance(value, (list, tuple)):
        for label, bad in (("None", None), ("empty", type(value)()), ("str", "abc"), ("None item", type(value)([None]))):
            yield label, bad
        yield "one more item", type(value)(list(value) + list(value[:1]))
        yield "one item fewer", type(value)(list(value)[:-1])
        yield "as the other sequence type", (list if isinstance(value, tuple) else tuple)(value)
        if value:
            for label, bad in variants(value[0]):
                yield f"[0] {label}", type(value)([bad, *value[1:]])
    elif isinstance(value, (bool, int, float, str)) or value is None:
        yield from ((repr(bad), bad) for bad in SCALAR_BADS)
    else:  # an object of ours (a RegionPlan)
        yield from (("None", None), ("int", 3), ("str", "plan"))
        yield f"uninitialised {type(value).__name__}", type(value).__new__(type(value))


def _outcome(call: Callable[[], object]) -> dict:
    try:
        result = call()
    except BaseException as err:  # noqa: BLE001 - the parent judges every kind
        return {"outcome": type(err).__name__, "message": str(err)[:400]}
    return {"outcome": "ok", "result": repr(result)[:120]}


def run(module: str, name: str) -> None:
    """Runs the valid call of `name`, then each bad call, printing a JSON line before and after each."""
    # Under AddressSanitizer (experiments/sanitized_core.sh) the cap would fail every mmap (ASan
    # reserves terabytes of shadow address space at start); its max_allocation_size caps instead.
    if not os.environ.get("FACESEL_SANITIZED_CORE"):
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_SPACE, CHILD_ADDRESS_SPACE))
    call = calls(module)[name]
    cases = [("valid", None, None)]
    for arg, value in call.args().items():
        cases += [(f"{arg}: {label}", arg, index) for index, (label, _) in enumerate(variants(value))]
    owner, _, attr = name.partition(".")
    if attr:  # the method on an object made by Class.__new__(Class), its __init__ never run
        cases.append((f"uninitialised {owner}", owner, None))
    for case, arg, index in cases:
        print(json.dumps({"case": case, "arg": arg}), flush=True)
        args = call.args()
        target = call.target
        if index is not None:
            args[arg] = list(variants(args[arg]))[index][1]
        elif arg is not None:
            target = functools.partial(_uninitialised_attribute, getattr(_module(module), owner), attr)
        print(json.dumps({"case": case, "arg": arg, **_outcome(lambda: target()(**args))}), flush=True)


def _module(module: str):
    return _core() if module == "_core" else _cuda()


def _uninitialised_attribute(cls, attr: str):
    """``attr`` of a ``cls`` whose __init__ never ran, as a callable (a property is read when called)."""
    obj = cls.__new__(cls)
    if isinstance(vars(cls)[attr], property):
        return lambda: getattr(obj, attr)
    return getattr(obj, attr)


def arrays_in(value, path=()) -> Iterator[tuple[tuple, np.ndarray]]:
    """Every ndarray in an argument ``value`` (an array, or lists / tuples of them, nested), with
    its path of indices: ``(path, array)``, depth first. For sweeps that vary one array at a time."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from arrays_in(item, path + (i,))


def replace_at(value, path, new):
    """``value`` with the item at ``path`` (as :func:`arrays_in` gives it) replaced by ``new``;
    lists and tuples on the way are copied, ``value`` itself is not changed."""
    if not path:
        return new
    items = list(value)
    items[path[0]] = replace_at(items[path[0]], path[1:], new)
    return type(value)(items)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2])
