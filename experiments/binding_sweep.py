"""Sweep of facesel._core's Python boundary with odd numpy arrays (review round 16b).

tests/test_bindings_boundary.py asks one thing of every bad call: no crash, and an error naming the
argument. This sweep asks the other half: when a call with an odd *layout* of the same values is
accepted, is its answer the answer of the plain array? Every valid call of tests/binding_calls.py
is repeated with one array argument replaced by the same values as

    non-contiguous, negative strides (axis 0 and the last axis), Fortran order, read-only,
    unaligned (a uint8 buffer sliced 1, half an item or an item less one byte off, in its own dtype
    and as float32 / int32 / float64), masked (numpy.ma, nothing masked and its first element
    masked), big-endian, pickled (and pickled big-endian), a 0-stride broadcast of its first row,
    and cast to float16 / float64 / int64 / bool / object / a structured dtype of one field,

and the answer compared with the same call on ``numpy.ascontiguousarray(value.astype(original dtype))``.
Then targeted cases the generic sweep cannot build: images of 1 pixel and of 2 or 4 channels,
frames whose byte offsets pass 2**31 (a 32768 x 32768 x 3 frame of zeros, which calloc maps
lazily), boxes and regions outside the frame, huge and non-finite parameters, and paired arrays of
mismatched lengths.

Each case runs in a forked child (address space capped at 6 GiB, 60 s), so a crash, an OOM or a
hang is recorded, not fatal. Outcomes:

    same      accepted, the plain array's answer
    WRONG     accepted, a different answer (a silent wrong answer)
    refused   an exception; "names arg" says whether the message names the argument
    CRASH     the child died on a signal; HANG: no answer within the timeout

Run: ``PYTHONPATH=python:tests python experiments/binding_sweep.py [--only NAME] [--json OUT]``
(the exit status is 1 when a case is WRONG, CRASH or HANG). Under the ASan + UBSan build of the
core (docs/review.md, round 17a): ``experiments/sanitized_core.sh run python experiments/binding_sweep.py``;
a sanitizer report aborts the child, recorded as a CRASH (SIGABRT), its report on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import select
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import binding_calls  # noqa: E402  (the valid call of every export)

ADDRESS_SPACE = 6 << 30
TIMEOUT_S = 60.0


# ---------------------------------------------------------------- canonical answers


def canonical(value) -> object:
    """A JSON-able form of a binding's answer in which equal answers are equal (NaNs included)."""
    from facesel import _core

    if isinstance(value, np.ndarray):
        v = np.ascontiguousarray(value)
        return {"dtype": v.dtype.str, "shape": list(v.shape), "bytes": v.tobytes().hex()}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if isinstance(value, _core.RegionPlan):
        return {"plan": [canonical(value.cuts), canonical(value.index), canonical(value.corners), canonical(value.backs)]}
    if isinstance(value, float):
        return repr(value)
    return repr(value)


# ---------------------------------------------------------------- same-values layouts


