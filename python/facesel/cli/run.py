"""``facesel run INPUT``: video in, one best snapshot per person out (sealed, or in the clear for tests)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from facesel.cli import run_session
from facesel.cli.argv_secrets import refuse_url_secret_on_command_line
from facesel.cli.run_outcome import judge, nothing_kept_line
from facesel.writable import refuse_unwritable_file, refuse_unwritable_folder
from facesel.serve.pipeline_adapter import NOT_IN_CONFIG, SCORERS, make_scorer, views_by_segment

PLAINTEXT_HELP = (
    "FOR TESTING ONLY: write each track's snapshot as an UNENCRYPTED PNG, plus tracks.jsonl and the frame "
    "settings (run.json, read by 'facesel eval snapshots'), into DIR. This stores faces in the clear on disk; use --vault for anything else."
)


NOT_FLAGS = NOT_IN_CONFIG
"""PipelineConfig fields without a flag (nor a config key): every source gives timestamps (--fps
above is the image folder's rate), and thumbnails follow from --report with --plaintext-out."""


def unused_fps_note(fps: float | None, source) -> str | None:
    """Why ``--fps`` changes nothing for this input, or None when it is used: it is the frame rate of
    an image folder and of a video whose container gives none; a video with its own rate and a
    live input keep theirs. Before, ``--fps 5`` on a 25-fps video was taken without a word (ux23)."""
    if fps is None or source.kind == "folder":
        return None
    if source.kind == "live":
        return f"--fps {fps:g} is not used: a webcam or stream is timed by its own frames"
    if source.fps and float(source.fps) != float(fps):
        return (f"--fps {fps:g} is not used: {source.name} gives its own frame rate ({float(source.fps):g} frames/s); "
                "--fps is the rate of an image folder (or of a video that gives none). To process fewer frames, "
                "use --every N")
    return None


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def _positive_seconds(text: str) -> float:
    """A finite number > 0 (``--fps``, ``--open-timeout``): nan or 0 is a usage error naming the flag."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facesel run`` to ``subparsers``."""
    from facesel.cli.argtypes import add_max_frame_pixels
    from facesel.config import add_arguments

    p = subparsers.add_parser(
        "run",
        help="select one best face snapshot per person from a video, image folder, webcam or stream",
        description="Detect, track and score faces; keep the best crop of every person who passes. "
        "Results go to an encrypted vault (--vault) or, for testing, to plaintext files (--plaintext-out). "
        "The pipeline settings below are facesel.config.PipelineConfig's fields.",
    )
    p.add_argument("input", metavar="INPUT", nargs="?", default=None,
                   help="video file, folder of images (sorted by name), webcam index (e.g. 0) or RTSP/HTTP URL "
                   "(may come from --config instead)")
    p.add_argument("--scorer", default="default", choices=SCORERS,
                   help="quality scorer: the package default (since issue 22 the context rule below; the VAE model "
                   "stays for the not-a-face vote), context (the pick rule on the detector's context alone, no "
                   "VAE pass a crop) or variance of the Laplacian; with any of them the kept crop is the "
                   "consensus pick among the finalists unless --consensus-finalists 0")
    p.add_argument("--plaintext-out", metavar="DIR", default=None, help=PLAINTEXT_HELP)
    p.add_argument("--report", metavar="DIR", default=None,
                   help="write per-track quality-over-time plots; with --plaintext-out also strips of the "
                   "track's crops (face pixels), never without it")
    p.add_argument("--vault", metavar="DIR", default=None, help="seal every snapshot into this encrypted vault")
    p.add_argument("--authority", metavar="FILE", default=None,
                   help="the authority's public key file (authority.pub); required with --vault")
    p.add_argument("--camera", metavar="DIR", default=None,
                   help="the camera's signing key folder (facesel camera init); required with --vault")
    p.add_argument("--camera-id", default=None, help="expected camera id (must match the camera key)")
    p.add_argument("--dry-run", action="store_true",
                   help="run the pipeline but keep nothing (for measuring; refused with --vault or "
                   "--plaintext-out, and with --config the camera's vault is left alone)")
    p.add_argument("--max-frames", type=_positive_int, default=None, metavar="N", help="stop after N frames")
    p.add_argument("--every", type=_positive_int, default=1, metavar="N", help="process one frame in N")
    add_max_frame_pixels(p, "a video, image or stream frame")
    p.add_argument("--fps", type=_positive_seconds, default=None, help="frame rate of an image folder, or of a video whose container gives none (default 25); a video's own rate is kept")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--open-timeout", type=_positive_seconds, default=15.0, metavar="SECONDS",
                   help="a webcam or stream that gives no first frame within this time is an error "
                   "(default 15); later losses are retried without limit")
    add_arguments(p, exclude=NOT_FLAGS)
    run_session.add_arguments(p)
    p.set_defaults(func=_run)


