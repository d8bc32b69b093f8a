"""Instructions a frame of one ``facesel serve`` camera executes, stage by stage, counted by callgrind (issue 27).

    python benchmarks/frame_instructions.py [--video arcade_walkers_1080p.mp4] [--height 720] \
        [--warmup 5] [--frames 60] [--set detect_every=16 coarse_max_side=640 fine_every=4] \
        [--trees /tmp/main-tree .] [--json OUT]

Not a test (not in CI). Wall and CPU time on a machine shared with other work move with that work;
the instructions executed do not (the same frames through the same code execute the same
instructions, up to a few hash seeds and allocator states). Each tree named by ``--trees`` (a
folder holding ``python/facesel``, e.g. ``git archive main python`` unpacked with the compiled
``_core`` copied in; ``.`` is this checkout) runs in a child process under ``valgrind
--tool=callgrind``: one serve camera's pipeline (``capacity.make_config``: serve's config checking,
the camera's settings and ``SERVE_PIPELINE_DEFAULTS``, a vault sink sealing under a fresh authority,
the finaliser on), its file decoded by serve's file camera (:class:`facesel.sources.backends.
FileConnection`), decoding and every stage on one thread (``threads = 1``: a camera's two stage
threads do the same work, plus their hand-overs). After ``--warmup`` frames callgrind's counts are
zeroed; after ``--frames`` more they are dumped. Each stage runs inside a C function of its own
(:mod:`callgrind_marks`), whose inclusive count is the stage's:

- decode + convert: ``FileConnection.read`` (demuxing, H.264, FFmpeg's YUV -> BGR into an array);
- detection: ``DetectStage.detect``, of which: the scene-change thumbnail, the whole-frame shrink
  (``shrink`` to the detection size), the full-frame network (one tier or the coarse tier), the
  region search (``search_regions``: planning, cutting and shrinking squares, their network,
  padding, decoding and mapping back), YuNet's padding and output decoding (full frames; the
  regions' inside the region search);
- tracking: ``TrackStage.update``, of which the cues (``SceneChange.update``, ``appearances``,
  ``crowded``, ``box_jumps``, ``pinned_patches``);
- scoring (alignment, screening, the pick rule): ``ScoreStage.process``;
- finaliser (``Finaliser.observe`` / ``process``); sinks + sealing (``Selector._deliver``);
- Python glue: the window's total less the top-level stages (the Selector's loop, frame checks,
  stage timers, packets and views, the driver's generator).

Valgrind runs a simulated CPU (no AVX-512: ONNX Runtime and OpenCV take their AVX2 paths), at
about 50x the time; counts are instructions, not cycles (a cache miss costs nothing here).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_args import (add_child_arguments, add_video_arguments, maybe_transcoded, own_facesel, serve_camera,
                        vault_sinks, video_path)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

TOP = ("decode + convert", "detection", "tracking", "scoring (align, screen, pick rule)", "finaliser",
       "sinks + sealing")
"""The top-level stages; the Python glue is the window's total less these."""

CHILDREN = {
    "detection": ("scene-change thumbnail", "whole-frame shrink", "full-frame network", "coarse full-frame network",
                  "YuNet padding + output decoding (full frames)", "region search"),
    "region search": ("region cut + shrink", "region network", "YuNet padding + output decoding (regions)"),
    "tracking": ("cues",),
}
"""Items counted inside a stage (inclusive counts; the stage's own rest is the difference)."""


def _network_label(marks):
    def label(detector, batch):
        if marks.inside("region search"):
            return "region network"
        sides = batch.shape[1:3] if batch.dtype.itemsize == 1 else batch.shape[2:4]  # (N, H, W, 3) or (N, 3, H, W)
        if batch.shape[0] == 1 and max(sides) < 640:
            return "coarse full-frame network"
        return "full-frame network"
    return label


def child(args) -> int:
    """Run in the measured process: wrap, run the window, dump, write the labels and counters."""
    own_facesel()  # without it, an editable install would make every tree count its checkout's code
    from callgrind_marks import Marks

    import facesel.detect.schedule as schedule_module
    import facesel.detect.stage as stage_module
    import facesel.detect.yunet as yunet_module
    import facesel.track as track_module
    from capacity import extra_settings
    from facesel.select.finalise import Finaliser
    from facesel.sources import backends
    from facesel.track_cues import SceneChange

    marks = Marks()

    def padding_label(*_):
        return ("YuNet padding + output decoding (regions)" if marks.inside("region search")
                else "YuNet padding + output decoding (full frames)")

    marks.wrap(yunet_module, "shrink", "whole-frame shrink")
    marks.wrap(stage_module, "shrink", "whole-frame shrink")  # two-tier detection's coarse copies
    marks.wrap(yunet_module.YuNetDetector, "_run_onnx", _network_label(marks))
    for name in ("_decode_outputs", "_as_detections"):
        marks.wrap(yunet_module.YuNetDetector, name, padding_label)
    for name in ("_padded", "_padded_batches"):
        marks.wrap(yunet_module, name, padding_label)
    marks.wrap(stage_module, "search_regions", "region search")
    marks.wrap(schedule_module, "cut_square", "region cut + shrink")
    marks.wrap(schedule_module, "shrink_squares", "region cut + shrink")
    marks.wrap(schedule_module, "_thumbnail", "scene-change thumbnail")
    marks.wrap(SceneChange, "update", "cues")
    for name in ("appearances", "crowded", "box_jumps", "pinned_patches"):
        marks.wrap(track_module, name, "cues")
    for name in ("observe", "process", "flush"):
        marks.wrap(Finaliser, name, "finaliser")

    settings = {"threads": 1, **extra_settings(args.set)}
    video = Path(args.video)
    with serve_camera(video, settings, vault_sinks, prefix="facesel-frame-instructions-") as (adapter, _):
        selector = adapter.selector
        marks.wrap(selector._detect, "detect", "detection")
        marks.wrap(selector._track, "update", "tracking")
        marks.wrap(selector._score, "process", "scoring (align, screen, pick rule)")
        marks.wrap(selector, "_deliver", "sinks + sealing")
        connection = backends.FileConnection(video, loop=True)
        calls_at_zero = {}

        def frames():
            for index in range(args.warmup + args.frames):
                if index == args.warmup:
                    calls_at_zero.update(marks.calls)
                    marks.zero()
                yield marks.run("decode + convert", connection.read)
            # the last frame of the window is processed before the generator is asked again
            marks.dump("window")
            calls_at_zero["__end__"] = dict(marks.calls)

        for _ in selector.run(frames(), live=False):
            pass
        work = dict(selector.work)
        connection.close()
    end = calls_at_zero.pop("__end__")
    calls = {label: end[label] - calls_at_zero.get(label, 0) for label in end}
    import facesel

    Path(args.child_out).write_text(json.dumps({"names": marks.trampoline_names(), "calls": calls, "work": work,
                                                "on_valgrind": marks.on_valgrind, "facesel": facesel.__file__}))
    return 0


