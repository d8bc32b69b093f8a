"""Memory a frame bomb from a camera's URL costs the reader: peak resident size growth of one
``PyAVConnection`` reading an MJPEG stream of ordinary frames with two 16000 x 16000 grey JPEGs
(3 MB each) among them.

    python benchmarks/frame_bomb_memory.py                      # the default bound (an 8K UHD frame)
    python benchmarks/frame_bomb_memory.py --max-frame-pixels 2147483647   # FFmpeg's own limit only (before review 8)

A real HTTP MJPEG server on loopback (tests/mjpeg_server.py) sends 3 frames of 640 x 480, the two
bombs, then 3 ordinary frames; the reader, a fresh process (so that its peak is its own), reads
until the stream ends or is refused, and prints the frames it got, why it stopped and the growth
of its peak resident size over the reading (KiB, Linux's ``VmHWM``: ``ru_maxrss``, which this
benchmark read before, is inherited through fork and exec). Not a test: nothing is asserted.
Review round 8, finding 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from facesel.sources.frame_limit import MAX_FRAME_PIXELS  # noqa: E402
from mjpeg_server import MJPEGServer  # noqa: E402
from peak_memory import run_fresh  # noqa: E402

_READER = """
import json, sys
from peak_memory import peak_kib
from facesel.sources.backends import PyAVConnection, SourceError
before = peak_kib()  # after the imports: the reading's own growth
connection = PyAVConnection(sys.argv[1], max_frame_pixels=int(sys.argv[2]))
frames, stopped = [], "8 frames read"
try:
    for _ in range(8):
        frames.append("x".join(map(str, connection.read()[0].shape[1::-1])))
except SourceError as err:
    stopped = str(err)
finally:
    connection.close()
grown = peak_kib() - before
print(json.dumps({"frames": frames, "stopped": stopped, "grown_kib": grown}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-frame-pixels", type=int, default=MAX_FRAME_PIXELS)
    parser.add_argument("--side", type=int, default=16000, help="the bomb's width and height (grey)")
    args = parser.parse_args()
    small = np.full((480, 640, 3), 100, np.uint8)
    bomb = np.full((args.side, args.side), 128, np.uint8)
    server = MJPEGServer([small] * 3 + [bomb] * 2 + [small] * 3, fps=25)
    del bomb
    with server:
        done = run_fresh(_READER, server.url, args.max_frame_pixels, check=True, timeout=300)
    print(json.dumps({"max_frame_pixels": args.max_frame_pixels, "jpeg_bytes": len(server.jpegs[3]),
                      **json.loads(done.stdout)}))


if __name__ == "__main__":
    main()
