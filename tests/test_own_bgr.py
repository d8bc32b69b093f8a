"""facesel.sources.own_bgr: PyAV's pixels in arrays of our own, and the memory that saves.

A PyAV connection's BGR frames (serve's stream cameras) used to be views of PyAV's frames, whose
``posix_memalign``'d buffers fragment glibc's heap once frames are held (session 22,
docs/performance.md); ``own_bgr`` converts into numpy arrays instead, with the same pixels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

from facesel.sources import own_bgr  # noqa: E402 - after the skip

ROOT = Path(__file__).resolve().parents[1]


def _pyav(picture):
    return picture.to_ndarray(format="bgr24", threads=1)


def _pictures(path: Path, count: int):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for index, picture in enumerate(container.decode(stream)):
            if index >= count:
                return
            yield picture


@pytest.mark.parametrize("name", ["arcade_walkers_1080p.mp4", "selfie_motion_blur_portrait.mp4"])
def test_real_pictures_keep_pyavs_pixels_in_arrays_of_their_own(shared_data, name):
    path = shared_data / "videos" / name
    if not path.exists():
        pytest.skip(f"{name} not in the shared data")
    compared = 0
    for picture in _pictures(path, 40):
        ours, theirs = own_bgr.bgr(picture), _pyav(picture)
        assert ours.shape == theirs.shape == (picture.height, picture.width, 3) and ours.dtype == np.uint8
        assert np.array_equal(ours, theirs)
        assert isinstance(ours.base, np.ndarray), "converted into a numpy array, not a view of PyAV's frame"
        compared += 1
    assert compared == 40


# 340, 20 and 1364: 3 x the width rounded up to 8 pixels is more than the width's 64-byte row, where
# FFmpeg's x86 converter leaves the last width % 8 pixels unwritten (own_bgr._PIXEL_ALIGN)
@pytest.mark.parametrize("width,height", [(64, 48), (66, 50), (1918, 1078), (1280, 720), (340, 256), (20, 16),
                                          (1364, 768)])
@pytest.mark.parametrize("colorspace,colour_range", [(2, 0), (1, 1), (1, 2), (5, 2), (6, 1), (4, 0), (7, 1)])
def test_any_size_matrix_and_range_gives_pyavs_pixels(width, height, colorspace, colour_range):
    """Widths whose rows are not a multiple of 64 bytes (the padded rows keep FFmpeg's vector code
    inside our array) and each matrix and range a stream may tag (an RTSP camera's H.264 says
    BT.709): the pixels are PyAV's."""
    rng = np.random.default_rng(width * height)
    picture = av.VideoFrame(width, height, "yuv420p")
    picture.colorspace, picture.color_range = colorspace, colour_range
    for plane in picture.planes:
        data = rng.integers(16, 236, size=plane.buffer_size, dtype=np.uint8)
        plane.update(data.tobytes())
    ours = own_bgr.bgr(picture)
    assert isinstance(ours.base, np.ndarray)
    assert np.array_equal(ours, _pyav(picture))
    assert ours.flags.c_contiguous == (width * 3 % 64 == 0)


def test_pictures_it_does_not_accept_go_through_pyav():
    picture = av.VideoFrame(64, 48, "nv12")
    ours = own_bgr.bgr(picture)
    assert np.array_equal(ours, _pyav(picture))
    assert not isinstance(ours.base, np.ndarray), "an NV12 picture is PyAV's to convert"


def _peak(mode: str) -> dict:
    # The package where this process imported it (the installed one under CI, whose compiled core the
    # source tree lacks), not the source tree's python/.
    env = {**os.environ, "PYTHONPATH": str(Path(own_bgr.__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, str(ROOT / "experiments" / "held_frames_memory.py"), mode,
                           "--threads", "4", "--held", "10", "--frames", "120"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_frames_held_in_flight_cost_what_owning_copies_cost_not_what_pyavs_views_cost(shared_data):
    """Four decoding threads holding ten frames each among small arrays (fresh processes, one after
    the other): the direct conversion peaks no higher than PyAV's views copied into arrays (the
    session 21 fix, which cost a copy) and clearly lower than PyAV's views, whose aligned blocks
    glibc cannot reuse once small allocations sit beside them (measured: 495-499, copies 498-501,
    views 575-577 MiB; all 464-465 when glibc maps every large block, so the same live bytes).
    The same pixels in all three."""
    own, views, copies = _peak("own"), _peak("views"), _peak("copies")
    assert own["digest"] == views["digest"] == copies["digest"]
    # the same live bytes through the same allocator as the copies: 5 % for the run-to-run spread
    assert own["peak_mib"] <= copies["peak_mib"] * 1.05, (own, copies, views)
    assert own["peak_mib"] <= views["peak_mib"] * 0.95, (own, copies, views)


def test_file_frames_take_the_direct_array_without_a_copy_and_copy_the_rest(shared_data):
    """``file_frames._bgr`` (serve's file cameras, ``facesel run``): a 1080p frame is own_bgr's
    C-ordered array itself; a padded width is copied to C order; PyAV's pixels either way."""
    from facesel.sources import file_frames

    picture = next(_pictures(shared_data / "videos" / "arcade_walkers_1080p.mp4", 1))
    frame = file_frames._bgr(picture)
    assert frame.flags.c_contiguous and isinstance(frame.base, np.ndarray)
    assert frame.base.size > frame.size, "own_bgr's padded store, not a copy"
    assert np.array_equal(frame, _pyav(picture))
    padded = av.VideoFrame(66, 50, "yuv420p")
    narrow = file_frames._bgr(padded)
    assert narrow.flags.c_contiguous and narrow.flags.owndata
    assert np.array_equal(narrow, _pyav(padded))


def test_a_scaler_that_cannot_be_made_leaves_every_picture_to_pyav(monkeypatch):
    """Where FFmpeg refuses the scaler (it returns NULL), the picture and the next ones of that
    size go through PyAV, never to ``sws_scale`` with no scaler."""
    monkeypatch.setattr(own_bgr._lib, "sws_getContext", lambda *arguments: None)
    monkeypatch.setattr(own_bgr._local, "scaler", None, raising=False)
    for _ in range(2):
        picture = av.VideoFrame(64, 48, "yuv420p")
        ours = own_bgr.bgr(picture)
        assert not isinstance(ours.base, np.ndarray)
        assert np.array_equal(ours, _pyav(picture))


def test_a_pyav_without_its_scaler_library_is_said_once_at_import(monkeypatch, caplog):
    # Where PyAV's wheel ships no libswscale, every picture goes through PyAV's views, which cost more
    # memory when held: the module says so once, at import, instead of regressing silently.
    import glob
    import importlib

    monkeypatch.setattr(glob, "glob", lambda pattern: [])
    with caplog.at_level("WARNING", logger="facesel.sources.own_bgr"):
        reloaded = importlib.reload(own_bgr)
    try:
        assert reloaded._lib is None
        assert any("no libswscale" in record.getMessage() for record in caplog.records)
    finally:
        monkeypatch.undo()
        importlib.reload(own_bgr)
