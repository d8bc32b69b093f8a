"""What decoding ``facesel run``'s video files through PyAV costs against OpenCV (review round 10a).

    python benchmarks/file_decoder_cost.py --before COPY_OF_MAIN/python [--rounds 3] [--frames 105]

Not a test (not in CI). Each run is one fresh child process with ``PYTHONPATH`` set to the code
under test: ``before`` (a copy of main's ``python/`` with the compiled ``_core`` copied in, whose
``facesel.video.open_source`` decodes files with OpenCV) or ``after`` (this tree: FFmpeg through
PyAV, every frame bounded, ``facesel.sources.file_frames``). Two kinds of child, alternated in each
round: ``decode`` only iterates ``open_source`` over the arcade video (1080p), ``end-to-end`` runs
the README's end-to-end default row (``benchmarks/realtime_throughput.py``'s ``child``: detection,
scoring, sealing into a vault). Each prints its peak resident size (``VmHWM``, MiB), wall and
process CPU seconds and, end to end, a digest of every delivered result (frames, boxes, qualities,
the best frame and box: equal digests mean the same picks). Only figures of one invocation compare:
the machine's load moves them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
AFTER = HERE.parent / "python"

CHILD = """
import hashlib, json, sys, time
sys.path.insert(0, {benchmarks!r})
kind, frames = sys.argv[1], int(sys.argv[2])
if kind == "decode":
    from facesel.data import data_root
    from facesel.video import open_source
    wall, cpu = time.perf_counter(), time.process_time()
    count = sum(1 for _ in open_source(data_root() / "videos" / "arcade_walkers_1080p.mp4", max_frames=frames))
    row = {{"frames": count, "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "digest": None}}
else:
    import realtime_throughput
    run = realtime_throughput.child({{"frames": frames, "settings": {{}}}})
    digest = hashlib.sha1(json.dumps(run["results"], sort_keys=True).encode()).hexdigest()[:16]
    row = {{"frames": run["frames"], "wall": run["wall"], "cpu": run["cpu"], "digest": digest,
           "results": len(run["results"])}}
row["peak_mib"] = round(next(int(line.split()[1]) for line in open("/proc/self/status")
                             if line.startswith("VmHWM:")) / 1024, 1)
print(json.dumps(row))
"""


def run_child(python_path: Path, kind: str, frames: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(python_path)}
    out = subprocess.run([sys.executable, "-c", CHILD.format(benchmarks=str(HERE)), kind, str(frames)], env=env,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def alternated(run, kinds, before: Path, rounds: int, summary=("peak_mib", "cpu", "wall")) -> None:
    """``run(python_path, kind) -> row`` for each kind, ``before`` then this tree, ``rounds`` times
    (alternating, so the machine's load falls on both alike); prints each row, then per kind and
    variant the ``summary`` fields of every round and the digests seen."""
    rows: dict[tuple[str, str], list[dict]] = {}
    for _ in range(rounds):
        for kind in kinds:
            for variant, path in (("before", before), ("after", AFTER)):
                row = run(path, kind)
                rows.setdefault((kind, variant), []).append(row)
                print(json.dumps({"kind": kind, "variant": variant, **row}), flush=True)
    for (kind, variant), runs in rows.items():
        listed = "; ".join(f"{key} " + ", ".join(f"{r[key]:.2f}" for r in runs) for key in summary)
        print(f"{kind} {variant}: {listed}; frames {sorted({r['frames'] for r in runs})}; "
              f"digests {sorted({r['digest'] for r in runs}, key=str)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="a copy of main's python/ folder")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frames", type=int, default=105)
    parser.add_argument("--kind", nargs="+", default=["decode", "end-to-end"], choices=("decode", "end-to-end"))
    args = parser.parse_args(argv)
    alternated(lambda path, kind: run_child(path, kind, args.frames), args.kind, args.before, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
