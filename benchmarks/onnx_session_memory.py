"""Resident memory of N serve cameras in one process under ONNX Runtime's session options: what does
each extra camera cost with the CPU memory arena on (before session 26) and off? (issue 27, session 26)

    python benchmarks/onnx_session_memory.py [--cameras 1 2 4] [--frames 40] \
        [--variants arena no_arena mem_pattern no_arena+mem_pattern] [--rounds 2] [--json OUT]

Not a test (not in CI). Each (variant, N) runs in a fresh process: N cameras of ``facesel serve``
(``capacity.make_config``: serve's config checking, ``SERVE_PIPELINE_DEFAULTS``, each camera's own
vault, the governor off) over the shared arcade video, each camera's pipeline in a thread of its
own, every camera decoding its own copy of the file by serve's file camera and taking its first
``--frames`` frames as fast as it can (none dropped: memory, not pace, is measured). The
process's YuNet and VAE sessions are shared by its cameras as in serve; every ONNX Runtime session
the process makes gets the variant's options (``arena``: facesel's options before session 26, the
arena on; ``no_arena``: ``enable_cpu_mem_arena = False``; ``mem_pattern``: ``enable_mem_pattern =
True``). Printed: VmRSS at the end (every camera done, its vault closed) and VmHWM (the peak),
MiB, and per variant the memory an extra camera adds, (RSS(N) - RSS(1)) / (N - 1). Variants and
N alternate round after round; the machine's other work moves the peak (threads interleave
differently), the options do not change the work. Faces stay in memory; only sealed results reach
the vaults' temporary folders.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from pathlib import Path

from bench_args import add_child_arguments, add_video_arguments, own_facesel, video_path

HERE = Path(__file__).resolve().parent

VARIANTS = ("arena", "no_arena", "mem_pattern", "no_arena+mem_pattern", "env_arena", "env_arena_same")
"""``env_arena``: one CPU arena for every session of the process (registered on ONNX Runtime's
environment, ``session.use_env_allocators = 1``), grown as ONNX Runtime grows its own (the next
power of two); ``env_arena_same``: the same grown by what is asked (``arena_extend_strategy`` 1,
kSameAsRequested)."""


def apply_variant(variant: str) -> None:
    """Every ``onnxruntime.InferenceSession`` made after this gets ``variant``'s options."""
    import onnxruntime as ort

    options = set(variant.split("+")) - {"arena"}
    unknown = options - {"no_arena", "mem_pattern", "env_arena", "env_arena_same"}
    if unknown:
        raise SystemExit(f"unknown options {sorted(unknown)}: variants are {VARIANTS}")
    shared = options & {"env_arena", "env_arena_same"}
    if shared:
        info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
        ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, 1 if "env_arena_same" in shared else 0, -1, -1))
    original = ort.InferenceSession

    class Session(original):
        def __init__(self, path_or_bytes, sess_options=None, *args, **kwargs):
            sess_options = sess_options or ort.SessionOptions()
            sess_options.enable_cpu_mem_arena = "no_arena" not in options
            if "mem_pattern" in options:
                sess_options.enable_mem_pattern = True
            if shared:
                sess_options.add_session_config_entry("session.use_env_allocators", "1")
            super().__init__(path_or_bytes, sess_options, *args, **kwargs)

    ort.InferenceSession = Session


def memory() -> dict[str, float]:
    """VmRSS and VmHWM of this process, MiB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def child(args) -> int:
    own_facesel()
    apply_variant(args.variant)
    import tempfile

    from capacity import make_config
    from facesel.serve.pipeline_adapter import PipelineAdapter
    from facesel.serve.retention import open_camera_vault
    from facesel.sinks import VaultSink
    from facesel.sources import backends

    video = Path(args.video)
    errors = []
    with tempfile.TemporaryDirectory(prefix="facesel-session-memory-") as folder:
        config = make_config(Path(folder), [video], args.cameras_now, {}, coarsen=False, paced=False)

        def camera_thread(camera):
            try:  # a vault is used from the thread that opened it (SQLite)
                vault = open_camera_vault(camera)
                adapter = PipelineAdapter(camera.settings, sinks=[VaultSink(vault)])
                connection = backends.FileConnection(video, loop=True)
                frames = (connection.read() for _ in range(args.frames))
                for _ in adapter.selector.run(frames, live=False):
                    pass
                adapter.selector.flush()
                connection.close()
                vault.close()
            except BaseException as err:  # noqa: BLE001 - reported by the parent
                errors.append(repr(err))

        threads = [threading.Thread(target=camera_thread, args=(c,)) for c in config.cameras.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got = memory()
    if errors:
        raise SystemExit("; ".join(errors))
    Path(args.child_out).write_text(json.dumps(got))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_video_arguments(parser, height=False)
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--frames", type=int, default=40, help="frames each camera takes")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every (variant, N), alternated")
    parser.add_argument("--json", default=None)
    parser.add_argument("--cameras-now", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="arena", help=argparse.SUPPRESS)
    add_child_arguments(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    import tempfile

    video = video_path(args.video)
    rows = []
    with tempfile.TemporaryDirectory(prefix="facesel-session-memory-out-") as scratch:
        for round_ in range(args.rounds):
            for n in args.cameras:
                for variant in args.variants:
                    out = Path(scratch) / "child.json"
                    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--child-out",
                                           str(out), "--video", str(video), "--frames", str(args.frames),
                                           "--cameras-now", str(n), "--variant", variant],
                                          capture_output=True, text=True)
                    if done.returncode != 0:
                        raise SystemExit(f"{variant} x {n}: the child failed:\n{done.stderr[-3000:]}")
                    got = json.loads(out.read_text())
                    rows.append({"round": round_, "cameras": n, "variant": variant, **got})
                    print(f"round {round_} cameras {n} {variant:22s} VmRSS {got['VmRSS']:7.1f} MiB "
                          f"VmHWM {got['VmHWM']:7.1f} MiB", flush=True)
    print("\nper variant: median over rounds, MiB; an extra camera = (RSS(N) - RSS(1)) / (N - 1)")
    import statistics

    for variant in args.variants:
        med = {n: {k: statistics.median(r[k] for r in rows if r["variant"] == variant and r["cameras"] == n)
                   for k in ("VmRSS", "VmHWM")} for n in args.cameras}
        line = "  ".join(f"N={n}: {m['VmRSS']:.1f} (peak {m['VmHWM']:.1f})" for n, m in med.items())
        first = args.cameras[0]
        extra = "  ".join(f"extra camera to N={n}: {(med[n]['VmRSS'] - med[first]['VmRSS']) / (n - first):.1f}"
                          f" (peak {(med[n]['VmHWM'] - med[first]['VmHWM']) / (n - first):.1f})"
                          for n in args.cameras[1:])
        print(f"{variant:22s} {line}  |  {extra}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
