"""Memory an HTTP MJPEG part that never ends costs its reader (review rounds 12c and 13b).

    python benchmarks/mjpeg_endless_part.py                                  # this checkout's facesel
    python benchmarks/mjpeg_endless_part.py --python-path ../main/python     # another checkout's, e.g. before 13b

A loopback server (tests/endless_mjpeg.py) sends three good 640 x 480 parts (or none: the endless
part is then the first, read during FFmpeg's probe), then a part with no boundary or one stating
``Content-Length: 2000000000``, offering 256 MiB of it at loopback speed, then silence. A fresh
process per stream opens it with ``PyAVConnection`` (its defaults, or ``max_frame_pixels`` =
1920 x 1080), reads until the connection ends and prints its own peak resident size (``VmHWM``)
minus that of the same reading of the good parts alone, in the same run. Not a test: nothing is
asserted (``tests/test_mjpeg_endless_part.py`` asserts a bound).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from endless_mjpeg import EndlessMJPEG  # noqa: E402
from peak_memory import run_fresh  # noqa: E402

_READER = r"""
import json, sys
from peak_memory import peak_kib
from facesel.sources.backends import EndOfStream, PyAVConnection, SourceError
frames, why = 0, "10 frames read"
try:
    connection = PyAVConnection(sys.argv[1], max_frame_pixels=int(sys.argv[2]))
    try:
        while frames < 10:
            connection.read()
            frames += 1
    finally:
        connection.close()
except EndOfStream:
    why = "the end of the stream"
except SourceError as err:
    why = str(err)
print(json.dumps({"frames": frames, "why": why, "peak_kib": peak_kib()}))
"""


def _read(url: str, max_pixels: int, python_path: str | None) -> dict:
    env = dict(os.environ)
    if python_path:
        env["PYTHONPATH"] = str(Path(python_path).resolve())
    done = run_fresh(_READER, url, max_pixels, env=env, timeout=300)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python-path", help="the python/ folder whose facesel the reader imports (default: as this one)")
    args = parser.parse_args()
    print("| endless part | max_frame_pixels | frames before it | peak growth over the good parts | why it stopped |")
    print("|---|---|---|---|---|")
    for first in (False, True):
        for pixels in (7680 * 4320, 1920 * 1080):
            if not first and pixels != 7680 * 4320:
                continue
            with EndlessMJPEG("good") as server:
                good = _read(server.url, pixels, args.python_path)
            for kind in ("no_boundary", "lying_length"):
                with EndlessMJPEG(kind, jpegs=[] if first else None) as server:
                    seen = _read(server.url, pixels, args.python_path)
                where = "the first" if first else "after 3 good parts"
                print(f"| {where}, {kind.replace('_', ' ')} | {pixels} | {seen['frames']} | "
                      f"{seen['peak_kib'] - good['peak_kib']:+,} KiB | {seen['why'][:110]} |")


if __name__ == "__main__":
    main()
