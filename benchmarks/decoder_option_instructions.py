"""FFmpeg's H.264 decoder options that should not change a byte: do they keep every byte, and how many
instructions do they save? (issue 27, session 26)

    python benchmarks/decoder_option_instructions.py [--videos arcade_walkers_1080p.mp4 more/...] \
        [--frames 40] [--count-frames 24] [--count-videos arcade_walkers_1080p.mp4] \
        [--variants baseline flags2=+fast threads=2:slice ...] [--json OUT]

Not a test (not in CI). Each video is decoded the way serve's file cameras and ``facesel run``
decode it (PyAV, one decoding thread, :func:`facesel.sources.own_bgr.bgr`: FFmpeg's swscale into
an array of our own) once per variant, from its first frame:

1. *The same bytes* (natively): the sha256 of every decoded picture's Y, U and V planes (their
   visible rows and columns) and of every BGR frame, and the frame count, of each variant against
   ``baseline`` (no option), over ``--frames`` frames of every ``--videos`` file.
2. *Instructions* (``valgrind --tool=callgrind``, :mod:`callgrind_marks`): one child decodes
   ``--count-frames`` frames of each ``--count-videos`` file per variant, every variant once
   uninstrumented first; each variant's decoding is a window of its own (zeroed, then dumped),
   every thread's instructions together (a frame-threaded decoder's threads included), with the
   decoding (``packet.decode``: demuxing and H.264) and the conversion (``own_bgr.bgr``) counted
   apart inside it.

A variant is ``baseline`` or ``,``-joined items: ``KEY=VALUE`` (a libavcodec option given to the
decoder as PyAV's ``codec_context.options``: ``flags2=+fast``, ``flags=+low_delay``, ``ec=0``,
...) or ``threads=N:TYPE`` (``thread_count`` N of ``thread_type`` ``slice``, ``frame`` or ``auto``).
No face pixel is written anywhere: digests only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_args import add_child_arguments, own_facesel, video_path

HERE = Path(__file__).resolve().parent

VARIANTS = ("baseline", "flags2=+fast", "ec=0", "threads=2:slice", "threads=2:frame")
"""The options tried by default: none of them should change a decoded byte of a clean stream."""


def parse_variant(variant: str) -> tuple[dict[str, str], int, str | None]:
    """``(codec options, thread_count, thread_type or None)`` of a variant name: ``baseline`` or
    ``,``-joined items (``flags2=+fast,threads=2:frame``)."""
    options, threads, kind = {}, 1, None
    if variant == "baseline":
        return options, threads, kind
    for item in variant.split(","):
        key, _, value = item.partition("=")
        if key == "threads":
            count, _, kind = value.partition(":")
            if not count.isdigit() or kind not in ("slice", "frame", "auto"):
                raise SystemExit(f"variant {variant!r}: threads=N:slice|frame|auto")
            threads = int(count)
        elif key and value:
            options[key] = value
        else:
            raise SystemExit(f"variant {variant!r}: KEY=VALUE or threads=N:TYPE items joined by ','")
    return options, threads, kind


def open_decoder(video: Path, variant: str):
    """An open PyAV container and its video stream, the variant's options set before the first packet."""
    import av

    options, threads, kind = parse_variant(variant)
    container = av.open(str(video))
    stream = container.streams.video[0]
    stream.thread_count = threads
    if kind is not None:
        stream.thread_type = kind.upper()
    if options:
        stream.codec_context.options = {**stream.codec_context.options, **options}
    return container, stream


def pictures(container, stream, frames: int, decode=None, convert=None):
    """``(picture, bgr)`` of the first ``frames`` frames; ``decode`` / ``convert`` run the two steps
    (``decode(fn, *args)``), by default directly."""
    from facesel.sources import own_bgr

    decode = decode or (lambda fn, *a: fn(*a))
    convert = convert or (lambda fn, *a: fn(*a))
    got = 0
    for packet in container.demux(stream):
        for picture in decode(packet.decode):
            yield picture, convert(own_bgr.bgr, picture)
            got += 1
            if got == frames:
                return


def digests(video: Path, variant: str, frames: int) -> dict:
    """The sha256 of the visible YUV planes and of the BGR frames, and the frame count."""
    import numpy as np

    container, stream = open_decoder(video, variant)
    planes, colour, count = hashlib.sha256(), hashlib.sha256(), 0
    try:
        for picture, bgr in pictures(container, stream, frames):
            for index, plane in enumerate(picture.planes):
                width = plane.width if hasattr(plane, "width") else picture.width >> (index > 0)
                height = plane.height if hasattr(plane, "height") else picture.height >> (index > 0)
                rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:height, :width]
                planes.update(np.ascontiguousarray(rows).tobytes())
            colour.update(np.ascontiguousarray(bgr).tobytes())
            count += 1
    finally:
        container.close()
    return {"frames": count, "yuv": planes.hexdigest(), "bgr": colour.hexdigest()}


