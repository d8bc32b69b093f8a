"""``facesel batch VIDEOS... --central DSN``: frame selection over an archive, sealed into the central store."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from facesel.cli.argtypes import int_within
from facesel.cli.central import add_central_argument, central_dsn, needs_central_extra, positive_int

MAX_WORKERS = 1024
"""Most ``--workers``: each worker is a whole pipeline (its own process with its models, a few hundred
MiB); ux23 found ``--workers 100000`` taken without a word."""


@needs_central_extra
def _batch(args: argparse.Namespace) -> int:
    from facesel.central.batch import VideoTask, run_batch
    from facesel.central.pg_backend import PostgresVault
    from facesel.vault.keys import AuthorityPublic
    from facesel.vault.signing import CameraKey

    from facesel.central.spool_folder import refuse_shared_spool
    from facesel.writable import refuse_unwritable_folder

    dsn = central_dsn(args)
    # --spool named, before the store is asked (ux23: a file there was "[Errno 17] File exists: 'X'")
    if Path(args.spool).expanduser().exists() and not Path(args.spool).expanduser().is_dir():
        raise ValueError(f"--spool {args.spool}: a file, not a folder (the per-task vaults are made in it)")
    refuse_unwritable_folder("--spool", args.spool)
    refuse_shared_spool(args.spool)
    missing = [v for v in args.videos if not Path(v).exists()]
    if missing:
        raise FileNotFoundError(f"videos not found: {', '.join(missing)}")
    camera = CameraKey.load(args.camera)
    authority = AuthorityPublic.load(Path(args.authority))
    if authority.camera_key(camera.camera_id) != camera.public.public_key:
        raise ValueError(f"camera {camera.camera_id!r} of --camera is not registered in --authority {args.authority}; "
                         "run 'facesel authority register' first")
    with PostgresVault(dsn) as store:  # fail before any work: store down, or camera not accepted
        registered = store.camera(camera.camera_id)
        if registered is None or registered.public_key != camera.public.public_key:
            raise ValueError(f"camera {camera.camera_id!r} (--camera) is not registered with {store.location} under "
                             f"this key; run 'facesel central register-camera {Path(args.camera) / 'camera.pub'}' "
                             "first")
        if store.authority.authority_id != authority.authority_id:
            raise ValueError(f"--authority {args.authority} is not the authority of {store.location}")
    spool = Path(args.spool).resolve()
    spool.mkdir(parents=True, exist_ok=True, mode=0o700)
    camera_path = str(Path(args.camera).resolve())
    tasks = [VideoTask(str(Path(v).resolve()), camera_path, dsn, authority.to_dict(), str(spool), args.max_frames)
             for v in args.videos]

    def progress(done: int, total: int, outcome) -> None:
        print(shown(f"[{done}/{total}] {Path(outcome.video).name}: {outcome.frames} frames, {outcome.sealed} sealed, "
                    f"{outcome.stored} stored centrally, {outcome.seconds:.1f} s; {outcome_state(outcome)}"),
              file=sys.stderr, flush=True)

    note = workers_note(args.workers, len(tasks), args.ray, os.cpu_count())
    if note:
        print(f"facesel batch: note: {note}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    outcomes = run_batch(tasks, workers=args.workers, ray_address=args.ray, progress=progress)
    print(summary_line(outcomes, time.perf_counter() - started))
    return 1 if any(o.error for o in outcomes) else 0


def workers_note(workers: int, videos: int, ray: str | None, cpus: int | None) -> str | None:
    """What ``--workers`` will not do as asked, for a note on stderr before the work (None when it
    does): on a Ray cluster the cluster's CPUs decide; locally, more workers than videos start one
    per video, and more pipelines than CPUs share them (each is a whole pipeline)."""
    if ray is not None and ray != "local":
        if workers != 1:
            return (f"--workers {workers} is not used with --ray {ray}: the cluster's CPUs decide how many "
                    "videos run at once (one CPU each)")
        return None
    notes = []
    running = min(workers, videos)
    if workers > videos:
        notes.append(f"--workers {workers} for {videos} video(s): {running} pipeline(s) run, one per video")
    if cpus and running > cpus:
        notes.append(f"{running} pipelines on {cpus} CPU(s): each is a whole pipeline (its own process and "
                     "models), so they take turns on the CPUs and each holds its memory meanwhile")
    return "; ".join(notes) or None


def shown(text: str) -> str:
    """``text`` for the terminal, each character that is not printable (ESC, CR, C1 controls, bidi
    overrides) written as its escape. A progress line names the video and its folder and quotes
    the error, which names the file again: an archive's file names are whoever made the archive's
    words, and raw, a name holding ``\\r``, an erase and a conceal code showed a FAILED video's
    line as the forger's ``ok`` (review round 14b, finding 5)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def outcome_state(outcome) -> str:
    """How one video ended, for its progress line: ok, QUEUED (records wait in the spool for the
    next run) or FAILED (nothing waits anywhere). An unreadable video used to read
    ``QUEUED in None: ValueError: cannot read video file ...`` though nothing was queued (ux22)."""
    if outcome.error is None:
        return "ok"
    if outcome.queued_in is not None:
        return (f"QUEUED in {outcome.queued_in} (sealed, not yet stored centrally: 'facesel sync --vault "
                f"{outcome.queued_in}' delivers it): {outcome.error}")
    tries = f" after {outcome.attempts} attempts" if outcome.attempts > 1 else ""
    return f"FAILED{tries}: {outcome.error}"


