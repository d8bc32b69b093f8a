"""CPU a frame, frame by frame, for one camera at a fixed detection schedule (issue 27, session 15).

    python benchmarks/burst_costs.py [--frames 1260] [--detect-every 16] [--set coarse_max_side=640 fine_every=4]
        [--json /tmp/cap15-costs.json]
    python benchmarks/burst_costs.py --serve 4 --set detect_every=16 coarse_max_side=640 fine_every=4 threads=1
        [--seconds 30] [--warmup 8] [--json /tmp/serve4.json]

Not a test (not in CI). Are a camera's dropped frames at the load governor's cap due to the mean
cost of a frame or to the bursts of its full-frame detections? This measures the distribution that
question needs: one ``facesel serve`` camera's settings (serve's PyAV path for a continuous camera:
``convert_on_take``, the BGR conversion when the pipeline takes the frame), the Selector on one
thread (``threads = 1``, so that each frame's work is on the thread timed), a vault sink sealing
under a fresh authority. The file loops without a break in the stream (as ``frame_costs.py``: the
tracker sees the jump back to the first frame as any cut, no epoch closes the tracks). For every frame two thread CPU times (``time.thread_time``, robust to the
machine's load, unlike wall time):

- ``decode``: the H.264 decoding of the frame, which a live camera's reader thread pays for every
  frame it receives, taken or dropped;
- ``take``: everything after it: the conversion on take, detection (full frame or region squares),
  tracking, scoring, the finaliser, sealing of the tracks that closed on this frame. Only frames
  the pipeline takes pay it.

and the frame's kind by the Selector's own counts: ``fine`` (a full-frame detection at
``max_side``), ``coarse`` (a two-tier coarse pass, plus the region squares) or ``ordinary`` (the
region squares only). The summary gives mean, p50, p90, p99 and max of each kind; ``--json`` keeps
the frames (list of ``{"index", "kind", "decode_ms", "take_ms"}``) for ``benchmarks/burst_model.py``.

``--serve N`` measures the same inside ``facesel serve``'s code with N paced cameras in one process
(:func:`measure_in_serve`): what four cameras together cost a frame against one alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def kind_of(before: dict, after: dict) -> str:
    """The kind of the frame between two snapshots of ``Selector.work``: fine, coarse or ordinary."""
    if after.get("full_fine", 0) > before.get("full_fine", 0):
        return "fine"
    if after.get("full_coarse", 0) > before.get("full_coarse", 0):
        return "coarse"
    return "ordinary"


def percentiles(values: list[float]) -> dict:
    """``{"n", "mean", "p50", "p90", "p99", "max"}`` of ``values`` (ms), rounded to 0.01."""
    import numpy as np

    if not values:
        return {"n": 0}
    a = np.asarray(values, float)
    return {"n": int(a.size), "mean": round(float(a.mean()), 2),
            **{f"p{q}": round(float(np.percentile(a, q)), 2) for q in (50, 90, 99)}, "max": round(float(a.max()), 2)}


def summary(frames: list[dict]) -> dict:
    """Per kind and for all frames: the distribution of ``take_ms``, ``decode_ms`` and their sum."""
    out = {}
    for kind in ("ordinary", "coarse", "fine", "all"):
        mine = [f for f in frames if kind == "all" or f["kind"] == kind]
        out[kind] = {"take": percentiles([f["take_ms"] for f in mine]),
                     "decode": percentiles([f["decode_ms"] for f in mine]),
                     "frame": percentiles([f["take_ms"] + f["decode_ms"] for f in mine])}
    return out


def measure(video: Path, frames: int, settings: dict) -> tuple[list[dict], float]:
    """Run one camera's pipeline over ``frames`` frames of ``video`` (looping); the per-frame costs
    and the process's CPU ms over the same frames (all threads)."""
    from capacity import make_config
    from facesel.serve.pipeline_adapter import PipelineAdapter
    from facesel.serve.retention import open_camera_vault
    from facesel.sinks import VaultSink
    from facesel.sources import backends
    from facesel.sources.decoded import Unconverted

    decode_of: list[float] = []
    out: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="facesel-burst-costs-") as folder:
        config = make_config(Path(folder), [video], 1, settings, coarsen=False)
        camera = next(iter(config.cameras.values()))
        vault = open_camera_vault(camera)
        adapter = PipelineAdapter(camera.settings, sinks=[VaultSink(vault)])
        selector = adapter.selector
        connection = backends.PyAVFileConnection(video, loop=True, keep_picture=False, convert_on_take=True)

        def decoded():
            for _ in range(frames):
                start = time.thread_time()
                pixels, stamp = connection.read()
                decode_of.append(time.thread_time() - start)
                if isinstance(pixels, Unconverted):  # converted on take: in the frame's "take" time, as in serve
                    pixels = pixels.convert()
                yield pixels, stamp

        work = dict(selector.work)
        process0 = time.process_time()
        last = time.thread_time()
        for index, _ in enumerate(selector.run(decoded(), live=False)):
            now = time.thread_time()
            after = dict(selector.work)
            # the interval holds this frame's decode (read at the start of the iteration) and its work
            out.append({"index": index, "kind": kind_of(work, after), "decode_ms": round(1000 * decode_of[index], 3),
                        "take_ms": round(1000 * (now - last - decode_of[index]), 3)})
            work, last = after, now
        process_ms = 1000 * (time.process_time() - process0)
        selector.flush()
        connection.close()
        vault.close()
    return out, process_ms


