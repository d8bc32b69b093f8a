"""Memory an extra file camera costs with each decoding path of ``facesel serve``.

    python experiments/decoder_memory.py [--repeats 2] [--variants old opencv lazy+skip]

Runs ``tests/test_serve_capacity.py``'s memory script (a fresh process: one looping arcade 1080p
camera until it processed 150 frames, then three; resident memory after each) with the cameras'
``convert_on_take`` / ``skip_when_behind`` set three ways: ``old`` (both off: serve's default file
camera, ``FileConnection``: FFmpeg through PyAV since session 20, frames converted as decoded),
``pyav-now`` (``skip_when_behind`` alone: ``PyAVFileConnection``, frames converted as decoded) and
``lazy+skip`` (both on: what an RTSP/HTTP camera on the default backend gets); and ``opencv``:
``old`` with the file read by OpenCV's FFmpeg reader as before session 20
(``benchmarks/opencv_file_reader.py``). Prints the first camera's and each extra camera's MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"old": {"convert_on_take": False, "skip_when_behind": False},
            "opencv": {"convert_on_take": False, "skip_when_behind": False},
            "pyav-now": {"convert_on_take": False, "skip_when_behind": True},
            "lazy+skip": {"convert_on_take": True, "skip_when_behind": True}}


def memory_script() -> str:
    """The memory script of tests/test_serve_capacity.py (one source of truth for what is measured)."""
    text = (ROOT / "tests" / "test_serve_capacity.py").read_text()
    start = text.index('MEMORY_SCRIPT = textwrap.dedent("""') + len('MEMORY_SCRIPT = textwrap.dedent("""')
    return textwrap.dedent(text[start:text.index('""")', start)])


OPENCV_READER = textwrap.dedent(f"""
    import sys
    sys.path.insert(0, {str(ROOT / "benchmarks")!r})
    import opencv_file_reader
    opencv_file_reader.use_for_file_cameras()
""")
"""Put before the memory script for the ``opencv`` variant: serve's plain file cameras read by OpenCV."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=tuple(VARIANTS),
                        help="run these, alternating, in this order")
    args = parser.parse_args()
    from facesel.data import data_root_or_exit
    from facesel.vault import create_authority, enrol_camera

    video = data_root_or_exit() / "videos" / "arcade_walkers_1080p.mp4"
    script = memory_script()
    with tempfile.TemporaryDirectory(prefix="facesel-decoder-memory-") as folder:
        work = Path(folder)
        create_authority(work / "authority", shares=3, threshold=2, epoch_seconds=86400.0,
                         retention_seconds=7 * 86400.0, horizon_seconds=2 * 86400.0, start=time.time(), kdf_level="min")
        shares = sorted((work / "authority" / "shares").iterdir())[:2]
        keys = {}
        for name in ("m0", "m1", "m2"):
            enrol_camera(work / "authority", work / name, name, shares)
            keys[name] = str(work / name)
        for repeat in range(args.repeats):
            for variant in args.variants:
                settings = VARIANTS[variant]
                vaults = work / f"vaults-{repeat}-{variant}"
                vaults.mkdir()
                camera = {"source": str(video), "vault": "", "camera_key": "", "loop": True, "realtime": True,
                          "live": True, "pipeline": {}, **settings}
                spec = {"camera": camera, "vaults": str(vaults), "authority": str(work / "authority" / "authority.pub"),
                        "keys": keys}
                code = (OPENCV_READER if variant == "opencv" else "") + script
                done = subprocess.run([sys.executable, "-c", code, json.dumps(spec)], capture_output=True, text=True,
                                      check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "python")})
                rss = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"{variant}: first camera {rss['one'] - rss['base']:.0f} MiB, each extra camera "
                      f"{(rss['three'] - rss['one']) / 2:.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