def _check_outputs(args: argparse.Namespace) -> None:
    if args.dry_run and (args.vault is not None or args.plaintext_out is not None):
        # before, --dry-run was ignored: the snapshots went to the vault or the folder all the same
        given = "--vault" if args.vault is not None else "--plaintext-out"
        raise ValueError(f"--dry-run keeps nothing, but {given} was given: leave out one of them")
    if (args.vault is None) != (args.authority is None):
        raise ValueError("--vault and --authority go together: give both or neither")
    if args.authority is not None:  # else, after the models loaded, "X does not exist", naming no flag
        authority = Path(args.authority).expanduser()
        if not authority.exists():
            raise ValueError(f"--authority {args.authority}: no such file (the authority's public key, authority.pub)")
        if authority.is_dir():
            raise ValueError(f"--authority {args.authority} is a folder: give its public key file, "
                             f"{authority / 'authority.pub'}")
    if args.vault is not None and args.camera is None:
        raise ValueError("--vault needs --camera DIR (the camera's signing key; make one with 'facesel camera init')")
    if args.plaintext_out is None and args.vault is None and not args.dry_run:
        raise ValueError(
            "nothing would be kept: give --vault DIR --authority FILE, or --plaintext-out DIR (testing), "
            "or --dry-run to run without output"
        )
    # Before the models load and the input is opened: an unwritable folder failed at the first
    # snapshot with "[Errno 13] Permission denied: 'x'", naming no flag.
    for flag, folder in (("--plaintext-out", args.plaintext_out), ("--report", args.report), ("--vault", args.vault)):
        if folder is not None:
            refuse_unwritable_folder(flag, folder)
    if args.preview:
        refuse_unwritable_file("--preview", args.preview)
    if args.plaintext_out is not None:
        # Before, the folder of an earlier run was refused by the sink, once the models had loaded
        # and the input was opened (ux26); the sink keeps its own check for Python callers.
        from facesel.plaintext_out import TRACKS_FILE

        if (Path(args.plaintext_out).expanduser() / TRACKS_FILE).exists():
            raise ValueError(f"--plaintext-out {args.plaintext_out} already holds a run ({TRACKS_FILE}); "
                             "choose an empty folder")
    if args.vault is not None and not Path(args.vault).expanduser().is_file():  # a file: the Vault names it
        _refuse_expired_authority(args)


def _open_vault(args: argparse.Namespace):
    if args.vault is None:
        return None
    try:
        from facesel.vault import CameraKey, Vault
        from facesel.vault.keys import AuthorityPublic
    except ImportError as err:  # the vault arrives with its own issue
        raise RuntimeError(f"the vault is not available in this installation ({err})") from err
    try:  # before a folder is made; a file that does not load is named by the Vault below
        given, camera_id = AuthorityPublic.load(args.authority), CameraKey.load(args.camera).camera_id
    except (ValueError, OSError):
        given = camera_id = None
    if given is not None:
        _refuse_revoked_camera(args, given, camera_id)
    vault = Vault(args.vault, args.authority, camera=args.camera, camera_id=args.camera_id)
    try:
        _refuse_revoked_camera(args, vault.authority, vault.camera_id)  # the file the vault goes by (its copy may be newer)
    except ValueError:
        vault.close()
        raise
    return vault


