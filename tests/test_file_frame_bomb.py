"""Review 8b, finding 1: a pixel bomb in a file handed to ``facesel run`` or ``facesel score``.

Videos, folders of images and photos were read with OpenCV's ``VideoCapture`` and ``imread``,
whose own bound is 2**30 pixels: a 3 MB JPEG of 16000 x 16000 grey decodes to 768 MB of BGR
(+1,535,724 KiB of a reader's peak with ``imread``), so a hostile file handed to an operator
cost that run its memory. Now the header's size is read first (Pillow for images, FFmpeg's
probe through PyAV, its decoders bounded, for videos) and a file above ``max_frame_pixels``
(default an 8K UHD frame, as serve's cameras) is refused before it is decoded, naming the file,
its size (where known without decoding) and the bound;
``--max-frame-pixels`` raises it. The files here are generated grey pictures (no face data),
just above the default bound, in a tmp folder; OpenCV's decoders are replaced by ones that fail
the test, to show that nothing decoded the refused files.
"""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

import facesel.faceset
import facesel.video
from facesel.sources import alloc_cap
from facesel.sources.frame_limit import MAX_FRAME_PIXELS
from peak_memory import run_fresh

SIDE = (7700, 4400)  # 33,880,000 pixels: just above the default bound (7680 x 4320 = 33,177,600)


@pytest.fixture
def bomb_png(tmp_path):
    path = tmp_path / "photos" / "bomb.png"
    path.parent.mkdir()
    assert cv2.imwrite(str(path), np.full(SIDE[::-1], 128, np.uint8))  # 34 KB on disk
    return path


@pytest.fixture
def bomb_video(tmp_path):
    import av

    path = tmp_path / "bomb.avi"
    # above every source's allocation cap (review round 15c), which an earlier test's source set
    with alloc_cap.lifted(), av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=25)
        stream.width, stream.height, stream.pix_fmt = SIDE[0], SIDE[1], "yuvj420p"
        frame = av.VideoFrame.from_ndarray(np.full((SIDE[1], SIDE[0], 3), 128, np.uint8), format="bgr24")
        for _ in range(2):
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _no_decoding(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"decoded by OpenCV: {args[:1]}")

    for module in (facesel.video, facesel.faceset):
        monkeypatch.setattr(module.cv2, "imread", refuse)
        monkeypatch.setattr(module.cv2, "VideoCapture", refuse)


def test_an_image_above_the_bound_is_refused_before_decoding_naming_file_size_and_bound(bomb_png, monkeypatch):
    assert SIDE[0] * SIDE[1] > MAX_FRAME_PIXELS
    _no_decoding(monkeypatch)
    expected = f"{bomb_png} is 7700x4400 pixels (33880000), more than max_frame_pixels = {MAX_FRAME_PIXELS}"
    with pytest.raises(ValueError, match="refused before decoding") as refused:
        facesel.faceset.read_image(bomb_png)  # facesel score's reader
    assert expected in str(refused.value)
    with pytest.raises(ValueError) as refused:
        list(facesel.video.open_source(bomb_png.parent))  # facesel run on a folder of images
    assert expected in str(refused.value)
    with pytest.raises(ValueError) as refused:
        facesel.video.open_source(bomb_png)  # facesel run on one image file
    assert expected in str(refused.value)


def test_a_video_above_the_bound_is_refused_before_decoding(bomb_video, monkeypatch):
    _no_decoding(monkeypatch)
    with pytest.raises(ValueError) as refused:
        facesel.video.open_source(bomb_video)
    # FFmpeg learns an MJPEG stream's size by decoding its first picture, which the bound forbids:
    # the size stays unknown, and the file is refused for that (never decoded whole to learn it).
    assert (f"video file {bomb_video}: FFmpeg could not learn its size without decoding a picture of more than "
            f"max_frame_pixels = {MAX_FRAME_PIXELS} pixels") in str(refused.value)
    assert "refused before decoding" in str(refused.value)


def test_the_bound_is_a_setting(bomb_png, bomb_video):
    raised = SIDE[0] * SIDE[1]
    assert facesel.faceset.read_image(bomb_png, max_frame_pixels=raised).shape == (SIDE[1], SIDE[0], 3)
    frames = list(facesel.video.open_source(bomb_video, max_frame_pixels=raised))
    assert [frame.shape for frame, _ in frames] == [(SIDE[1], SIDE[0], 3)] * 2
    small = 640 * 480  # a frame the header did not state is refused once decoded: the check after
    with pytest.raises(ValueError, match=r"more than max_frame_pixels = 307200"):
        facesel.faceset.read_image(bomb_png, max_frame_pixels=small)
    with pytest.raises(ValueError, match="max_frame_pixels must be a whole number"):
        facesel.video.open_source(bomb_video, max_frame_pixels=0)