def measure(tree: Path, video: Path, args, folder: Path) -> dict:
    """Run one child under callgrind with ``tree``'s facesel; per-frame counts by stage."""
    sys.path.insert(0, str(HERE))
    from callgrind_marks import callgrind_command, environment_for_valgrind, read_dump

    out, info = folder / "callgrind.out", folder / "child.json"
    env = environment_for_valgrind()
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "python"), env.get("PYTHONPATH", "")])
    command = callgrind_command(out) + [sys.executable, str(Path(__file__).resolve()), "--child", "--child-out",
                                        str(info), "--video", str(video), "--warmup", str(args.warmup),
                                        "--frames", str(args.frames), "--set", *args.set]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    meta = json.loads(info.read_text())
    (dump,) = [p for p in folder.iterdir() if p.name.startswith("callgrind.out.")]  # the window's own dump
    counts = read_dump(dump, meta["names"])
    if args.keep:
        import shutil

        Path(args.keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(dump, Path(args.keep) / f"{tree.name or 'tree'}-{video.stem}.callgrind")
    return {"tree": str(tree), "video": str(video), "frames": args.frames, "warmup": args.warmup, "set": args.set,
            "counts": counts, "calls": meta["calls"], "work": meta["work"], "on_valgrind": meta["on_valgrind"],
            "facesel": meta["facesel"]}


def table(result: dict) -> list[tuple[str, float]]:
    """(item, million instructions a frame) rows: top-level stages with their items indented, the glue, the total."""
    counts, frames = result["counts"], result["frames"]
    rows = []

    def add(label, depth):
        value = counts.get(label, 0)
        rows.append(("  " * depth + label, value / frames / 1e6))
        inner = CHILDREN.get(label, ())
        for child_label in inner:
            add(child_label, depth + 1)
        if inner:
            rest = value - sum(counts.get(c, 0) for c in inner)
            rows.append(("  " * (depth + 1) + f"{label}: the rest", rest / frames / 1e6))

    for label in TOP:
        add(label, 0)
    glue = counts["total"] - sum(counts.get(label, 0) for label in TOP)
    rows.append(("Python glue (total less the stages)", glue / frames / 1e6))
    rows.append(("total", counts["total"] / frames / 1e6))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_video_arguments(parser)
    parser.add_argument("--warmup", type=int, default=5, help="frames before the window")
    parser.add_argument("--frames", type=int, default=60, help="frames in the window")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="pipeline settings of the camera (serve's defaults otherwise)")
    parser.add_argument("--trees", nargs="+", default=["."], help="code trees to count, each in turn")
    parser.add_argument("--json", default=None, help="append each tree's counts here (JSON lines)")
    parser.add_argument("--keep", default=None, help="copy each window's callgrind dump into this folder "
                        "(for callgrind_annotate: which functions the instructions went to)")
    add_child_arguments(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    sys.path.insert(0, str(HERE))
    video = video_path(args.video)
    with tempfile.TemporaryDirectory(prefix="facesel-instructions-") as scratch:
        video = maybe_transcoded(video, args.height, Path(scratch))
        results = []
        for i, tree in enumerate(args.trees):
            folder = Path(scratch) / f"run{i}"
            folder.mkdir()
            result = measure(Path(tree).resolve(), video, args, folder)
            results.append(result)
            if args.json:
                with open(args.json, "a") as out:
                    out.write(json.dumps(result) + "\n")
            print(f"{tree}: {video.name}, {args.frames} frames after {args.warmup}, {' '.join(args.set) or 'serve defaults'}; "
                  f"work {result['work']}; facesel from {result['facesel']}", flush=True)
    rows = [table(r) for r in results]
    head = "million instructions a frame".ljust(58) + "".join(f"{Path(t).name or t:>14s}" for t in args.trees)
    print(head)
    for i, (label, _) in enumerate(rows[0]):
        print(f"{label:58s}" + "".join(f"{r[i][1]:14.3f}" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
