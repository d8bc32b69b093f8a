"""The C++ core takes arrays that went through pickle (a pipe, multiprocessing) like any other.

Found in session 24: an unpickled array's dtype is equal to numpy's uint8 or float32 but not the
same object, and the bindings compared dtypes by identity, refusing it with "must be uint8, got
dtype uint8". They now compare by numpy's equivalence (``has_dtype`` in python/bindings/validate.hpp);
a non-native byte order is still refused. The first two tests failed before the change ("must be
uint8, got dtype uint8"); the third passed before and guards the equivalence against byte order."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from facesel import _core


def _through_pickle(array: np.ndarray) -> np.ndarray:
    out = pickle.loads(pickle.dumps(array))
    assert out.dtype == array.dtype and out.dtype is not array.dtype  # the case this file is about
    return out


def test_an_unpickled_frame_is_shrunk_like_the_original():
    frame = np.random.default_rng(1).integers(0, 256, (90, 120, 3), np.uint8)
    got = _core.area_shrink_exact(_through_pickle(frame), 80, 60)
    assert np.array_equal(got, _core.area_shrink_exact(frame, 80, 60))


def test_unpickled_squares_are_padded_like_the_originals():
    squares = [np.random.default_rng(2).integers(0, 256, (40, 50, 3), np.uint8)]
    for planar in (False, True):
        (got, members), = _core.region_batches([_through_pickle(s) for s in squares], 32, planar)
        (want, _), = _core.region_batches(squares, 32, planar)
        assert np.array_equal(got, want) and members.tolist() == [0]


def test_a_non_native_byte_order_is_still_refused():
    swapped = np.zeros((4, 1, 2, 2), np.float32).astype(np.float32().dtype.newbyteorder())
    with pytest.raises(TypeError, match="must be float32"):
        _core.yunet_decode([swapped] * 3, [np.zeros((4, 4, 2, 2), np.float32)] * 3,
                           [np.zeros((4, 10, 2, 2), np.float32)] * 3, [8, 16, 32], 0.5, 0.45)
