"""``facesel eval switches``: identity switches on spliced real clips, caught or not, and genuine
tracks split (:mod:`facesel.eval.switches`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from facesel.cli.argtypes import int_at_least, shared_data_folder
from facesel.cli.output_flags import refuse_unwritable_outputs


def _run(args: argparse.Namespace) -> int:
    import cv2

    from facesel.eval.switches import evaluate

    refuse_unwritable_outputs(args)  # before minutes of work, naming the flag
    cv2.setNumThreads(1)
    root = shared_data_folder(args.data)
    out = evaluate(Path(root), frames=args.frames, transition=args.transition, max_frames=args.max_frames,
                   unspliced=not args.splices_only, heldout=not args.no_heldout, second_pass=args.second_pass, step=args.step,
                   log=lambda line: print(line, file=sys.stderr, flush=True))  # minutes: say where it is
    total = {"splices": 0, "made": 0, "caught_of_made": 0, "genuine": 0, "split": 0}
    for source, s in out["by_source"].items():
        print(f"{source}: {s['splices']} splices, switch made by the tracker alone in {s['made']}, caught "
              f"{s['caught_of_made']}/{s['made']}; no confirmed segment holds two people in {s['caught']}/{s['splices']}; "
              f"genuine tracks split {s['split']}/{s['genuine']}")
        for key in total:
            total[key] += s[key]
    print(f"all splices: switches caught {total['caught_of_made']}/{total['made']}, genuine tracks split "
          f"{total['split']}/{total['genuine']}")
    if "unspliced" in out:
        genuine = sum(u["genuine"] for u in out["unspliced"])
        split = sum(u["split"] for u in out["unspliced"])
        print(f"unspliced clips ({len(out['unspliced'])}, first {args.max_frames} frames): tracks split {split}/{genuine}")
        for u in out["unspliced"]:
            if u["split"]:
                print(f"  {u['clip']}: {u['split']}/{u['genuine']} split ({u['cues']})")
        girl = out.get("girl")
        if girl:
            print(f"OTB Girl: her tracks split {girl['split']}/{girl['genuine']}, a segment holding her and another "
                  f"face: {'no' if girl['no_switch_with_cues'] else 'yes'} (without cues: "
                  f"{'yes' if girl['switch_made_without_cues'] else 'no'})")
    loso = out.get("heldout")
    if loso:
        print("thresholds chosen leave-one-source-out (on the other sources' splices; figures on the held-out source):")
        for source, fold in loso["folds"].items():
            h, t = fold["held_out"], fold["train"]
            line = (f"  held out {source}: rule {fold['rule']} (train: caught {t['caught']}/{t['made']}, split "
                    f"{t['split']}/{t['genuine']}); held out: caught {h['caught']}/{h['made']}, split {h['split']}/{h['genuine']}")
            if "unspliced" in fold:
                line += f"; unspliced split {fold['unspliced']['split']}/{fold['unspliced']['genuine']}"
            if fold.get("girl"):
                line += f"; OTB Girl split {fold['girl']['split']}/{fold['girl']['genuine']}"
            print(line)
        h = loso["held_out"]
        print(f"  held-out total: switches caught {h['caught']}/{h['made']}, genuine tracks split {h['split']}/{h['genuine']}")
        a = loso["chosen_on_all"]
        print(f"  chosen on all sources: {a['rule']} (caught {a['figures']['caught']}/{a['figures']['made']}, "
              f"split {a['figures']['split']}/{a['figures']['genuine']}; not held out)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
        print(f"table: {args.json}")
    return 0


def register_switches(sub: argparse._SubParsersAction) -> None:
    """Add ``switches`` to the ``facesel eval`` subcommands."""
    s = sub.add_parser(
        "switches",
        help="identity switches on spliced real clips (caught / made) and genuine tracks split",
        description=(
            "Splice the shared data's webcam signers and talking heads in memory so that one real person "
            "replaces another at the same place (hard cut, cross-fade, gap of undetected frames), detect every "
            "frame and track with and without the switch cues (facesel.track_cues). Reports switches made by the "
            "tracker alone and caught with the cues, genuine tracks split (on the splices, on every shared video "
            "alone, and OTB Girl against its ground truth), and the thresholds chosen leave-one-source-out over the "
            "splice sources with their held-out figures. Nothing is written but the optional --json table."
        ),
    )
    s.add_argument("--data", type=Path, default=None, help="shared data folder (default FACESEL_DATA)")
    s.add_argument("--frames", type=int_at_least(1), default=40, help="frames of each person in a splice (default 40)")
    s.add_argument("--transition", type=int_at_least(0), default=5, help="frames of a fade or gap (default 5; 0: a cut)")
    s.add_argument("--max-frames", type=int_at_least(1), default=150, help="frames of each unspliced clip (default 150)")
    s.add_argument("--splices-only", action="store_true", help="skip the unspliced clips and OTB Girl")
    s.add_argument("--no-heldout", action="store_true",
                   help="skip the leave-one-source-out choice of thresholds (27 rules; the default rule only)")
    s.add_argument("--second-pass", action="store_true",
                   help="track with the low-confidence second pass (PipelineConfig.second_pass; off by default)")
    s.add_argument("--step", type=int_at_least(1), default=1,
                   help="track every K-th frame of each splice and clip (another camera's frame rate; default 1)")
    s.add_argument("--json", type=Path, default=None, help="write every figure to this JSON file")
    s.set_defaults(func=_run)
