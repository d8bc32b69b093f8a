"""Instructions of the whole-frame integer shrink (``_core.area_shrink_exact``) or of the region
squares' float shrink (``_core.area_shrink_float``, ``--squares``) by compiled core, counted by
callgrind, with the output bytes' digest (issue 27, sessions 24 and 25).

    python benchmarks/shrink_instructions.py --cores /tmp/before/_core.so python/facesel/_core*.so \
        [--video arcade_walkers_1080p.mp4] [--frames 6] [--squares] [--thumbnail]

Not a test (not in CI). Each core (a compiled ``_core`` extension file) is loaded by path in a child
under ``valgrind --tool=callgrind``; the child decodes ``--frames`` frames of the video (kept in
memory, uninstrumented), then counts ``area_shrink_exact`` of each frame to 1280 x 720 and to
640 x 360 (serve's detection size and the coarse tier's) inside C functions of their own
(:mod:`callgrind_marks`), and prints a sha256 of every output: equal digests, the same bytes.
With ``--squares``, instead: from each frame, squares of 195-400 pixels (the sides a 1080p camera's
region squares have when they shrink by a fractional ratio) at fixed places, each shrunk to 128 and
to 160 pixels (the region network's sizes) by ``area_shrink_float``; million instructions a square.
With ``--thumbnail`` (alone or with ``--squares``, in the same child): the scene-change thumbnail of
each frame as main made it before session 25 (the sample, OpenCV's area average, grey) and, where
the core has it, in one pass (``sampled_block_grey``, 4 x 4 blocks: a 1080p or 4K frame); million
instructions a thumbnail, the digests of both (equal: the same bytes). Name copies of the cores
outside the checkout (``cp python/facesel/_core*.so /tmp/new.so``): the checkout's own ``_core`` file,
imported by ``facesel`` too, would register its types twice and fail.
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
SQUARE_SIDES = (195, 245, 300, 350, 400)
"""--squares: the sides cut from each frame (none an exact ratio to 128 or 160)."""
SQUARE_SIZES = (128, 160)


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
    if args.squares or args.thumbnail:
        return _count_pieces(core, frames, marks, args)
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


def squares_of(frames):
    """(view, side) pairs: each frame's SQUARE_SIDES squares at fixed places, each to each SQUARE_SIZES."""
    for k, frame in enumerate(frames):
        for j, side in enumerate(SQUARE_SIDES):
            y, x = 100 + 61 * j + 13 * k, 200 + 290 * j
            view = frame[y:y + side, x:x + side]
            for size in SQUARE_SIZES:
                yield view, size


def _three_pass_thumbnail(frame):
    """The scene-change thumbnail as main made it before session 25 (the sample, OpenCV's area average, grey)."""
    import cv2

    from facesel.detect import schedule

    h, w = frame.shape[:2]
    step = max(1, w // (4 * schedule._THUMB_WIDTH))
    size = (schedule._THUMB_WIDTH, max(1, round(h * schedule._THUMB_WIDTH / w)))
    return cv2.cvtColor(schedule.area_shrink(schedule.sampled(frame, step), size), cv2.COLOR_BGR2GRAY)


def _count_pieces(core, frames, marks, args) -> int:
    """--squares and / or --thumbnail: each piece counted under a mark of its own, a digest of each piece's outputs."""
    pieces = {}  # mark -> (calls, [(function, args)])
    if args.squares:
        for size in SQUARE_SIZES:
            pieces[f"squares to {size}"] = [(core.area_shrink_float, (view, size, size))
                                            for view, s in squares_of(frames) if s == size]
    if args.thumbnail:
        pieces["thumbnail, three passes"] = [(_three_pass_thumbnail, (frame,)) for frame in frames]
        if hasattr(core, "sampled_block_grey"):
            step = max(1, frames[0].shape[1] // 384)
            pieces["thumbnail, one pass"] = [(core.sampled_block_grey, (frame, step, 4, 4)) for frame in frames]
    for calls in pieces.values():  # warm: first-call allocations
        for function, call_args in calls[:2]:
            function(*call_args)
    digests = {name: hashlib.sha256() for name in pieces}
    marks.zero()
    for name, calls in pieces.items():
        for function, call_args in calls:
            digests[name].update(marks.run(name, function, *call_args).tobytes())
    marks.dump("window")
    Path(args.child_out).write_text(json.dumps({
        "names": marks.trampoline_names(), "frames": len(frames), "calls": {n: len(c) for n, c in pieces.items()},
        "sha256": {n: d.hexdigest() for n, d in digests.items()}}))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", nargs="+", required=False, default=[])
    parser.add_argument("--video", default="arcade_walkers_1080p.mp4")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--squares", action="store_true",
                        help="count area_shrink_float of fractional region squares instead of whole frames")
    parser.add_argument("--thumbnail", action="store_true",
                        help="count the scene-change thumbnail: main's three passes, and the core's one pass where it has it")
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
    if args.squares or args.thumbnail:
        print(f"million instructions a call ({'squares of ' + str(SQUARE_SIDES) + ' pixels' if args.squares else ''}"
              f"{', ' if args.squares and args.thumbnail else ''}{'thumbnails' if args.thumbnail else ''}"
              f" from {args.frames} frames of {video.name})")
    else:
        print(f"million instructions a frame (area_shrink_exact of {args.frames} frames of {video.name})")
    for core in args.cores:
        with tempfile.TemporaryDirectory(prefix="facesel-shrink-cg-") as folder:
            out, info = Path(folder) / "callgrind.out", Path(folder) / "child.json"
            command = callgrind_command(out) + [sys.executable, str(Path(__file__).resolve()), "--child", "--core",
                                                str(Path(core).resolve()), "--video-path", str(video), "--frames",
                                                str(args.frames), "--child-out", str(info)]
            command += (["--squares"] if args.squares else []) + (["--thumbnail"] if args.thumbnail else [])
            done = subprocess.run(command, env=environment_for_valgrind(), capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"the child failed ({done.returncode}):\n{done.stderr[-4000:]}")
            meta = json.loads(info.read_text())
            (dump,) = [p for p in Path(folder).iterdir() if p.name.startswith("callgrind.out.")]
            counts = read_dump(dump, meta["names"])
        if args.squares or args.thumbnail:
            row = "  ".join(f"{name} {counts.get(name, 0) / calls / 1e6:7.3f} (sha256 {meta['sha256'][name][:16]})"
                            for name, calls in meta["calls"].items())
            print(f"{core}: {row}")
            continue
        row = "  ".join(f"{w}x{h} {counts.get(f'{w}x{h}', 0) / meta['frames'] / 1e6:7.3f}" for w, h in SIZES)
        print(f"{core}: {row}  sha256 {meta['sha256'][:16]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
