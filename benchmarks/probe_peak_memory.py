"""Peak memory of the end-to-end run with the header probe forked, in process, or left out (session 18).

    python benchmarks/probe_peak_memory.py [--rounds 3] [--frames 105]

Not a test (not in CI). Each run is one fresh child process that runs the README's end-to-end
default row (``benchmarks/realtime_throughput.py``'s ``child``: the arcade video decoded by OpenCV,
sealed into a vault) and prints its peak resident size (``VmHWM``). Variants, alternated in each
round: ``forked`` (facesel today: ``facesel.sources.frame_limit`` reads a video's header in a forked
child), ``in-process`` (the probe run in this process, as between review round 8b and session 18)
and ``none`` (no probe at all, as before round 8b). Only the peaks of one invocation compare: the
machine's load moves them by a few MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = ("forked", "in-process", "none")

CHILD = """
import json, sys
sys.path.insert(0, {benchmarks!r})
import facesel.video, facesel.sources.frame_limit as frame_limit
variant = sys.argv[1]
if variant == "in-process":
    frame_limit._probed_apart = lambda probe, path, max_pixels: probe(path, max_pixels)
elif variant == "none":
    facesel.video.refuse_large_file = lambda *args, **kwargs: None
import realtime_throughput
run = realtime_throughput.child({{"frames": int(sys.argv[2]), "settings": {{}}}})
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{"variant": variant, "peak_mib": round(peak / 1024, 1), "frames": run["frames"]}}))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frames", type=int, default=105)
    parser.add_argument("--variant", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    args = parser.parse_args(argv)
    peaks: dict[str, list[float]] = {v: [] for v in args.variant}
    for _ in range(args.rounds):
        for variant in args.variant:
            out = subprocess.run([sys.executable, "-c", CHILD.format(benchmarks=str(HERE)), variant, str(args.frames)],
                                 check=True, capture_output=True, text=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            peaks[variant].append(row["peak_mib"])
            print(json.dumps(row), flush=True)
    for variant, values in peaks.items():
        print(f"{variant}: peak MiB {', '.join(f'{v:.1f}' for v in values)} (median {sorted(values)[len(values) // 2]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
