"""Refusals of the cue samplers' arrays name the value they refuse (review round 16b).

experiments/binding_sweep.py found three messages that named the argument but not what was wrong
with it: ``mean_level`` answered an array of another dtype (float64, big-endian float32, ...) with
"a must be a float32 numpy array, got <class 'numpy.ndarray'>", a strided view with "a must be
C-contiguous", and ``take_levels`` a float index with "index must be an integer numpy array
(int64)". Each now gives the dtype, or the shape and strides.
"""

from __future__ import annotations

import numpy as np
import pytest
from facesel import _core


def _frame():
    return (np.arange(10 * 12 * 3) % 251).astype(np.uint8).reshape(10, 12, 3)


LEVELS = np.arange(4, dtype=np.float32)


@pytest.mark.parametrize("dtype", [np.float64, np.dtype(">f4"), np.int64])
def test_mean_level_names_the_dtype_it_refuses(dtype):
    with pytest.raises(TypeError) as err:
        _core.mean_level(LEVELS.astype(dtype), LEVELS)
    assert str(err.value) == f"a must be a float32 numpy array, got dtype {np.dtype(dtype)}"
    with pytest.raises(TypeError, match=r"^b must be a float32 numpy array, got <class 'list'>$"):
        _core.mean_level(LEVELS, [0.0, 1.0, 2.0, 3.0])


def test_mean_level_gives_the_layout_it_refuses():
    with pytest.raises(ValueError) as err:
        _core.mean_level(LEVELS, np.arange(8, dtype=np.float32)[::2])
    assert str(err.value) == "b must be C-contiguous, got shape (4,), strides (8,) bytes"


def test_take_levels_names_the_index_dtype_and_the_frame_layout():
    with pytest.raises(TypeError) as err:
        _core.take_levels(_frame(), np.array([0.0, 1.0]))
    assert str(err.value) == "index must be an integer numpy array (int64), got dtype float64"
    with pytest.raises(ValueError) as err:
        _core.take_levels(_frame()[::2], np.array([0, 1]))
    assert str(err.value) == "frame must be C-contiguous (it is not copied), got shape (5, 12, 3), strides (72, 3, 1) bytes"


def test_a_cue_frame_view_is_refused_with_its_layout():
    with pytest.raises(ValueError) as err:
        _core.grey_samples(_frame()[:, ::-1], np.array([[0, 0, 5, 5]]))
    assert str(err.value) == "frame must be C-contiguous (it is not copied), got shape (10, 12, 3), strides (36, -3, 1) bytes"
