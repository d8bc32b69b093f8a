"""The snapshot audit on every shared video, one row per video, and the facts of every sealed
snapshot that could be junk (docs/persons.md, "All 40 shared videos: per-video audit and junk").

    nice -n 5 python experiments/audit_shared.py --rows /tmp/audit40.jsonl [--only NAME ...] [--max-frames 600] [--no-interleave]
    python experiments/audit_shared.py --rows /tmp/audit40.jsonl --table docs/persons_audit40.json

Each video (``experiments/crowds_shared.py``'s list: the five older videos and the 35 of
``videos/more``; OTB Girl at ``min_face_size`` 8, as docs/persons.md runs it) is decoded once (its
first ``--max-frames`` frames, 600 as in ``crowds_shared.py``) and fed to the default
:class:`facesel.Selector` (one thread, the video's frame rate, the finaliser on with its default
rules). The sealed results are kept IN MEMORY: only their numbers (``plaintext_out.track_record``:
frame indices and boxes, no pixels) go to a temporary ``tracks.jsonl``, which
:func:`facesel.eval.snapshot_audit.audit_run` reads with no contact sheet (``sheet=False``), so
no face image is written anywhere.

Per video: snapshots, recognisable people (the census), recall, match recall, snapshots per
recognisable person, poor / unmatched face / head / non-face, the audit's static snapshots, and
what the finaliser did (its stats: merged, dropped per reason). Per sealed snapshot the facts a
reader needs to judge junk without looking at it: the audit's verdict, the finaliser's evidence
(best detector confidence, travel of the box centre in box sides, the share of steps the box did
not move, the share on which its pixels lived, duration), the shipped VAE's ``dose`` face vote on
its best crop (the finaliser's second opinion; floor -68), its median box side and where it sits in
the frame. ``suspect`` marks the snapshots step 2 of the junk audit looks at: non-face, head (no
face found), or a static track (the audit's ``is_static`` or travel < 0.25 box sides).

Rows are appended to ``--rows`` as each video finishes (a video already there is skipped, so an
interrupted run resumes); ``--table`` writes the per-video table (no per-snapshot pixels, numbers
only) from those rows; ``--contained N ...`` prints what a candidate rule for the junk found
(:func:`contained_doubted`, not built into the finaliser) would drop at each N.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from crowds_shared import videos


def source_of(name: str) -> str:
    """The source a shared video comes from (the grouping of every held-out figure)."""
    if "__" in name:
        return name.split("__")[0]
    return {"arcade_walkers_1080p.mp4": "arcade", "intel_face_demographics_walking.gif": "intel",
            "intel_head_pose_female.gif": "intel", "selfie_motion_blur_portrait.mp4": "selfie",
            "otb_girl": "otb"}.get(name, name)


class _Collect:
    """A sink that keeps the sealed results in memory (no file, no pixels written)."""

    def __init__(self) -> None:
        self.results = []

    def write(self, result) -> None:
        self.results.append(result)

    def tick(self, now: float) -> None:
        pass

    def close(self) -> None:
        pass


def _evidence_facts(evidence) -> dict:
    side_min = max(float(evidence.side_min), 1e-9)
    lively = evidence.lively_fraction
    return {"det_max": round(float(evidence.det_max), 3), "count": int(evidence.count),
            "duration_s": round(float(evidence.duration), 2),
            "travel_sides": round(float(evidence.travel) / side_min, 3),
            "size_change": round(float(evidence.side_max) / side_min, 3),
            "still_fraction": round(float(evidence.still_fraction), 3),
            "lively_fraction": None if math.isnan(lively) else round(float(lively), 3)}


def run_video(frames, fps: float, min_face_size: float, detector, scorer, interleave: bool = True):
    """The default Selector over ``frames``: (sealed results, finaliser, {track id: evidence facts at judgement}).
    ``interleave=False``: the finaliser without the interleave merge (the default before it, for the
    bed's figures before and after it, docs/persons.md "All 40 shared videos")."""
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.select.finalise import Finaliser

    config = PipelineConfig(min_face_size=min_face_size)
    finaliser = Finaliser.for_config(config, scorer)
    if not interleave:
        finaliser.interleave = None
    facts = {}
    judge = finaliser._judge

    def judge_and_note(held):  # the evidence the verdict was made on, for the junk audit
        facts[int(held.result.track_id)] = _evidence_facts(held.evidence)
        return judge(held)

    finaliser._judge = judge_and_note
    sink = _Collect()
    selector = Selector(detector, scorer, config=config, threads=1, fps=fps, sinks=[sink], post_close=[finaliser])
    for frame in frames:
        selector.feed(frame)
    selector.flush()
    return sink.results, finaliser, facts


def audit_video(path: Path, name: str, max_frames: int, detector, scorer, audit_tools, interleave: bool = True) -> dict:
    from facesel.eval.snapshot_audit import audit_run
    from facesel.eval.snapshots import is_static
    from facesel.plaintext_out import track_record
    from facesel.video import open_source

    capture = cv2.VideoCapture(str(path)) if path.is_file() else None
    fps = (capture.get(cv2.CAP_PROP_FPS) if capture is not None else 0.0) or 25.0
    if capture is not None:
        capture.release()
    frames = [frame for frame, _ in open_source(path, max_frames=max_frames)]
    height, width = frames[0].shape[:2]
    min_face = 8.0 if name == "otb_girl" else 16.0
    start = time.process_time()
    results, finaliser, facts = run_video(frames, fps, min_face, detector, scorer, interleave)
    pipeline_cpu = time.process_time() - start
    records = [track_record(r) for r in results]
    votes = {}
    for r in results:  # the finaliser's second opinion, asked of every sealed track here (it asks only when the detector doubts)
        votes[int(r.track_id)] = round(float(finaliser.face_vote(r)), 2) if finaliser.face_vote is not None else None
    start = time.process_time()
    with tempfile.TemporaryDirectory() as folder:  # numbers only: frame indices and boxes
        with open(Path(folder) / "tracks.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(record) + "\n" for record in records)
        detector_census, matcher, face_check, profile_check, head_check = audit_tools
        audit = audit_run(path, folder, detector=detector_census, matcher=matcher, face_check=face_check,
                          profile_check=profile_check, head_check=head_check, max_frames=max_frames,
                          sheet=False, write=False)
    audit_cpu = time.process_time() - start
    verdicts = {int(v["track_id"]): v for v in audit["snapshot_verdicts"]}
    snapshots = []
    for record in records:
        tid = int(record["track_id"])
        boxes = np.asarray(record["boxes"], dtype=np.float64).reshape(-1, 4)
        sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        verdict = verdicts.get(tid, {})
        fact = {"track_id": tid, "category": verdict.get("category"), "seen_by": verdict.get("seen_by", ""),
                "person": verdict.get("person", -1), "static_audit": bool(is_static(record["boxes"])),
                "frames": [int(record["frame_indices"][0]), int(record["frame_indices"][-1])],
                "box_side_median": round(float(np.median(sides)), 1),
                "centre_xy": [round(float(np.median(centres[:, 0])) / width, 3), round(float(np.median(centres[:, 1])) / height, 3)],
                "dose_vote": votes.get(tid), **facts.get(tid, {})}
        fact["suspect"] = bool(fact["category"] in ("non_face", "head") or fact["static_audit"]
                               or fact.get("travel_sides", 1.0) < 0.25)
        snapshots.append(fact)
    keys = ("recognisable_people", "snapshots", "recall", "match_recall", "snapshots_per_recognisable_person",
            "all_snapshots_per_recognisable_person", "linked_snapshots_per_person", "poor_of_a_known_person",
            "unmatched_faces", "head", "non_face", "static", "snapshots_of_person", "linked_to_nobody", "scene_cuts")
    return {"video": name, "source": source_of(name), "frames": len(frames), "size": [width, height], "fps": round(fps, 2),
            **{k: audit[k] for k in keys}, "finaliser": finaliser.stats.as_dict(),
            "finaliser_drops": [list(d) for d in finaliser.drops], "links": [list(p) for p in finaliser.links],
            "snapshot_facts": snapshots, "cpu_s": {"pipeline": round(pipeline_cpu, 1), "audit": round(audit_cpu, 1)}}


def table(rows: list[dict]) -> list[dict]:
    """The per-video table written to docs (numbers and track ids only)."""
    out = []
    for row in rows:
        out.append({k: row[k] for k in ("video", "source", "frames", "snapshots", "recognisable_people", "recall",
                                        "match_recall", "snapshots_per_recognisable_person",
                                        "linked_snapshots_per_person", "poor_of_a_known_person", "unmatched_faces",
                                        "head", "non_face", "static", "finaliser", "finaliser_drops", "links")}
                   | {"suspects": [s for s in row["snapshot_facts"] if s["suspect"]]})
    return out


def contained_doubted(rows: list[dict], max_count: int, sure: float = 0.8) -> list[tuple[str, int]]:
    """The sealed snapshots a candidate rule (not built) would drop: a track the detector doubts
    (best confidence < ``sure``) of at most ``max_count`` observations whose whole life
    (first to last frame) lies within that of another sealed track the detector is sure of.
    ``rows``: this script's rows; returns (video, track id) pairs. Measured on the final sealed
    tracks, not on what the finaliser knew when it judged."""
    out = []
    for row in rows:
        facts = row["snapshot_facts"]
        for x in facts:
            if x["det_max"] >= sure or x["count"] > max_count:
                continue
            first, last = x["frames"]
            if any(y is not x and y["det_max"] >= sure and y["frames"][0] <= first and y["frames"][1] >= last
                   for y in facts):
                out.append((row["video"], int(x["track_id"])))
    return out


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval.census import IndependentFaceCheck
    from facesel.eval.head_checks import PersonBelowCheck, ProfileFaceCheck
    from facesel.eval.matcher import DlibMatcher
    from facesel.selector import default_detector, default_scorer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=Path, required=True, help="JSON lines, one per video (appended; resumes)")
    parser.add_argument("--only", nargs="*", default=None, help="video names to run (default all)")
    parser.add_argument("--max-frames", type=int, default=600, help="frames read of each video (default 600)")
    parser.add_argument("--table", type=Path, default=None, help="write the per-video table here (from --rows) and stop")
    parser.add_argument("--contained", type=int, nargs="*", default=None,
                        help="print what contained_doubted drops at each of these max counts (from --rows) and stop")
    parser.add_argument("--no-interleave", action="store_true",
                        help="the finaliser without the interleave merge (its default before session 14)")
    args = parser.parse_args(argv)
    done = [json.loads(line) for line in args.rows.read_text().splitlines() if line.strip()] if args.rows.is_file() else []
    if args.contained is not None:
        by_video = {row["video"]: {x["track_id"]: x for x in row["snapshot_facts"]} for row in done}
        for n in args.contained:
            dropped = contained_doubted(done, n)
            print(f"max {n} observations: {[(v, t, by_video[v][t]['category'], by_video[v][t]['count']) for v, t in dropped]}")
        return 0
    if args.table is not None:
        args.table.write_text(json.dumps(table(done), indent=1) + "\n")
        return 0
    cv2.setNumThreads(1)
    seen = {row["video"] for row in done}
    args.rows.parent.mkdir(parents=True, exist_ok=True)
    detector, scorer = default_detector(), default_scorer()
    audit_tools = (make_detector(max_side=1280), DlibMatcher(), IndependentFaceCheck(8), ProfileFaceCheck(8),
                   PersonBelowCheck(8))
    for path, _people in videos(data_root()):
        name = path.name if path.name != "img" else "otb_girl"
        if name in seen or (args.only and name not in args.only and path.name not in args.only):
            continue
        row = audit_video(path, name, args.max_frames, detector, scorer, audit_tools, not args.no_interleave)
        with open(args.rows, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        print(f"{name}: {row['snapshots']} snapshots, {row['recognisable_people']} people, recall {row['recall']}, "
              f"per person {row['snapshots_per_recognisable_person']}, poor/unmatched/head/non-face "
              f"{row['poor_of_a_known_person']}/{row['unmatched_faces']}/{row['head']}/{row['non_face']}, "
              f"static {row['static']}, suspects {[s['track_id'] for s in row['snapshot_facts'] if s['suspect']]}, "
              f"finaliser {row['finaliser']}, cpu {row['cpu_s']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
