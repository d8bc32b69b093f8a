"""Does a live, governed camera's choice agree with its exhaustive run as today? (issue 27, session 16)

    python experiments/governed_agreement.py record --continuous-into /tmp/s16-video --cameras 4 \\
        --seconds 40 --warmup 10 --variant lazy+skip --trace /tmp/s16-trace.json
    python experiments/governed_agreement.py replay --continuous-into /tmp/s16-video --trace /tmp/s16-trace.json [...]

Not a test. ``record`` runs ``--cameras`` paced live cameras through ``facesel serve``'s own code
(``benchmarks/capacity.py``'s configuration and ``--variant``) and writes, for each camera, every
frame its pipeline took: the frame's sequence number (its index in the file: frames the camera
dropped are missing) and the schedule the load governor had set for it (``detect_every``, two tiers
on), read right after the governor saw the frame (``ScheduleGovernor.observe`` wrapped: the
experiment's own instrument; the pipeline is unchanged), and the camera's detection phase.

``replay`` runs the Selector (serve's pipeline settings: ``SERVE_PIPELINE_DEFAULTS``, one thread,
OpenCV decoding) over the same file's frames three ways per camera and compares each choice with
the exhaustive run's over the frames the camera's run spanned (the yardstick of docs/serve.md's
agreement table: ``facesel.select.agreement``):

- *governed*: the frames the camera took, each at the schedule the governor had set for it (the
  camera as it ran, drops included);
- *configured*: every frame at the configured schedule (``detect_every`` 4, one tier): today's
  choice for a camera that keeps up, "as today";
- *cap*: every frame at the governor's cap (16, two tiers): the floor it falls back to.

Printed per camera: results against the exhaustive run's, and the share of kept crops within their
exhaustive track's top 10 % (own scorer / frame by frame against the exhaustive run's scores).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def continuous_video(args) -> Path:
    """``--video``, or with ``--continuous-into DIR`` the arcade video made into ``capacity.py
    --continuous``'s ping-pong stream in DIR (made once, kept for the replay; never in the repo)."""
    if not args.continuous_into:
        if not args.video:
            raise SystemExit("give --video or --continuous-into")
        return Path(args.video)
    import capacity
    from facesel.data import data_root_or_exit

    folder = Path(args.continuous_into)
    made = folder / "arcade_walkers_1080p_continuous.mp4"
    if not made.exists():
        folder.mkdir(parents=True, exist_ok=True)
        capacity._continuous(data_root_or_exit() / "videos" / "arcade_walkers_1080p.mp4", 80.0, folder)
    return made


def record(args) -> int:
    import capacity
    from facesel.serve.scheduler import ScheduleGovernor
    from facesel.serve.service import Service

    taken: dict[int, list] = {}  # id(governor) -> [(sequence, every, tiered), ...]
    observe = ScheduleGovernor.observe

    def observed(self, waited, interval, sequence, dropped=0):
        observe(self, waited, interval, sequence, dropped)
        taken.setdefault(id(self), []).append((int(sequence), int(self.schedule.every), bool(self.tiered)))

    ScheduleGovernor.observe = observed
    camera_settings, switch, pipeline_settings = capacity.VARIANTS[args.variant]
    if switch is not None:
        sys.setswitchinterval(switch)
    with tempfile.TemporaryDirectory(prefix="facesel-governed-") as folder:
        config = capacity.make_config(Path(folder), [continuous_video(args)], args.cameras,
                                      {"scorer": "default", **pipeline_settings}, True, camera_settings=camera_settings)
        service = Service(config).start()
        try:
            time.sleep(args.warmup + args.seconds)
            cams = service.camera_list()
            out = {"video": str(continuous_video(args)), "variant": args.variant, "seconds": args.warmup + args.seconds,
                   "cameras": {cam.config.name: {"phase": cam.adapter.selector.schedule.phase,
                                                 "dropped": cam.source.stats.frames_dropped,
                                                 "frames": list(taken.get(id(cam.governor), []))}
                               for cam in cams if cam.governor is not None}}
        finally:
            service.stop(timeout=60)
    Path(args.trace).write_text(json.dumps(out))
    for name, cam in out["cameras"].items():
        levels = {}
        for _, every, tiered in cam["frames"]:
            key = f"{every}+tiers" if tiered else str(every)
            levels[key] = levels.get(key, 0) + 1
        print(f"{name}: {len(cam['frames'])} frames taken, {cam['dropped']} dropped, at each schedule {levels}")
    return 0


def file_frames(video: Path, last: int):
    """(image, timestamp) of the file's frames 0..``last``, decoded by OpenCV as they are fed
    (1,250 1080p frames would not fit in memory at once)."""
    from profile_agreement import frames

    for index, frame in enumerate(frames(video, "opencv")):
        if index > last:
            return
        yield frame


