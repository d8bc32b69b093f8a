"""``facesel eval intercut``: snapshots per person on TV-style intercut material made from the
shared clips (A | B | A | B ... with hard cuts) and wrong joins on the same-framing control
(A | B | C) (:mod:`facesel.eval.intercut`), with the shot-return link (the default) or without, with or without the cut veto."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from facesel.cli.argtypes import int_at_least, shared_data_folder
from facesel.cli.output_flags import refuse_unwritable_outputs

FAMILIES = ("signers", "liveportrait", "retalking", "other")


def _run(args: argparse.Namespace) -> int:
    import cv2

    from facesel.eval.intercut import evaluate, summary
    from facesel.select.shot_return import ShotReturnRule

    refuse_unwritable_outputs(args)  # before minutes of work, naming the flag
    cv2.setNumThreads(1)
    root = shared_data_folder(args.data)
    rule = None if args.no_shot_return else ShotReturnRule()
    results = evaluate(Path(root), shot=args.shot, shots=args.shots, families_only=args.families, shot_return=rule,
                       cut_veto=True if args.cut_veto else
                       {None: "default", "off": False}.get(args.shot_cut_veto, args.shot_cut_veto),
                       log=_progress(Path(root), args))
    for key, row in summary(results).items():
        print(f"{key}: {row['snapshots']} snapshots for {row['persons']} persons = {row['per_person']:.2f} per person; "
              f"wrong joins {row['wrong_joins']} ({row['runs']} runs)")
    if args.json:
        args.json.write_text(json.dumps({"runs": [asdict(r) for r in results], "summary": summary(results),
                                         "shot_return": None if rule is None else asdict(rule),
                                         "cut_veto": args.cut_veto, "shot_cut_veto": args.shot_cut_veto or "start (the default)"}, indent=1, default=str))
        print(f"table: {args.json}")
    return 0


def _progress(root: Path, args: argparse.Namespace):
    """The ``log`` of :func:`facesel.eval.intercut.evaluate`: a line on stderr as each run ends, and
    with ``--verbose`` the run's line on stdout. Before, the defaults' 38 runs (minutes on two
    cores) printed nothing until the end (ux23), as ``eval switches`` did before session 16."""
    from facesel.eval.intercut import planned_runs

    planned = planned_runs(root, args.families)
    total, start, done = sum(planned.values()), time.perf_counter(), [0]
    print(f"intercut: {total} runs ({planned['interview']} interviews, {planned['control']} controls); "
          "a line here as each ends", file=sys.stderr, flush=True)

    def log(line: str) -> None:
        done[0] += 1
        if args.verbose:
            print(line, flush=True)
        print(f"intercut: {done[0]} of {total} runs done ({time.perf_counter() - start:.0f} s)", file=sys.stderr,
              flush=True)

    return log


def register_intercut(sub: argparse._SubParsersAction) -> None:
    """Add ``intercut`` to the ``facesel eval`` subcommands."""
    s = sub.add_parser(
        "intercut",
        help="snapshots per person on TV-style intercut shared clips (A | B | A | B ...), wrong joins on A | B | C",
        description=(
            "Cut two shared clips of one source family together in memory, shot / reverse shot with hard cuts "
            "(A's shots continue A's own clip: the camera on A came back), and a control A | B | C with C another "
            "person of the family (for the webcam signers, the same office and framing). Run the default "
            "pipeline on each: snapshots per person (1 is perfect) and snapshots whose track holds two people "
            "(wrong joins). Nothing is written but the optional --json table."
        ),
    )
    s.add_argument("--data", type=Path, default=None, help="shared data folder (default FACESEL_DATA)")
    s.add_argument("--shot", type=int_at_least(2), default=50, help="frames per shot (default 50: 2 s at 25 fps)")
    s.add_argument("--shots", type=int_at_least(2), default=6, help="shots per interview (default 6: A B A B A B)")
    s.add_argument("--families", nargs="+", choices=FAMILIES, default=None, help="only these source families")
    s.add_argument("--no-shot-return", action="store_true",
                   help="without the shot-return link (facesel.select.shot_return; on by default): the pipeline before it")
    s.add_argument("--cut-veto", action="store_true",
                   help="with the cut veto at every cut (Finaliser(cut_veto=True); off by default): no ordinary link "
                        "across any cut")
    s.add_argument("--shot-cut-veto", choices=("shot", "start", "off"), default=None,
                   help="the cut veto only where the face after a cut starts on another shot than the track before "
                        "it ended on (Finaliser(cut_veto=...)): 'start' (the default without this flag) reads the "
                        "later track's first frame, 'shot' the cuts' thumbnails; 'off': no veto (before session 21)")
    s.add_argument("--verbose", action="store_true",
                   help="a line per interview and control on stdout (stderr counts the runs done either way)")
    s.add_argument("--json", type=Path, default=None, help="write every figure to this JSON file")
    s.set_defaults(func=_run)
