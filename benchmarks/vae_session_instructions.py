"""The scorer's VAE under ONNX Runtime's session options: the same outputs? how many instructions?
(issue 27, session 26)

    python benchmarks/vae_session_instructions.py [--video arcade_walkers_1080p.mp4] [--frames 40] \
        [--variants arena no_arena mem_pattern no_arena+mem_pattern] [--no-count] [--json OUT]

Not a test (not in CI). One serve camera's pipeline (serve's defaults, ``capacity.make_config``)
runs natively over ``--frames`` frames of the video, and every call of the VAE
(:meth:`facesel.scoring.vae_runtime.VAERunner.run`: the kept 64 x 64 grey crops, the number of
latent samples, the seed) is kept **in memory**. Then:

1. *Same outputs* (natively): every call through a :class:`VAERunner` of each variant's sessions;
   every output (``mu_z``, ``log_sigma_z``, ``mu_x``, ``log_sigma_x``) compared bit for bit with
   the first variant's.
2. *Instructions* (``valgrind --tool=callgrind``): a child receives the calls through a pipe (no
   face pixels on disk), warms every variant once uninstrumented, then runs each variant over all
   calls inside a C function of its own (:mod:`callgrind_marks`).

Variants: ``arena`` (facesel's session options before session 26: the CPU arena on, the memory
pattern off), ``no_arena`` (``enable_cpu_mem_arena = False``), ``mem_pattern``
(``enable_mem_pattern = True``), and ``+``-joined combinations.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_args import add_child_arguments, add_video_arguments, own_facesel, serve_camera, video_path

HERE = Path(__file__).resolve().parent


def runner_for(variant: str, paths: tuple[str, str]):
    """A :class:`VAERunner` of the model ``paths`` (encoder, decoder) whose sessions have ``variant``'s
    options (one thread)."""
    import onnxruntime as ort

    from facesel.scoring import vae_runtime

    options = set(variant.split("+")) - {"arena"}
    if options - {"no_arena", "mem_pattern"}:
        raise SystemExit(f"unknown variant {variant!r}")
    original = ort.InferenceSession

    def session(path, sess_options=None, providers=None):
        sess_options.enable_cpu_mem_arena = "no_arena" not in options
        if "mem_pattern" in options:
            sess_options.enable_mem_pattern = True
        return original(path, sess_options=sess_options, providers=providers)

    ort.InferenceSession = session
    try:
        return vae_runtime.VAERunner(Path(paths[0]), Path(paths[1]), threads=1, use_cuda=False)
    finally:
        ort.InferenceSession = original


def capture(video: Path, frames: int) -> tuple[list[tuple], tuple[str, str]]:
    """``(crops, samples, use_mean, seed)`` of every VAE call of one serve camera over ``frames``
    frames, and the (encoder, decoder) files its runner loaded."""
    from facesel.scoring import vae_runtime
    from facesel.sources import backends

    kept, paths = [], []
    run, init = vae_runtime.VAERunner.run, vae_runtime.VAERunner.__init__

    def keeping(self, crops, samples, use_mean, seed):
        kept.append((crops.copy(), samples, use_mean, seed))
        return run(self, crops, samples, use_mean, seed)

    def loading(self, encoder_path, decoder_path, *a, **k):
        paths.append((str(encoder_path), str(decoder_path)))
        return init(self, encoder_path, decoder_path, *a, **k)

    vae_runtime.VAERunner.run, vae_runtime.VAERunner.__init__ = keeping, loading
    vae_runtime._runners.clear()
    try:
        with serve_camera(video, {"threads": 1}) as (adapter, _):
            connection = backends.FileConnection(video, loop=True)
            for _ in adapter.selector.run((connection.read() for _ in range(frames)), live=False):
                pass
            adapter.selector.flush()
            connection.close()
    finally:
        vae_runtime.VAERunner.run, vae_runtime.VAERunner.__init__ = run, init
    if len(set(paths)) != 1:
        raise SystemExit(f"expected one VAE model in the camera, loaded {sorted(set(paths))}")
    return kept, paths[0]


def outputs(runner, call) -> list:
    crops, samples, use_mean, seed = call
    out = runner.run(crops, samples, use_mean, seed)
    return [out.mu_z, out.log_sigma_z, out.mu_x, out.log_sigma_x]


def compare(calls, variants, paths) -> dict:
    base = [outputs(runner_for(variants[0], paths), c) for c in calls]
    report = {}
    for variant in variants[1:]:
        runner = runner_for(variant, paths)
        got = [outputs(runner, c) for c in calls]
        report[variant] = {"identical": all(a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
                                            for x, y in zip(base, got) for a, b in zip(x, y)),
                           "calls": len(calls)}
    return report


def child(args) -> int:
    own_facesel()
    import numpy as np
    from callgrind_marks import Marks

    kept, paths = pickle.load(sys.stdin.buffer)
    calls = [(np.frombuffer(c.tobytes(), np.uint8).reshape(c.shape), s, m, seed)  # numpy's own dtype
             for c, s, m, seed in kept]
    marks = Marks()
    runners = {variant: runner_for(variant, paths) for variant in args.variants}
    for runner in runners.values():
        for call in calls:
            outputs(runner, call)
    marks.zero()
    for variant, runner in runners.items():
        for call in calls:
            marks.run(variant, outputs, runner, call)
    marks.dump("window")
    Path(args.child_out).write_text(json.dumps({"names": marks.trampoline_names(), "calls": marks.calls}))
    return 0


def count(calls, paths, variants, folder: Path) -> dict:
    from callgrind_marks import callgrind_command, environment_for_valgrind, read_dump

    out, info = folder / "callgrind.out", folder / "child.json"
    command = callgrind_command(out) + [sys.executable, str(Path(__file__).resolve()), "--child", "--child-out",
                                        str(info), "--variants", *variants]
    done = subprocess.run(command, env=environment_for_valgrind(), input=pickle.dumps((calls, paths)), capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"the child failed ({done.returncode}):\n{done.stderr.decode()[-4000:]}")
    meta = json.loads(info.read_text())
    (dump,) = [p for p in folder.iterdir() if p.name.startswith("callgrind.out.")]
    return read_dump(dump, meta["names"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_video_arguments(parser, height=False)
    parser.add_argument("--frames", type=int, default=40, help="frames of the camera whose VAE calls are kept")
    parser.add_argument("--variants", nargs="+", default=["arena", "no_arena", "mem_pattern", "no_arena+mem_pattern"])
    parser.add_argument("--no-count", action="store_true", help="compare outputs only (no callgrind)")
    parser.add_argument("--json", default=None)
    add_child_arguments(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    calls, paths = capture(video_path(args.video), args.frames)
    crops = sum(len(c[0]) for c in calls)
    print(f"kept {len(calls)} VAE calls of {crops} crops in {args.frames} frames")
    result = {"calls": len(calls), "crops": crops, "model": paths, "same": compare(calls, args.variants, paths)}
    for variant, same in result["same"].items():
        print(f"{variant} against {args.variants[0]}: {same}")
    if not args.no_count:
        with tempfile.TemporaryDirectory(prefix="facesel-vae-cg-") as folder:
            counts = count(calls, paths, args.variants, Path(folder))
        result["counts"] = counts
        print(f"\nmillion instructions a crop ({crops} crops)")
        for variant in args.variants:
            print(f"{variant:24s} {counts.get(variant, 0) / crops / 1e6:10.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