def summary_line(outcomes, elapsed: float) -> str:
    """The last line: videos, frames, records sealed and stored, and how many videos failed or
    left records queued (the exit code is 1 then; the line said nothing of them before, ux22)."""
    frames = sum(o.frames for o in outcomes)
    line = (f"{len(outcomes)} video(s), {frames} frames, {sum(o.sealed for o in outcomes)} records sealed, "
            f"{sum(o.stored for o in outcomes)} stored centrally in {elapsed:.1f} s "
            f"({frames / elapsed if elapsed > 0 else float('nan'):.2f} frames/s)")
    failed = sum(o.error is not None and o.queued_in is None for o in outcomes)
    queued = sum(o.error is not None and o.queued_in is not None for o in outcomes)
    if failed:
        line += f"; {failed} FAILED"
    if queued:
        line += f"; {queued} with records QUEUED in the spool (their lines name the folder for 'facesel sync')"
    return line


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facesel batch`` to ``subparsers``."""
    p = subparsers.add_parser("batch", help="select and seal faces from archived videos into the central store, "
                              "one pipeline per video, in parallel (process pool or Ray)")
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files (or image folders)")
    add_central_argument(p)
    p.add_argument("--camera", required=True, metavar="DIR",
                   help="the archive camera's key folder (facesel camera init; registered with the authority and "
                   "with the central store); every task signs its records with it")
    p.add_argument("--authority", required=True, metavar="FILE",
                   help="authority.pub that registers that camera (the task vaults seal to it)")
    p.add_argument("--workers", type=int_within(1, MAX_WORKERS), default=1,
                   help=f"parallel pipelines, one process each (1 to {MAX_WORKERS}; default 1); more than the "
                   "videos or the CPUs is said on stderr; with --ray ADDRESS of a cluster the cluster decides")
    p.add_argument("--ray", metavar="ADDRESS", help="run on Ray: 'local' for a single-machine Ray, or a cluster "
                   "address ('auto', 'ray://HEAD:10001')")
    p.add_argument("--spool", default="facesel-spool", help="folder for per-task vaults on each worker; records "
                   "that could not be delivered wait there (default ./facesel-spool)")
    p.add_argument("--max-frames", type=positive_int, help="read at most this many frames of each video")
    p.set_defaults(func=_batch)
