"""Review 10a: a video file's later frames, each bounded before it is decoded (``facesel.sources.file_frames``).

Round 8b checks the size a video's header states, but OpenCV decoded a later, larger frame whole
and scaled it to the first frame's size: a 3 MB MJPEG file whose fourth frame is 16000 x 16000
grey grew ``facesel run``'s reader by about 270 MB and gave six 640 x 480 frames without a word.
Files are now decoded by FFmpeg through PyAV, its decoder told the stream's stated size as
``max_pixels``. The files here are generated grey pictures (no face data) in a tmp folder; the
parity checks read the shared videos in place.
"""

from __future__ import annotations

import json
import os
import struct

import cv2
import numpy as np
import pytest

import facesel.video
from growing_mjpeg import SMALL, growing_mjpeg as _mjpeg, jpeg as _jpeg
from peak_memory import run_fresh

_READER = """
import json, sys
from peak_memory import peak_kib
from facesel.video import open_source
before = peak_kib()
try:
    got = ["x".join(map(str, frame.shape)) for frame, _ in open_source(sys.argv[1])]
except ValueError as err:
    got = "refused: " + str(err)
print(json.dumps({"got": got, "grown_kib": peak_kib() - before}))
"""


def test_a_later_frame_bomb_is_refused_before_it_is_decoded(tmp_path):
    """On main: six 480x640x3 frames (the bomb scaled down) and +270,068 KiB of the reader's peak."""
    bomb = _mjpeg(tmp_path / "bomb.mjpeg", (16000, 16000))
    assert bomb.stat().st_size < 4_000_000
    done = run_fresh(_READER, bomb, timeout=300)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout.strip().splitlines()[-1])
    assert row["got"] == (f"refused: video file {bomb} holds a frame beyond its stream's stated size of 640x480 pixels: "
                          "FFmpeg's decoder refused it before allocating it (max_pixels = 1048576), and so is the file "
                          "(the frames of one video must keep one size)")
    # the large frame is 256,000,000 pixels (250,000 KiB of luma alone): none of it was allocated.
    # Compared with the same reader on a file of the same layout whose fourth frame is small, in
    # the same run: the reader's own cost (PyAV's and FFmpeg's libraries, loaded on first use) is
    # in both, and differs between PyAV builds (+33 MiB here, +63 MiB in a fresh CI install).
    plain = run_fresh(_READER, _mjpeg(tmp_path / "plain.mjpeg", SMALL), timeout=300)
    assert plain.returncode == 0, plain.stderr
    baseline = json.loads(plain.stdout.strip().splitlines()[-1])
    assert baseline["got"] == ["480x640x3"] * 6, baseline
    assert row["grown_kib"] - baseline["grown_kib"] < 16000 * 16000 // 1024 // 4, (row, baseline)


def test_a_frame_of_another_size_is_refused_naming_both_sizes(tmp_path):
    """A smaller frame is within the decoder's bound; OpenCV scaled it up to 640 x 480 silently (on main: six frames)."""
    odd = _mjpeg(tmp_path / "odd.mjpeg", (320, 240))
    frames = iter(facesel.video.open_source(odd))
    assert [next(frames)[0].shape for _ in range(3)] == [(480, 640, 3)] * 3
    with pytest.raises(ValueError) as refused:
        next(frames)
    assert str(refused.value) == (f"video file {odd}: frame 3 is 320x240 pixels, but its stream states 640x480: refused "
                                  "(the frames of one video must keep one size; OpenCV scaled such a frame to the first "
                                  "one's size without a word)")


def test_a_damaged_frame_is_skipped_as_before(tmp_path):
    """A zero-filled frame between whole ones: four frames, as OpenCV gave (a guard: passes on main too)."""
    small = _jpeg(*SMALL, 100)
    damaged = tmp_path / "damaged.mjpeg"
    damaged.write_bytes(small * 2 + small[:2] + b"\x00" * 600 + small[-2:] + small * 2)
    frames = [frame for frame, _ in facesel.video.open_source(damaged)]
    assert len(frames) == 4 and all(frame.shape == (480, 640, 3) for frame in frames)


