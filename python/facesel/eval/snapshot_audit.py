"""``facesel eval snapshots VIDEO RUN``: audit what a run kept against who is in the video.

RUN is the folder of ``facesel run --plaintext-out`` (testing only: ``tracks.jsonl`` plus one PNG
per kept snapshot). The audit writes ``snapshot_audit.json`` (numbers only) and
``contact_sheet.png`` (the kept snapshots and the recognisable people: FACE PIXELS, so only into
that same testing-only folder, or where ``sheet`` says) and returns the summary.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from facesel.eval.snapshots import (MATCH_THRESHOLD, cluster_people, is_static, match_snapshots, sample_positions, summarise,
                                    track_people)

AUDIT_FILE = "snapshot_audit.json"
SHEET_FILE = "contact_sheet.png"
_CHECK_SAMPLES = 8


def read_run(folder) -> list[dict]:
    """The records of a ``--plaintext-out`` folder's ``tracks.jsonl``, in the order written."""
    path = Path(folder) / "tracks.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} holds no tracks.jsonl: give the --plaintext-out folder of a facesel run")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in records:
        missing = [k for k in ("track_id", "best_frame", "box", "frame_indices", "boxes") if k not in r]
        if missing:
            raise ValueError(f"{path}: track {r.get('track_id')} lacks {missing} (written by an older facesel?)")
    return records


def _check_frames(record: dict) -> list[int]:
    frames = record["frame_indices"]
    return [int(frames[k]) for k in sample_positions(len(frames), _CHECK_SAMPLES)]


class UnlinkedChecks:
    """What a snapshot that the matcher links to nobody shows, by checks independent of the pipeline.

    In this order, the first that accepts the track decides: ``face_check`` (frontal: MTCNN and
    dlib HOG, :class:`facesel.eval.census.IndependentFaceCheck`) and ``profile_check`` (OpenCV's
    profile cascade, :class:`facesel.eval.head_checks.ProfileFaceCheck`) make it an
    "unmatched_face"; ``head_check`` (a person under the box,
    :class:`facesel.eval.head_checks.PersonBelowCheck`) a "head"; none: "non_face" (junk).
    Each check is called as ``check(frames, track_frames, track_boxes) -> bool``.
    """

    def __init__(self, face_check=None, profile_check=None, head_check=None, samples: int = _CHECK_SAMPLES):
        from facesel.eval.census import IndependentFaceCheck
        from facesel.eval.head_checks import PersonBelowCheck, ProfileFaceCheck

        self.face_checks = [("frontal", IndependentFaceCheck(samples) if face_check is None else face_check),
                            ("profile", ProfileFaceCheck(samples) if profile_check is None else profile_check)]
        self.head_check = PersonBelowCheck(samples) if head_check is None else head_check

    def verdict(self, frames, track_frames, track_boxes) -> tuple[str, str]:
        """``(category, seen_by)``: "unmatched_face", "head" or "non_face", and the accepting check's name ("" for none).

        ``frames``: indexable by frame index, (H, W, 3) uint8 BGR (the track's sampled frames at
        least); ``track_frames`` (M,) int; ``track_boxes`` (M, 4) float x1, y1, x2, y2.
        """
        for name, check in self.face_checks:
            if check(frames, track_frames, track_boxes):
                return "unmatched_face", name
        if self.head_check(frames, track_frames, track_boxes):
            return "head", "person_below"
        return "non_face", ""

    def describe(self) -> dict:
        """Which check is which, and the reason of any that was skipped (a file missing from OpenCV)."""
        profile, head = self.face_checks[1][1], self.head_check
        upper_skipped = getattr(head, "upper_body_skip_reason", "")
        return {
            "frontal": "MTCNN and dlib HOG",
            "profile": "OpenCV profile cascade" if getattr(profile, "available", True) else f"skipped: {profile.skip_reason}",
            "person_below": "OpenCV HOG people detector and upper-body cascade" if not upper_skipped
            else f"OpenCV HOG people detector (upper-body cascade skipped: {upper_skipped})",
        }


