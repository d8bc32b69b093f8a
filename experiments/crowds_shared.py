"""Snapshots per person on every shared video, with the re-link of before and after issue 23's
crowd work, in one run (docs/persons.md, "Fragments in crowds").

    python experiments/crowds_shared.py [--audit DIR] [--only NAME ...] [--max-frames N] [--compare second_pass]

Each video is decoded once and fed to a default :class:`facesel.Selector` (one thread, the
video's frame rate) once per rule of ``--rules`` (default ``short after``): ``before``
(``LinkRule(window=1, rejoin_colour_distance=None, long_gap_seconds=None)``, the re-link of main
before the crowd work), ``ends`` (``LinkRule(colour_sample="ends")``: the colour sample before the
occluded-crowds work), ``short`` (``LinkRule(long_gap_seconds=None)``: the crowd work's rule, no
link over more than 1 s) and ``after`` (the default :class:`facesel.select.linking.LinkRule`,
with long links and a short fragment a link skips absorbed into the chain, ``chain_through="place"``;
the three rules before it have ``chain_through=None``), ``chain_off`` (the default without that),
``chain`` and ``chain_both`` (``chain_through="later"`` / ``"both"``), ``lone``
(``lone_colour_distance=0.4``) and ``small`` (``small_position_scale=1.25, small_long=True``): the
looser gates measured unsafe; ``covered`` (``covered_gap_seconds=2.0, cover_reach=2.5``: covered links);
``edge`` and ``edge30`` (``edge_colour_distance`` 0.15 / 0.3, ``edge_margin=0.15``): the edge return;
``veto_edge``, ``veto_entered``, ``veto_reversed``, ``veto_cover_other`` (``veto=(name,)``: each link
veto alone) and ``veto_edge_entered`` / ``veto_all`` (``veto=("edge", "entered")`` / ``("edge", "entered",
"reversed")``); ``behind``, ``edge_short`` and ``short_both`` (``behind_distance=0.5``,
``edge_short_colour_distance=0.3``, both: the short link's gates, docs/persons.md "The short link's
wrong joins"); the grace period is each rule's ``max_gap_seconds`` (the finaliser holds a
track past it only for a long link). Printed per video: snapshots and re-links
of each. The clips of ``videos/more`` show one person each by their manifest (``people_est``
1; two for the mmaction2 demo and the children on the bed), so there snapshots per person is
snapshots over that count. With ``--audit DIR`` the runs of the multi-person videos (arcade, the
children on the bed, the mmaction2 demo, OTB Girl, Intel walking) are also written there as
``--plaintext-out`` folders (FACES IN THE CLEAR: testing only, outside the repository) and audited
by ``facesel eval snapshots``' matcher (recognisable people and snapshots linked to them).

``--step K`` keeps every K-th frame (the same stretch of footage at 1/K of the frame rate: the
Selector is told ``fps / K``) and ``--scale S`` resizes every frame by S (``cv2.INTER_AREA``), both in
memory (:func:`facesel.eval.crowds.resample`), to see whether the tracker and the finaliser depend on the frame rate or the frame size
(docs/persons.md, "Other frame rates and sizes"); ``--max-frames`` counts native frames, so every
step sees the same seconds of each video.

Every run has the shot-return link (the default since session 20) but ``--shot-return``'s extra
run ``noshot`` (the default without it); ``--shot-cut-veto`` adds ``shotveto`` (the veto only across a cut to
another shot, session 21); ``--cut-veto`` adds a run ``veto`` (the default with the
finaliser's cut veto, off by default; docs/persons.md, "Cuts back to a shot").

``--compare second_pass``: the two runs are instead ``before`` = the tracker without the
low-confidence second pass (YuNet at 0.6) and ``after`` = with it (YuNet at 0.3, boxes under 0.6
only continue tracks), both with the default re-link.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import cv2

AUDITED = ("arcade_walkers_1080p.mp4", "sam2__notebooks_videos_bedroom.mp4", "mmaction2__demo_demo.mp4",
           "intel_face_demographics_walking.gif", "img")


def videos(root: Path) -> list[tuple[Path, int]]:
    """(path, people by the manifest or 1) of every shared video."""
    out = [(root / "videos" / n, 1) for n in ("arcade_walkers_1080p.mp4", "intel_face_demographics_walking.gif",
                                             "intel_head_pose_female.gif", "selfie_motion_blur_portrait.mp4")]
    out[0] = (out[0][0], 0)  # arcade, Intel walking: people counted by the audit only
    out[1] = (out[1][0], 0)
    out.append((root / "videos" / "otb_girl" / "img", 0))
    with open(root / "videos" / "more" / "manifest.csv") as f:
        for row in csv.DictReader(f):
            out.append((root / "videos" / "more" / row["file"], int(row["people_est"] or 1)))
    return out


def fps_of(path: Path) -> float:
    """The video file's frame rate, or 25 (a folder of images, or none in the file)."""
    capture = cv2.VideoCapture(str(path)) if path.is_file() else None
    fps = (capture.get(cv2.CAP_PROP_FPS) if capture is not None else 0.0) or 25.0
    if capture is not None:
        capture.release()
    return fps


