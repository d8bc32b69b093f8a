"""CPU a processed frame of one ``facesel serve`` camera, code trees alternated in one run (issue 27, session 20).

    python benchmarks/serve_frame_cpu.py --trees /tmp/main-tree . --rounds 3 [--set detect_every=16 ...]
    python benchmarks/serve_frame_cpu.py --profile /tmp/serve.prof [--set ...]

Not a test (not in CI). One camera through ``facesel serve``'s own code (:class:`facesel.serve.
service.Service`: the camera's source thread decoding the file with serve's PyAV path, the queue,
the Selector's stage threads, the background sealer), unpaced (``capacity.make_config(paced=False)``:
the looping file is read as fast as the camera takes it, none dropped, so every frame decoded is
processed) and without the load governor (the schedule stays where ``--set`` puts it: serve's
configured ``detect_every`` 4 by default; the governor's cap is ``--set detect_every=16
coarse_max_side=640 fine_every=4``). After ``--warmup`` seconds, the process's CPU time (every
thread's, which holds under load, unlike wall time) over ``--seconds`` is divided by the frames the
camera processed in them.

``--trees`` names code trees (folders holding ``python/facesel``, e.g. ``git archive main python``
unpacked in /tmp with the compiled ``_core`` copied in): each round runs each of them in turn, in a
fresh process with that tree first on ``PYTHONPATH``, so that a change is compared with the code
before it on the same machine minutes apart. The machine may be shared: compare within one run.
``--profile FILE`` runs the current tree once with every thread under ``cProfile`` (thread CPU
clock) over the measured seconds and writes the merged statistics (``pstats``) there.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(video: Path, settings: dict, seconds: float, warmup: float, profile: str | None = None,
            min_frames: int = 1, deadline: float = 600.0) -> dict:
    """``{"frames", "cpu_ms", "cpu_ms_per_frame", "facesel"}`` of one unpaced serve camera (this
    process, the ``facesel`` it imports): the window opens ``warmup`` seconds after the camera's
    first processed frame and closes once ``seconds`` passed and at least ``min_frames`` more were
    processed (each wait bounded by ``deadline`` seconds); with ``profile``, every thread the
    service started is profiled (thread CPU clock) from its first call in the window on, the
    statistics merged into that file."""
    import threading

    from capacity import _LAZY_SKIP, make_config
    from facesel.serve.service import Service

    profiles, recording = [], threading.Event()
    if profile:
        import cProfile

        def tracer(frame, event, arg):  # each thread's first call in the window starts its profiler
            if recording.is_set() and threading.current_thread() is not threading.main_thread():
                mine = cProfile.Profile(time.thread_time)
                profiles.append(mine)
                sys.setprofile(None)
                mine.enable()
            return None
        threading.setprofile(tracer)
    with tempfile.TemporaryDirectory(prefix="facesel-serve-cpu-") as folder:
        config = make_config(Path(folder), [video], 1, settings, coarsen=False, camera_settings=_LAZY_SKIP,
                             paced=False)
        service = Service(config).start()
        try:
            (camera,) = service.camera_list()
            _wait_for(lambda: camera.processed >= 1, deadline, "the camera's first frame")
            time.sleep(warmup)
            recording.set()  # each thread of the service starts its profiler at its next call
            frames0, cpu0, start = camera.processed, time.process_time(), time.monotonic()
            _wait_for(lambda: time.monotonic() - start >= seconds and camera.processed - frames0 >= min_frames,
                      seconds + deadline, f"{min_frames} frames")
            frames1, cpu1 = camera.processed, time.process_time()
            recording.clear()
            for mine in profiles:
                mine.disable()
        finally:
            service.stop(timeout=60)
    if profile:
        import pstats

        stats = pstats.Stats(profiles[0])
        for mine in profiles[1:]:
            stats.add(mine)
        stats.dump_stats(profile)
    frames, cpu_ms = frames1 - frames0, 1000 * (cpu1 - cpu0)
    import facesel

    return {"frames": frames, "cpu_ms": round(cpu_ms, 1), "cpu_ms_per_frame": round(cpu_ms / max(1, frames), 3),
            "facesel": str(Path(facesel.__file__).parent)}


def _wait_for(condition, seconds: float, what: str) -> None:
    """Poll ``condition`` until it holds; RuntimeError naming ``what`` after ``seconds``."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise RuntimeError(f"no {what} within {seconds:.0f} s")
        time.sleep(0.05)


def main(argv=None) -> int:
    sys.path.insert(0, str(HERE))
    from capacity import extra_settings
    from facesel.data import data_root_or_exit

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default="arcade_walkers_1080p.mp4", help="under the shared data's videos/")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="the camera's pipeline settings")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--trees", nargs="+", default=None, help="code trees alternated (folders holding python/facesel)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", default=None, help="profile every thread of one run into this file")
    parser.add_argument("--json", default=None, help="append the rows here (JSON lines)")
    parser.add_argument("--one", action="store_true",
                        help="measure once in this process, the facesel on PYTHONPATH (what each alternated child runs)")
    args = parser.parse_args(argv)
    video = data_root_or_exit() / "videos" / args.video
    settings = extra_settings(args.set)
    if args.one or args.profile:
        print(json.dumps(measure(video, settings, args.seconds, args.warmup, args.profile)))
        return 0
    rows = []
    for round_ in range(args.rounds):
        for tree in args.trees or ["."]:
            code = str((Path(tree).resolve() / "python"))
            env = {**os.environ, "PYTHONPATH": code + os.pathsep + os.environ.get("PYTHONPATH", "")}
            child = [sys.executable, __file__, "--one", "--video", args.video, "--seconds", str(args.seconds),
                     "--warmup", str(args.warmup)] + (["--set", *args.set] if args.set else [])
            load = os.getloadavg()[0]
            out = subprocess.run(child, env=env, capture_output=True, text=True, check=True)
            loaded = json.loads(out.stdout.strip().splitlines()[-1])["facesel"]
            if Path(loaded).resolve() != Path(code).resolve() / "facesel":
                # An editable install's import hook (scikit-build-core's) comes before PYTHONPATH.
                raise SystemExit(f"the child for {tree} loaded facesel from {loaded}, not {code}: "
                                 "uninstall the editable facesel or set SKBUILD_EDITABLE_SKIP")
            row = {"round": round_, "tree": tree, "settings": args.set, "load_before": round(load, 2),
                   "load_after": round(os.getloadavg()[0], 2), **json.loads(out.stdout.strip().splitlines()[-1])}
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.json:
                with open(args.json, "a") as file:
                    file.write(json.dumps(row) + "\n")
    for tree in args.trees or ["."]:
        values = sorted(r["cpu_ms_per_frame"] for r in rows if r["tree"] == tree)
        print(f"{tree}: CPU ms a processed frame {values} (median {values[len(values) // 2]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
