"""``facesel eval erc``: error-versus-reject curves of the quality methods with a real face matcher."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from facesel.cli.argtypes import int_at_least
from facesel.cli.output_flags import refuse_unwritable_outputs
from facesel.cli.rules_flag import show_videos_as_required, split_videos_from_rules


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def _run_erc(args: argparse.Namespace) -> int:
    import cv2

    refuse_unwritable_outputs(args)  # before minutes of work, naming the flag
    cv2.setNumThreads(args.threads)  # a shared machine: one thread unless asked
    try:
        # OpenBLAS threads spin on a busy machine: a 1,200 x 4,096 PCA took 17 s with its default
        # threads and 0.34 s with one, measured here. threadpoolctl is in the [eval] extra.
        from threadpoolctl import threadpool_limits
    except ImportError:
        return _run_erc_inner(args)
    with threadpool_limits(limits=args.threads):
        return _run_erc_inner(args)


def _run_erc_inner(args: argparse.Namespace) -> int:
    from facesel.data import data_root
    from facesel.eval.methods import method_names
    from facesel.eval.runner import run_erc

    names = []
    for item in args.methods or ["all"]:
        names += [n for n in item.split(",") if n]
    if "all" in names:
        names = method_names()
    train = args.train
    if train is None:
        root = data_root()
        train = None if root is None else root / "faces" / "lfw" / "train"
    cache_dir = None if args.no_cache else (args.cache_dir or Path(args.out) / "embedding-cache")
    result = run_erc(
        data=args.data,
        out=args.out,
        methods=names,
        train=train,
        cache_dir=cache_dir,
        degrade_seed=args.degrade,
        limit_identities=args.limit_identities,
        train_limit=args.train_limit,
        n_boot=args.bootstrap,
        n_random=args.random_seeds,
        seed=args.seed,
        progress=not args.no_progress,
        vae_model=args.vae_model,
        command="facesel " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["eval"] else "facesel eval erc ...",
    )
    print(f"report: {result['report']}")
    print(f"table:  {result['json']}")
    for p in result["plots"]:
        print(f"plot:   {p}")
    for name, why in result["unavailable"].items():
        print(f"not available: {name}: {why}")
    return 0


def _run_tracks(args: argparse.Namespace) -> int:
    import cv2

    from facesel.eval.track_bench import run_tracks
    from facesel.eval.track_rules import rule_names
    from facesel.serve.quiet_media import quiet_media_libraries

    refuse_unwritable_outputs(args)  # before minutes of work, naming the flag
    quiet_media_libraries()  # as `facesel run`: FFmpeg's own lines ("moov atom not found") off stderr

    cv2.setNumThreads(1)
    names = []
    for item in args.rules or ["all"]:
        names += [n for n in item.split(",") if n]
    if "all" in names:
        names = rule_names()
    cache_dir = None if args.no_cache else (args.cache_dir or Path(args.out) / "track-cache")
    command = "facesel " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["eval"] else "facesel eval tracks ..."
    videos = _expand_videos(args.videos)
    result = run_tracks(videos, names, args.out, cache_dir=cache_dir, n_boot=args.bootstrap, seed=args.seed,
                        progress=not args.no_progress, command=command, window=args.window,
                        held_out=not args.no_held_out)
    if result.get("note"):  # no eligible window, or one clip only: said here too, not only in tracks.md (ux22)
        print(f"note: {result['note']}")
    print(f"report: {result['report']}")
    print(f"table:  {result['json']}")
    if result["plot"] is not None:
        print(f"plot:   {result['plot']}")
    return 0


def _seconds(text: str) -> float | None:
    """``4s``, ``4`` or ``2.5s`` -> seconds; ``none`` -> None (whole tracks)."""
    if text.strip().lower() in ("none", "0", "0s"):
        return None
    try:
        value = float(text.strip().lower().removesuffix("s"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be seconds like 4s, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _expand_videos(paths: list[Path]) -> list[Path]:
    """A folder that holds videos (not frames) stands for the videos in it, in name order."""
    from facesel.video import IMAGE_SUFFIXES

    suffixes = (".mp4", ".mkv", ".avi", ".mov", ".gif", ".webm")
    out = []
    for p in paths:
        if p.is_dir() and not any(c.suffix.lower() in IMAGE_SUFFIXES for c in p.iterdir()):
            videos = sorted(c for c in p.iterdir() if c.is_file() and c.suffix.lower() in suffixes)
            if not videos:  # was a report of nothing with exit status 0
                raise ValueError(f"folder {p} holds no videos ({', '.join(suffixes)}) and no frames "
                                 f"({', '.join(sorted(IMAGE_SUFFIXES))})")
            out += videos
        else:
            out.append(p)
    return out


def _register_tracks(sub) -> None:
    from facesel.eval.track_rules import rule_names

    t = sub.add_parser(
        "tracks",
        help="within-track test: how well each selection rule picks among one person's frames",
        description=(
            "Run facesel's detector and tracker on every frame, keep every crop of every track (in memory), "
            "find each track's person on the video's frontal frames with dlib's matcher (the [eval] extra), "
            "and measure each rule's pick in each window (--window) of each track: distance, regret (raw and "
            "smoothed over 5 crops), matchable (distance < 0.6), rank correlation; against the random pick's "
            "exact expectation, with bootstrap intervals over clips, per source (the repository before '__' in "
            "a file name, or the manifest's origin_repo), and the gate rule chosen leave-one-source-out. Writes "
            "tracks.md, tracks.json and tracks.png to --out. Detections, embeddings and every rule's per-crop "
            "signals (numbers, no pixels) are cached in --out/track-cache: embeddings are biometric templates, "
            "keep it private."
        ),
    )
    # "*", and one VIDEO at least checked after the parse: "+" failed with "required: VIDEO" before
    # a video that --rules took in could be given back (cli/rules_flag.py)
    t.add_argument("videos", nargs="*", type=Path, metavar="VIDEO",
                   help="video files, folders of frames, or folders of videos (each video in it); one at least")
    t.add_argument("--window", type=_seconds, default=None, metavar="SECONDS",
                   help="cut tracks into windows of this length, e.g. 4s (default: whole tracks)")
    t.add_argument("--no-held-out", action="store_true",
                   help="skip the gate rule chosen leave-one-source-out / leave-one-clip-out")
    t.add_argument("--out", type=Path, required=True, help="output folder (created)")
    t.add_argument("--rules", nargs="+", action="extend", metavar="NAME",
                   help="selection rules, comma separated (--rules default,detector), space separated up to the next "
                   "flag, or the flag repeated; default all: "
                   f"{', '.join(rule_names())}, or module:attribute. A file or folder that exists at their end "
                   "is a VIDEO, not a rule")
    t.add_argument("--cache-dir", type=Path, help="number cache folder (default: OUT/track-cache; sensitive)")
    t.add_argument("--no-cache", action="store_true", help="cache nothing")
    t.add_argument("--bootstrap", type=_positive_int, default=2000, help="bootstrap resamples over clips (default 2000; 0: no intervals)")
    t.add_argument("--seed", type=_positive_int, default=0, help="seed of the bootstrap")
    t.add_argument("--no-progress", action="store_true", help="no progress bars")
    t.set_defaults(func=_run_tracks)
    t.after_parse = split_videos_from_rules
    show_videos_as_required(t)  # after the last flag: the usage line lists them all


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facesel eval`` and its subcommands to ``subparsers``."""
    from facesel.eval.methods import method_names

    p = subparsers.add_parser("eval", help="evaluate quality methods with a face matcher (ERC, EDC, pAUC)")
    sub = p.add_subparsers(dest="eval_command", metavar="EVAL_COMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    e = sub.add_parser(
        "erc",
        help="error-versus-reject curves (the paper's ERC) and the ISO/IEC 29794-1 EDC with pAUC",
        description=(
            "Reject the lowest-quality probes and measure how often dlib's ResNet matcher (the paper used "
            "FaceNet, not available offline) still fails. Writes report.md, results.json and PNG plots to --out. "
            "Embeddings are cached in --out/embedding-cache by default: they are biometric templates, keep "
            "that folder private and delete it when done."
        ),
    )
    e.add_argument("--data", type=Path, required=True, help="<identity>/<image> folder, e.g. shared/data/faces/lfw/eval")
    e.add_argument("--out", type=Path, required=True, help="output folder (created)")
    e.add_argument(
        "--methods", nargs="+", metavar="NAME", help=f"quality methods (space or comma separated, default all): {', '.join(method_names())}"
    )
    e.add_argument("--degrade", type=_positive_int, metavar="SEED", help="degrade every probe (in memory), seeded")
    e.add_argument("--limit-identities", type=int_at_least(2), metavar="N", help="only the first N subjects with 2+ images")
    e.add_argument("--train", type=Path, help="training faces for the PCA and supervised baselines (default: <data root>/faces/lfw/train)")
    e.add_argument("--vae-model", type=Path, help="VAE model folder (encoder.onnx, decoder.onnx, model_card.json); default: the shipped one")
    e.add_argument("--train-limit", type=int_at_least(1), metavar="N", help="only the first N training images (quick runs)")
    e.add_argument("--cache-dir", type=Path, help="embedding cache folder (default: OUT/embedding-cache; sensitive)")
    e.add_argument("--no-cache", action="store_true", help="do not cache embeddings")
    e.add_argument("--bootstrap", type=_positive_int, default=500, help="bootstrap resamples over subjects (default 500; 0: no intervals)")
    e.add_argument("--random-seeds", type=int_at_least(1), default=100, help="seeds averaged for random rejection (default 100)")
    e.add_argument("--seed", type=_positive_int, default=0, help="seed of the bootstrap and random rejection")
    e.add_argument("--threads", type=int_at_least(1), default=int(os.environ.get("FACESEL_THREADS", "1")), help="OpenCV and BLAS threads (default 1, or FACESEL_THREADS)")
    e.add_argument("--no-progress", action="store_true", help="no progress bars")
    e.set_defaults(func=_run_erc)
    _register_tracks(sub)
    from facesel.cli.eval_snapshots import register_snapshots  # persons (issue 12)

    register_snapshots(sub)
    from facesel.cli.eval_switches import register_switches  # one person, one track (issue 23)

    register_switches(sub)
    from facesel.cli.eval_crowds import register_crowds  # fragments in crowds (issue 23)

    register_crowds(sub)
    from facesel.cli.eval_intercut import register_intercut  # cuts between shots (issue 23)

    register_intercut(sub)