def rules():
    from facesel.select.linking import LinkRule

    return {"before": LinkRule(window=1, rejoin_colour_distance=None, long_gap_seconds=None, chain_through=None),
            "short": LinkRule(long_gap_seconds=None, chain_through=None),
            "ends": LinkRule(colour_sample="ends", chain_through=None), "after": LinkRule(),
            "chain_off": LinkRule(chain_through=None), "chain": LinkRule(chain_through="later"),
            "chain_both": LinkRule(chain_through="both"),
            # the looser gates measured unsafe (docs/persons.md, "Why the selfie, OTB Girl and the bed ...")
            "lone": LinkRule(lone_colour_distance=0.4), "small": LinkRule(small_position_scale=1.25, small_long=True),
            # the edge return (docs/persons.md, "Leaving by the frame's edge and coming back")
            "edge": LinkRule(edge_colour_distance=0.15, edge_margin=0.15),
            "edge30": LinkRule(edge_colour_distance=0.3, edge_margin=0.15),
            # covered links (docs/persons.md, "Crossing crowds"): the setting chosen leave-one-source-out
            "covered": LinkRule(covered_gap_seconds=2.0, cover_reach=2.5),
            # the link veto (docs/persons.md, "The link veto"): left by the edge; and from behind another track
            **{f"veto_{v}": LinkRule(veto=(v,)) for v in ("edge", "entered", "reversed", "cover_other")},
            "veto_edge_entered": LinkRule(veto=("edge", "entered")), "veto_all": LinkRule(veto=("edge", "entered", "reversed")),
            # the short link's gates (docs/persons.md, "The short link's wrong joins")
            "behind": LinkRule(behind_distance=0.5), "edge_short": LinkRule(edge_short_colour_distance=0.3),
            "short_both": LinkRule(behind_distance=0.5, edge_short_colour_distance=0.3)}


