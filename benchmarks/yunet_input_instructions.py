"""YuNet's network by input layout and ONNX Runtime session options: the same outputs? how many
instructions? (issue 27, session 24)

    python benchmarks/yunet_input_instructions.py [--video arcade_walkers_1080p.mp4] [--skip 8] \
        [--frames 8] [--variants bgr_uint8 planar_float32 planar_float32+no_arena ...]

Not a test (not in CI). A small harness instead of ``frame_instructions.py``'s whole camera (40-60
minutes under callgrind on a loaded machine): one serve camera's pipeline (serve's defaults,
``capacity.make_config``) runs natively over ``--skip`` + ``--frames`` frames of the video, and
every network input of the window is kept **in memory**: the shrunk whole frames handed to
``YuNetDetector._detect_onnx`` and the region squares handed to ``detect_squares``. Then:

1. *Same outputs* (natively, this CPU): each input through every variant's detector; every output
   tensor of the network and every decoded face compared bit for bit with the first variant's.
2. *Instructions* (``valgrind --tool=callgrind``): a child receives the inputs through a pipe (no
   face pixels on disk), warms every variant once uninstrumented, then runs each variant over all
   inputs inside a C function of its own (:mod:`callgrind_marks`): padding (``_padded`` /
   ``_padded_batches``: the C++ core's letterbox, uint8 or planar float32), the network
   (``_run_onnx``), and the detector call in all (padding, network and output decoding).
   Under a load of 10-12 on two cores, two variants over 4 frames took 24 minutes (about 7 CPU
   minutes); five variants over 8 frames did not finish in 35.

A variant is an input layout (:data:`facesel.detect.yunet_graph.INPUT_LAYOUTS`) and optional ``+``
options of the ONNX Runtime session: ``no_arena`` (``enable_cpu_mem_arena = False``), ``mem_pattern``
(``enable_mem_pattern = True``), ``spin`` (``session.intra_op.allow_spinning = 1``), ``basic`` /
``extended`` / ``all`` / ``none`` (``graph_optimization_level``; facesel's default: all).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_args import add_child_arguments, add_video_arguments, own_facesel, serve_camera, vault_sinks, video_path

HERE = Path(__file__).resolve().parent

OPTIONS = ("no_arena", "mem_pattern", "spin", "none", "basic", "extended", "all")


def make_session(variant: str, threads: int = 1):
    """A ``facesel.detect.yunet._Session`` of the variant's layout, with its session options."""
    import onnxruntime as ort

    from facesel.detect import yunet, yunet_graph

    layout, *options = variant.split("+")
    unknown = [o for o in options if o not in OPTIONS]
    if layout not in yunet_graph.INPUT_LAYOUTS or unknown:
        raise SystemExit(f"unknown variant {variant!r}: layouts {yunet_graph.INPUT_LAYOUTS}, options {OPTIONS}")
    session = yunet._Session.__new__(yunet._Session)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if "spin" in options else "0")
    opts.enable_mem_pattern = "mem_pattern" in options
    if "no_arena" in options:
        opts.enable_cpu_mem_arena = False
    levels = {"none": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
              "all": "ORT_ENABLE_ALL"}
    for name, level in levels.items():
        if name in options:
            opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    session.input_layout = layout
    session._session = ort.InferenceSession(yunet_graph.graph_bytes(layout), opts, providers=["CPUExecutionProvider"])
    session.output_names = [o.name for o in session._session.get_outputs()]
    return session


def detector_for(variant: str, sessions: dict):
    """A YuNetDetector (serve's threshold) running ``variant``'s session."""
    from facesel.detect.yunet import YuNetDetector

    detector = YuNetDetector(min_confidence=0.6)
    if variant not in sessions:
        sessions[variant] = make_session(variant)
    detector._session = sessions[variant]
    detector.network_input = sessions[variant].input_layout
    return detector


