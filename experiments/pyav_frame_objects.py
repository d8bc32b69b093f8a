"""Are PyAV's frames what a camera's extra memory is? Count them while serve's cameras run.

    python experiments/pyav_frame_objects.py lazy+skip [--cameras 4] [--seconds 20]

Runs ``--cameras`` looping, paced arcade 1080p cameras of one ``benchmarks/capacity.py`` variant
(``base``, ``lazy+skip``, ``lazy+skip+copy``, ...) through :class:`facesel.serve.service.Service` in
this process; every 2 s prints the resident memory (MiB) and the live PyAV ``VideoFrame`` /
``VideoPlane`` objects and waiting :class:`facesel.sources.decoded.Unconverted` pictures (a BGR
frame handed out as a view of PyAV's frame keeps its ``VideoFrame`` and a ``VideoPlane`` alive);
at the end, what ``gc.collect()`` frees (frames held only by reference cycles would go then).
One JSON line. Session 21, docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import capacity  # noqa: E402 - after the path

KINDS = ("VideoFrame", "VideoPlane", "Unconverted")


def live_objects() -> dict[str, int]:
    """How many objects of each of :data:`KINDS` the garbage collector tracks now."""
    counts: dict[str, int] = {}
    for item in gc.get_objects():
        name = type(item).__name__
        if name in KINDS:
            counts[name] = counts.get(name, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variant", choices=tuple(capacity.VARIANTS))
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    from facesel.data import data_root_or_exit
    from facesel.serve.service import Service

    video = data_root_or_exit() / "videos" / "arcade_walkers_1080p.mp4"
    camera_settings, _, pipeline_settings = capacity.VARIANTS[args.variant]
    if args.variant in capacity.OWNING_COPIES:
        capacity.owning_copies()
    samples = []
    with tempfile.TemporaryDirectory(prefix="facesel-frame-objects-") as folder:
        config = capacity.make_config(Path(folder), [video], args.cameras, {"scorer": "default", **pipeline_settings},
                                      True, camera_settings=camera_settings)
        service = Service(config).start()
        try:
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                time.sleep(2.0)
                samples.append({"rss_mib": round(capacity._rss_mib()), **live_objects()})
            before = capacity._rss_mib()
            collected = gc.collect()
            after = capacity._rss_mib()
        finally:
            service.stop(timeout=60)
    print(json.dumps({"variant": args.variant, "cameras": args.cameras, "samples": samples,
                      "rss_before_collect_mib": round(before), "rss_after_collect_mib": round(after),
                      "collected_objects": collected, "peak_mib": round(capacity._rss_mib("VmHWM"))}))


if __name__ == "__main__":
    main()
