"""Memory a pixel bomb in a file costs ``facesel score`` and ``facesel run``: peak resident size
growth of a fresh process reading a 16000 x 16000 grey JPEG (3 MB) with ``read_image`` (score's
reader) and a folder holding it with ``open_source`` (run's), each in a process of its own.
``--format hdr``: a Radiance HDR picture of ``--side`` x ``--side`` named ``bomb.jpg`` instead
(2.1 MB at 7700 x 4400), a format Pillow does not read (review round 9, finding 1).
``--format growing-mjpeg``: an MJPEG video file (``bomb.mjpeg``, read by ``open_source`` only) of
three 640 x 480 frames, one grey frame of ``--side`` x ``--height`` and two small ones: its header
states the small size (round 9's still-open item, OpenCV's later-frame bomb).

    python benchmarks/file_bomb_memory.py                      # this tree
    python benchmarks/file_bomb_memory.py --format hdr --side 7700 --height 4400
    PYTHONPATH=COPY_OF_MAIN/python python benchmarks/file_bomb_memory.py   # the code before review 8b

The picture is generated grey (no face data) in a temporary folder. Each reader prints what it
got (the frame's shape or the error) and the growth of its peak resident size over the reading
(KiB, Linux's ``VmHWM``: ``ru_maxrss`` is inherited through fork and exec). Not a test: nothing is asserted. Review round 8b, finding 1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from peak_memory import run_fresh  # noqa: E402
from radiance_picture import write_radiance  # noqa: E402

_WRITER = """
import sys, cv2, numpy as np
big = np.full((int(sys.argv[3]), int(sys.argv[2])), 128, np.uint8)
if sys.argv[1].endswith(".mjpeg"):
    small = cv2.imencode(".jpg", np.full((480, 640, 3), 100, np.uint8))[1].tobytes()
    open(sys.argv[1], "wb").write(small * 3 + cv2.imencode(".jpg", big)[1].tobytes() + small * 2)
else:
    cv2.imwrite(sys.argv[1], big)
"""

_READER = """
import json, sys
from peak_memory import peak_kib
from facesel.faceset import read_image
from facesel.video import open_source
before = peak_kib()  # after the imports: the reading's own growth
try:
    if sys.argv[1] == "read_image":
        got = "x".join(map(str, read_image(sys.argv[2]).shape))
    else:
        got = ["x".join(map(str, frame.shape)) for frame, _ in open_source(sys.argv[2])]
except ValueError as err:
    got = "refused: " + str(err)
grown = peak_kib() - before
print(json.dumps({"reader": sys.argv[1], "got": got, "grown_kib": grown}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=16000, help="the bomb's width and height (grey)")
    parser.add_argument("--height", type=int, default=None, help="its height, when not --side")
    parser.add_argument("--format", choices=("jpeg", "hdr", "growing-mjpeg"), default="jpeg",
                        help="a JPEG (OpenCV writes it), a Radiance HDR picture (Pillow does not read it) or an "
                             "MJPEG video whose fourth frame is the large one")
    args = parser.parse_args()
    height = args.side if args.height is None else args.height
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("bomb.mjpeg" if args.format == "growing-mjpeg" else "bomb.jpg")
        # written by a child, so that this process stays small (its children's VmHWM is their own anyway)
        if args.format == "hdr":
            write_radiance(path, args.side, height)
        else:
            subprocess.run([sys.executable, "-c", _WRITER, str(path), str(args.side), str(height)], check=True,
                           timeout=300)
        print(json.dumps({"format": args.format, "file_bytes": path.stat().st_size, "size": [args.side, height]}))
        readers = [("open_source", path)] if args.format == "growing-mjpeg" else \
            [("read_image", path), ("open_source", path.parent)]
        for reader, target in readers:
            done = run_fresh(_READER, reader, target, check=True, timeout=300)
            print(done.stdout.strip())


if __name__ == "__main__":
    main()