def child(args) -> int:
    """Under callgrind: each variant warmed once, then each decoded in a window of its own."""
    own_facesel()
    from callgrind_marks import Marks

    marks = Marks()
    windows = []
    for video in args.videos:
        for variant in args.variants:  # uninstrumented: the decoder's and the scaler's first allocations
            container, stream = open_decoder(Path(video), variant)
            for _ in pictures(container, stream, args.count_frames):
                pass
            container.close()
    for video in args.videos:
        for variant in args.variants:
            container, stream = open_decoder(Path(video), variant)
            marks.zero()
            for _ in pictures(container, stream, args.count_frames,
                              decode=lambda fn, *a: marks.run("decode", lambda: list(fn(*a))),
                              convert=lambda fn, *a: marks.run("convert", fn, *a)):
                pass
            marks.dump(f"{Path(video).stem}|{variant}")
            container.close()
            windows.append([video, variant])
    Path(args.child_out).write_text(json.dumps({"names": marks.trampoline_names(), "windows": windows,
                                                "on_valgrind": marks.on_valgrind}))
    return 0


def count(videos, variants, frames: int, folder: Path) -> list[dict]:
    """Per (video, variant): million instructions a frame in all, decoding and converting."""
    from callgrind_marks import callgrind_command, environment_for_valgrind, read_dump

    out, info = folder / "callgrind.out", folder / "child.json"
    command = callgrind_command(out) + [sys.executable, str(Path(__file__).resolve()), "--child", "--child-out",
                                        str(info), "--count-frames", str(frames), "--videos", *map(str, videos),
                                        "--variants", *variants]
    done = subprocess.run(command, env=environment_for_valgrind(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    meta = json.loads(info.read_text())
    dumps = sorted((p for p in folder.iterdir() if p.name.startswith("callgrind.out.")),
                   key=lambda p: int(p.name.rsplit(".", 1)[1]) if p.name.rsplit(".", 1)[1].isdigit() else -1)
    dumps = [p for p in dumps if p.name.rsplit(".", 1)[1].isdigit()]
    if len(dumps) != len(meta["windows"]):
        raise SystemExit(f"{len(dumps)} dumps for {len(meta['windows'])} windows")
    rows = []
    for (video, variant), dump in zip(meta["windows"], dumps):
        counts = read_dump(dump, meta["names"])
        # A frame-threaded decoder's threads end in the next window: callgrind's summary of that
        # window then wraps below zero (2^64 - n); its "totals:" line is the window's own count.
        totals = [line for line in dump.read_text().splitlines() if line.startswith("totals:")]
        if totals:
            counts["total"] = int(totals[0].split()[1])
        rows.append({"video": Path(video).name, "variant": variant, "frames": frames,
                     **{key: counts.get(key, 0) / frames / 1e6 for key in ("total", "decode", "convert")}})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", nargs="+", default=["arcade_walkers_1080p.mp4"],
                        help="under the shared data's videos/, or absolute paths: the bytes compared")
    parser.add_argument("--frames", type=int, default=40, help="frames compared a video")
    parser.add_argument("--count-videos", nargs="*", default=None,
                        help="the videos counted under callgrind (the first of --videos by default; none: no count)")
    parser.add_argument("--count-frames", type=int, default=24, help="frames counted a video and variant")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--json", default=None, help="write the results here")
    add_child_arguments(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    if args.variants[0] != "baseline":
        args.variants.insert(0, "baseline")
    for variant in args.variants:
        parse_variant(variant)
    result = {"frames": args.frames, "same": {}, "counts": []}
    for name in args.videos:
        video = video_path(name)
        base = digests(video, "baseline", args.frames)
        result["same"][video.name] = {"baseline": base}
        print(f"{video.name}: {base['frames']} frames, baseline yuv {base['yuv'][:16]} bgr {base['bgr'][:16]}")
        for variant in args.variants[1:]:
            got = digests(video, variant, args.frames)
            same = got == base
            result["same"][video.name][variant] = {**got, "identical": same}
            print(f"  {variant:24s} {'byte-identical' if same else 'DIFFERENT'} ({got['frames']} frames)")
    count_videos = args.videos[:1] if args.count_videos is None else args.count_videos
    if count_videos:
        sys.path.insert(0, str(HERE))
        with tempfile.TemporaryDirectory(prefix="facesel-decoder-cg-") as folder:
            rows = count([video_path(v) for v in count_videos], args.variants, args.count_frames, Path(folder))
        result["counts"] = rows
        print(f"\nmillion instructions a frame ({args.count_frames} frames from the first)")
        print(f"{'video':40s} {'variant':24s} {'total':>9s} {'decode':>9s} {'convert':>9s}")
        for row in rows:
            print(f"{row['video']:40s} {row['variant']:24s} {row['total']:9.3f} {row['decode']:9.3f} "
                  f"{row['convert']:9.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