def measure_in_serve(video: Path, cameras: int, settings: dict, seconds: float, warmup: float) -> dict:
    """The same per-frame costs inside ``facesel serve``'s own code with ``cameras`` paced cameras in
    one process (:class:`facesel.serve.service.Service`, ``capacity.py``'s cameras: looping, live,
    serve's PyAV path), each camera's Selector on one thread (``threads = 1``: the camera's thread
    reads, detects, tracks and scores; its source's thread decodes), the load governor off (the
    schedule stays where ``settings`` put it). ``{camera: {"frames": [...], "decode_ms": [...]}}``
    over ``seconds`` after ``warmup``: a taken frame's take is the camera thread's CPU from its
    hand-over to the next one's (the conversion on take included); decode is each
    ``PyAVFileConnection.read`` call's thread CPU in the sources' threads, dropped frames' included."""
    import threading

    from capacity import _LAZY_SKIP, make_config
    from facesel.serve.camera import Camera
    from facesel.serve.service import Service
    from facesel.sources import backends

    recording = threading.Event()
    marks: dict[str, list] = {}  # camera -> [(thread CPU s, Selector.work)] at each hand-over
    decodes: dict[int, list] = {}  # source thread id -> decode seconds of each read

    received = Camera._received

    def timed_received(camera, frame):
        if recording.is_set() and camera.adapter is not None:
            marks.setdefault(camera.config.name, []).append((time.thread_time(), dict(camera.adapter.work)))
        return received(camera, frame)

    read = backends.PyAVFileConnection.read

    def timed_read(connection):
        start = time.thread_time()
        out = read(connection)
        if recording.is_set():
            decodes.setdefault(threading.get_ident(), []).append(time.thread_time() - start)
        return out

    Camera._received, backends.PyAVFileConnection.read = timed_received, timed_read
    try:
        with tempfile.TemporaryDirectory(prefix="facesel-burst-serve-") as folder:
            config = make_config(Path(folder), [video], cameras, settings, coarsen=False, camera_settings=_LAZY_SKIP)
            service = Service(config).start()
            try:
                time.sleep(warmup)
                recording.set()
                time.sleep(seconds)
                recording.clear()
            finally:
                service.stop(timeout=60)
    finally:
        Camera._received, backends.PyAVFileConnection.read = received, read
    out = {}
    for name, seen in sorted(marks.items()):
        frames = [{"index": i, "kind": kind_of(w0, w1), "take_ms": round(1000 * (t1 - t0), 3)}
                  for i, ((t0, w0), (t1, w1)) in enumerate(zip(seen, seen[1:]))]
        out[name] = {"frames": frames}
    out["decode_ms"] = [round(1000 * x, 3) for reads in decodes.values() for x in reads]
    return out