def run_one(frames, fps: float, detector, scorer, link, folder: Path | None, min_face_size: float,
            second_pass: bool = True, shot_return: bool = True, cut_veto: bool | str = False) -> dict:
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.select.finalise import Finaliser
    from facesel.sinks.files import PlaintextSink

    config = PipelineConfig(min_face_size=min_face_size, second_pass=second_pass)
    finaliser = Finaliser.for_config(config, scorer)
    finaliser.link = link
    finaliser.grace_seconds = max(1.0, link.max_gap_seconds)  # as Finaliser.for_scorer (long links hold on past it)
    if not shot_return:  # the shot-return link off (docs/persons.md, "Cuts back to a shot"; on by default)
        finaliser.shot_return = False
    if cut_veto:  # no ordinary link across a cut (docs/persons.md, "Cuts back to a shot"; off by default)
        from facesel.select.shot_return import ShotMemory, ShotReturnRule

        finaliser.shots = finaliser.shots or ShotMemory(ShotReturnRule())
        finaliser.cut_veto = cut_veto  # True, or "shot": only across a cut to another shot
    sinks = []
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        sinks = [PlaintextSink(folder)]
    selector = Selector(detector, scorer, config=config, threads=1, fps=fps, sinks=sinks, post_close=[finaliser])
    count = 0
    for frame in frames:
        count += len(selector.feed(frame).closed)
    count += len(selector.flush())
    for sink in sinks:
        sink.close()
    return {"snapshots": count, "links": len(finaliser.links), "link_pairs": [list(p) for p in finaliser.links],
            "stats": finaliser.stats.as_dict(),
            "cuts": finaliser.shots.recorded if finaliser.shots is not None else None}  # scene cuts it saw


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.eval.crowds import resample
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit", type=Path, default=None, help="folder for the audited runs (faces in the clear)")
    parser.add_argument("--only", nargs="*", default=None, help="video file names to run (default all)")
    parser.add_argument("--max-frames", type=int, default=600, help="frames read of each video (default 600)")
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    parser.add_argument("--step", type=int, default=1, help="keep every K-th frame (fps / K; default 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="resize every frame by this factor (default 1)")
    parser.add_argument("--compare", choices=("link", "second_pass"), default="link",
                        help="what the runs differ in (default the re-link rules of --rules)")
    parser.add_argument("--rules", nargs="+", default=["short", "after"], choices=sorted(rules()),
                        help="re-link rules compared with --compare link (default: short after)")
    parser.add_argument("--shot-return", action="store_true",
                        help="also run the default re-link without the shot-return link as 'noshot'")
    parser.add_argument("--cut-veto", action="store_true",
                        help="also run the default re-link with the cut veto (Finaliser.cut_veto) as 'veto'")
    parser.add_argument("--shot-cut-veto", nargs="?", const="shot", choices=("shot", "start"), default=None,
                        help="also run the default re-link with the cut veto only across a cut to another shot "
                             "(Finaliser(cut_veto='shot' or 'start')) as 'shotveto'")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    from facesel.config import PipelineConfig
    from facesel.select.linking import LinkRule

    scorer = default_scorer()
    if args.compare == "link":
        runs = {name: (rules()[name], False, default_detector()) for name in args.rules}
        if args.shot_return:
            runs["noshot"] = (LinkRule(), False, default_detector())
        if args.cut_veto:
            runs["veto"] = (LinkRule(), False, default_detector())
        if args.shot_cut_veto:
            runs["shotveto"] = (LinkRule(), False, default_detector())
    else:
        runs = {"before": (LinkRule(), False, default_detector(PipelineConfig(second_pass=False))),
                "after": (LinkRule(), True, default_detector(PipelineConfig(second_pass=True)))}
    rows = []
    for path, people in videos(data_root()):
        if args.only and path.name not in args.only:
            continue
        fps = fps_of(path) / args.step
        frames = resample([f for f, _ in open_source(path, max_frames=args.max_frames)], args.step, args.scale)
        min_face = 8.0 if path.name == "img" else 16.0  # OTB Girl: as docs/persons.md runs it
        row = {"video": path.name if path.name != "img" else "otb_girl", "frames": len(frames), "people": people,
               "step": args.step, "scale": args.scale}
        for name, (link, second_pass, detector) in runs.items():
            folder = args.audit / row["video"] / name if args.audit is not None and path.name in AUDITED else None
            out = run_one(frames, fps, detector, scorer, link, folder, min_face, second_pass, name != "noshot",
                          {"veto": True, "shotveto": args.shot_cut_veto}.get(name, False))
            row[name] = out["snapshots"]
            row[f"{name}_links"] = out["links"]
            row[f"{name}_link_pairs"] = out["link_pairs"]
            if out["cuts"] is not None:
                row[f"{name}_cuts"] = out["cuts"]
            if folder is not None:
                from facesel.eval.snapshot_audit import audit_run

                audit = audit_run(path, folder, max_frames=args.max_frames, sheet=False)
                row[f"{name}_audit"] = {k: audit[k] for k in ("recognisable_people", "snapshots", "recall",
                                                              "snapshots_per_recognisable_person",
                                                              "linked_snapshots_per_person")}
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