def test_the_bound_may_be_a_numpy_integer(bomb_png, bomb_video):
    """Review 17b: ``max_frame_pixels=np.int64(...)`` (a size computed with numpy) was refused as
    "must be a whole number of pixels ..., got np.int64(...)"; a numpy float or bool still is."""
    from facesel.sources import make_source
    from facesel.sources.frame_limit import check_max_frame_pixels

    raised = np.int64(SIDE[0] * SIDE[1])
    assert type(check_max_frame_pixels(raised)) is int
    assert facesel.faceset.read_image(bomb_png, max_frame_pixels=raised).shape == (SIDE[1], SIDE[0], 3)
    assert len(list(facesel.video.open_source(bomb_video, max_frame_pixels=raised))) == 2
    with pytest.raises(ValueError, match=r"more than max_frame_pixels = 307200"):
        facesel.faceset.read_image(bomb_png, max_frame_pixels=np.int32(640 * 480))
    make_source(str(bomb_video), max_frame_pixels=np.uint32(640 * 480))  # built, not opened: the setting is taken
    for bad in (np.float64(1e6), np.bool_(True), np.int64(0), np.int64(2**31)):
        with pytest.raises(ValueError, match="max_frame_pixels must be a whole number"):
            facesel.video.open_source(bomb_video, max_frame_pixels=bad)


def test_score_names_the_file_and_takes_the_flag(bomb_png, tmp_path):
    def score(*args):
        return subprocess.run([sys.executable, "-m", "facesel", "score", *args], capture_output=True, text=True,
                              timeout=300)

    refused = score(str(bomb_png))
    assert refused.returncode == 1, refused.stderr
    assert f"image file {bomb_png} is 7700x4400 pixels (33880000), more than max_frame_pixels" in refused.stderr
    small = tmp_path / "small.png"  # the flag both ways on a small picture (scoring the bomb costs 1.3 GB)
    assert cv2.imwrite(str(small), np.full((80, 100), 128, np.uint8))
    lowered = score("--max-frame-pixels", "7999", str(small))
    assert lowered.returncode == 1 and "is 100x80 pixels (8000), more than max_frame_pixels = 7999" in lowered.stderr
    taken = score("--max-frame-pixels", "8000", "--json", str(small))
    assert taken.returncode == 0, taken.stderr  # a grey picture: scored as a whole image, no face found
    usage = score("--max-frame-pixels", "0", str(small))
    assert usage.returncode == 2 and "--max-frame-pixels" in usage.stderr


def test_an_image_format_pillow_does_not_read_is_refused_before_decoding(tmp_path, monkeypatch):
    """Review 9, finding 1: Pillow reads no Radiance HDR header, so such a picture was left to
    OpenCV, which takes it by its signature whatever its name and decoded it whole (floats, about
    15 bytes a pixel) before the check after decoding: a 2.1 MB file of 7700 x 4400 grew a reader
    by 502,024 KiB (``benchmarks/file_bomb_memory.py --format hdr``), and OpenCV's own bound
    (2**30 pixels) lets a 57 MB one cost some 16 GB. Now a file an OpenCV image decoder takes and
    Pillow does not is sized by FFmpeg's probe, its decoders bounded, before anything decodes it."""
    from radiance_picture import write_radiance

    photos = tmp_path / "photos"
    photos.mkdir()
    bomb = write_radiance(photos / "holiday.jpg", *SIDE)  # the name says JPEG; OpenCV goes by the bytes
    assert cv2.haveImageReader(str(bomb))
    _no_decoding(monkeypatch)
    unsized = (f"image file {bomb}: FFmpeg could not learn its size without decoding a picture of more than "
               f"max_frame_pixels = {MAX_FRAME_PIXELS} pixels")
    with pytest.raises(ValueError, match="refused before decoding") as refused:
        facesel.faceset.read_image(bomb)  # facesel score's reader
    assert unsized in str(refused.value)
    with pytest.raises(ValueError) as refused:
        list(facesel.video.open_source(photos))  # facesel run on a folder of images
    assert unsized in str(refused.value)


