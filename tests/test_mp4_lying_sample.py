"""Review round 15c: an MP4 over HTTP stating a huge sample grew its reader by the stated size.

Round 15a measured it (``benchmarks/mp4_lying_sample.py``): FFmpeg's ``mov`` demuxer grows one
packet to a sample's stated size (``stsz``) as the bytes arrive, up to its 1 GiB per-sample limit,
and FFmpeg has no option capping a packet. Now every PyAV source caps FFmpeg's largest single
allocation (``av_max_alloc``) at what frames of its ``max_frame_pixels`` need
(:mod:`facesel.sources.alloc_cap`): at least 64 MiB, 10 bytes a pixel above that.

Each reader runs in a fresh process (the cap is process-wide and only rises; ``VmHWM`` is the
process's own peak), the harmless file and the lying one in the same run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import lying_mp4  # noqa: E402
from peak_memory import run_fresh  # noqa: E402
from test_http_raw_formats import _read_in_child  # noqa: E402

import facesel  # noqa: E402
from facesel.sources import alloc_cap  # noqa: E402

STATED = 100 << 20
"""The lying sample's stated size: above the cap (64 MiB for the child's 640 x 480 bound), under
the 128 MiB the server offers. Main grew +102,408 KiB (round 15a); now +48,616 KiB (one 50 MB read
chunk, then the next ``av_realloc`` fails), measured with ``benchmarks/mp4_lying_sample.py``."""


def test_a_sample_stated_above_the_cap_costs_at_most_the_cap(monkeypatch):
    with lying_mp4.LyingMP4Server("good") as server:
        harmless = _read_in_child(server.url)
    monkeypatch.setattr(lying_mp4, "STATED", STATED)
    with lying_mp4.LyingMP4Server("lying") as server:
        lying = _read_in_child(server.url)
    assert harmless["frames"] == 10, harmless
    growth = lying["peak_kib"] - harmless["peak_kib"]
    assert growth < alloc_cap.FLOOR >> 10, f"+{growth} KiB over the same file as it is ({lying['why']})"
    assert lying["why"].startswith("read: "), lying  # the read ends with an error, the reader goes on


_DECODE = r"""
import json, sys
from facesel.sources import alloc_cap
from facesel.sources.backends import FileConnection, SourceError
alloc_cap.BYTES_PER_PIXEL = int(sys.argv[3])
try:
    frame, _ = FileConnection(sys.argv[1], max_frame_pixels=int(sys.argv[2])).read()
    print(json.dumps({"shape": list(frame.shape), "cap": alloc_cap.current_cap()}))
except SourceError as err:
    print(json.dumps({"error": str(err), "cap": alloc_cap.current_cap()}))
"""

_WIDTH, _HEIGHT = 4096, 2160
"""A frame whose pixels at 10 bytes (85.4 MiB) are above the cap's 64 MiB floor: the cap is then
set by ``BYTES_PER_PIXEL`` alone."""


def _rgba64_video(path: Path) -> None:
    """One 4096 x 2160 PNG frame of 16-bit RGBA stripes (no face) in a QuickTime file: decoded, it
    is one buffer of 8 bytes a pixel (70.8 MB), the widest picture a decoder hands us."""
    import av

    picture = np.zeros((_HEIGHT, _WIDTH, 4), np.uint16)
    picture[:, ::64] = (50000, 20000, 9000, 65535)
    with av.open(str(path), "w", format="mov") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = _WIDTH, _HEIGHT, "rgba64be"
        for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgba64le")):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _decode_in_child(path: Path, bytes_per_pixel: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(Path(facesel.__file__).resolve().parents[1])}
    done = run_fresh(_DECODE, path, _WIDTH * _HEIGHT, bytes_per_pixel, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_largest_accepted_frame_of_the_widest_format_still_decodes_under_the_cap(tmp_path):
    video = tmp_path / "rgba64.mov"
    _rgba64_video(video)
    seen = _decode_in_child(video, alloc_cap.BYTES_PER_PIXEL)
    assert seen.get("shape") == [_HEIGHT, _WIDTH, 3], seen
    assert seen["cap"] == alloc_cap.cap_for(_WIDTH * _HEIGHT) > alloc_cap.FLOOR, seen
    # the guard that this frame tests the cap: at 3 bytes a pixel (BGR's) the cap is the 64 MiB
    # floor, under the decoded picture's 70.8 MB, and the frame does not decode
    tight = _decode_in_child(video, 3)
    assert tight["cap"] == alloc_cap.FLOOR and "error" in tight, tight


def test_the_cap_only_rises_and_never_above_ffmpegs_default():
    assert alloc_cap.cap_for(1) == alloc_cap.FLOOR
    assert alloc_cap.cap_for(2**31 - 1) == alloc_cap.CEILING == 2**31 - 1
    assert alloc_cap.cap_for(7680 * 4320) == 10 * 7680 * 4320 + (1 << 20)
