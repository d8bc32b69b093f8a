"""The decoding paths ``benchmarks/capacity.py``'s session 21 variants swap in give the frames serve's
own readers give, so docs/performance.md's memory A/B ("where the 250 MiB went") compares memory,
not different outputs: ``opencvfile`` (OpenCV's reader, as before session 20) against
``FileConnection``, and ``*+copy`` (owning copies) against a PyAV connection's views."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

FRAMES = 30


def _read(connection, frames: int = FRAMES):
    try:
        return [connection.read() for _ in range(frames)]
    finally:
        connection.close()


@pytest.fixture()
def arcade(shared_data):
    return shared_data / "videos" / "arcade_walkers_1080p.mp4"


def test_the_opencv_file_reader_gives_serves_file_camera_frames_and_times(arcade):
    from facesel.sources.backends import FileConnection
    from opencv_file_reader import OpenCVFileConnection

    ours, theirs = _read(FileConnection(arcade)), _read(OpenCVFileConnection(arcade))
    assert [t for _, t in ours] == pytest.approx([t for _, t in theirs], abs=1e-6)
    for (mine, _), (other, _) in zip(ours, theirs):
        assert mine.shape == other.shape == (1080, 1920, 3)
        assert np.array_equal(mine, other)


def test_the_opencv_variant_makes_serves_plain_file_cameras_read_with_opencv(arcade, monkeypatch):
    import facesel.sources
    from facesel.sources import make_source
    from opencv_file_reader import OpenCVFileConnection, use_for_file_cameras

    monkeypatch.setattr(facesel.sources, "FileConnection", facesel.sources.FileConnection)  # undone after
    use_for_file_cameras()
    assert make_source(arcade, loop=True)._connect.func is OpenCVFileConnection
    # a camera that asks for PyAV's load settings keeps its PyAV connection
    assert make_source(arcade, loop=True, skip_when_behind=True)._connect.func.__name__ == "PyAVFileConnection"


@pytest.mark.parametrize("convert_on_take", [False, True])
def test_owning_copies_keep_the_pixels_and_own_their_memory(arcade, monkeypatch, convert_on_take):
    from capacity import owning_copies
    from facesel.sources import backends, decoded

    def frames():
        read = _read(backends.PyAVFileConnection(arcade, keep_picture=False, convert_on_take=convert_on_take))
        return [frame.convert() if convert_on_take else frame for frame, _ in read]

    views = frames()
    monkeypatch.setattr(backends, "_image", backends._image)  # owning_copies replaces both: undone after
    monkeypatch.setattr(decoded.Unconverted, "convert", decoded.Unconverted.convert)
    owning_copies()
    copies = frames()
    assert all(frame.flags.owndata and frame.flags.c_contiguous for frame in copies)
    assert all(np.array_equal(view, copy) for view, copy in zip(views, copies))