def run(video: Path, last: int, settings: dict, plan=None, phase: int = 0):
    """The kept results of the Selector over frames 0..``last`` of ``video``; ``plan``: {index:
    (every, tiered)}, the frames to feed and the schedule set before each (None: every frame, the
    schedule as configured); ``phase``: the schedule's phase (serve's ``stagger_detection``)."""
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.selector import default_detector
    from facesel.serve.pipeline_adapter import make_scorer
    from facesel.sinks import CallbackSink

    config = PipelineConfig(threads=1, **settings)
    kept = []
    with Selector(default_detector(config), make_scorer("default", config), config=config,
                  sinks=[CallbackSink(kept.append)]) as selector:
        if phase and config.mode == "sparse":
            selector.schedule.set_phase(phase)

        def fed():
            for index, (image, timestamp) in enumerate(file_frames(video, last)):
                if plan is not None:
                    if index not in plan:
                        continue  # dropped by the live camera
                    every, tiered = plan[index]
                    selector.schedule.every = every
                    selector.detect_stage.set_tiers(640 if tiered else 0, 4)
                yield image, timestamp
        for _ in selector.run(fed()):
            pass
    return kept


def _shares(plan: dict) -> dict:
    out = {}
    for every, tiered in plan.values():
        key = f"{every}+tiers" if tiered else str(every)
        out[key] = out.get(key, 0) + 1
    return out


def replay(args) -> int:
    import cv2
    from facesel.select.agreement import agreement
    from facesel.serve.config import SERVE_PIPELINE_DEFAULTS

    cv2.setNumThreads(1)
    video = continuous_video(args)
    traces = {name: json.loads(Path(name).read_text()) for name in args.trace}
    last = max(f[0] for trace in traces.values() for cam in trace["cameras"].values() for f in cam["frames"])
    base = dict(SERVE_PIPELINE_DEFAULTS)
    reference = run(video, last, {**base, "mode": "exhaustive"})
    print(f"file frames 0-{last}; the exhaustive run kept {len(reference)} results")
    print("| camera | run | frames fed | schedule shares | results / exhaustive | kept in top 10 % (own / frame by frame) |")
    print("|---|---|---|---|---|---|")
    every_frame = range(last + 1)
    plans = [(f"{Path(path).stem} {name}", "governed", {f[0]: (f[1], f[2]) for f in cam["frames"]}, cam["phase"])
             for path, trace in traces.items() for name, cam in sorted(trace["cameras"].items())
             if "governed" in args.runs]
    # the fixed schedules once for each phase the cameras had (a camera's phase shifts its full
    # frames by 0-3 of 4, and moves which frames are searched whole: compare like with like)
    phases = sorted({cam["phase"] for trace in traces.values() for cam in trace["cameras"].values()})
    plans += [(f"phase {phase}", label, {i: level for i in every_frame}, phase) for phase in phases
              for label, level in (("configured", (4, False)), ("cap", (16, True))) if label in args.runs]
    rows = []
    for name, label, plan, phase in plans:
        kept = run(video, last, {**base, "detect_every": 4}, plan, phase)
        own, by_frame = agreement(kept, reference), agreement(kept, reference, by="frame")
        shares = _shares(plan)
        total = sum(shares.values())
        text = ", ".join(f"{k} {100 * v / total:.0f} %" for k, v in sorted(shares.items()))
        rows.append({"camera": name, "run": label, "frames": len(plan), "shares": shares, "tracks": own.tracks,
                     "reference_tracks": own.reference_tracks, "top10_own": round(own.share_within(0.1), 3),
                     "top10_by_frame": round(by_frame.share_within(0.1), 3)})
        print(f"| {name} | {label} | {len(plan)} | {text} | {own.tracks} / {own.reference_tracks} | "
              f"{100 * own.share_within(0.1):.0f} % / {100 * by_frame.share_within(0.1):.0f} % |", flush=True)
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps({"traces": args.trace, "last_frame": last, "rows": rows}) + "\n")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run paced cameras through serve and write what each took, at which schedule")
    rec.add_argument("--cameras", type=int, default=4)
    rec.add_argument("--seconds", type=float, default=40.0)
    rec.add_argument("--warmup", type=float, default=10.0)
    rec.add_argument("--variant", default="lazy+skip")
    rec.add_argument("--trace", required=True)
    rep = sub.add_parser("replay", help="the recorded cameras' choices against the exhaustive run's")
    for command in (rec, rep):
        command.add_argument("--video", default=None, help="a file (the one the trace was recorded on)")
        command.add_argument("--continuous-into", default=None, metavar="DIR",
                             help="instead of --video: the arcade video as capacity.py --continuous's stream, "
                                  "made in DIR if not there yet (/tmp, never the repo)")
    rep.add_argument("--trace", nargs="+", required=True,
                     help="traces of `record` (or of benchmarks/governor_model.py --trace); the exhaustive run is "
                          "made once over the frames the longest spans")
    rep.add_argument("--runs", nargs="+", default=["governed", "configured", "cap"],
                     choices=("governed", "configured", "cap"))
    rep.add_argument("--json", default=None, help="append the rows here (JSON lines)")
    args = parser.parse_args(argv)
    return record(args) if args.command == "record" else replay(args)


if __name__ == "__main__":
    sys.exit(main())