def capture(video: Path, skip: int, frames: int) -> list[tuple]:
    """The network inputs of frames ``skip`` .. ``skip + frames - 1`` of one serve camera (serve's
    defaults): ``("full", image)`` and ``("squares", [square, ...])``, copies, in call order."""
    import facesel.detect.yunet as yunet_module
    from facesel.sources import backends

    kept, window = [], [False]
    detect_onnx, detect_squares = yunet_module.YuNetDetector._detect_onnx, yunet_module.YuNetDetector.detect_squares

    def full(self, image, back):
        if window[0]:
            kept.append(("full", image.copy()))
        return detect_onnx(self, image, back)

    def squares(self, regions):
        if window[0]:
            kept.append(("squares", [r.copy() for r in regions]))
        return detect_squares(self, regions)

    yunet_module.YuNetDetector._detect_onnx, yunet_module.YuNetDetector.detect_squares = full, squares
    try:
        with serve_camera(video, {"threads": 1}, vault_sinks, prefix="facesel-yunet-input-") as (adapter, _):
            connection = backends.FileConnection(video, loop=True)

            def source():
                for index in range(skip + frames):
                    window[0] = index >= skip
                    yield connection.read()

            for _ in adapter.selector.run(source(), live=False):
                pass
            connection.close()
    finally:
        yunet_module.YuNetDetector._detect_onnx, yunet_module.YuNetDetector.detect_squares = detect_onnx, detect_squares
    return kept


def run_one(detector, item):
    """One kept input through ``detector``: its decoded faces."""
    import numpy as np

    kind, data = item
    if kind == "full":
        return [detector._detect_onnx(data, np.ones(2, np.float32))]
    return detector.detect_squares(data)


def compare(items, variants) -> dict:
    """Every network output and decoded face of each variant against the first variant's, natively."""
    import numpy as np

    from facesel.detect.yunet import YuNetDetector

    sessions, results = {}, {}
    for variant in variants:
        detector = detector_for(variant, sessions)
        tensors, faces = [], []
        run = YuNetDetector._run_onnx

        def recording(self, batch, _run=run, _tensors=tensors):
            out = _run(self, batch)
            _tensors.append({k: v.copy() for k, v in out.items()})
            return out

        detector._run_onnx = recording.__get__(detector)
        for item in items:
            faces.append(run_one(detector, item))
        results[variant] = (tensors, faces)

    def same_faces(a, b):
        if hasattr(a, "boxes"):
            a, b = (a.boxes, a.scores, a.landmarks), (b.boxes, b.scores, b.landmarks)
        return all(x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes() for x, y in zip(a, b))

    base_tensors, base_faces = results[variants[0]]
    report = {}
    for variant in variants[1:]:
        tensors, faces = results[variant]
        tensor_same = len(tensors) == len(base_tensors) and all(
            t.keys() == u.keys() and all(t[k].tobytes() == u[k].tobytes() and t[k].shape == u[k].shape for k in t)
            for t, u in zip(tensors, base_tensors))
        differing = sum(not np.array_equal(t[k], u[k]) for t, u in zip(tensors, base_tensors) for k in t)
        face_same = all(len(f) == len(g) and all(same_faces(x, y) for x, y in zip(f, g)) for f, g in zip(faces, base_faces))
        report[variant] = {"tensors_identical": tensor_same, "tensors_differing": differing,
                           "faces_identical": face_same, "network_calls": len(tensors)}
    return report


