"""What FFmpeg's H.264 decoder options save, and what they do to the pixels and the faces found.

    python experiments/decoder_options.py [--rounds 3] [--videos arcade_walkers_1080p.mp4 ...]

Not a test. Every shared video is decoded by PyAV once per variant, the variants alternating
round after round (the machine is shared: only the ratios within one run mean anything), and each
variant's process CPU a frame (``time.process_time``: decoder threads included) is reported as the
median over rounds, with its ratio to the ``baseline`` (one thread, no option, BGR out: what
``facesel.sources`` does today). Variants:

- codec options (``facesel.sources.backends.DECODER_SPEEDS`` and a few more): the in-loop
  deblocking filter skipped on non-reference frames (``skip_loop_filter=noref``: no drift, as no
  frame is predicted from them) or on every frame (``all``: the error is carried into the frames
  predicted from it until the next key frame), ``flags2=+fast`` (H.264 shortcuts that are not
  bit-exact), ``skip_idct``;
- threading: FFmpeg's slice or frame threads (2 threads) or its own choice (thread_count 0): the
  CPU a frame, not the wall time;
- a camera that is behind all the time (``behind:``, :data:`SKIP_FRAME`): non-reference frames
  skipped, as ``skip_when_behind`` asks, alone or with the deblocking filter skipped on the
  reference frames that are still decoded (what turning it off "only while behind" would save),
  or every B frame skipped (``skip_frame = "BIDIR"``: reference B frames too, whose loss a later
  frame predicted from them inherits);
- the output: BGR (today), the one-step shrink to 1280x720 alone, a full-frame detection's frame
  (BGR, then OpenCV's area shrink; or BGR and the one-step shrink from YUV, ``shrink_in_decoder``),
  grey (the Y plane), the raw YUV planes, nothing (decoding alone).

For the pixels, every frame of a variant is compared with the baseline's frame of the same index
(of the same presentation time for the ``behind:`` variants):
mean absolute difference (grey levels) and the worst frame's PSNR. For the faces, the full-frame
YuNet (1280x720, OpenCV's area shrink) runs on every ``--detect-every``-th frame of both: faces
found, matched at IoU >= 0.5, mean IoU and the largest confidence difference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import cv2
import numpy as np

# name -> (codec options, thread_type, thread_count, output)
VARIANTS = {
    "baseline": ({}, None, 1, "bgr24"),
    "skip_loop_filter=noref": ({"skip_loop_filter": "noref"}, None, 1, "bgr24"),
    "OpenCV VideoCapture": ({}, None, 1, "opencv"),
    "baseline + copy": ({}, None, 1, "bgr24+copy"),
    "skip_loop_filter=noref + copy": ({"skip_loop_filter": "noref"}, None, 1, "bgr24+copy"),
    "skip_loop_filter=bidir": ({"skip_loop_filter": "bidir"}, None, 1, "bgr24"),
    "skip_loop_filter=all": ({"skip_loop_filter": "all"}, None, 1, "bgr24"),
    "flags2=+fast": ({"flags2": "+fast"}, None, 1, "bgr24"),
    "skip_idct=noref": ({"skip_idct": "noref"}, None, 1, "bgr24"),
    "noref+fast": ({"skip_loop_filter": "noref", "flags2": "+fast"}, None, 1, "bgr24"),
    "slice threads 2": ({}, "SLICE", 2, "bgr24"),
    "frame threads 2": ({}, "FRAME", 2, "bgr24"),
    "threads 0 (FFmpeg's choice)": ({}, None, 0, "bgr24"),
    "skip_idct=all": ({"skip_idct": "all"}, None, 1, "bgr24"),
    "all+fast": ({"skip_loop_filter": "all", "flags2": "+fast"}, None, 1, "bgr24"),
    "behind: skip_frame=NONREF": ({}, None, 1, "bgr24"),
    "behind: NONREF + skip_loop_filter=all": ({"skip_loop_filter": "all"}, None, 1, "bgr24"),
    "behind: NONREF + skip_loop_filter=nokey": ({"skip_loop_filter": "nokey"}, None, 1, "bgr24"),
    "behind: skip_frame=BIDIR": ({}, None, 1, "bgr24"),
    "out: one-step 1280x720": ({}, None, 1, "shrunk"),
    "out: BGR + OpenCV area 1280x720": ({}, None, 1, "bgr+opencv"),
    "out: BGR + one-step 1280x720": ({}, None, 1, "bgr+shrunk"),
    "out: grey (Y plane)": ({}, None, 1, "gray"),
    "out: YUV planes": ({}, None, 1, "yuv"),
    "out: none (decode only)": ({}, None, 1, "none"),
}

SKIP_FRAME = {name: "BIDIR" if "BIDIR" in name else "NONREF" for name in VARIANTS if name.startswith("behind:")}
"""Variants decoded as a camera that is behind all the time (``skip_when_behind``: FFmpeg's
``skip_frame = "NONREF"``): fewer frames come out, so their CPU is given a frame of the file, and
their pixels and faces are compared with the baseline's frames of the same presentation time."""