def main(argv=None) -> int:
    from capacity import extra_settings
    from facesel.data import data_root_or_exit

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default="arcade_walkers_1080p.mp4",
                        help="under the shared data's videos/, or an absolute path")
    parser.add_argument("--frames", type=int, default=1260, help="frames measured (the file loops)")
    parser.add_argument("--detect-every", type=int, default=16, help="16: the load governor's cap")
    parser.add_argument("--set", nargs="*", default=["coarse_max_side=640", "fine_every=4"], metavar="KEY=VALUE",
                        help="more pipeline settings (default: two tiers, 640 x 4, as the governor's cap)")
    parser.add_argument("--serve", type=int, default=0, metavar="N",
                        help="measure inside facesel serve's code with N paced cameras in one process instead")
    parser.add_argument("--seconds", type=float, default=30.0, help="with --serve: seconds measured")
    parser.add_argument("--warmup", type=float, default=8.0, help="with --serve: seconds before")
    parser.add_argument("--json", default=None, help="write the frames and the summary here")
    args = parser.parse_args(argv)
    root = data_root_or_exit()
    video = Path(args.video) if Path(args.video).is_absolute() else root / "videos" / args.video
    load_before = os.getloadavg()
    settings = {"mode": "sparse", "detect_every": args.detect_every, "threads": 1, **extra_settings(args.set)}
    if args.serve:
        return _report_serve(args, video, settings, load_before)
    frames, process_ms = measure(video, args.frames, settings)
    result = {"video": args.video, "settings": settings,
              "load_average_before": [round(x, 2) for x in load_before],
              "load_average_after": [round(x, 2) for x in os.getloadavg()],
              "process_cpu_ms_per_frame": round(process_ms / len(frames), 2),
              "summary": summary(frames), "frames": frames}
    print(f"{args.video}: {len(frames)} frames, {settings}; "
          f"load average {result['load_average_before'][0]} -> {result['load_average_after'][0]}; "
          f"process CPU {result['process_cpu_ms_per_frame']} ms a frame (every thread: the check that the "
          f"frames' thread times below hold it all)")
    _print_summary(result["summary"])
    if args.json:
        Path(args.json).write_text(json.dumps(result))
    return 0


def _report_serve(args, video: Path, settings: dict, load_before) -> int:
    """--serve: measure in serve's code, print each camera's take distribution and the decode's."""
    measured = measure_in_serve(video, args.serve, settings, args.seconds, args.warmup)
    decode = measured.pop("decode_ms")
    frames = [dict(f, camera=name, decode_ms=decode[i % len(decode)] if decode else 0.0)
              for name, cam in measured.items() for i, f in enumerate(cam["frames"])]
    result = {"video": args.video, "settings": settings, "serve_cameras": args.serve, "seconds": args.seconds,
              "load_average_before": [round(x, 2) for x in load_before],
              "load_average_after": [round(x, 2) for x in os.getloadavg()],
              "taken_per_camera": {name: len(cam["frames"]) for name, cam in measured.items()},
              "decode": percentiles(decode), "summary": summary(frames), "frames": frames}
    print(f"{args.video}: {args.serve} cameras in serve's code, {args.seconds:g} s, {settings}; load average "
          f"{result['load_average_before'][0]} -> {result['load_average_after'][0]}; frames taken "
          f"{result['taken_per_camera']} of about {args.seconds * 25:.0f} each; decode of every received frame: "
          f"{result['decode']}")
    print("  (decode below: the cameras' decode samples in turn, not each frame's own)")
    _print_summary(result["summary"])
    if args.json:
        Path(args.json).write_text(json.dumps(result))
    return 0


def _print_summary(summary_by_kind: dict) -> None:
    print(f"  {'kind':9s} {'n':>5s}  thread CPU ms a frame (take = after decoding; decode apart): mean p50 p90 p99 max")
    for kind, parts in summary_by_kind.items():
        for part in ("take", "decode", "frame"):
            p = parts[part]
            if p["n"]:
                print(f"  {kind:9s} {p['n']:5d}  {part:6s} {p['mean']:7.2f} {p['p50']:7.2f} {p['p90']:7.2f} "
                      f"{p['p99']:7.2f} {p['max']:7.2f}")


if __name__ == "__main__":
    sys.exit(main())