def test_a_frame_that_does_not_decode_is_skipped(tmp_path):
    """The zero-filled frame above is no packet of its own: FFmpeg's JPEG parser joins it to the
    frame before (a 4,536-byte packet that decodes whole), so that test never meets a decoding
    error. Here the third frame is a JPEG cut after its headers (no scan data): a packet of its own
    that the decoder refuses (InvalidDataError, checked first), skipped by the reader, which gives
    the four whole frames (OpenCV's ``read`` stopped there: two frames)."""
    import av

    small = _jpeg(*SMALL, 100)
    damaged = tmp_path / "headers_only.mjpeg"
    damaged.write_bytes(small * 2 + small[:small.index(b"\xff\xda")] + b"\xff\xd9" + small * 2)
    outcomes = []
    with av.open(str(damaged)) as container:
        for packet in container.demux(container.streams.video[0]):
            try:
                outcomes.append(len(packet.decode()))
            except av.error.InvalidDataError:
                outcomes.append("refused")
    assert outcomes[:5] == [1, 1, "refused", 1, 1], outcomes
    frames = [frame for frame, _ in facesel.video.open_source(damaged)]
    assert len(frames) == 4 and all(frame.shape == (480, 640, 3) for frame in frames)
    assert all(abs(float(frame.mean()) - 100) < 2 for frame in frames)  # whole grey pictures, none half-decoded


def _turned(path, degrees: int):
    """A copy of the MP4 ``path`` whose track header's display matrix turns it ``degrees`` clockwise
    (as a phone records upright video): the ``tkhd`` box's matrix, at a fixed offset in version 0."""
    data = bytearray(path.read_bytes())
    at = data.index(b"tkhd")
    assert data[at + 4] == 0  # version 0: 32-bit times, the matrix 40 bytes after the box type
    cos, sin = {90: (0, 1), 180: (-1, 0), 270: (0, -1)}[degrees]
    matrix = (cos << 16, sin << 16, 0, -sin << 16, cos << 16, 0, 0, 0, 1 << 30)
    data[at + 44:at + 80] = struct.pack(">9i", *matrix)
    turned = path.with_name(f"turned{degrees}.mp4")
    turned.write_bytes(bytes(data))
    return turned


def _opencv_frames(path):
    """What main's ``open_source`` gave for a file: OpenCV's frames and ``CAP_PROP_POS_MSEC`` seconds."""
    capture = cv2.VideoCapture(str(path))
    rate = capture.get(cv2.CAP_PROP_FPS)
    frames, index = [], 0
    while capture.grab():
        ok, frame = capture.retrieve()
        msec = capture.get(cv2.CAP_PROP_POS_MSEC)
        frames.append((frame, msec / 1000.0 if msec > 0 or index == 0 else index / rate))
        index += 1
    capture.release()
    return frames


def _same_as_opencv(path, every: int = 1):
    expected = _opencv_frames(path)[::every]
    got = list(facesel.video.open_source(path, every=every))
    assert len(got) == len(expected) > 0, path
    for (frame, stamp), (want, want_stamp) in zip(got, expected):
        assert frame.flags.c_contiguous and frame.dtype == np.uint8
        assert stamp == want_stamp, (path, stamp, want_stamp)  # every bit
        assert np.array_equal(frame, want), path


def test_a_turned_video_comes_out_as_opencv_turned_it(tmp_path):
    """OpenCV applies an MP4's display matrix (phones record upright video so); the bounded reader too."""
    plain = tmp_path / "plain.mp4"
    import av

    with av.open(str(plain), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        pattern = np.zeros((64, 96, 3), np.uint8)
        pattern[:32, :48] = (200, 50, 0)  # one corner differs: a turn shows
        for _ in range(3):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pattern, format="bgr24")))
        container.mux(stream.encode(None))
    for degrees in (90, 180, 270):
        turned = _turned(plain, degrees)
        assert cv2.VideoCapture(str(turned)).get(cv2.CAP_PROP_ORIENTATION_META) in (degrees, degrees - 360)
        _same_as_opencv(turned)


def _shared_videos():
    root = os.environ.get("FACESEL_DATA")
    folder = None if root is None else os.path.join(root, "videos")
    if folder is None or not os.path.isdir(folder):
        if os.environ.get("CI") == "true":
            pytest.fail("FACESEL_DATA/videos is absent under CI")
        pytest.skip("FACESEL_DATA/videos is absent (the shared videos)")
    return [os.path.join(folder, name) for name in ("arcade_walkers_1080p.mp4", "intel_head_pose_female.gif",
                                                    "more/decord__examples_flipping_a_pancake.mkv",
                                                    "more/LivePortrait__assets_examples_source_s29.mp4")]


def test_shared_videos_give_opencvs_frames_and_times():
    """The same pixels and times, bit for bit, as OpenCV gave (1080p H.264, a GIF, an MKV, an odd
    width whose PyAV rows are padded), every frame and one in three."""
    for path in _shared_videos():
        if not os.path.exists(path):
            pytest.fail(f"{path} is missing from FACESEL_DATA")
        _same_as_opencv(path)
        _same_as_opencv(path, every=3)