def _refuse_revoked_camera(args: argparse.Namespace, authority, camera_id: str) -> None:
    """ValueError naming --camera when ``authority`` revoked ``camera_id``'s key from a time passed
    (ux21: the run sealed records that every reader refuses)."""
    from facesel.vault.identity import revoked_key_problem

    problem = revoked_key_problem(authority, camera_id, time.time())
    if problem is not None:
        raise ValueError(f"--camera {args.camera}: {problem}")


def _refuse_expired_authority(args: argparse.Namespace) -> None:
    """ValueError naming --authority when no epoch key covers now, in the file nor in the vault's
    own copy: the run loaded its models, read its whole input, then said that every snapshot could
    not be sealed and to "free space (or fix the folder)" (ux27)."""
    from facesel.vault.identity import expired_authority_file

    problem = expired_authority_file(Path(args.authority).expanduser(), Path(args.vault).expanduser(), time.time())
    if problem is not None:
        raise ValueError(f"--authority {args.authority}: {problem}")


def _run(args: argparse.Namespace) -> int:
    from facesel.serve.quiet_media import quiet_media_libraries

    if args.input is not None:  # before --config fills it: a URL given here is in the process list
        refuse_url_secret_on_command_line(args.input, "INPUT")
    run_session.apply_config(args)
    quiet_media_libraries(args.log_level)
    _check_outputs(args)
    with run_session.RunSession(args) as session:  # signals, --json events, live input, preview
        return _run_pipeline(args, session)


