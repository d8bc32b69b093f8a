"""End to end on the arcade video, 1080p decoding and sealing into a vault included: the sparse
default against the exhaustive mode, in one run of this script.

    python benchmarks/realtime_throughput.py                       # all three tables (~5 min, 2 cores)
    python benchmarks/realtime_throughput.py --tables end-to-end   # just the first

Each configuration runs in its own child process (so that its peak RSS is its own) on the video
file itself: ``Selector.run`` reads and decodes it (in a thread when ``threads`` is 2), the
Selector detects, tracks, scores and seals every result into a fresh vault. Reported per run:
frames/s of wall time, frames per CPU-second of the whole process (all threads; steadier on a
shared machine than wall time), the CPU time per stage (``time.thread_time`` inside each stage),
peak RSS, the tracks, and the agreement of the choice with the exhaustive run of the same table
(:mod:`facesel.select.agreement`). The load average is printed with each table: on a busy machine
wall rates fall, CPU-seconds much less.

Tables: ``end-to-end`` (default vs exhaustive on 1 and 2 threads), ``faces`` (frames/s against
faces per frame: the arcade video and a 2x2 mosaic of four moments of it, 3840x2160 detected at
2560 px so that the faces keep their size), ``techniques`` (what each technique buys alone), ``settings`` (detection
resolution, period, region sizes and finalists swept against the default). The end-to-end table also
runs the default with the consensus pick off (``consensus_finalists=0``, the pick before issue 22).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
from bench_runs import connection_frames
from facesel.scoring.base import score_crops

HERE = Path(__file__).resolve()


def _mosaic(frames, offsets=(0, 26, 52, 78)):
    """2x2 mosaic of the video at four moments (frame k shows frames k + offset, cycling)."""
    cache = [f for f, _ in frames]
    for k in range(len(cache)):
        tiles = [cache[(k + o) % len(cache)] for o in offsets]
        yield np.vstack([np.hstack(tiles[:2]), np.hstack(tiles[2:])]), k / 25.0


class _NoScreen:
    """The default scorer with its screen hidden: every gated crop gets the full score."""

    def __init__(self, scorer):
        self.scorer = scorer

    @property
    def uses_context(self):
        return getattr(self.scorer, "uses_context", False)

    def score(self, crops, context=None):
        return score_crops(self.scorer, crops, context)


def child(spec: dict) -> dict:
    """One configuration end to end; returns what the parent tabulates (no pixels)."""
    cv2.setNumThreads(1)
    from facesel import Selector
    from facesel.data import data_root
    from facesel.selector import default_detector, default_scorer
    from facesel.sinks import CallbackSink, VaultSink
    from facesel.vault import Vault, create_authority, enrol_camera
    from facesel.video import open_source

    settings = spec["settings"]
    video = data_root() / "videos" / "arcade_walkers_1080p.mp4"
    source = open_source(video, max_frames=spec["frames"])
    if spec.get("decoder") == "pyav":  # as facesel serve's file cameras: full-frame shrinks in one step from YUV
        source = _pyav_frames(video, spec["frames"])
    if spec.get("mosaic"):
        source = list(_mosaic(list(source)))  # decoded up front; decoding is reported apart
    kept = []
    with tempfile.TemporaryDirectory() as tmp:
        authority = Path(tmp) / "authority"
        create_authority(authority, shares=3, threshold=2, epoch_seconds=86400.0, retention_seconds=7 * 86400.0,
                         horizon_seconds=2 * 86400.0, start=time.time(), kdf_level="min")
        # the hardened vault seals only for a camera key the authority registered
        enrol_camera(authority, Path(tmp) / "camera", "bench-cam", sorted((authority / "shares").iterdir())[:2])
        with Vault(Path(tmp) / "vault", authority / "authority.pub", camera=Path(tmp) / "camera") as vault:
            from facesel.config import PipelineConfig

            config = PipelineConfig(**settings)
            scorer = default_scorer(config)
            if spec.get("no_screen"):
                scorer = _NoScreen(scorer)
            detector = default_detector(config)
            if spec.get("glibc_heap_defaults"):  # YuNet without facesel.detect.heap's thresholds
                from facesel.detect import make_detector

                detector = make_detector(config.detector, max_side=config.max_side, keep_freed_memory=False,
                                         engine=config.yunet_engine)
            selector = Selector(detector, scorer, config=config, clock=time.thread_time,
                                sinks=[VaultSink(vault), CallbackSink(kept.append)])
            selector.detector.detect(np.zeros((64, 64, 3), np.uint8))  # lazy loading is not throughput
            wall, cpu = time.perf_counter(), time.process_time()
            with selector:
                for _ in selector.run(source):
                    pass
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "frames": selector.timings["frames"], "wall": wall, "cpu": cpu, "timings": selector.timings,
        "work": selector.work, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "results": [{"frame_indices": r.frame_indices.tolist(), "boxes": r.boxes.tolist(),
                     "qualities": r.qualities.tolist(), "best_frame": r.best.frame_index,
                     "best_box": r.best.box.tolist(), "best_quality": r.best.quality} for r in kept],
    }


def _pyav_frames(video, count: int):
    """``(frame, timestamp)`` of ``video`` decoded by :class:`facesel.sources.backends.PyAVFileConnection`."""
    from facesel.sources.backends import PyAVFileConnection

    yield from connection_frames(PyAVFileConnection(video), count)


DECODER = "opencv"
"""How the runs of this invocation decode the video (``--decoder``)."""


def launch(spec: dict) -> dict:
    spec = {"decoder": DECODER, **spec}
    out = subprocess.run([sys.executable, str(HERE), "--child", json.dumps(spec)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _as_results(rows):
    return [SimpleNamespace(frame_indices=np.array(r["frame_indices"]), boxes=np.array(r["boxes"], np.float32),
                            qualities=np.array(r["qualities"]),
                            best=SimpleNamespace(frame_index=r["best_frame"], box=np.array(r["best_box"], np.float32),
                                                 quality=r["best_quality"])) for r in rows]


STAGES = ("detection", "tracking", "alignment", "screening", "scoring", "selection", "sinks")


def table(title: str | None, runs: list[tuple[str, dict]], reference: dict, yardstick: dict | None = None) -> str:
    """A markdown table of ``runs`` against ``reference``; without ``title``, the rows only.

    ``yardstick`` adds the speed ratios against a second run (the exhaustive mode on the ``yuface``
    engine: facesel as it was when issue 10 was filed); agreement is always against ``reference``."""
    from facesel.select.agreement import agreement

    ref = _as_results(reference["results"])
    head = ("| configuration | frames/s wall | frames per CPU-s | CPU ms/frame | x exhaustive (wall) | "
            "x exhaustive (CPU) | " + " | ".join(f"{s} ms" for s in STAGES)
            + " | peak RSS MB | tracks | kept crop in top 10 % (own score / exhaustive score of the kept frame) |"
            + (" x exhaustive on yuface (wall / CPU) |" if yardstick else ""))
    lines = [f"### {title}", f"load average now: {os.getloadavg()[0]:.1f} (2 cores)", "", head,
             "|" + "---|" * (head.count("|") - 1)] if title else []
    for name, m in runs:
        n = m["frames"]
        a = agreement(_as_results(m["results"]), ref)
        by_frame = agreement(_as_results(m["results"]), ref, by="frame")
        per_stage = " | ".join(f"{1000.0 * m['timings'][s] / n:.1f}" for s in STAGES)
        lines.append(
            f"| {name} | {n / m['wall']:.2f} | {n / m['cpu']:.2f} | {1000.0 * m['cpu'] / n:.0f} | "
            f"{reference['wall'] / m['wall']:.2f} | {reference['cpu'] / m['cpu']:.2f} | {per_stage} | "
            f"{m['rss_mb']:.0f} | {a.tracks} / {a.reference_tracks} | {100.0 * a.share_within(0.1):.0f} % / "
            f"{100.0 * by_frame.share_within(0.1):.0f} % |"
            + (f" {yardstick['wall'] / m['wall']:.2f} / {yardstick['cpu'] / m['cpu']:.2f} |" if yardstick else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=int, default=105, help="arcade frames (the video has 105)")
    parser.add_argument("--mosaic-frames", type=int, default=40)
    parser.add_argument("--decoder", default="opencv", choices=("opencv", "pyav"),
                        help="decode the video with OpenCV (facesel run before session 19) or PyAV with the one-step shrink (facesel serve)")
    parser.add_argument("--tables", nargs="+", default=["end-to-end", "faces", "techniques"],
                        choices=["end-to-end", "faces", "techniques", "settings"])
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    global DECODER
    DECODER = args.decoder  # every run of this invocation decodes alike

    exhaustive = {"mode": "exhaustive", "threads": 1}
    if "end-to-end" in args.tables:
        runs = [("default (sparse, 2 threads)", launch({"frames": args.frames, "settings": {}})),
                ("exhaustive, 2 threads", launch({"frames": args.frames, "settings": {"mode": "exhaustive"}})),
                ("exhaustive, 1 thread", launch({"frames": args.frames, "settings": exhaustive})),
                ("exhaustive, 1 thread, yuface engine (facesel when issue 10 was filed)",
                 launch({"frames": args.frames, "settings": {**exhaustive, "yunet_engine": "yuface"}}))]
        # the consensus pick (on by default since issue 22's switch) off: the default before it
        off = launch({"frames": args.frames, "settings": {"consensus_finalists": 0}})
        runs.append(("default with the consensus pick off (consensus_finalists=0, the pick before)", off))
        print(table(f"End to end, arcade video 1080p, {args.frames} frames, sealed into a vault", runs, runs[2][1],
                    yardstick=runs[3][1]))
        on = runs[0][1]
        print(f"\nconsensus pick on / off (sparse, 2 threads, one run): frames/s (wall) "
              f"x{(on['frames'] / on['wall']) / (off['frames'] / off['wall']):.3f}, frames per CPU-second "
              f"x{(on['frames'] / on['cpu']) / (off['frames'] / off['cpu']):.3f}")
        from facesel.select.agreement import agreement

        filed = agreement(_as_results(runs[0][1]["results"]), _as_results(runs[3][1]["results"]))
        print(f"\nThe default against the exhaustive run on yuface (the choice as filed): {filed.tracks} / "
              f"{filed.reference_tracks} tracks, {100.0 * filed.share_within(0.1):.0f} % of kept crops in the top 10 %")
        print()
    if "faces" in args.tables:
        mosaic = {"frames": args.mosaic_frames, "mosaic": True}
        runs = [("arcade, default", launch({"frames": args.mosaic_frames, "settings": {}})),
                ("arcade, exhaustive", launch({"frames": args.mosaic_frames, "settings": {"mode": "exhaustive"}})),
                ("2x2 mosaic, default", launch({**mosaic, "settings": {"max_side": 2560}})),
                ("2x2 mosaic, exhaustive", launch({**mosaic, "settings": {"mode": "exhaustive", "max_side": 2560}}))]
        print(table(f"Faces per frame ({args.mosaic_frames} frames; agreement against the arcade exhaustive run "
                    "for the arcade rows, the mosaic's own for the mosaic rows)", runs[:2], runs[1][1]))
        print(table(None, runs[2:], runs[3][1]))
        for name, m in runs:
            print(f"- {name}: {m['work']['seen'] / m['frames']:.1f} faces per frame")
        print()
    if "techniques" in args.tables:
        one = {"threads": 1}
        specs = [
            ("exhaustive (yardstick)", {"settings": exhaustive}),
            ("detect every frame; screen every crop, full score for 3 finalists a track",
             {"settings": {**one, "detect_every": 1}}),
            ("the same, screening a track on one frame in 2", {"settings": {**one, "detect_every": 1, "screen_every": 2}}),
            ("sparse detection (every 4th frame + regions), every face fully scored",
             {"settings": one, "no_screen": True}),
            ("sparse detection + screening (the default, 1 thread)", {"settings": one}),
            ("the default, 2 threads, full-frame detection in the tracking thread", {"settings": {"detect_ahead": False}}),
            ("the default, 2 threads, YuNet on glibc's default heap thresholds", {"settings": {}, "glibc_heap_defaults": True}),
            ("the default, 2 threads, YuNet on the yuface engine", {"settings": {"yunet_engine": "yuface"}}),
            ("the default, 2 threads (full-frame detection ahead, YuNet on ONNX Runtime)", {"settings": {}}),
        ]
        runs = [(name, launch({"frames": args.frames, **spec})) for name, spec in specs]
        print(table(f"What each technique buys ({args.frames} arcade frames, vault sink)", runs, runs[0][1]))
    if "settings" in args.tables:
        sweep = [{}, {"max_side": 960}, {"max_side": 960, "finalists": 5}, {"max_side": 800}, {"max_side": 640},
                 {"detect_every": 6}, {"finalists": 6}, {"region_min_px": 192},
                 {"region_face_px": 128.0, "region_min_px": 192}, {"region_scale": 4.0, "region_min_px": 256}]
        runs = [(", ".join(f"{k} {v}" for k, v in spec.items()) or "default",
                 launch({"frames": args.frames, "settings": spec})) for spec in sweep]
        runs.append(("no screen (every crop fully scored)", launch({"frames": args.frames, "settings": {},
                                                                   "no_screen": True})))
        reference = launch({"frames": args.frames, "settings": exhaustive})
        print(table(f"Settings against the default ({args.frames} arcade frames, vault sink)",
                    runs + [("exhaustive, 1 thread", reference)], reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
