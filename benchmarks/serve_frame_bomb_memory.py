"""Memory a later-frame bomb costs each of ``facesel serve``'s decoding paths (review round 11).

    python benchmarks/serve_frame_bomb_memory.py --before COPY_OF_MAIN/python

Not a test (not in CI); ``tests/test_serve_frame_bounds.py`` asserts the same with its own reader,
which this script runs. For each path, a fresh process reads through ``make_source``'s reader
thread (up to 6 frames, then why the source ended) an input whose header states 640 x 480 and
whose fourth frame is a large grey JPEG, then the same layout with a small fourth frame (the
harmless input); printed: the frames it got, their shapes, why it ended, and the growth of its
peak (``VmHWM``, KiB) minus the harmless input's, for this tree and for ``--before``:

- ``file-default``: a file camera as serve opens it by default (``FileConnection``), a 16000 x
  16000 frame;
- ``file-pyav``: a file camera with a decoder option (``PyAVFileConnection``), a 7680 x 4320 frame
  (the largest main's bound, ``max_frame_pixels``, let through);
- ``stream-pyav``: an HTTP MJPEG stream on loopback with ``backend = "pyav"`` (``PyAVConnection``),
  the same 7680 x 4320 frame.

Grey frames only, in a temporary folder; only figures of one invocation compare.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from growing_mjpeg import SMALL, growing_mjpeg, jpeg  # noqa: E402
from mjpeg_server import MJPEGServer  # noqa: E402
from test_serve_frame_bounds import _read  # noqa: E402

FILE_PATHS = (("file-default", {}, (16000, 16000)), ("file-pyav", {"skip_loop_filter": "noref"}, (7680, 4320)))


def _row(path: str, tree: str, bomb, row: dict, baseline: dict) -> str:
    return json.dumps({"path": path, "tree": tree, "bomb": list(bomb), "frames": len(row["got"]),
                       "shapes": sorted(set(row["got"])), "ended_because": row["error"],
                       "grown_kib": row["grown_kib"], "harmless_kib": baseline["grown_kib"],
                       "difference_kib": row["grown_kib"] - baseline["grown_kib"]})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="a copy of main's python/ folder")
    args = parser.parse_args(argv)
    trees = {"before": str(args.before.resolve()), "after": str((HERE.parent / "python").resolve())}

    def read(tree: str, target, **options) -> dict:
        os.environ["PYTHONPATH"] = trees[tree]  # run_fresh adds tests/ after it
        return _read(target, **options)

    with tempfile.TemporaryDirectory(prefix="facesel-serve-bomb-") as folder:
        folder = Path(folder)
        plain = growing_mjpeg(folder / "plain.mjpeg", SMALL)
        for path, options, bomb in FILE_PATHS:
            made = growing_mjpeg(folder / f"bomb-{bomb[0]}.mjpeg", bomb)
            for tree in trees:
                print(_row(path, tree, bomb, read(tree, made, **options), read(tree, plain, **options)), flush=True)
    bomb = (7680, 4320)
    small, large = jpeg(*SMALL, 100), jpeg(*bomb, 128)
    with MJPEGServer([], fps=50) as server:
        for tree in trees:
            server.jpegs = [small] * 3 + [large] + [small] * 2
            row = read(tree, server.url)
            server.jpegs = [small] * 6
            print(_row("stream-pyav", tree, bomb, row, read(tree, server.url)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