def decode(path, options: dict, thread_type, thread_count: int, output: str, keep: bool, skip_frame=None):
    """(process CPU seconds, frames decoded, kept BGR frames or [], their presentation times) of
    one pass over ``path``."""
    import av

    if output == "opencv":  # what facesel.sources.backends.FileConnection does (one FFmpeg thread)
        capture = cv2.VideoCapture(str(path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])
        kept, n, start = [], 0, time.process_time()
        while True:
            ok, out = capture.read()
            if not ok:
                break
            n += 1
            if keep:
                kept.append(out)
        spent = time.process_time() - start
        capture.release()
        return spent, n, kept, list(range(n))
    kept, times = [], []
    container = av.open(str(path))
    stream = container.streams.video[0]
    stream.thread_count = thread_count
    if thread_type:
        stream.thread_type = thread_type
    stream.codec_context.options = dict(options)
    if skip_frame:
        stream.codec_context.skip_frame = skip_frame
    start, n = time.process_time(), 0
    for picture in container.decode(stream):
        if output in ("bgr24", "bgr24+copy"):
            out = picture.to_ndarray(format="bgr24", threads=1)
            if output == "bgr24+copy":  # an array that owns its pixels (PyAV's is a view of its frame)
                out = out.copy()
        elif output == "shrunk":
            out = picture.to_ndarray(format="bgr24", width=1280, height=720, interpolation="AREA", threads=1)
        elif output == "bgr+opencv":  # a full-frame detection today: the BGR frame, then OpenCV's shrink
            out = picture.to_ndarray(format="bgr24", threads=1)
            out = cv2.resize(out, (1280, 720), interpolation=cv2.INTER_AREA)
        elif output == "bgr+shrunk":  # with shrink_in_decoder: the BGR frame, and the shrunk one from YUV
            out = picture.to_ndarray(format="bgr24", threads=1)
            out = picture.to_ndarray(format="bgr24", width=1280, height=720, interpolation="AREA", threads=1)
        elif output == "gray":
            out = picture.to_ndarray(format="gray", threads=1)
        elif output == "yuv":
            out = picture.to_ndarray(threads=1)
        else:
            out = None
        n += 1
        if keep:
            kept.append(out)
            times.append(picture.pts)
    spent = time.process_time() - start
    container.close()
    return spent, n, kept, times


def faces(frames, detector, every: int, max_side: int = 1280):
    from facesel.detect.base import shrink

    return [detector.detect(shrink(frame, max_side)[0]) for frame in frames[::every]]


def compare_faces(ref, other) -> tuple[int, int, int, float, float]:
    from facesel.boxes import pairwise_iou

    n_ref = sum(len(d) for d in ref)
    n_other = sum(len(d) for d in other)
    matched, ious, diffs = 0, [], [0.0]
    for a, b in zip(ref, other):
        if len(a) and len(b):
            iou = pairwise_iou(a.boxes, b.boxes)
            best = iou.argmax(axis=1)
            good = iou.max(axis=1) >= 0.5
            matched += int(good.sum())
            ious.extend(iou.max(axis=1)[good].tolist())
            diffs.extend(np.abs(a.scores - b.scores[best])[good].tolist())
    return n_ref, n_other, matched, float(np.mean(ious)) if ious else float("nan"), float(np.max(diffs))


def main(argv=None) -> int:
    from facesel.data import data_root_or_exit
    from facesel.selector import default_detector

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", nargs="+", default=["arcade_walkers_1080p.mp4"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--detect-every", type=int, default=3)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root_or_exit()
    detector = default_detector()
    variants = ["baseline"] + [v for v in args.variants if v != "baseline"]
    for name in args.videos:
        path = root / "videos" / name
        cpu = {v: [] for v in variants}
        decoded = {}
        _, file_frames, ref, ref_times = decode(path, *VARIANTS["baseline"], keep=True)
        for _ in range(args.rounds):
            for v in variants:
                spent, decoded[v], _, _ = decode(path, *VARIANTS[v], keep=False, skip_frame=SKIP_FRAME.get(v))
                cpu[v].append(1000.0 * spent / file_frames)  # a frame of the file, decoded or skipped
        base = statistics.median(cpu["baseline"])
        ref_faces = faces(ref, detector, args.detect_every)
        print(f"\n{name}: {len(ref)} frames {ref[0].shape[1]}x{ref[0].shape[0]}, {args.rounds} rounds")
        print("| variant | frames decoded | CPU ms a frame of the file (median) | ratio | mean abs diff (grey levels) | "
              "worst frame PSNR dB | faces (baseline / variant / matched IoU>=0.5) | mean IoU | max conf diff |")
        print("|---|---|---|---|---|---|---|---|---|")
        by_time = dict(zip(ref_times, ref))
        for v in variants:
            ms = statistics.median(cpu[v])
            row = f"| {v} | {decoded[v]} | {ms:.2f} | {ms / base:.2f} |"
            options, ttype, tcount, output = VARIANTS[v]
            if output in ("bgr24", "bgr24+copy", "opencv"):
                _, _, frames, times = decode(path, options, ttype, tcount, output, keep=True,
                                             skip_frame=SKIP_FRAME.get(v))
                if v in SKIP_FRAME:  # the baseline's frames of the same times, every one of them
                    ref_faces_v = faces([by_time[t] for t in times], detector, args.detect_every)
                    ref_v = [by_time[t] for t in times]
                else:
                    ref_faces_v, ref_v = ref_faces, ref
                diffs = [np.abs(a.astype(np.int16) - b.astype(np.int16)).mean() for a, b in zip(ref_v, frames)]
                mse = [np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2) for a, b in zip(ref_v, frames)]
                worst = max(mse)
                psnr = float("inf") if worst == 0 else 10 * np.log10(255.0 ** 2 / worst)
                n_ref, n_other, matched, iou, conf = compare_faces(ref_faces_v, faces(frames, detector, args.detect_every))
                row += f" {np.mean(diffs):.3f} | {psnr:.1f} | {n_ref} / {n_other} / {matched} | {iou:.3f} | {conf:.3f} |"
            else:
                row += " (other output) | | | | |"
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
