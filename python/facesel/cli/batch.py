"""``facesel batch VIDEOS... --central DSN``: frame selection over an archive, sealed into the central store."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from facesel.cli.central import add_central_argument, central_dsn, positive_int


def _batch(args: argparse.Namespace) -> int:
    from facesel.central.batch import VideoTask, run_batch
    from facesel.central.pg_backend import PostgresVault

    dsn = central_dsn(args)
    missing = [v for v in args.videos if not Path(v).exists()]
    if missing:
        raise FileNotFoundError(f"videos not found: {', '.join(missing)}")
    with PostgresVault(dsn) as store:  # fail before any work: store down, or camera not accepted
        if store.camera(args.camera_id) is None:
            raise ValueError(f"--camera-id {args.camera_id!r} is not registered with {store.location}; run "
                             f"'facesel central register-camera {args.camera_id}' first")
        authority = store.authority.to_dict()
    spool = Path(args.spool).resolve()
    spool.mkdir(parents=True, exist_ok=True, mode=0o700)
    tasks = [VideoTask(str(Path(v).resolve()), args.camera_id, dsn, authority, str(spool), args.max_frames)
             for v in args.videos]

    def progress(done: int, total: int, outcome) -> None:
        state = "ok" if outcome.error is None else f"QUEUED in {outcome.queued_in}: {outcome.error}"
        print(f"[{done}/{total}] {Path(outcome.video).name}: {outcome.frames} frames, {outcome.sealed} sealed, "
              f"{outcome.stored} stored centrally, {outcome.seconds:.1f} s; {state}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    outcomes = run_batch(tasks, workers=args.workers, ray_address=args.ray, progress=progress)
    elapsed = time.perf_counter() - started
    frames = sum(o.frames for o in outcomes)
    print(f"{len(outcomes)} video(s), {frames} frames, {sum(o.sealed for o in outcomes)} records sealed, "
          f"{sum(o.stored for o in outcomes)} stored centrally in {elapsed:.1f} s "
          f"({frames / elapsed if elapsed > 0 else float('nan'):.2f} frames/s)")
    return 1 if any(o.error for o in outcomes) else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("batch", help="select and seal faces from archived videos into the central store, "
                              "one pipeline per video, in parallel (process pool or Ray)")
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files (or image folders)")
    add_central_argument(p)
    p.add_argument("--camera-id", default="archive", help="camera id recorded in each record (must be registered; "
                   "default 'archive')")
    p.add_argument("--workers", type=positive_int, default=1, help="parallel pipelines (default 1)")
    p.add_argument("--ray", metavar="ADDRESS", help="run on Ray: 'local' for a single-machine Ray, or a cluster "
                   "address ('auto', 'ray://HEAD:10001')")
    p.add_argument("--spool", default="facesel-spool", help="folder for per-task vaults on each worker; records "
                   "that could not be delivered wait there (default ./facesel-spool)")
    p.add_argument("--max-frames", type=positive_int, help="read at most this many frames of each video")
    p.set_defaults(func=_batch)