def _unaligned(a: np.ndarray, offset: int = 1) -> np.ndarray:
    """a's values in a uint8 buffer sliced `offset` bytes off its start (numpy flags it not aligned).

    numpy's allocations are 16-byte aligned, so any offset that is not a multiple of the itemsize
    gives an address the dtype's alignment does not allow (round 17a: -fsanitize=alignment checks it).
    """
    raw = np.empty(a.nbytes + offset, np.uint8)
    out = raw[offset:].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def _unaligned_offsets(itemsize: int) -> list[int]:
    """Offsets that misalign an item of `itemsize` bytes: one byte, half an item, an item less one."""
    return sorted({k for k in (1, itemsize // 2, itemsize - 1) if 0 < k < itemsize})


def _masked(a: np.ndarray, first_masked: bool) -> np.ndarray:
    """a as a numpy.ma.MaskedArray: no element masked, or its first element masked (round 17a)."""
    mask = np.zeros(a.shape, bool)
    if first_masked and a.size:
        mask.flat[0] = True
    return np.ma.masked_array(a, mask=mask)


def same_values(a: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """(label, array) pairs holding a's values (or a cast of them) in an odd layout or dtype."""
    yield "non-contiguous", np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a
    if a.ndim:
        yield "negative stride axis 0", np.ascontiguousarray(a[::-1])[::-1]
    if a.ndim > 1:
        yield "negative stride last axis", np.ascontiguousarray(a[..., ::-1])[..., ::-1]
        yield "Fortran order", np.asfortranarray(a)
    readonly = a.copy()
    readonly.setflags(write=False)
    yield "read-only", readonly
    if a.dtype.itemsize > 1 and a.size:
        for offset in _unaligned_offsets(a.dtype.itemsize):
            yield ("unaligned" if offset == 1 else f"unaligned +{offset} bytes"), _unaligned(a, offset)
    if a.size and a.dtype.kind in "biuf":
        # the dtypes the bindings take, unaligned: a cast from them must still read each item whole
        with np.errstate(all="ignore"):
            for dtype in (np.float32, np.int32, np.float64):
                if np.dtype(dtype) != a.dtype:
                    cast = a.astype(dtype)
                    for offset in _unaligned_offsets(cast.dtype.itemsize):
                        yield f"unaligned +{offset} bytes as {cast.dtype.name}", _unaligned(cast, offset)
    if a.dtype.kind in "biuf":
        yield "masked, nothing masked", _masked(a, False)
        if a.size:
            yield "masked, first element masked", _masked(a, True)
    if a.dtype.itemsize > 1:
        big = a.astype(a.dtype.newbyteorder(">"))
        yield "big-endian", big
        yield "pickled big-endian", pickle.loads(pickle.dumps(big))
    yield "pickled", pickle.loads(pickle.dumps(a))
    if a.ndim and a.shape[0] > 1:
        yield "0-stride broadcast of row 0", np.broadcast_to(a[:1], a.shape)
    with np.errstate(all="ignore"):
        for dtype in (np.float16, np.float64, np.int64, np.int32, np.uint64, np.bool_, object):
            if np.dtype(dtype) != a.dtype:
                yield f"as {np.dtype(dtype).name}", a.astype(dtype)
    yield "structured of one field", a.view(np.dtype([("v", a.dtype)])).reshape(a.shape) if a.ndim else a


def reference(original: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """The plain array the binding should treat `variant` as: its values in the original dtype, C order."""
    if variant.dtype.names:
        variant = variant["v"]
    variant = np.ma.getdata(variant)  # a masked array's reference is its data (what the core would read)
    with np.errstate(all="ignore"):
        return np.ascontiguousarray(np.asarray(variant).astype(original.dtype.newbyteorder("=")))


# ---------------------------------------------------------------- cases


class Case:
    """One call: ``call()`` runs the odd call, ``plain()`` (when given) the call it should equal."""

    def __init__(self, entry: str, label: str, arg: str, call: Callable, plain: Callable | None = None):
        self.entry, self.label, self.arg, self.call, self.plain = entry, label, arg, call, plain


def layout_cases(only: str | None) -> Iterator[Case]:
    for entry, spec in binding_calls.calls("_core").items():
        if only and entry != only:
            continue
        for arg, value in spec.args().items():
            for path, array in binding_calls.arrays_in(value):
                for index, (label, _) in enumerate(same_values(array)):
                    name = arg + "".join(f"[{p}]" for p in path)

                    def build(odd: bool, spec=spec, arg=arg, path=path, index=index):
                        args = spec.args()
                        original = _get(args[arg], path)
                        variant = list(same_values(original))[index][1]
                        args[arg] = binding_calls.replace_at(args[arg], path, variant if odd else reference(original, variant))
                        return spec.target()(**args)

                    yield Case(entry, label, name, lambda build=build: build(True), lambda build=build: build(False))


def _get(value, path):
    for p in path:
        value = value[p]
    return value


def _c():
    from facesel import _core

    return _core


def _huge_frame(channels: int = 3) -> np.ndarray:
    """A 32768 x 32768 frame of zeros (3 GiB, mapped lazily) with a marked patch at its bottom right."""
    shape = (32768, 32768, channels) if channels > 1 else (32768, 32768)
    frame = np.zeros(shape, np.uint8)
    frame[-64:, -64:] = (np.arange(64 * 64 * max(channels, 1)) % 251).astype(np.uint8).reshape(frame[-64:, -64:].shape)
    return frame


def _numpy_grey(frame: np.ndarray, regions: np.ndarray) -> np.ndarray:
    from facesel.track_cues.sampling import grey_samples_numpy

    with np.errstate(all="ignore"):
        return grey_samples_numpy(frame, regions)


def targeted_cases(only: str | None) -> Iterator[Case]:
    c = _c()
    frame = binding_calls._frame
    cases = [
        # byte offsets past 2**31: the patch at the bottom right of a 32768^2 frame, against the same patch cut out
        Case("grey_samples", "32768^2 x 3 frame, region at the bottom right", "frame",
             lambda: c.grey_samples(_huge_frame(), np.array([[32768 - 60, 32768 - 60, 32768 - 4, 32768 - 4]], np.int64)),
             lambda: c.grey_samples(np.ascontiguousarray(_huge_frame()[-200:, -200:]), np.array([[140, 140, 196, 196]], np.int64))),
        Case("colour_histograms", "32768^2 x 3 frame, box at the bottom right", "frame",
             lambda: c.colour_histograms(_huge_frame(), np.array([[32768 - 60.0, 32768 - 60.0, 32768 - 30.0, 32768 - 40.0]])),
             # (a 200-pixel cut: the face-and-band regions reach past a 64-pixel one's left and top)
             lambda: c.colour_histograms(np.ascontiguousarray(_huge_frame()[-200:, -200:]), np.array([[140.0, 140.0, 170.0, 160.0]]))),
        Case("take_levels", "32768^2 x 3 frame, last byte", "index",
             lambda: c.take_levels(_huge_frame(), np.array([32768 * 32768 * 3 - 1], np.int64)),
             lambda: c.take_levels(np.ascontiguousarray(_huge_frame()[-1:, -1:]), np.array([2], np.int64))),
        Case("area_shrink_float", "32768^2 x 4 image to 2 x 2", "image",
             lambda: c.area_shrink_float(_huge_frame(4), 2, 2)[1, 1],
             None),
        Case("region_batches", "a 32768 x 32768 region (3 GiB batch)", "regions",
             lambda: [len(c.region_batches([_huge_frame()], 32))], None),
        Case("region_plan", "frame_shape 32768 x 32768, box at the corner", "boxes",
             lambda: c.region_plan(np.array([[32700, 32700, 32767, 32767]], np.float32), (32768, 32768, 3), 2.0, 40.0, 16, 1.0, False),
             None),
        # images of one pixel, and of 2 and 4 channels
        Case("area_shrink_float", "1 x 1 image", "image", lambda: c.area_shrink_float(np.full((1, 1, 3), 7, np.uint8), 1, 1),
             lambda: np.full((1, 1, 3), 7, np.uint8)),
        Case("area_shrink_exact", "1 x 1 image", "image", lambda: c.area_shrink_exact(np.full((1, 1), 7, np.uint8), 1, 1),
             lambda: np.full((1, 1), 7, np.uint8)),
        Case("area_shrink_exact", "2 channels", "image", lambda: c.area_shrink_exact(np.full((6, 6, 2), 9, np.uint8), 4, 4),
             lambda: np.full((4, 4, 2), 9, np.uint8)),
        Case("area_shrink_float", "4 channels", "image", lambda: c.area_shrink_float(np.full((7, 7, 4), 9, np.uint8), 5, 5),
             lambda: np.full((5, 5, 4), 9, np.uint8)),
        Case("grey_samples", "1 x 1 frame", "frame", lambda: c.grey_samples(np.full((1, 1), 5, np.uint8), np.array([[0, 0, 1, 1]])),
             lambda: np.full((1, 144), 5, np.float32)),
        Case("colour_histograms", "2-channel frame", "frame",
             lambda: c.colour_histograms(np.zeros((10, 10, 2), np.uint8), np.array([[1.0, 1, 5, 5]]))),
        Case("colour_histograms", "4-channel frame", "frame",
             lambda: c.colour_histograms(np.zeros((10, 10, 4), np.uint8), np.array([[1.0, 1, 5, 5]]))),
        Case("region_batches", "4-channel region", "regions", lambda: c.region_batches([np.zeros((4, 4, 4), np.uint8)], 8)),
        Case("region_batches", "1 x 1 region", "regions", lambda: [b.tolist() for b, _ in c.region_batches([np.full((1, 1, 3), 3, np.uint8)], 2)],
             lambda: [[[[[3, 3, 3], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]]]]]),
        Case("region_batches", "negative-stride region", "regions",
             lambda: c.region_batches([binding_calls._frame()[::-1, ::-1]], 32),
             lambda: c.region_batches([np.ascontiguousarray(binding_calls._frame()[::-1, ::-1])], 32)),
        Case("region_batches", "0-stride region", "regions",
             lambda: c.region_batches([np.broadcast_to(np.uint8(4), (30, 20, 3))], 32),
             lambda: c.region_batches([np.full((30, 20, 3), 4, np.uint8)], 32)),
        # boxes and regions outside the frame, huge and non-finite
        Case("grey_samples", "regions far outside the frame", "regions",
             lambda: c.grey_samples(frame(), np.array([[-10**6, -10**6, 10**6, 10**6], [500, 500, 900, 900]], np.int64))),
        Case("grey_samples", "regions at int64 extremes", "regions",
             lambda: c.grey_samples(frame(), np.array([[-2**63, -2**63, 2**63 - 1, 2**63 - 1]], np.int64))),
        # against numpy's reference on the same uint64 array (facesel.track_cues.sampling)
        Case("grey_samples", "regions as uint64 above 2**63", "regions",
             lambda: c.grey_samples(frame(), np.array([[2**63 + 5, 0, 2**64 - 1, 10]], np.uint64)),
             lambda: _numpy_grey(frame(), np.array([[2**63 + 5, 0, 2**64 - 1, 10]], np.uint64))),
        Case("grey_samples", "inverted region", "regions", lambda: c.grey_samples(frame(), np.array([[50, 50, 10, 10]], np.int64))),
        Case("colour_histograms", "boxes at +-1e300", "boxes",
             lambda: c.colour_histograms(frame(), np.array([[-1e300, -1e300, 1e300, 1e300]]))),
        Case("colour_histograms", "boxes outside the frame", "boxes",
             lambda: c.colour_histograms(frame(), np.array([[500.0, 500.0, 900.0, 900.0], [-90.0, -90.0, -10.0, -10.0]]))),
        Case("colour_histograms", "inverted box", "boxes", lambda: c.colour_histograms(frame(), np.array([[50.0, 50, 10, 10]]))),
        Case("pinned_patches", "previous regions at int64 extremes", "previous_regions",
             lambda: c.pinned_patches(frame(), np.array([[10.0, 12, 40, 50]], np.float32),
                                      np.array([[-2**63, -2**63, 2**63 - 1, 2**63 - 1]], np.int64), np.zeros((1, 144), np.float32))),
        Case("pinned_patches", "boxes at +-3e38", "boxes",
             lambda: c.pinned_patches(frame(), np.array([[-3e38, -3e38, 3e38, 3e38]], np.float32),
                                      np.zeros((0, 4), np.int64), np.zeros((0, 144), np.float32))),
        Case("pinned_patches", "boxes outside the frame", "boxes",
             lambda: c.pinned_patches(frame(), np.array([[500.0, 500, 900, 900]], np.float32),
                                      np.zeros((0, 4), np.int64), np.zeros((0, 144), np.float32))),
        Case("take_levels", "index as uint64 above 2**63", "index",
             lambda: c.take_levels(frame(), np.array([2**64 - 1], np.uint64))),
        Case("region_plan", "boxes at +-3e38", "boxes",
             lambda: c.region_plan(np.array([[-3e38, -3e38, 3e38, 3e38]], np.float32), (200, 300, 3), 2.0, 40.0, 16, 1.0, False)),
        Case("region_plan", "boxes NaN", "boxes",
             lambda: c.region_plan(np.array([[np.nan, 0, 10, 10]], np.float32), (200, 300, 3), 2.0, 40.0, 16, 1.0, False)),
        # a box reaching far past the frame's right edge: the plan of the widest float32 box
        Case("region_plan", "boxes as float64 1e300 (inf in float32)", "boxes",
             lambda: c.region_plan(np.array([[0, 0, 1e300, 10]]), (200, 300, 3), 2.0, 40.0, 16, 1.0, False),
             lambda: c.region_plan(np.array([[0, 0, 3e38, 10]], np.float32), (200, 300, 3), 2.0, 40.0, 16, 1.0, False)),
        Case("region_plan", "boxes outside the frame", "boxes",
             lambda: c.region_plan(np.array([[500, 500, 900, 900], [-90, -90, -10, -10]], np.float32), (200, 300, 3), 2.0, 40.0, 16, 1.0, False)),
        Case("region_plan", "scale 1e300", "scale",
             lambda: c.region_plan(binding_calls._boxes(), (200, 300, 3), 1e300, 40.0, 16, 1.0, False)),
        Case("region_plan", "face_px 1e-300", "face_px",
             lambda: c.region_plan(binding_calls._boxes(), (200, 300, 3), 2.0, 1e-300, 16, 1.0, False)),
        Case("region_plan", "base_shrink 1e-300", "base_shrink",
             lambda: c.region_plan(binding_calls._boxes(), (200, 300, 3), 2.0, 40.0, 16, 1e-300, False)),
        Case("Tracker.update", "boxes NaN", "boxes", lambda: binding_calls._tracker_with_track().update(np.array([[np.nan, 0, 10, 10]], np.float32))),
        Case("Tracker.update", "boxes +-inf", "boxes", lambda: binding_calls._tracker_with_track().update(np.array([[-np.inf, 0, np.inf, 10]], np.float32))),
        Case("Tracker.update", "boxes 3e38", "boxes", lambda: binding_calls._tracker_with_track().update(np.array([[-3e38, -3e38, 3e38, 3e38]], np.float32))),
        Case("Tracker.update", "boxes as float64 1e300 (inf in float32)", "boxes",
             lambda: binding_calls._tracker_with_track().update(np.array([[0, 0, 1e300, 10]]))),
        Case("Tracker", "max_distance 1e308, euclidean", "max_distance",
             lambda: c.Tracker("euclidean", 1e308, 0.3, 1, 5, True, 100, "components", 0.0, False).update(binding_calls._boxes())),
        Case("Tracker", "max_tracks 2**62", "max_tracks",
             lambda: c.Tracker("iou", 100.0, 0.3, 1, 5, True, 2**62, "components", 0.0, False).update(binding_calls._boxes())),
        Case("Tracker", "max_age 2**62", "max_age",
             lambda: c.Tracker("iou", 100.0, 0.3, 1, 5, True, 100, "components", 0.0, False).update(binding_calls._boxes())),
        Case("box_jumps", "boxes NaN / 3e38 / zero-size", "boxes",
             lambda: c.box_jumps(np.array([[0, 0, 0, 0], [0, 0, 3e38, 3e38], [0, 0, 1, 1]], np.float32),
                                 np.array([[0, 0, 1, 1], [-3e38, -3e38, 3e38, 3e38], [np.nan, 0, 1, 1]], np.float32))),
        Case("crowded", "boxes at +-1e308", "boxes", lambda: c.crowded(np.array([[-1e308, -1e308, 1e308, 1e308], [0, 0, 1, 1.0]]))),
        Case("shadowed_pairs", "scores of bools and ints", "scores",
             lambda: c.shadowed_pairs(np.array([[0, 0, 10, 10.0], [1, 1, 9, 9]]), [True, 3], 0.1)),
        Case("shadowed_pairs", "boxes at 1e308 (sum overflows)", "boxes",
             lambda: c.shadowed_pairs(np.array([[0, 0, 1e308, 1e308], [1, 1, 1e308, 1e308]]), [0.5, 0.6], 0.1)),
        Case("shadowed_pairs", "overlap -1e300", "overlap",
             lambda: c.shadowed_pairs(np.array([[0, 0, 10, 10.0], [1, 1, 9, 9]]), [0.5, 0.6], -1e300)),
        Case("_linear_assignment", "cost 1e308", "cost", lambda: c._linear_assignment(np.array([[1e308, 1e308], [1e308, 0.0]]))),
        Case("_linear_assignment", "cost -1e308", "cost", lambda: c._linear_assignment(np.array([[-1e308, 1e308], [1e308, -1e308]]))),
        Case("_sparse_assignment", "cost 1e100 everywhere, 40 x 40", "cost", lambda: c._sparse_assignment(np.full((40, 40), 1e100))),
        Case("gaussian_log_rp", "log_sigma -80 (exp underflows)", "log_sigma",
             lambda: c.gaussian_log_rp(np.zeros((1, 3), np.float32), np.ones((1, 2, 3), np.float32), np.full((1, 2, 3), -80, np.float32))),
        Case("gaussian_log_rp", "log_sigma 3e38", "log_sigma",
             lambda: c.gaussian_log_rp(np.zeros((1, 3), np.float32), np.ones((1, 2, 3), np.float32), np.full((1, 2, 3), 3e38, np.float32))),
        Case("gaussian_log_rp", "x 3e38, mu -3e38", "x",
             lambda: c.gaussian_log_rp(np.full((1, 3), 3e38, np.float32), np.full((1, 2, 3), -3e38, np.float32), np.zeros((1, 2, 3), np.float32))),
        Case("yunet_decode", "boxes/marks NaN and 3e38 at a scored cell", "boxes",
             lambda: c.yunet_decode([np.full((1, 1, 2, 2), 0.9, np.float32)],
                                    [np.array([np.nan, 3e38, -3e38, 88.0] * 4, np.float32).reshape(1, 4, 2, 2)],
                                    [np.full((1, 10, 2, 2), 3e38, np.float32)], [8], 0.5, 0.45)),
        Case("yunet_decode", "levels of different N", "scores",
             lambda: c.yunet_decode([np.zeros((2, 1, 2, 2), np.float32), np.zeros((1, 1, 1, 1), np.float32)],
                                    [np.zeros((2, 4, 2, 2), np.float32), np.zeros((1, 4, 1, 1), np.float32)],
                                    [np.zeros((2, 10, 2, 2), np.float32), np.zeros((1, 10, 1, 1), np.float32)], [8, 16], 0.5, 0.45)),
        Case("yunet_decode", "boxes of another H", "boxes",
             lambda: c.yunet_decode([np.zeros((1, 1, 2, 2), np.float32)], [np.zeros((1, 4, 3, 2), np.float32)],
                                    [np.zeros((1, 10, 2, 2), np.float32)], [8], 0.5, 0.45)),
        Case("yunet_decode", "stride 4096 on a 4096 x 4096 level (offsets past 2**24)", "strides",
             lambda: c.yunet_decode([np.pad(np.full((1, 1, 1, 1), 0.9, np.float32), ((0, 0), (0, 0), (4095, 0), (4095, 0)))],
                                    [np.zeros((1, 4, 4096, 4096), np.float32)], [np.zeros((1, 10, 4096, 4096), np.float32)],
                                    [4096], 0.5, 0.45)),
        Case("region_merge", "faces of mismatched K", "faces",
             lambda: c.region_merge(binding_calls._plan(), [(np.zeros((2, 4), np.float32), np.zeros(1, np.float32), np.zeros((2, 5, 2), np.float32))]
                                    * len(binding_calls._plan()), 0.4)),
        Case("region_merge", "faces at 3e38", "faces",
             lambda: c.region_merge(binding_calls._plan(), [(np.full((1, 4), 3e38, np.float32), np.ones(1, np.float32), np.full((1, 5, 2), 3e38, np.float32))]
                                    * len(binding_calls._plan()), 0.4)),
        Case("mean_level", "a and b of different lengths", "a",
             lambda: c.mean_level(np.zeros(3, np.float32), np.zeros(4, np.float32))),
        Case("mean_level", "non-contiguous a", "a", lambda: c.mean_level(np.zeros(8, np.float32)[::2], np.zeros(4, np.float32))),
        Case("box_jumps", "previous and boxes of different lengths", "previous",
             lambda: c.box_jumps(np.zeros((2, 4), np.float32), np.zeros((3, 4), np.float32))),
        Case("pinned_patches", "patches of another length than previous_regions", "previous_patches",
             lambda: c.pinned_patches(frame(), np.zeros((1, 4), np.float32), np.zeros((2, 4), np.int64), np.zeros((1, 144), np.float32))),
        Case("shadowed_pairs", "scores longer than boxes", "scores",
             lambda: c.shadowed_pairs(np.zeros((1, 4)), [0.5, 0.6], 0.1)),
        Case("Tracker.update", "scores longer than boxes", "scores",
             lambda: binding_calls._tracker_with_track().update(binding_calls._boxes(), np.ones(3, np.float32))),
        Case("gaussian_log_rp", "mu of another N than x", "mu",
             lambda: c.gaussian_log_rp(np.zeros((2, 3), np.float32), np.zeros((1, 2, 3), np.float32), np.zeros((1, 2, 3), np.float32))),
    ]
    for case in cases:
        if not only or case.entry == only:
            yield case


# ---------------------------------------------------------------- forked runs


def _child(case: Case, fd: int) -> None:
    # AddressSanitizer reserves terabytes of shadow address space at start: under the sanitized core
    # (experiments/sanitized_core.sh sets FACESEL_SANITIZED_CORE) a cap on it would fail every mmap.
    if not os.environ.get("FACESEL_SANITIZED_CORE"):
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    out: dict = {}
    if case.plain is not None:
        try:
            out["plain"] = canonical(case.plain())
        except BaseException as err:  # noqa: BLE001 - recorded
            out["plain_error"] = f"{type(err).__name__}: {err}"[:300]
    try:
        out["odd"] = canonical(case.call())
    except BaseException as err:  # noqa: BLE001 - recorded
        out["error"] = type(err).__name__
        out["message"] = str(err)[:300]
    os.write(fd, json.dumps(out).encode())


def run_case(case: Case) -> dict:
    """The case's outcome, from a forked child (a crash or a hang is an outcome, not an exception)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        code = 0
        try:
            _child(case, write_fd)
        except BaseException:  # noqa: BLE001
            code = 3
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks, deadline = [], time.monotonic() + TIMEOUT_S
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([read_fd], [], [], max(left, 0))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_fd)
            return {"outcome": "HANG"}
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {"outcome": "CRASH", "signal": signal.Signals(os.WTERMSIG(status)).name}
    data = json.loads(b"".join(chunks) or b"{}")
    if "error" in data:
        named = case.arg.split("[")[0] in data["message"]
        return {"outcome": "refused", "error": data["error"], "message": data["message"], "names_arg": named}
    if "odd" not in data:
        return {"outcome": "CRASH", "signal": f"exit {os.WEXITSTATUS(status)}"}
    if "plain" in data:
        return {"outcome": "same" if data["plain"] == data["odd"] else "WRONG"}
    if "plain_error" in data:
        return {"outcome": "accepted", "note": "the plain call failed: " + data["plain_error"]}
    return {"outcome": "accepted", "answer": json.dumps(data["odd"])[:160]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="one entry point (a name of tests/binding_calls.py, e.g. grey_samples)")
    parser.add_argument("--json", type=Path, help="write every case's outcome here")
    parser.add_argument("--quiet", action="store_true", help="print only WRONG, CRASH, HANG and unnamed refusals")
    parser.add_argument("--layouts-only", action="store_true", help="only the same-values layouts (no targeted cases)")
    opts = parser.parse_args()
    records, counts = [], {}
    cases = [*layout_cases(opts.only), *([] if opts.layouts_only else targeted_cases(opts.only))]
    for case in cases:
        result = run_case(case)
        record = {"entry": case.entry, "arg": case.arg, "case": case.label, **result}
        records.append(record)
        counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
        bad = result["outcome"] in ("WRONG", "CRASH", "HANG") or (result["outcome"] == "refused" and not result["names_arg"])
        if bad or not opts.quiet:
            detail = result.get("message") or result.get("signal") or result.get("answer") or result.get("note") or ""
            extra = "" if result["outcome"] != "refused" else (" (names arg)" if result["names_arg"] else " (ARG NOT NAMED)")
            print(f"{result['outcome']:8} {case.entry} {case.arg}: {case.label}{extra}  {detail}", flush=True)
    print(json.dumps(counts, sort_keys=True))
    if opts.json:
        opts.json.write_text(json.dumps(records, indent=1))
    return 1 if any(r["outcome"] in ("WRONG", "CRASH", "HANG") for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
