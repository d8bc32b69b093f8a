"""Where one camera's CPU goes, frame by frame: the breakdown behind ``benchmarks/capacity.py``.

    python benchmarks/frame_costs.py [--passes 3] [--detect-every 8] [--scorer default]

Not a test (not in CI). A ``facesel serve`` camera decodes its file (:class:`facesel.sources.
backends.FileConnection`, one FFmpeg thread), then runs the Selector (the camera's settings, a
vault sink sealing under a fresh authority, the finaliser on). Here both run on one thread, frame
after frame (``threads = 1``), so that every item is charged with the CPU time of the thread that
does it (``time.thread_time``); the machine may be shared, so only the ratios within one run mean
anything. Items:

- decode: ``FileConnection.read`` (H.264 decode and FFmpeg's YUV -> BGR conversion);
- full-frame shrink: ``shrink`` to ``max_side`` before a full-frame detection; the network itself
  (``YuNetDetector._run_onnx``) and the decoding of its outputs are counted apart;
- region search: cutting and shrinking the squares around tracks (``cut_square``, or
  ``shrink_squares`` on the C++ core's path), its network calls are in "YuNet network", the
  padding into the network's batches in "YuNet padding"; planning, mapping back and suppression
  in "detection: the rest"; the scene-change thumbnail (``schedule._thumbnail``, every frame) apart;
- tracking, alignment, screening, scoring (the VAE or the context rule), selection (the track
  store), the finaliser and sealing: the Selector's own stage timers with the same clock, with the
  finaliser's and the vault's calls timed apart;
- the rest of the thread's CPU: Python between the stages (frame checks, views, packets).

``--decoder opencv`` (the default) decodes with OpenCV (:class:`facesel.sources.backends.FileConnection`,
the full-frame shrink by OpenCV), as ``facesel serve`` does by default; ``pyav`` with
:class:`facesel.sources.backends.PyAVFileConnection`, whose frames a full-frame detection shrinks in
one step from the decoded picture (the camera setting ``shrink_in_decoder``). Compare the two in
one invocation: ``--decoder opencv pyav``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


class Charged:
    """Wraps ``owner.name`` so that its calls' thread CPU is summed under ``label`` (outermost call only)."""

    def __init__(self, totals: dict, calls: dict):
        import threading

        self.totals, self.calls, self.local = totals, calls, threading.local()
        self.lock = threading.Lock()

    def wrap(self, owner, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            if getattr(self.local, "busy", False):
                return inner(*args, **kwargs)
            self.local.busy = True
            start = time.thread_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent = time.thread_time() - start
                with self.lock:
                    self.totals[label(*args) if callable(label) else label] += spent
                    self.calls[label(*args) if callable(label) else label] += 1
                self.local.busy = False

        setattr(owner, name, timed)


_DECODERS = {"pyav": "PyAV decoding, one-step shrink", "opencv": "OpenCV decoding and shrink",
             "pyav-lazy": "PyAV decoding, converted on take, OpenCV's shrink"}


def _plain_sample(frame, step: int):
    """``frame[::step, ::step]`` copied by numpy element by element (the thumbnail's sampling before session 14)."""
    import numpy as np

    return np.ascontiguousarray(frame[::step, ::step])


def _rounds(*lists: list[str]) -> list[tuple[str, ...]]:
    """(setting set, thumbnail sampling, area path) of each profiled run: the lists that name several
    runs side by side (they must name as many: ``--alternate a b a b --thumbnail plain sampled plain
    sampled``), each combined with the single value of the others."""
    runs = max(len(values) for values in lists)
    if any(1 < len(values) != runs for values in lists):
        raise SystemExit("--alternate, --thumbnail and --area-path must name as many runs when several name more than one")
    return [tuple(values[i] if len(values) > 1 else values[0] for values in lists) for i in range(runs)]


def _network_label(detector, batch) -> str:
    """The item a YuNet network call ((N, H, W, 3) uint8 or (N, 3, H, W) float32 batch) is charged to."""
    sides = batch.shape[1:3] if batch.dtype.itemsize == 1 else batch.shape[2:4]
    if batch.shape[0] == 1 and min(sides) >= 640:
        return "YuNet network, full frames"
    if batch.shape[0] == 1 and max(sides) >= 600:
        return "YuNet network, coarse full frames"
    return "YuNet network, region squares"


def main(argv=None) -> int:
    import cv2
    from facesel.data import data_root_or_exit

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default="arcade_walkers_1080p.mp4",
                        help="under the shared data's videos/, or an absolute path (a 720p transcode in /tmp)")
    parser.add_argument("--passes", type=int, default=3, help="passes over the file (105 frames each for arcade)")
    parser.add_argument("--detect-every", type=int, default=8, help="8: where one paced camera's governor ends")
    parser.add_argument("--mode", default="sparse", choices=("sparse", "exhaustive"))
    parser.add_argument("--scorer", default="default", help="the camera's scorer setting (default, context, laplacian)")
    parser.add_argument("--decoder", nargs="+", default=["opencv"], choices=("opencv", "pyav", "pyav-lazy"),
                        help="file decoders to profile in turn (pyav: the one-step shrink; pyav-lazy: serve's "
                             "PyAV path, convert_on_take without a kept picture, the BGR conversion its own item)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1], choices=(1, 2),
                        help="the Selector's stage threads, each in turn (a camera runs 2 by default; 1 charges "
                             "everything to one thread)")
    parser.add_argument("--cv-threads", type=int, nargs="+", default=[1],
                        help="OpenCV's threads (cv2.setNumThreads), each in turn; -1: OpenCV's own default "
                             "(every core). With more than one, items run by OpenCV are partly in its workers, "
                             "charged to 'the rest'")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="more pipeline settings of the camera (PipelineConfig fields: region_face_px=48 "
                             "region_shrink=fast ...)")
    parser.add_argument("--alternate", nargs="+", default=[""], metavar="KEY=VALUE,...",
                        help="setting sets profiled in turn on top of --set, each comma-separated ('' or 'none': "
                             "none), for an A/B in one invocation: --alternate none region_scale=2 none region_scale=2")
    parser.add_argument("--yunet-decoding", nargs="+", default=["core"], choices=("core", "numpy"),
                        help="who decodes YuNet's outputs, each in turn (YuNetDetector.output_decoder: the C++ "
                             "core, or numpy + cv2.dnn.NMSBoxes, the reference)")
    parser.add_argument("--region-search", nargs="+", default=["core"], choices=("core", "python"),
                        help="who does the region search's work around YuNet, each in turn (YuNetDetector.region_search: "
                             "the C++ core, or the Python reference); alternate them for an A/B: core python core python")
    parser.add_argument("--thumbnail", nargs="+", default=["sampled"], choices=("sampled", "plain"),
                        help="how the scene-change thumbnail samples the frame, each in turn: whole pixels at a time "
                             "(facesel.detect.schedule.sampled, today) or numpy's plain strided copy (before session "
                             "14); the same pixels either way, for an A/B of its CPU: --thumbnail plain sampled plain sampled")
    parser.add_argument("--area-path", nargs="+", default=["exact"], choices=("exact", "exact+numpy", "float", "uint8"),
                        help="how region squares and whole frames are area-shrunk, each in turn "
                             "(facesel.detect.schedule.AREA_PATH: the C++ core's integer average where the ratio "
                             "allows, other squares by the core's float32 path, today (session 18); exact+numpy: the "
                             "other squares through numpy's float32 copy (session 17); squares through float32, "
                             "frames by OpenCV (session 14); "
                             "or OpenCV on the uint8 pixels, before session 14; the same pixels every way): "
                             "--area-path float exact float exact")
    parser.add_argument("--json", default=None, help="append the breakdown here (JSON lines)")
    args = parser.parse_args(argv)
    root = data_root_or_exit()
    video = Path(args.video) if Path(args.video).is_absolute() else root / "videos" / args.video

    import facesel.detect.schedule as schedule_module
    import facesel.detect.yunet as yunet_module
    from facesel.detect.schedule import sampled
    from facesel.select.finalise import Finaliser

    totals, calls = defaultdict(float), defaultdict(int)
    charge = Charged(totals, calls)
    import facesel.detect.stage as stage_module

    charge.wrap(yunet_module, "shrink", "full-frame shrink")
    charge.wrap(stage_module, "shrink", "full-frame shrink")  # two-tier detection's coarse copies
    # the network's calls on whole frames (one image of at least 640 pixels a side) apart from the regions'
    # (squares of at most region_face_px * region_scale, 160 pixels by default); a two-tier coarse pass
    # (coarse_max_side 600-639+: one image with a side of 600 or more, the other under 640) apart
    charge.wrap(yunet_module.YuNetDetector, "_run_onnx", _network_label)
    charge.wrap(yunet_module.YuNetDetector, "_decode_outputs", "YuNet output decoding")
    charge.wrap(yunet_module.YuNetDetector, "_as_detections", "YuNet output decoding")
    charge.wrap(yunet_module, "_padded", "YuNet padding")
    charge.wrap(yunet_module, "_padded_batches", "YuNet padding")
    charge.wrap(schedule_module, "cut_square", "region cut + shrink")
    charge.wrap(schedule_module, "shrink_squares", "region cut + shrink")
    charge.wrap(schedule_module, "_thumbnail", "scene-change thumbnail")
    charge.wrap(Finaliser, "process", "finaliser")
    charge.wrap(Finaliser, "observe", "finaliser")
    charge.wrap(Finaliser, "flush", "finaliser")

    default_cv_threads = cv2.getNumThreads()
    for cv_threads in args.cv_threads:
        cv2.setNumThreads(default_cv_threads if cv_threads < 0 else cv_threads)
        for threads in args.threads:
            for decoder in args.decoder:
                for decoding in args.yunet_decoding:
                    for region_search in args.region_search:
                        for alternate, thumbnail, area in _rounds(args.alternate, args.thumbnail, args.area_path):
                            schedule_module.sampled = sampled if thumbnail == "sampled" else _plain_sample
                            schedule_module.AREA_PATH = area
                            print(f"scene-change thumbnail: {thumbnail} sampling; region squares' area shrink: {area}")
                            yunet_module.YuNetDetector.output_decoder = decoding
                            yunet_module.YuNetDetector.region_search = region_search
                            print(f"YuNet output decoding: {decoding}; region search: {region_search}")
                            totals.clear()
                            calls.clear()
                            profile(args, decoder, threads, video, charge, region_search,
                                    [] if alternate in ("", "none") else alternate.split(","))
    return 0


