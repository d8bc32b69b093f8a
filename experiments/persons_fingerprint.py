"""Everything the track finaliser and the switch cues decide, frame by frame, as one JSON file:
the check that a change meant to make them cheaper changed no result (issue 23, speed).

    python experiments/persons_fingerprint.py --out new.json          # default videos
    python experiments/persons_fingerprint.py --compare old.json new.json

``--splices`` adds the tracker-level material of ``facesel eval switches`` (every signer and
talking-head clip joined to the next person's by a hard cut, a cross-fade and a gap; the detector
on every frame): per splice, a :class:`facesel.track.TrackStage` with its records on, and per frame
the segment ids, colours, pinned-logo flags and changes, switches and withdrawn splits, and every
cue value it recorded.

Run it once with the code before the change on ``PYTHONPATH`` (e.g. ``git archive main python``
unpacked in /tmp, with the compiled ``_core`` copied in) and once with the code after, then
``--compare``. Each video (and two splices of real signers made in memory: a hard cut and a
cross-fade, so that the cues split, verify and withdraw) is fed frame by frame to a fresh default
:class:`facesel.Selector` on one thread. Recorded per frame: the segment id, confirmed flag,
colours (a digest of their bytes), pinned-logo flag and pixel change of every detection, the
closed / dropped / evicted segments, the switches and withdrawn splits, the frame's thumbnail
change; per delivered result: its track, first and last frame, the best crop's frame, quality, box
and a digest of its pixels and of the track's qualities; at the end the finaliser's counters,
links and drops and the cues' counters. Floats are written with ``repr`` (every bit compared).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

import numpy as np

VIDEOS = (
    "arcade_walkers_1080p.mp4",
    "selfie_motion_blur_portrait.mp4",
    "intel_face_demographics_walking.gif",
    "more/sam2__notebooks_videos_bedroom.mp4",
    "more/mmaction2__demo_demo.mp4",
    "more/mmaction2__demo_demo_spatiotemporal_det.mp4",
    "more/sample-videos__asl_gestures_want.mkv",
    "more/LivePortrait__assets_examples_driving_d6.mp4",
)
SPLICE = ("more/sample-videos__asl_gestures_again.mkv", "more/sample-videos__asl_gestures_eat.mkv")
"""Two signers who are different people (facesel.eval.switches.SIGNER_PEOPLE: 1 and 3)."""


def _digest(array) -> str | None:
    if array is None:
        return None
    array = np.ascontiguousarray(array)
    return f"{array.dtype}{array.shape}:" + hashlib.sha1(array.tobytes()).hexdigest()[:16]


def _floats(values) -> list:
    return [repr(float(v)) for v in values]


def _result(result) -> dict:
    best = result.best
    return {"track": int(result.track_id), "first": int(result.first_frame), "last": int(result.last_frame),
            "best_frame": int(best.frame_index), "quality": repr(float(best.quality)),
            "box": _floats(np.asarray(best.box).reshape(-1)), "crop": _digest(best.crop),
            "qualities": _digest(np.asarray(result.qualities)), "frames": _digest(np.asarray(result.frame_indices))}


def fingerprint(frames, settings: dict | None = None) -> dict:
    """Feed ``frames`` ((frame, stamp) pairs) to a fresh default Selector on one thread (with
    ``settings``, PipelineConfig fields, changed); what it decided."""
    from facesel import Selector

    selector = Selector(threads=1, **(settings or {}))
    stage = selector._track
    votes = _record_votes(selector.finaliser)
    per_frame, delivered = [], []
    for frame, stamp in frames:
        view = selector.feed(frame, stamp)
        per_frame.append({
            "ids": [int(v.track_id) for v in view.tracks], "confirmed": [bool(v.confirmed) for v in view.tracks],
            "boxes": _digest(np.array([v.box for v in view.tracks], np.float32)),
            "quality": [repr(v.quality) for v in view.tracks],
            "colours": [_digest(a) for a in stage.appearances], "still": [bool(s) for s in stage.still],
            "change": _floats(stage.change), "switches": {str(k): v for k, v in stage.switches.items()},
            "rejoins": {str(k): int(v) for k, v in stage.rejoins.items()}, "frame_change": repr(float(stage.frame_change)),
            "delivered": [int(r.track_id) for r in view.closed],
        })
        delivered += [_result(r) for r in view.closed]
    delivered += [_result(r) for r in selector.flush()]
    finaliser = selector.finaliser
    return {"frames": per_frame, "results": delivered, "finaliser": finaliser.stats.as_dict(),
            "links": [list(map(int, link)) for link in finaliser.links],
            "drops": [[int(t), r] for t, r in finaliser.drops], "cue_counts": dict(stage.counts),
            "votes": [v[:2] for v in votes], "vote_values": [v[2] for v in votes]}


def _record_votes(finaliser) -> list:
    """Every verdict of ``finaliser``'s faceness rule, in order: [verdict, what the verdict and the
    log line took from the not-a-face vote, the vote's value]. The second item is None when the rule
    never asked for the vote, the value (``repr``, every bit) when the track was dropped (the drop's
    log line prints it), else "asked". The third, the value whenever asked, is information only
    (:func:`compare` does not count it): the vote stops at the first finalist that clears the
    floor, so a kept track's value depends on which finalist is scored first, never its verdict.
    Recorded by wrapping the rule's ``judge`` on this finaliser only, so the same script records
    code before and after a change of how the vote is computed (issue 23, speed: batched VAE calls)."""
    from facesel.select.faceness import DROP_REASONS

    votes: list = []
    rule = getattr(finaliser, "faceness", None)
    if rule is None:
        return votes
    judge = type(rule).judge

    def recording(evidence, best_quality):
        asked = []

        def vote():
            asked.append(float(best_quality()))
            return asked[0]

        verdict = judge(rule, evidence, vote if callable(best_quality) else best_quality)
        given = asked[0] if asked else (None if callable(best_quality) else float(best_quality))
        value = None if given is None else repr(given)
        votes.append([verdict, value if value is None or verdict in DROP_REASONS else "asked", value])
        return verdict

    object.__setattr__(rule, "judge", recording)  # the rule is a frozen dataclass
    return votes


def splices(root, count: int = 60, fade: int = 6):
    """Two splices of real signers in one framing: a hard cut after ``count`` frames, and a
    ``fade``-frame cross-fade; (name, frames) pairs."""
    import cv2
    from facesel.video import open_source

    a, b = ([frame for frame, _ in open_source(root / "videos" / name)][:count] for name in SPLICE)
    if a[0].shape != b[0].shape:
        b = [cv2.resize(f, (a[0].shape[1], a[0].shape[0]), interpolation=cv2.INTER_AREA) for f in b]
    cut = a + b
    blend = [cv2.addWeighted(a[-fade + k], 1 - (k + 1) / (fade + 1), b[k], (k + 1) / (fade + 1), 0) for k in range(fade)]
    faded = a[:-fade] + blend + b[fade:]
    for name, frames in (("splice cut", cut), ("splice fade", faded)):
        yield name, [(frame, k / 25.0) for k, frame in enumerate(frames)]


def stage_fingerprint(frames, detections) -> dict:
    """What one default TrackStage (cues on, records kept) decides on ``frames`` with these detections."""
    from facesel.config import PipelineConfig
    from facesel.track import TrackStage

    stage = TrackStage(PipelineConfig(), record=True)
    per_frame = []
    for frame, dets in zip(frames, detections):
        update = stage.update(dets, frame)
        per_frame.append({
            "ids": np.asarray(update.track_ids).tolist(), "confirmed": np.asarray(update.confirmed).tolist(),
            "closed": np.asarray(update.closed).tolist(), "dropped": np.asarray(update.dropped).tolist(),
            "colours": [_digest(a) for a in stage.appearances], "still": [bool(s) for s in stage.still],
            "change": _floats(stage.change), "switches": {str(k): v for k, v in stage.switches.items()},
            "rejoins": {str(k): int(v) for k, v in stage.rejoins.items()}, "frame_change": repr(float(stage.frame_change)),
            "expected": _digest(stage.expected_boxes()),
        })
    flushed = stage.flush()
    records = [[repr(v) if isinstance(v, float) else v for v in r] for r in stage.records]
    return {"frames": per_frame, "flushed": [np.asarray(flushed.closed).tolist(), np.asarray(flushed.dropped).tolist()],
            "records": records, "cue_counts": dict(stage.counts)}


def splice_fingerprints(root) -> dict:
    """:func:`stage_fingerprint` of every splice ``facesel eval switches`` makes (its defaults)."""
    from facesel.eval import switches as sw
    from facesel.selector import default_detector

    detector = default_detector()
    frames, transition = 40, 5
    out = {}
    for source, clips in sw.load_sources(root, detector, frames, transition).items():
        for a, b in sw.pairs_of(clips):
            for kind in sw.KINDS:
                seq, dets, _ = sw.splice(a, b, kind, frames, transition, detector)
                out[f"tracker {source} {a.name} -> {b.name} {kind}"] = stage_fingerprint(seq, dets)
    return out


def parse_settings(pairs) -> dict:
    """``KEY=VALUE`` pairs -> PipelineConfig fields, each value as the field's type."""
    from dataclasses import fields

    from facesel.config import PipelineConfig

    types = {f.name: type(getattr(PipelineConfig(), f.name)) for f in fields(PipelineConfig)}
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        kind = types[key]
        out[key] = (value.lower() in ("1", "true", "yes")) if kind is bool else kind(value)
    return out


