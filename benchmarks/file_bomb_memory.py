"""Memory a pixel bomb in a file costs ``facesel score`` and ``facesel run``: peak resident size
growth of a fresh process reading a 16000 x 16000 grey JPEG (3 MB) with ``read_image`` (score's
reader) and a folder holding it with ``open_source`` (run's), each in a process of its own.

    python benchmarks/file_bomb_memory.py                      # this tree
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

_WRITER = """
import sys, cv2, numpy as np
cv2.imwrite(sys.argv[1], np.full((int(sys.argv[2]),) * 2, 128, np.uint8))
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bomb.jpg"
        # written by a child, so that this process stays small (its children's VmHWM is their own anyway)
        subprocess.run([sys.executable, "-c", _WRITER, str(path), str(args.side)], check=True, timeout=300)
        print(json.dumps({"jpeg_bytes": path.stat().st_size, "side": args.side}))
        for reader, target in (("read_image", path), ("open_source", path.parent)):
            done = run_fresh(_READER, reader, target, check=True, timeout=300)
            print(done.stdout.strip())


if __name__ == "__main__":
    main()
