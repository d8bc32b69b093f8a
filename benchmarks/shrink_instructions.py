"""Instructions of the whole-frame integer shrink (``_core.area_shrink_exact``) by compiled core,
counted by callgrind, with the output bytes' digest (issue 27, session 24).

    python benchmarks/shrink_instructions.py --cores /tmp/before/_core.so python/facesel/_core*.so \
        [--video arcade_walkers_1080p.mp4] [--frames 6]

Not a test (not in CI). Each core (a compiled ``_core`` extension file) is loaded by path in a child
under ``valgrind --tool=callgrind``; the child decodes ``--frames`` frames of the video (kept in
memory, uninstrumented), then counts ``area_shrink_exact`` of each frame to 1280 x 720 and to
640 x 360 (serve's detection size and the coarse tier's) inside C functions of their own
(:mod:`callgrind_marks`), and prints a sha256 of every output: equal digests, the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.machinery
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = ((1280, 720), (640, 360))


def load_core(path: str):
    """The extension module at ``path`` (its init function is ``PyInit__core``)."""
    loader = importlib.machinery.ExtensionFileLoader("_core", path)
    spec = importlib.util.spec_from_file_location("_core", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def child(args) -> int:
    sys.path.insert(0, str(HERE))
    from callgrind_marks import Marks

    from facesel.video import open_source

    core = load_core(args.core)
    frames = []
    for frame, _ in open_source(args.video_path, every=1):
        frames.append(frame)
        if len(frames) == args.frames:
            break
    marks = Marks()
    for frame in frames[:1]:  # warm: first-call allocations
        for width, height in SIZES:
            core.area_shrink_exact(frame, width, height)
    digest = hashlib.sha256()
    marks.zero()
    for frame in frames:
        for width, height in SIZES:
            out = marks.run(f"{width}x{height}", core.area_shrink_exact, frame, width, height)
            digest.update(out.tobytes())
    marks.dump("window")
    Path(args.child_out).write_text(json.dumps({"names": marks.trampoline_names(), "sha256": digest.hexdigest(),
                                                "frames": len(frames)}))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", nargs="+", required=False, default=[])
    parser.add_argument("--video", default="arcade_walkers_1080p.mp4")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--core", help=argparse.SUPPRESS)
    parser.add_argument("--video-path", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    sys.path.insert(0, str(HERE))
    from callgrind_marks import callgrind_command, environment_for_valgrind, read_dump

    from facesel.data import data_root_or_exit

    video = Path(args.video) if Path(args.video).is_absolute() else data_root_or_exit() / "videos" / args.video
    print(f"million instructions a frame (area_shrink_exact of {args.frames} frames of {video.name})")
    for core in args.cores:
        with tempfile.TemporaryDirectory(prefix="facesel-shrink-cg-") as folder:
            out, info = Path(folder) / "callgrind.out", Path(folder) / "child.json"
            command = callgrind_command(out) + [sys.executable, str(Path(__file__).resolve()), "--child", "--core",
                                                str(Path(core).resolve()), "--video-path", str(video), "--frames",
                                                str(args.frames), "--child-out", str(info)]
            done = subprocess.run(command, env=environment_for_valgrind(), capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"the child failed ({done.returncode}):\n{done.stderr[-4000:]}")
            meta = json.loads(info.read_text())
            (dump,) = [p for p in Path(folder).iterdir() if p.name.startswith("callgrind.out.")]
            counts = read_dump(dump, meta["names"])
        row = "  ".join(f"{w}x{h} {counts.get(f'{w}x{h}', 0) / meta['frames'] / 1e6:7.3f}" for w, h in SIZES)
        print(f"{core}: {row}  sha256 {meta['sha256'][:16]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