def _run_pipeline(args: argparse.Namespace, session: run_session.RunSession) -> int:
    from tqdm import tqdm

    from facesel.cli.run_outputs import NamedOutput, OutputFailed, interrupted_line, stop_line
    from facesel.config import from_arguments
    from facesel.frame_rate import held_in_seconds
    from facesel.run_settings import write_run_settings
    from facesel.selector import Selector, default_detector
    from facesel.sinks import CallbackSink, PlaintextSink, ReportSink, VaultSink
    from facesel.timing import PIPELINE_STAGES
    from facesel.video import open_source

    source = session.open_input(open_source)
    fps_note = unused_fps_note(args.fps, source)
    if fps_note:
        print(f"facesel run: note: {fps_note}", file=sys.stderr)
    config = from_arguments(args, exclude=NOT_FLAGS)
    if args.report is not None and args.plaintext_out is not None:
        config = config.replace(thumbnails=16)
    if source.fps and 0 < source.fps < 1000:  # the tracker's frame limits held in seconds (facesel.frame_rate):
        config = config.replace(fps=float(source.fps) / getattr(args, "every", 1))  # the rate of the frames fed
    detector = default_detector(config)
    scorer = make_scorer(args.scorer, config)
    print(f"input {source.name} ({source.kind}); detector {config.detector}; scorer {args.scorer} "
          f"({getattr(scorer, 'name', type(scorer).__name__)}); "
          f"mode {config.mode}; threads {config.threads}", file=sys.stderr)

    sinks, vault, outputs = [], None, []
    try:
        vault = _open_vault(args)
        if vault is not None:
            _note_earlier_records(vault, args.vault)
            outputs.append(NamedOutput(VaultSink(vault), "--vault", args.vault))
        if args.plaintext_out:
            plaintext = PlaintextSink(args.plaintext_out, name="--plaintext-out")
            # How the frames were numbered, for `facesel eval snapshots` (ux23: --every was not noticed).
            write_run_settings(plaintext.writer.folder, input=args.input, every=args.every,
                               max_frames=args.max_frames, fps=args.fps)
            outputs.append(NamedOutput(plaintext, "--plaintext-out", args.plaintext_out))
        if args.report:
            report = ReportSink(args.report, with_faces=args.plaintext_out is not None, name="--report")
            outputs.append(NamedOutput(report, "--report", args.report))
        sinks.extend(outputs)
        vault_out = outputs[0] if vault is not None else None
        # A result the vault could not take (it failed on an earlier one) is no "track_sealed" event.
        sinks.append(CallbackSink(lambda result: session.on_result(
            result, sealed=vault_out is not None and not vault_out.failed)))
        selector = Selector(detector, scorer, config=config, sinks=sinks)
        session.attach(selector, source.fps)
        start = time.perf_counter()
        with tqdm(total=source.frame_count, unit="frame", disable=args.no_progress, file=sys.stderr) as bar:
            try:
                with selector:  # leaving it (also on an error, a signal or Ctrl-C) flushes the open tracks
                    # The annotated preview needs each frame beside its view: frame by frame (feed);
                    # otherwise Selector.run's stage threads, the tracks closed between segments.
                    views = views_by_segment(selector, session.segments(source),
                                             need_frames=session.preview is not None)
                    for frame, stamp, view in views:
                        session.after_frame(selector, frame, stamp, view)
                        bar.set_postfix(open=selector.open_tracks, closed=selector.closed_tracks, refresh=False)
                        bar.update(1)
                        if session.halted is None and any(out.failed for out in outputs):
                            session.halted = "an output failed"  # the input stops; the open tracks still go out
            except KeyboardInterrupt:  # a second Ctrl-C (the first only stops the input)
                bar.close()
                print(f"facesel run: {interrupted_line(outputs, selector.timings['frames'], source.frame_count)}",
                      file=sys.stderr)
                raise
            if any(out.failed for out in outputs):
                bar.close()
                raise OutputFailed(stop_line(outputs, selector.timings["frames"], source.frame_count))
            tracks = selector.closed_tracks
            bar.set_postfix(open=selector.open_tracks, closed=tracks)
        elapsed = time.perf_counter() - start
    finally:
        for sink in sinks:
            sink.close()
        if vault is not None:
            vault.close()

    timings = selector.timings
    frames = timings["frames"]
    fps = frames / elapsed if elapsed > 0 else float("nan")
    print(f"frames {frames}  tracks {tracks}  {fps:.2f} frames/s ({elapsed:.1f} s including decoding)")
    total = timings["total"] or 1.0
    split = "  ".join(f"{stage} {100.0 * timings[stage] / total:.1f}%" for stage in PIPELINE_STAGES)
    print(f"time split: {split}")
    work = selector.work
    print(f"work: {work['full_detections']} full-frame detections, {work['regions']} region searches; crops "
          f"{work['seen']} seen, {work['gated']} gated, {work['screened']} screened, {work['aligned']} aligned, "
          f"{work['scored']} fully scored")
    if selector.dropped:
        print(f"dropped {selector.dropped} live frames unprocessed to keep up with the source")
    for output in outputs:
        if isinstance(output.sink, PlaintextSink):
            print(f"plaintext (testing only): {output.sink.writer.written} snapshots in {output.sink.writer.folder}")
        elif isinstance(output.sink, ReportSink):
            print(f"report: {len(output.sink.writer.written)} figures in {output.sink.writer.folder}")
    if selector.finaliser is not None:  # persons (issue 12): every merge and drop is reported
        print(f"finaliser: {selector.finaliser.stats.summary()}")
    kept = tracks if selector.finaliser is None else selector.finaliser.stats.released  # persons (issue 12)
    if vault is not None:
        print(f"sealed {kept} snapshots into {args.vault}")
    stats = None if selector.finaliser is None else selector.finaliser.stats
    # the min_hits the tracker used: fewer frames than set on a slow source (facesel.frame_rate)
    _say(nothing_kept_line(frames, kept, work["seen"], held_in_seconds(config).min_hits, config.min_face_size, stats,
                           stopped=session.stop_reason))
    outcome = judge(frames, source.frame_count, source.kind, session.stop_reason, args.max_frames)
    _say(outcome.line)
    session.finish_reason = outcome.reason
    return outcome.code


def _say(line: str | None) -> None:
    """A closing line of the summary, and on stderr too when stdout is not the terminal's stderr (a
    file, a pipe; with ``--json`` stdout is already stderr)."""
    if line is not None:
        print(line)
        if sys.stdout is not sys.stderr:
            print(f"facesel run: {line}", file=sys.stderr)


def _note_earlier_records(vault, folder) -> None:
    """A second run into the same vault adds its own records: say so (the same input run twice
    seals the same people twice; facesel recognises nobody, so it cannot tell)."""
    earlier = len(vault.rows())
    if earlier:
        print(f"note: {folder} already holds {earlier} records from earlier runs; this run adds its own "
              "(the same input run twice seals the same people twice)", file=sys.stderr)