def profile(args, decoder: str, threads: int, video: Path, charge: Charged, region_search: str = "core",
            alternate: list[str] | None = None) -> None:
    """Run the camera's pipeline on ``video`` decoded by ``decoder`` (``--set`` plus the
    ``alternate`` KEY=VALUE settings); print (and append to ``--json``) the CPU ms a frame of each item."""
    import facesel.detect.schedule as schedule_module
    from capacity import extra_settings, make_config
    from facesel.serve.pipeline_adapter import PipelineAdapter
    from facesel.serve.retention import open_camera_vault
    from facesel.sinks import VaultSink
    from facesel.sources import backends
    from facesel.sources.decoded import Unconverted

    totals = charge.totals
    settings = {"scorer": args.scorer, "mode": args.mode, "detect_every": args.detect_every, "threads": threads,
                **extra_settings(args.set + list(alternate or []))}
    frames = 105 * args.passes
    decode, convert = [0.0], [0.0]
    with tempfile.TemporaryDirectory(prefix="facesel-frame-costs-") as folder:
        config = make_config(Path(folder), [video], 1, settings, coarsen=False, shrink_in_decoder=decoder == "pyav")
        camera = next(iter(config.cameras.values()))
        vault = open_camera_vault(camera)
        charge.wrap(vault, "seal", "sealing")
        adapter = PipelineAdapter(camera.settings, sinks=[VaultSink(vault)])
        selector = adapter.selector
        # the stage timers on the CPU clock of the thread that runs each stage
        selector._front_timer.clock = selector._back_timer.clock = time.thread_time
        selector._detect.clock = time.thread_time
        if decoder == "pyav-lazy":  # serve's lazy+skip path: the frame waits decoded, converted when taken
            connection = backends.PyAVFileConnection(video, loop=True, keep_picture=False, convert_on_take=True)
        else:
            kind = backends.PyAVFileConnection if decoder == "pyav" else backends.FileConnection
            connection = kind(video, loop=True)

        def decoded():
            for _ in range(frames):
                start = time.thread_time()
                pixels, stamp = connection.read()
                decode[0] += time.thread_time() - start
                if isinstance(pixels, Unconverted):
                    start = time.thread_time()
                    pixels = pixels.convert()
                    convert[0] += time.thread_time() - start
                yield pixels, stamp

        start_all = time.process_time()
        for _ in selector.run(decoded(), live=False):
            pass
        selector.flush()
        whole = time.process_time() - start_all
        connection.close()
        vault.close()
    stages = selector.timings
    items = {"decode (+ YUV -> BGR)" if decoder != "pyav-lazy" else "decode (H.264 only)": decode[0]}
    if decoder == "pyav-lazy":
        items["YUV -> BGR conversion (on take)"] = convert[0]
    detection = stages["detection"]
    for label in ("full-frame shrink", "region cut + shrink", "scene-change thumbnail", "YuNet padding",
                  "YuNet network, full frames", "YuNet network, coarse full frames", "YuNet network, region squares",
                  "YuNet output decoding"):
        items[label] = totals[label]
        detection -= totals[label]
    items["detection: the rest (region planning, NMS, mapping back)"] = detection
    items["tracking"] = stages["tracking"]
    for stage in ("alignment", "screening", "scoring"):
        items[stage] = stages[stage]
    items["finaliser"] = totals["finaliser"]
    items["sealing"] = totals["sealing"]
    # the finaliser's end-of-stream flush runs under the sinks' timer: charge both together
    items["selection + sinks: the rest (track store, results, purge)"] = (
        stages["selection"] + stages["sinks"] - totals["finaliser"] - totals["sealing"])
    items["the rest (Python between stages, queues, threads)"] = whole - sum(items.values())
    print(f"{args.video}: {frames} frames, mode {args.mode}, detect_every {args.detect_every}, scorer {args.scorer}, "
          f"{threads} stage thread(s), {' '.join(args.set + list(alternate or []))}, {__import__('cv2').getNumThreads()} OpenCV thread(s), {_DECODERS[decoder]}"
          f"; CPU ms a frame ({selector.work['full_detections']} full-frame detections "
          f"({selector.work['full_coarse']} of them coarse), "
          f"{selector.work['regions']} regions searched, {selector.work.get('scored', '?')} crops scored)")
    for label, seconds in items.items():
        print(f"  {label:60s} {1000 * seconds / frames:7.2f}  {100 * seconds / whole:5.1f} %")
    print(f"  {'total (process CPU)':60s} {1000 * whole / frames:7.2f}")
    if args.json:
        with open(args.json, "a") as out:
            out.write(json.dumps({"frames": frames, "args": vars(args), "decoder": decoder, "threads": threads,
                                  "region_search": region_search, "alternate": alternate or [],
                                  "thumbnail": "plain" if schedule_module.sampled is _plain_sample else "sampled",
                                  "area_path": schedule_module.AREA_PATH, "work": selector.work,
                                  "ms_per_frame": {k: 1000 * v / frames for k, v in items.items()},
                                  "total_ms_per_frame": 1000 * whole / frames}) + "\n")


if __name__ == "__main__":
    sys.exit(main())
