"""The region squares' float shrink with eight source rows a register (``_core.area_shrink_float``'s
AVX2 path, issue 27 session 25).

On a CPU with AVX2 the core now runs the horizontal pass of eight source rows at once (the SSE path
takes four), the vertical pass eight elements at a time, each lane with the same float32 operations
in the same order. The claim is the same pixels as the reference path, OpenCV's INTER_AREA on a
float32 copy, bit for bit: on the real region squares of a 1080p camera, and wherever the eight-row
blocks and eight-element loops leave a remainder (source and output heights, widths, channels).
``tests/test_area_shrink_float.py`` checks the same function on 1,500 random crops; on this kind of
CPU those now run the AVX2 path too (the first test says which path ran).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from facesel import _core
from video_frames import spread_frames


def _cpu_has_avx2() -> bool:
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return False
    return "avx2" in flags.split()


@pytest.fixture(scope="module")
def frames(shared_data):
    return spread_frames(shared_data, "arcade_walkers_1080p.mp4", 5)


def _opencv_float(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The reference path: OpenCV's INTER_AREA on a float32 copy, rounded back."""
    return cv2.convertScaleAbs(cv2.resize(image.astype(np.float32), size, interpolation=cv2.INTER_AREA))


def test_the_path_this_cpu_runs_is_named():
    path = _core.area_shrink_float_path()
    assert path in ("avx2", "sse2", "scalar")
    if _cpu_has_avx2():
        assert path == "avx2", "an AVX2 CPU must run the eight-row path (the tests below check its pixels)"


def test_real_region_squares_the_same_bytes(frames):
    """The squares ``benchmarks/shrink_instructions.py --squares`` counts (195-400 pixels to the
    region network's 128 and 160) and squares of every side between, as views of the frames."""
    checked = 0
    for k, frame in enumerate(frames):
        for side in (195, 245, 300, 350, 400, *range(161 + k, 400, 23)):
            y, x = 60 + 7 * k, 40 + (side * 3) % 1400
            view = frame[y:y + side, x:x + side]
            for size in (128, 160):
                if side % size == 0:
                    continue
                got = _core.area_shrink_float(view, size, size)
                np.testing.assert_array_equal(got, _opencv_float(view, (size, size)), err_msg=f"{side} -> {size}")
                checked += 1
    assert checked > 100


def test_every_remainder_of_the_eight_row_blocks(frames):
    """Source heights 1-40 (blocks of eight source rows, the last one short and its rows repeated),
    output heights from 1 to the source's, widths leaving every remainder of eight elements, 1-4 channels."""
    rng = np.random.default_rng(25)
    base = frames[3][300:340, 500:620]
    pictures = {1: cv2.cvtColor(base, cv2.COLOR_BGR2GRAY), 2: np.ascontiguousarray(base[:, :, :2]), 3: base,
                4: cv2.cvtColor(base, cv2.COLOR_BGR2BGRA)}
    pictures[4][:, :, 3] = rng.integers(0, 256, pictures[4].shape[:2], dtype=np.uint8)
    checked = 0
    for channels, picture in pictures.items():
        for rows in range(1, 41):
            cols = int(rng.integers(9, 121))
            view = picture[:rows, :cols]
            for out_rows in sorted({1, max(1, rows // 3), max(1, rows - 1), rows}):
                out_cols = int(rng.integers(1, cols))
                if cols % out_cols == 0 and rows % out_rows == 0:
                    continue
                np.testing.assert_array_equal(_core.area_shrink_float(view, out_cols, out_rows),
                                              _opencv_float(view, (out_cols, out_rows)),
                                              err_msg=f"{view.shape} -> {(out_cols, out_rows)}")
                checked += 1
    assert checked > 400


def test_the_sse_path_gives_the_same_bytes_in_a_child(frames):
    """Both paths on this machine: a child with ``FACESEL_AREA_FLOAT_PATH=sse2`` (read once, at the
    first call) shrinks the same real squares and odd shapes; its bytes equal this process's. Only
    sha256 digests cross the process boundary (no pixels on disk)."""
    import hashlib
    import os
    import pickle
    import subprocess
    import sys

    squares = [np.ascontiguousarray(frames[k % len(frames)][50 + 9 * k:50 + 9 * k + side, 100 + 3 * side:100 + 4 * side])
               for k, side in enumerate((195, 245, 300, 350, 400, 161, 217, 33, 9))]
    sizes = [(128, 128), (160, 160), (160, 160), (128, 128), (160, 160), (128, 128), (160, 100), (20, 7), (5, 3)]
    here = hashlib.sha256(b"".join(_core.area_shrink_float(v, *s).tobytes() for v, s in zip(squares, sizes))).hexdigest()
    # the pixels go to the child through a pipe: no face image touches the disk
    script = (
        "import sys, hashlib, pickle; from facesel import _core\n"
        "squares, sizes = pickle.load(sys.stdin.buffer)\n"
        "print(_core.area_shrink_float_path())\n"
        "print(hashlib.sha256(b''.join(_core.area_shrink_float(v, *s).tobytes() for v, s in zip(squares, sizes))).hexdigest())\n"
    )
    env = dict(os.environ, FACESEL_AREA_FLOAT_PATH="sse2")
    done = subprocess.run([sys.executable, "-c", script], input=pickle.dumps((squares, sizes)), env=env,
                          capture_output=True, check=True)
    path, there = done.stdout.decode().split()
    assert path == "sse2"
    assert there == here