def test_a_small_picture_pillow_does_not_read_is_still_read(tmp_path, monkeypatch):
    """The probe sizes a genuine Radiance picture: within the bound OpenCV reads it as before; a
    bound below its size refuses it before decoding (what the probe learnt), and a file that no
    image decoder takes keeps OpenCV's own refusal."""
    from radiance_picture import write_radiance

    small = write_radiance(tmp_path / "small.hdr", 64, 48)
    assert facesel.faceset.read_image(small, max_frame_pixels=64 * 48).shape == (48, 64, 3)
    unknown = tmp_path / "notes.jpg"
    unknown.write_bytes(b"#?RADIANT but not a picture\n")
    with pytest.raises(ValueError, match=f"cannot read image file: {unknown}"):
        facesel.faceset.read_image(unknown)
    _no_decoding(monkeypatch)
    with pytest.raises(ValueError, match="refused before decoding"):
        facesel.faceset.read_image(small, max_frame_pixels=64 * 48 - 1)


@pytest.fixture
def small_video(tmp_path):
    path = tmp_path / "grey.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
    for level in (100, 140, 180):
        writer.write(np.full((48, 64, 3), level, np.uint8))
    writer.release()
    return path


def test_reading_a_video_header_loads_no_pillow_here(small_video):
    """Session 18: the probe kept in the reader's process loaded PyAV (a second FFmpeg besides
    OpenCV's) and all of Pillow's plugins, and kept its decoders' heap: +34 MB of ``facesel run``'s
    peak on the arcade video. It runs in a forked child now; the reader still gets its frames.
    (Since review 10a the frames themselves are decoded by PyAV, and since ops22 the file's rate and
    frame count are read by PyAV in the reader's process, OpenCV's probe gone: PyAV is loaded at the
    open, its probe closed before the frames are read; Pillow still never.)"""
    code = ("import sys, facesel.video\n"
            "source = facesel.video.open_source(sys.argv[1])\n"
            "print('av' in sys.modules, sorted(m for m in sys.modules if m.startswith('PIL')))\n"
            "frames = list(source)\n"
            "print(len(frames), frames[0][0].shape)")
    done = run_fresh(code, small_video, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True []", "3 (48, 64, 3)"]


def test_a_header_probe_that_dies_refuses_the_file(small_video, monkeypatch):
    """A child that ends without an answer (FFmpeg crashing on a hostile file, or the kernel's out-of-memory killer) refuses the
    file, naming it and the signal: OpenCV's FFmpeg would meet the same bytes in this process."""
    import os
    import signal

    import facesel.sources.frame_limit as frame_limit

    monkeypatch.setattr(frame_limit, "_stated_size", lambda path, max_pixels: os.kill(os.getpid(), signal.SIGKILL))
    _no_decoding(monkeypatch)
    with pytest.raises(ValueError) as refused:
        facesel.video.open_source(small_video)
    assert str(refused.value) == (f"video file {small_video}: reading its header ended with signal {int(signal.SIGKILL)} "
                                  "and no answer: refused before decoding")


def test_a_fork_that_fails_leaves_no_pipe_open(small_video, monkeypatch):
    """Review 18: when ``fork`` itself fails (EAGAIN under a process limit, ENOMEM), the probe's
    pipe was left open, two descriptors a refused file: a long-running reader of many files would
    run out of them. The error still reaches the caller."""
    import errno
    import os

    import facesel.sources.frame_limit as frame_limit

    def no_fork():
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(frame_limit.os, "fork", no_fork)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        with pytest.raises(OSError, match="temporarily unavailable"):
            frame_limit.header_size(small_video)
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_header_probe_that_never_answers_is_stopped_and_the_file_refused(small_video, monkeypatch):
    """Review 18: the reader waited on the probe's child with no deadline, so a child that never
    answered (a decoder looping on a hostile file, or a lock another thread held at the fork) hung
    ``facesel run`` for good. Past ``PROBE_SECONDS`` the child is killed, reaped, and the file refused."""
    import os
    import time

    import facesel.sources.frame_limit as frame_limit

    monkeypatch.setattr(frame_limit, "_stated_size", lambda path, max_pixels: time.sleep(3600))
    monkeypatch.setattr(frame_limit, "PROBE_SECONDS", 0.5)
    forked = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(frame_limit.os, "fork", fork)
    _no_decoding(monkeypatch)
    with pytest.raises(ValueError) as refused:
        facesel.video.open_source(small_video)
    assert str(refused.value) == (f"video file {small_video}: reading its header took over 0.5 s (its child was "
                                  "stopped): refused before decoding")
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)  # the child was killed and reaped: nothing is left of it