def audit_run(video, run, *, detector=None, matcher=None, face_check=None, profile_check=None, head_check=None,
              every: int | None = None, max_frames=None, fps=None, threshold: float = MATCH_THRESHOLD, min_frames: int = 3,
              sheet=None, write: bool = True, progress: bool = False) -> dict:
    """Audit one run.

    Parameters
    ----------
    video : path or source accepted by :func:`facesel.video.open_source` (the run's INPUT)
    run : path of the run's ``--plaintext-out`` folder
    detector : finds the faces of the census (default: the pipeline's default detector, 1280 px)
    matcher : default :class:`facesel.eval.matcher.DlibMatcher`
    face_check : default :class:`facesel.eval.census.IndependentFaceCheck` (frontal: MTCNN, dlib HOG)
    profile_check : default :class:`facesel.eval.head_checks.ProfileFaceCheck` (OpenCV's profile cascade)
    head_check : default :class:`facesel.eval.head_checks.PersonBelowCheck` (a person under the box:
        a head seen from the side or back is a "head", not a "non_face")
    every, max_frames, fps : as given to ``facesel run`` (frame indices must agree); None (the
        default) takes the run's from ``RUN/run.json``, and a value other than the run's is a
        ValueError naming both, before any work (:func:`facesel.run_settings.settings_for_audit`;
        a run without ``run.json``: ``every`` 1 when None)
    threshold, min_frames : see :mod:`facesel.eval.snapshots`
    sheet : path of the contact sheet (default ``RUN/contact_sheet.png``); False for none
    write : write ``RUN/snapshot_audit.json``
    progress : a progress bar on stderr over the video's frames (the census detects and embeds the
        faces of every frame: 150 arcade frames, 1080p, took 44 CPU s and 93 s on the loaded
        development machine)

    Returns
    -------
    dict
        :meth:`facesel.eval.snapshots.AuditSummary.as_dict` plus ``checks`` (each independent
        check and whether it ran: a check whose OpenCV file is missing is skipped, with its
        reason), ``threshold``, ``min_frames``, ``sheet`` and ``json`` paths.
    """
    from facesel.eval.census import RecognisableChip, census, embed_snapshot
    from facesel.eval.contact_sheet import draw_sheet
    from facesel.run_settings import settings_for_audit
    from facesel.video import open_source

    run = Path(run)
    frames_as_run = settings_for_audit(run, {"every": every, "max_frames": max_frames, "fps": fps})
    every, max_frames, fps = frames_as_run["every"], frames_as_run["max_frames"], frames_as_run["fps"]
    records = read_run(run)
    if detector is None:
        from facesel.detect import make_detector

        detector = make_detector(max_side=1280)
    if matcher is None:
        from facesel.eval.matcher import DlibMatcher

        matcher = DlibMatcher()
    checks = UnlinkedChecks(face_check, profile_check, head_check)
    needed = {int(r["best_frame"]) for r in records}
    for r in records:
        needed.update(_check_frames(r))
    kept: dict[int, np.ndarray] = {}

    def frames():
        from tqdm import tqdm

        source = open_source(video, every=every, max_frames=max_frames, fps=fps)
        with tqdm(total=source.frame_count, desc="census: faces of every frame", unit="frame",
                  disable=not progress) as bar:
            for index, (frame, _) in enumerate(source):
                if index in needed:
                    kept[index] = frame
                yield frame
                bar.update(1)

    chipper = RecognisableChip()
    people = census(frames(), detector, matcher, chipper=chipper)
    labels = cluster_people(people.embeddings, people.frames, threshold, min_frames, boxes=people.boxes, cuts=people.cuts)
    n_people = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    missing = sorted(int(r["best_frame"]) for r in records if int(r["best_frame"]) not in kept)
    if missing:
        raise ValueError(f"the run names frames the video does not have ({missing[:5]}...): same --every/--max-frames?")
    snaps = np.stack([embed_snapshot(kept[int(r["best_frame"])], r["box"], matcher, chipper) for r in records]) if records \
        else np.zeros((0, 128), np.float32)
    matched, distance = match_snapshots(snaps, people.embeddings, labels, threshold)
    owners = [track_people(r["frame_indices"], r["boxes"], people.frames, people.boxes, labels) for r in records]
    unlinked = [("", "") if m >= 0 or o >= 0 else checks.verdict(kept, r["frame_indices"], r["boxes"])
                for r, m, o in zip(records, matched, owners)]
    static = [is_static(r["boxes"]) for r in records]
    summary = summarise(n_people, [r["track_id"] for r in records], matched, owners,
                        [c == "unmatched_face" for c, _ in unlinked], [c == "head" for c, _ in unlinked], static)
    for verdict, d, (_, seen_by) in zip(summary.verdicts, distance, unlinked):
        verdict.distance, verdict.seen_by = float(d), seen_by
    out = summary.as_dict()
    out["threshold"], out["min_frames"], out["checks"] = threshold, min_frames, checks.describe()
    out["scene_cuts"] = list(people.cuts)
    if sheet is not False:
        sheet_path = Path(sheet) if sheet else run / SHEET_FILE
        images, texts, kinds = [], [], []
        for r, v in zip(records, summary.verdicts):
            png = run / r["snapshot"] if r.get("snapshot") else None
            image = cv2.imread(str(png)) if png is not None and png.is_file() else None
            images.append(image if image is not None else np.zeros((8, 8, 3), np.uint8))
            texts.append(f"t{v.track_id} {v.category[:5]}" + (f" P{v.person}" if v.person >= 0 else ""))
            kinds.append(v.category)
        for p in range(n_people):
            members = np.flatnonzero(labels == p)
            centre = people.embeddings[members].mean(0)
            typical = members[int(np.argmin(np.linalg.norm(people.embeddings[members] - centre, axis=1)))]
            images.append(people.chips[typical])
            hit = summary.per_person[p] > 0
            texts.append(f"P{p} x{summary.per_person[p]}" + ("" if hit else " MISSED"))
            kinds.append("person" if hit else "missed")
        title = (f"{len(records)} snapshots, {n_people} recognisable people (last tiles), recall {out['recall']:.2f}, "
                 f"{out['snapshots_per_recognisable_person']:.2f} per person, {out['head']} head, {out['non_face']} non-face")
        out["sheet"] = str(draw_sheet(images, texts, kinds, sheet_path, title=title))
    if write:
        path = run / AUDIT_FILE
        path.write_text(json.dumps(out, indent=1), encoding="utf-8")
        out["json"] = str(path)
    return out
