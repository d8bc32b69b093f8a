"""``facesel eval snapshots VIDEO RUN``: which people a run kept, how often, and what junk."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facesel.cli.argtypes import finite_number, int_at_least
from facesel.cli.output_flags import refuse_unwritable_outputs


def _run(args: argparse.Namespace) -> int:
    from facesel.eval.snapshot_audit import audit_run
    from facesel.serve.quiet_media import quiet_media_libraries

    refuse_unwritable_outputs(args)  # before minutes of work, naming the flag
    if (note := other_input_note(args.video, args.run)) is not None:
        print(f"facesel eval snapshots: note: {note}", file=sys.stderr)
    quiet_media_libraries()  # as `facesel run`: FFmpeg's own lines off stderr
    out = audit_run(args.video, args.run, every=args.every, max_frames=args.max_frames, fps=args.fps,
                    threshold=args.threshold, min_frames=args.min_frames,
                    sheet=False if args.no_sheet else args.sheet, progress=not args.no_progress)
    print(f"recognisable people: {out['recognisable_people']} (matcher clusters seen in >= {args.min_frames} frames)")
    print(f"snapshots: {out['snapshots']}  matched: {out['matched']}  recall: {out['recall']:.2f} "
          f"(by a matching snapshot: {out['match_recall']:.2f})  "
          f"snapshots per recognisable person: {out['snapshots_per_recognisable_person']:.2f} "
          f"(all snapshots: {out['all_snapshots_per_recognisable_person']:.2f})")
    print(f"snapshots linked to each person: {out['linked_snapshots_per_person']}")
    print(f"match nobody: {out['matches_nobody']} (poor snapshots of a known person {out['poor_of_a_known_person']}, "
          f"unmatched faces {out['unmatched_faces']}, heads {out['head']}: no face seen, a person under the box, "
          f"non-face {out['non_face']}: junk, no face and no person); static: {out['static']}")
    for p, snaps in enumerate(out["snapshots_of_person"]):
        listed = ", ".join(f"t{v['track_id']} ({v['category']})" for v in snaps) or "none: MISSED"
        print(f"  person P{p}: {listed}")
    for v in out["linked_to_nobody"]:
        print(f"  t{v['track_id']}: linked to nobody, {v['category']}" + (f" (seen by {v['seen_by']})" if v["seen_by"] else ""))
    if out.get("scene_cuts"):
        print(f"scene cuts (no person joined across them): frames {out['scene_cuts']}")
    skipped = [f"{name} {how}" for name, how in out["checks"].items() if "skipped" in how]
    if skipped:
        print("checks skipped: " + "; ".join(skipped))
    if "sheet" in out:
        print(f"contact sheet (FACE PIXELS, testing only): {out['sheet']}")
    print(f"audit: {out['json']}")
    return 0


def other_input_note(video, run) -> str | None:
    """A note when RUN/run.json names another input than VIDEO (a copy, or another video: the audit
    then compares the run's snapshots with that video's frames), else None."""
    from facesel.run_settings import read_run_settings

    try:
        recorded = read_run_settings(run)
    except ValueError:
        return None  # the audit itself names a damaged run.json
    if not recorded or not recorded.get("input"):
        return None
    theirs, ours = Path(recorded["input"]), Path(video)
    if not ours.exists() and "://" not in str(video):
        return None  # the audit's own error names the missing VIDEO; a note on it came first (ux26)
    try:
        same = theirs.resolve() == ours.resolve() or (theirs.exists() and ours.exists() and theirs.samefile(ours))
    except OSError:
        same = False
    return None if same else (f"the run in {run} read {theirs}, not {ours}: its snapshots are compared with the "
                              f"frames of {ours} (fine for a copy of the same video)")


def register_snapshots(sub: argparse._SubParsersAction) -> None:
    """Add ``snapshots`` to the ``facesel eval`` subcommands."""
    s = sub.add_parser(
        "snapshots",
        help="audit a run's kept snapshots against the recognisable people of the video (matcher, evaluation only)",
        description=(
            "Find the recognisable people of VIDEO (face detections of every frame, embedded by dlib's ResNet "
            "matcher and clustered), then judge each snapshot kept by a run: which person it matches, poor "
            "snapshot of a known person, unmatched face (a frontal or profile detector other than the pipeline's "
            "sees a face in its track), head (no face, but OpenCV's person or upper-body detector finds a person "
            "under it: seen from the side or back), or non-face (junk: neither). RUN is the --plaintext-out folder "
            "of 'facesel run' on VIDEO (testing only: it holds faces in the clear). Writes RUN/snapshot_audit.json and, unless --no-sheet, RUN/contact_sheet.png "
            "(face pixels). Needs the eval extra: pip install 'facesel[eval]'."
        ),
    )
    s.add_argument("video", metavar="VIDEO", help="the run's INPUT (video file or image folder)")
    s.add_argument("run", metavar="RUN", type=Path, help="the run's --plaintext-out folder")
    taken = "; default: the run's, from RUN/run.json (a different value is refused)"
    s.add_argument("--every", type=int_at_least(1), default=None,
                   help=f"as given to facesel run{taken}, 1 for a run without run.json")
    s.add_argument("--max-frames", type=int_at_least(1), default=None, help=f"as given to facesel run{taken}")
    s.add_argument("--fps", type=finite_number(0, inclusive=False), default=None, help=f"as given to facesel run{taken}")
    s.add_argument("--threshold", type=finite_number(0, inclusive=False), default=0.6, help="matcher distance threshold (default 0.6, dlib's)")
    s.add_argument("--min-frames", type=int_at_least(1), default=3, help="frames a person must be recognisable in (default 3)")
    s.add_argument("--sheet", type=Path, default=None, help="contact sheet path (default RUN/contact_sheet.png; face pixels)")
    s.add_argument("--no-sheet", action="store_true", help="draw no contact sheet")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(func=_run)