def child(args) -> int:
    """Under callgrind: the kept inputs from stdin, each variant warmed once, then counted."""
    own_facesel()
    import numpy as np
    from callgrind_marks import Marks

    import facesel.detect.yunet as yunet_module

    # Unpickled arrays carry a dtype equal to, but not the same object as, numpy's uint8, which the
    # C++ core's checks refuse ("must be uint8, got dtype uint8"): rebuilt on numpy's own dtype.
    def canonical(a):
        return np.frombuffer(a.tobytes(), np.uint8).reshape(a.shape)

    items = [(kind, canonical(data) if kind == "full" else [canonical(r) for r in data])
             for kind, data in pickle.load(sys.stdin.buffer)]
    marks = Marks()
    current = [""]
    marks.wrap(yunet_module, "_padded", lambda *_: f"{current[0]}: padding")
    marks.wrap(yunet_module, "_padded_batches", lambda *_: f"{current[0]}: padding")
    marks.wrap(yunet_module.YuNetDetector, "_run_onnx", lambda *_: f"{current[0]}: network")
    sessions = {}
    detectors = {variant: detector_for(variant, sessions) for variant in args.variants}
    for variant, detector in detectors.items():  # uninstrumented: first-call allocations, kernels chosen
        current[0] = f"warm {variant}"
        for item in items:
            run_one(detector, item)
    marks.zero()
    for variant, detector in detectors.items():
        current[0] = variant
        for kind in ("full", "squares"):
            for item in items:
                if item[0] == kind:
                    marks.run(f"{variant}: {kind}", run_one, detector, item)
    marks.dump("window")
    Path(args.child_out).write_text(json.dumps({"names": marks.trampoline_names(), "calls": marks.calls,
                                                "on_valgrind": marks.on_valgrind}))
    return 0


def count(items, variants, folder: Path) -> dict:
    from callgrind_marks import callgrind_command, environment_for_valgrind, read_dump

    out, info = folder / "callgrind.out", folder / "child.json"
    env = environment_for_valgrind()
    command = callgrind_command(out) + [sys.executable, str(Path(__file__).resolve()), "--child", "--child-out",
                                        str(info), "--variants", *variants]
    done = subprocess.run(command, env=env, input=pickle.dumps(items), capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"the child failed ({done.returncode}):\n{done.stderr.decode()[-4000:]}")
    meta = json.loads(info.read_text())
    (dump,) = [p for p in folder.iterdir() if p.name.startswith("callgrind.out.")]
    return {"counts": read_dump(dump, meta["names"]), "calls": meta["calls"], "on_valgrind": meta["on_valgrind"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_video_arguments(parser, height=False)
    parser.add_argument("--skip", type=int, default=8, help="frames before the kept window")
    parser.add_argument("--frames", type=int, default=8, help="frames whose network inputs are kept")
    parser.add_argument("--variants", nargs="+", default=["bgr_uint8", "planar_float32"])
    parser.add_argument("--no-count", action="store_true", help="compare outputs only (no callgrind)")
    parser.add_argument("--json", default=None, help="write the results here")
    add_child_arguments(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    sys.path.insert(0, str(HERE))
    video = video_path(args.video)
    items = capture(video, args.skip, args.frames)
    full = sum(kind == "full" for kind, _ in items)
    squares = sum(len(data) for kind, data in items if kind == "squares")
    print(f"kept {full} full-frame inputs and {squares} region squares in {len(items) - full} calls, "
          f"frames {args.skip}-{args.skip + args.frames - 1} of {video.name}")
    result = {"video": video.name, "skip": args.skip, "frames": args.frames, "full_frames": full, "squares": squares,
              "same": compare(items, args.variants)}
    for variant, same in result["same"].items():
        print(f"{variant} against {args.variants[0]}: {same}")
    if not args.no_count:
        with tempfile.TemporaryDirectory(prefix="facesel-yunet-input-cg-") as folder:
            result.update(count(items, args.variants, Path(folder)))
        counts = result["counts"]
        print(f"\nmillion instructions a kept frame ({args.frames} frames)")
        print(f"{'variant':40s} {'full frames':>12s} {'squares':>10s} {'padding':>9s} {'network':>9s}")
        for variant in args.variants:
            row = [counts.get(f"{variant}: {key}", 0) / args.frames / 1e6 for key in ("full", "squares", "padding",
                                                                                       "network")]
            print(f"{variant:40s} {row[0]:12.3f} {row[1]:10.3f} {row[2]:9.3f} {row[3]:9.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
