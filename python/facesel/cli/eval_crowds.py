"""``facesel eval crowds``: snapshots per person in crowds tiled from the shared clips, with and
without occluders, and re-links that joined two tiles (:mod:`facesel.eval.crowds`); with
``--crossing``, crowds whose people walk across the frame and pass in front of each other
(:mod:`facesel.eval.crowds_crossing`); with ``--approach``, crowds walking at the camera
(:mod:`facesel.eval.crowds_approach`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from facesel.cli.argtypes import finite_number, int_at_least, shared_data_folder
from facesel.cli.output_flags import refuse_unwritable_outputs

MIN_TILE = 16
"""Narrowest tile accepted (12 pixels high): a narrower one can hardly hold a face the detector finds;
0 was a cv2.resize error, --columns 0 a ZeroDivisionError."""


def _run(args: argparse.Namespace) -> int:
    import cv2

    from facesel.eval.crowds import evaluate, summary
    from facesel.select.linking import LinkRule

    refuse_unwritable_outputs(args)  # before minutes of work, naming the flag
    cv2.setNumThreads(1)
    root = shared_data_folder(args.data)
    link = None  # the default rule
    if args.previous_link:
        link = LinkRule(window=1, rejoin_colour_distance=None, long_gap_seconds=None, chain_through=None)
    elif args.short_link:  # the rules before: no skipped fragment absorbed (LinkRule.chain_through)
        link = LinkRule(long_gap_seconds=None, colour_sample=args.colour_sample, chain_through=None)
    elif args.colour_sample != "either":
        link = LinkRule(colour_sample=args.colour_sample)
    if args.covered_link is not None:  # a nearer person passed in front (issue 23, crossing crowds)
        from dataclasses import replace

        link = replace(link or LinkRule(), covered_gap_seconds=args.covered_link)
    settings = {"keep_static": not args.drop_static, "second_pass": args.second_pass,
                "shot_return": not args.no_shot_return}
    if args.approach:  # people walking at the camera: faces growing, nearer ones in front
        from facesel.eval.crowds_approach import evaluate_approach

        results = evaluate_approach(Path(root), size=args.size, frames=args.frames or 200, settings=settings,
                                    link=link, layouts=args.layouts, step=args.step, scale=args.scale,
                                    **({} if args.pace is None else {"pace": args.pace}))
    elif args.crossing:  # people walking across the frame, passing in front of each other
        from facesel.eval.crowds_crossing import evaluate_crossing

        results = evaluate_crossing(Path(root), size=args.size, frames=args.frames or 200,
                                    settings=settings, link=link, layouts=args.layouts,
                                    step=args.step, scale=args.scale)
    else:
        results = evaluate(Path(root), size=args.size, columns=args.columns, frames=args.frames or 150, tile=args.tile,
                           settings=settings, link=link, step=args.step, scale=args.scale)
    for key, row in summary(results).items():
        print(f"{key}: {row['snapshots']} snapshots for {row['persons']} tile persons = {row['per_person']:.2f} per "
              f"person; wrong joins {row['wrong_joins']}"
              + (f"; persons without a snapshot {row['without']}" if "without" in row else "")
              + f" ({row['crowds']} crowds)")
    cuts = [r.extra.get("finaliser", {}).get("cuts") for r in results]
    if any(c is not None for c in cuts):  # the shot-return link acts only after a scene cut
        print(f"scene cuts seen by the finaliser: {sum(c or 0 for c in cuts)} in {sum(1 for c in cuts if c)} of "
              f"{len(results)} crowds")
    if args.json:
        args.json.write_text(json.dumps({"crowds": [asdict(r) for r in results], "summary": summary(results)},
                                        indent=1, default=str))
        print(f"table: {args.json}")
    return 0


def register_crowds(sub: argparse._SubParsersAction) -> None:
    """Add ``crowds`` to the ``facesel eval`` subcommands."""
    s = sub.add_parser(
        "crowds",
        help="snapshots per person in crowds tiled from the shared clips, with occluders crossing the faces",
        description=(
            "Tile single-person shared clips side by side in memory (one person per tile, a walking zoom), with "
            "and without a grey occluder crossing each tile twice, and run the default pipeline: snapshots per "
            "tile person (1 is perfect) and snapshots whose re-linked fragments lie in two tiles. People before "
            "a webcam sit still, so the static rule is off unless --drop-static. Nothing is written but the "
            "optional --json table."
        ),
    )
    s.add_argument("--data", type=Path, default=None, help="shared data folder (default FACESEL_DATA)")
    s.add_argument("--size", type=int_at_least(1), default=6, help="clips per crowd (default 6)")
    s.add_argument("--columns", type=int_at_least(1), default=3, help="tiles per row (default 3)")
    s.add_argument("--frames", type=int_at_least(1), default=None,
                   help="frames per crowd (default 150; 200 with --crossing)")
    s.add_argument("--tile", type=int_at_least(MIN_TILE), default=240,
                   help=f"tile width in pixels (default 240, at least {MIN_TILE}; height 3/4 of it)")
    s.add_argument("--drop-static", action="store_true", help="keep the static rule on (default off here)")
    s.add_argument("--previous-link", action="store_true",
                   help="the re-link before issue 23's crowd work (last box against first, no re-join after a cue)")
    s.add_argument("--second-pass", action="store_true",
                   help="track with the low-confidence second pass (PipelineConfig.second_pass; off by default)")
    s.add_argument("--short-link", action="store_true",
                   help="the re-link before long links (no link over more than 1 s; LinkRule(long_gap_seconds=None))")
    s.add_argument("--colour-sample", choices=("either", "fresh", "recent", "seen", "ends"), default="either",
                   help="the re-link's colour sample (LinkRule.colour_sample; default either; ends: the sample "
                        "before the occluded-crowds work)")
    s.add_argument("--crossing", action="store_true",
                   help="crossing crowds instead: the same clips walk across a 640x360 frame at different depths and "
                        "speeds, nearer people passing in front of farther ones (facesel.eval.crowds_crossing; 200 "
                        "frames unless --frames)")
    s.add_argument("--approach", action="store_true",
                   help="crowds walking at the camera instead: the same clips grow 2.5-4x as they come nearer, move "
                        "down and outward, and pass behind those who entered before them (facesel.eval.crowds_approach; "
                        "200 frames unless --frames)")
    s.add_argument("--pace", type=finite_number(0.001, inclusive=True), default=None, metavar="FRACTION",
                   help="with --approach: the share of the way walked each frame (default 1/150: the face triples "
                        "in 4 s at 25 fps; 1/75 twice as fast)")
    s.add_argument("--layouts", type=int_at_least(1), default=3,
                   help="with --crossing or --approach: walks per group of clips (other depths, speeds, directions; default 3)")
    s.add_argument("--covered-link", type=finite_number(0, inclusive=True), default=None, metavar="SECONDS",
                   help="re-link with covered links up to this gap (LinkRule.covered_gap_seconds; off by default)")
    s.add_argument("--step", type=int_at_least(1), default=1,
                   help="feed every K-th frame at 1/K of the frame rate (another camera's rate; default 1)")
    s.add_argument("--scale", type=finite_number(0.05, inclusive=True), default=1.0,
                   help="resize every frame by this factor (another camera's size; default 1)")
    s.add_argument("--no-shot-return", action="store_true",
                   help="without the shot-return link (PipelineConfig.shot_return; on by default): the pipeline before it")
    s.add_argument("--json", type=Path, default=None, help="write every figure to this JSON file")
    s.set_defaults(func=_run)
