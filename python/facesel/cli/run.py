"""``facesel run INPUT``: video in, one best snapshot per person out (sealed, or in the clear for tests)."""

from __future__ import annotations

import argparse
import sys
import time

PLAINTEXT_HELP = (
    "FOR TESTING ONLY: write each track's snapshot as an UNENCRYPTED PNG, plus tracks.jsonl, into "
    "DIR. This stores faces in the clear on disk; use --vault for anything else."
)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    from facesel.detectors import DEFAULT_DETECTOR, DETECTOR_NAMES

    p = subparsers.add_parser(
        "run",
        help="select one best face snapshot per person from a video, image folder, webcam or stream",
        description="Detect, track and score faces; keep the best crop of every person who passes. "
        "Results go to an encrypted vault (--vault) or, for testing, to plaintext files (--plaintext-out).",
    )
    p.add_argument("input", metavar="INPUT",
                   help="video file, folder of images (sorted by name), webcam index (e.g. 0) or RTSP/HTTP URL")
    p.add_argument("--detector", default=DEFAULT_DETECTOR, choices=DETECTOR_NAMES,
                   help=f"face detector (default {DEFAULT_DETECTOR})")
    # 1280 px: on the arcade video YuNet keeps 95% of the faces it finds at 1920x1080 for about a
    # third of the time (docs/detectors.md); 0 turns the shrinking off.
    p.add_argument("--max-side", type=_non_negative_int, default=1280, metavar="PX",
                   help="detect on frames shrunk to at most PX on their longer side (crops stay full "
                   "resolution; default 1280, 0 = never shrink)")
    p.add_argument("--scorer", default="default", choices=("default", "laplacian"),
                   help="quality scorer: the package default (the VAE model when installed) or variance of the Laplacian")
    p.add_argument("--plaintext-out", metavar="DIR", default=None, help=PLAINTEXT_HELP)
    p.add_argument("--report", metavar="DIR", default=None,
                   help="write per-track quality-over-time plots; with --plaintext-out also strips of the "
                   "track's crops (face pixels), never without it")
    p.add_argument("--vault", metavar="DIR", default=None, help="seal every snapshot into this encrypted vault")
    p.add_argument("--authority", metavar="FILE", default=None,
                   help="the authority's public key file (authority.pub); required with --vault")
    p.add_argument("--dry-run", action="store_true", help="run the pipeline but keep nothing (for measuring)")
    p.add_argument("--clip-window", type=_non_negative_int, default=0, metavar="W",
                   help="also keep the track's crops within +-W frames of the best (default 0: none)")
    p.add_argument("--top-k", type=_positive_int, default=1, metavar="K", help="best observations kept per track (with --plaintext-out the runners-up are written too)")
    p.add_argument("--max-frames", type=_positive_int, default=None, metavar="N", help="stop after N frames")
    p.add_argument("--every", type=_positive_int, default=1, metavar="N", help="process one frame in N")
    p.add_argument("--fps", type=float, default=None, help="frame rate of an image folder (default 25)")
    p.add_argument("--min-hits", type=_positive_int, default=3, help="detections before a track counts (default 3)")
    p.add_argument("--max-age", type=_non_negative_int, default=10,
                   help="frames a track may go unseen before it closes (default 10)")
    p.add_argument("--metric", default="euclidean", choices=("euclidean", "iou"), help="track association rule")
    p.add_argument("--predict-motion", action="store_true",
                   help="move unseen tracks by their velocity (default off, the paper's rule)")
    p.add_argument("--min-face-size", type=float, default=16.0, metavar="PX",
                   help="ignore faces smaller than PX pixels (default 16)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    # persons (issue 12): the track finaliser's switches (facesel.select.finalise).
    p.add_argument("--keep-static", action="store_true", help="keep tracks that never move (posters, screens); default: drop them, counted")
    p.add_argument("--no-finalise", action="store_true", help="deliver every closed track at once, unjudged (the behaviour before the finaliser; for comparisons)")
    p.set_defaults(func=_run)


def _check_outputs(args: argparse.Namespace) -> None:
    if (args.vault is None) != (args.authority is None):
        raise ValueError("--vault and --authority go together: give both or neither")
    if args.plaintext_out is None and args.vault is None and not args.dry_run:
        raise ValueError(
            "nothing would be kept: give --vault DIR --authority FILE, or --plaintext-out DIR (testing), "
            "or --dry-run to run without output"
        )


def _open_vault(args: argparse.Namespace):
    if args.vault is None:
        return None
    try:
        from facesel.vault import Vault
    except ImportError as err:  # the vault arrives with its own issue
        raise RuntimeError(f"the vault is not available in this installation ({err})") from err
    return Vault(args.vault, args.authority)


def _make_scorer(name: str):
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.selector import default_scorer

    return LaplacianVarianceScorer() if name == "laplacian" else default_scorer()


def _make_finaliser(args: argparse.Namespace, scorer):
    from dataclasses import replace

    from facesel.select.finalise import Finaliser

    if args.no_finalise:
        return Finaliser.passthrough()
    default = Finaliser.for_scorer(scorer)
    if args.keep_static:
        default.faceness = replace(default.faceness, suppress_static=False)
    return default


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from facesel.detectors import make_detector
    from facesel.plaintext_out import PlaintextWriter
    from facesel.report import ReportWriter
    from facesel.selector import Selector
    from facesel.timing import PIPELINE_STAGES
    from facesel.video import open_source

    _check_outputs(args)
    source = open_source(args.input, every=args.every, max_frames=args.max_frames, fps=args.fps)
    detector_settings = {"max_side": args.max_side} if args.max_side else {}
    detector = make_detector(args.detector, **detector_settings)
    scorer = _make_scorer(args.scorer)
    print(f"input {source.name} ({source.kind}); detector {args.detector}; scorer {type(scorer).__name__}",
          file=sys.stderr)

    writer = report = vault = None
    counts = {"tracks": 0}

    def keep(result) -> None:
        counts["tracks"] += 1
        if writer is not None:
            writer.write(result)
        if report is not None:
            report.write(result)

    try:
        vault = _open_vault(args)
        writer = PlaintextWriter(args.plaintext_out) if args.plaintext_out else None
        report = ReportWriter(args.report, with_faces=writer is not None) if args.report else None
        selector = Selector(
            detector, scorer, vault, min_hits=args.min_hits, max_age=args.max_age, metric=args.metric,
            predict_motion=args.predict_motion,
            top_k=args.top_k, clip_window=args.clip_window, min_face_size=args.min_face_size,
            thumbnails=16 if (report is not None and writer is not None) else 0, on_result=keep,
            finaliser=_make_finaliser(args, scorer),  # persons (issue 12)
        )
        start = time.perf_counter()
        with tqdm(total=source.frame_count, unit="frame", disable=args.no_progress, file=sys.stderr) as bar:
            with selector:  # leaving it (also on an error or Ctrl-C) flushes the open tracks
                for frame, stamp in source:
                    selector.feed(frame, stamp)
                    bar.set_postfix(open=selector.open_tracks, closed=selector.closed_tracks, refresh=False)
                    bar.update(1)
            bar.set_postfix(open=selector.open_tracks, closed=selector.closed_tracks)
        elapsed = time.perf_counter() - start
    finally:
        if writer is not None:
            writer.close()
        if vault is not None:
            vault.close()

    timings = selector.timings
    frames = timings["frames"]
    fps = frames / elapsed if elapsed > 0 else float("nan")
    print(f"frames {frames}  tracks {counts['tracks']}  {fps:.2f} frames/s ({elapsed:.1f} s including decoding)")
    total = timings["total"] or 1.0
    split = "  ".join(f"{stage} {100.0 * timings[stage] / total:.1f}%" for stage in PIPELINE_STAGES)
    print(f"time split: {split}")
    print(f"finaliser: {selector.finaliser.stats.summary()}")  # persons (issue 12): drops are reported
    if writer is not None:
        print(f"plaintext (testing only): {writer.written} snapshots in {writer.folder}")
    if report is not None:
        print(f"report: {len(report.written)} figures in {report.folder}")
    if vault is not None:
        print(f"sealed {counts['tracks']} snapshots into {args.vault}")
    return 0