def record(out: str, videos, with_splices: bool = False, settings: dict | None = None) -> None:
    import cv2
    from facesel.data import data_root_or_exit
    from facesel.video import open_source

    cv2.setNumThreads(1)
    root = data_root_or_exit()
    report = {}
    for name in videos:
        report[name] = fingerprint(list(open_source(root / "videos" / name)), settings)
        print(f"{name}: {len(report[name]['frames'])} frames, {len(report[name]['results'])} results, "
              f"{report[name]['cue_counts']}", flush=True)
    for name, frames in splices(root):
        report[name] = fingerprint(frames, settings)
        print(f"{name}: {len(frames)} frames, {len(report[name]['results'])} results, {report[name]['cue_counts']}",
              flush=True)
    if with_splices:
        tracker = splice_fingerprints(root)
        counts = {}
        for item in tracker.values():
            for key, value in item["cue_counts"].items():
                counts[key] = counts.get(key, 0) + value
        print(f"{len(tracker)} tracker-level splices: cues {counts}", flush=True)
        report.update(tracker)
    report[CODE_KEY] = loaded_code()
    with open(out, "w") as f:
        json.dump(report, f)


CODE_KEY = "_loaded_code"
"""Where the run's facesel came from, and a digest of its files: an editable install's import hook
comes before ``PYTHONPATH`` (scikit-build-core's), so a run meant for another tree can silently
load the installed one; :func:`compare` refuses two runs of the same code (session 22)."""


