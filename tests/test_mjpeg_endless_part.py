"""An HTTP MJPEG part that never ends is refused at a bound in bytes (review round 13b, mjpeg23).

Before, FFmpeg's multipart demuxer appended such a part to one packet until PyAV's read timeout:
a child process reading :mod:`endless_mjpeg`'s server grew by the 256 MiB offered (review round
12c measured +1,660 MiB in 4 s at loopback speed, no cap). Each child here reads one stream with
:class:`facesel.sources.backends.PyAVConnection` (``max_frame_pixels`` = 640 x 480, so a part may
hold 921,600 bytes) and reports its frames, why it stopped and its own peak RSS (``VmHWM``); the endless parts are
compared with the same server sending only the good parts, in the same run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from endless_mjpeg import OFFERED, EndlessMJPEG, good_jpegs  # noqa: E402
from peak_memory import run_fresh  # noqa: E402

import facesel  # noqa: E402

GROWTH_BOUND_KIB = 32 << 10
"""The most a child may grow over the good stream's peak: one part (921,600 bytes) held by the
reader and once more by FFmpeg's packet, plus allocator slack; far below the 256 MiB offered."""

_CHILD = r"""
import json, sys
from peak_memory import peak_kib
from facesel.sources.backends import EndOfStream, PyAVConnection, SourceError
sums, why = [], "none"
connection = PyAVConnection(sys.argv[1], read_timeout=3.0, stall_timeout=30.0, max_frame_pixels=640 * 480)
try:
    while len(sums) < 10:
        frame, _ = connection.read()
        sums.append(int(frame.sum()))
except EndOfStream:
    why = "end"
except SourceError as err:
    why = str(err)
connection.close()
print(json.dumps({"sums": sums, "why": why, "peak_kib": peak_kib()}))
"""


def _read_in_child(url: str) -> dict:
    """What a fresh process reading ``url`` saw: its frames' pixel sums, why it stopped, its peak RSS (KiB)."""
    env = {**os.environ, "PYTHONPATH": str(Path(facesel.__file__).resolve().parents[1])}
    done = run_fresh(_CHILD, url, env=env, timeout=120)  # its own peak (VmHWM), not its parent's
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def good_stream() -> dict:
    with EndlessMJPEG("good") as server:
        return _read_in_child(server.url)


def test_good_parts_are_frames(good_stream):
    """The harmless comparison: the three good parts are three frames, then the server's end."""
    import cv2
    import numpy as np

    expected = [int(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).sum()) for jpeg in good_jpegs()]
    assert len(good_stream["sums"]) == 3
    # FFmpeg's and OpenCV's JPEG decoders may differ by a grey level here and there: the same pictures
    assert np.allclose(good_stream["sums"], expected, rtol=0.01)


@pytest.mark.parametrize("kind", ["no_boundary", "lying_length"])
def test_an_endless_part_is_refused_within_its_bound(kind, good_stream):
    """The good parts before it arrive as frames; the endless part ends the connection with its reason,
    and the reader's peak stays within :data:`GROWTH_BOUND_KIB` of the good stream's (on main: +256 MiB)."""
    with EndlessMJPEG(kind) as server:
        seen = _read_in_child(server.url)
    growth = seen["peak_kib"] - good_stream["peak_kib"]
    assert growth < GROWTH_BOUND_KIB, f"{kind}: +{growth} KiB over the good stream (offered {OFFERED >> 10} KiB)"
    assert seen["sums"] == good_stream["sums"], seen["why"]
    assert "multipart part 3" in seen["why"] and "refused" in seen["why"], seen["why"]
    assert ("Content-Length: 2000000000" in seen["why"]) == (kind == "lying_length")