def loaded_code() -> dict:
    """The imported facesel's folder and a SHA-256 of its ``.py`` and compiled files, in name order."""
    from pathlib import Path

    import facesel

    folder = Path(facesel.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".so") and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return {"folder": str(folder), "sha256": digest.hexdigest()}


INFORMATION = ("vote_values",)
"""Recorded keys that are not decisions: printed when they differ, never counted (see :func:`_record_votes`)."""


def compare(old: str, new: str) -> int:
    with open(old) as f:
        a = json.load(f)
    with open(new) as f:
        b = json.load(f)
    code_a, code_b = a.pop(CODE_KEY, None), b.pop(CODE_KEY, None)
    if code_a is not None and code_a == code_b:
        print(f"both runs loaded the same code ({code_a['folder']}, sha256 {code_a['sha256'][:12]}): "
              "the comparison would say nothing (an editable install's hook before PYTHONPATH?)")
        return 2
    differ = 0
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            print(f"{name}: only in {'old' if name in a else 'new'}")
            differ += 1
            continue
        x, y = a[name], b[name]
        bad = [k for k in sorted(set(x) | set(y)) if k not in ("frames", *INFORMATION) and x.get(k) != y.get(k)]
        info = [k for k in INFORMATION if x.get(k) != y.get(k)]
        frames = [i for i, (p, q) in enumerate(zip(x["frames"], y["frames"])) if p != q]
        if len(x["frames"]) != len(y["frames"]):
            bad.append("frame count")
        detections = sum(len(f["ids"]) for f in x["frames"])
        if "finaliser" in x:
            what = (f"{len(x['results'])} results, {x['finaliser']['merged']} merged, "
                    f"{sum(x['finaliser']['dropped'].values())} dropped")
        else:
            what = f"{len(x['records'])} cue records"
        cues = {k: v for k, v in x["cue_counts"].items() if v}
        print(f"{name}: {len(x['frames'])} frames, {detections} detections, {what}, cues {cues}: "
              + ("identical" if not bad and not frames else f"DIFFERENT {bad} frames {frames[:10]}")
              + "".join(f"; {k} (information only): {x.get(k)} -> {y.get(k)}" for k in info))
        differ += bool(bad or frames)
    print("all identical" if not differ else f"{differ} differ")
    return 1 if differ else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the fingerprint here")
    parser.add_argument("--videos", nargs="+", default=list(VIDEOS), help="under the shared data's videos/")
    parser.add_argument("--splices", action="store_true", help="also every splice of facesel eval switches, tracker level")
    parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"))
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="PipelineConfig fields of the Selector (mode=exhaustive detect_every=8 ...)")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if not args.out:
        parser.error("--out or --compare is needed")
    record(args.out, args.videos, args.splices, parse_settings(args.set))
    return 0


if __name__ == "__main__":
    sys.exit(main())
