"""What the consensus pick (``consensus_finalists``, facesel.scoring.consensus) costs on the arcade
video, in one process and one run: CPU per frame and the crops held, off (0) against on: session
9's rule (edges against the mean, 16 finalists, no gate) and the consensus defaults (orientation
histograms against the median, the native-frame sharpness gate, 32 finalists).

    python benchmarks/consensus_cost.py            # sparse (default) and exhaustive modes, 3 rounds
    python benchmarks/consensus_cost.py --fingerprint kept.json   # what it keeps on 8 shared clips
    python benchmarks/consensus_cost.py --modes sparse --video selfie_motion_blur_portrait.mp4

The frames are decoded once up front; each round runs the whole Selector (YuNet detection,
tracking, alignment, the default context rule, the finaliser with its not-a-face vote) once per
setting, the settings alternating so that the machine's load falls on both alike. Reported: CPU
seconds per frame of the process (``time.process_time``; all threads; median of the rounds; not
the benchmark's own sampling of the crops held) and of its back half alone (scoring, selection,
the finaliser, sinks: where the consensus works; since session 12), the
crops aligned and fully scored, the most observations held at once and the bytes of their colour
and grey crops and signatures (sampled after every frame), and how many kept (track, frame) pairs the two share.
Ratios within this run only: the machine is shared.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np


def held_bytes(selector) -> int:
    """Bytes of the colour and grey crops and consensus signature rows the store holds now; a crop
    that is a view of a larger array (a frame's stack of aligned crops or of signatures) keeps all
    of it alive, so that array is counted, once."""
    total, seen = 0, set()
    for obs in selector._score.store._observations.values():
        for image in (obs.crop, obs.grey, getattr(obs, "signature", None)):  # no signature slot before session 11's cost cut
            if image is None:
                continue
            owner = image if image.base is None else image.base
            if id(owner) not in seen:
                seen.add(id(owner))
                total += owner.nbytes
    return total


VARIANTS = {
    "off": {"consensus_finalists": 0},
    "edges-mean-16": {"consensus_finalists": 16, "consensus_signature": "edges", "consensus_reference": "mean",
                      "consensus_gate": "off"},
    "hog-median-gate-32": {"consensus_finalists": 32},
    "hog-median-gate-32-reference": {"consensus_finalists": 32, "consensus_impl": "reference"},
}
"""``-reference``: the default consensus by session 11's code (one face at a time); session 12's
batched code must keep the same frames (``--fingerprint``) for less CPU."""


def run_once(frames, settings: dict, mode: str) -> dict:
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.scoring import default_scorer
    from facesel.selector import default_detector
    from facesel.sinks import CallbackSink

    config = PipelineConfig(mode=mode, threads=1, **settings)
    kept: list = []
    selector = Selector(default_detector(config), default_scorer(threads=config.onnx_threads), config=config,
                        sinks=[CallbackSink(kept.append)])
    selector.detector.detect(np.zeros((64, 64, 3), np.uint8))  # lazy loading is not per-frame cost
    held, held_b, sampling = 0, 0, 0.0
    back = [0.0]  # CPU of the back half (scoring, selection, the finaliser, sinks): all the consensus changes

    def timed(method):
        def call(*args, **kwargs):
            start = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                back[0] += time.process_time() - start
        return call

    selector._back, selector.flush = timed(selector._back), timed(selector.flush)
    cpu = time.process_time()
    with selector:
        for _ in selector.run(iter(frames)):
            # the sampling walks every held crop each frame (0.5 ms a frame at the 270 the consensus
            # holds on arcade): the benchmark's own cost, not the Selector's, so not counted since session 12
            start = time.process_time()
            held = max(held, selector.held_observations)
            held_b = max(held_b, held_bytes(selector))
            sampling += time.process_time() - start
    cpu = time.process_time() - cpu - sampling
    n = selector.timings["frames"]
    return {"cpu_per_frame": cpu / n, "back_per_frame": back[0] / n, "snapshots": len(kept), "aligned": selector.work["aligned"],
            "scored": selector.work["scored"], "held": held, "held_bytes": held_b,
            "best_frames": sorted((int(r.track_id), int(r.best.frame_index)) for r in kept), "results": kept}


def kept_frame_agreement(results, reference, near: int = 2) -> tuple[int, int, int]:
    """(same, within ``near`` frames, matched): how many of ``results`` keep the frame that their
    counterpart in ``reference`` (another mode's run of the same setting; the counterpart as in
    facesel.select.agreement: the track whose boxes overlap on the most frames, IoU >= 0.3) keeps.
    The agreement by score rank (facesel.select.agreement) does not apply to the consensus pick,
    which by design does not keep the best-scored crop."""
    from facesel.boxes import pairwise_iou

    same = close = matched = 0
    for result in results:
        frames = {int(f): k for k, f in enumerate(result.frame_indices.tolist())}
        best_ref, best_shared = None, 0
        for ref in reference:
            shared = [(frames[int(f)], j) for j, f in enumerate(ref.frame_indices.tolist()) if int(f) in frames]
            if not shared:
                continue
            mine, theirs = zip(*shared)
            iou = np.diag(pairwise_iou(result.boxes[list(mine)], ref.boxes[list(theirs)]))
            if int((iou >= 0.3).sum()) > best_shared:
                best_ref, best_shared = ref, int((iou >= 0.3).sum())
        if best_ref is not None:
            matched += 1
            gap = abs(int(result.best.frame_index) - int(best_ref.best.frame_index))
            same += gap == 0
            close += gap <= near
    return same, close, matched


FINGERPRINT_VIDEOS = ("arcade_walkers_1080p.mp4", "selfie_motion_blur_portrait.mp4", "intel_head_pose_female.gif",
                      "intel_face_demographics_walking.gif")


def fingerprint(path: str, modes) -> None:
    """What the consensus pick keeps, per shared video (the four above and the first four ``more``
    clips, 150 frames each), mode and consensus setting (not ``off``): each track's id, kept frame,
    whole top list of frames and a hash of the kept crop's bytes, as JSON. Two versions of the code
    keep the same frames when their files are equal (how session 11's cost cut was checked)."""
    import hashlib
    import json

    from facesel.data import data_root
    from facesel.video import open_source

    root = data_root() / "videos"
    videos = [root / name for name in FINGERPRINT_VIDEOS] + sorted((root / "more").glob("*.mp4"))[:4]
    out = {}
    for video in videos:
        frames = list(open_source(video, max_frames=150))
        for mode in modes:
            for name in list(VARIANTS)[1:]:
                kept = run_once(frames, VARIANTS[name], mode)["results"]
                out[f"{video.name}:{mode}:{name}"] = sorted(
                    [int(r.track_id), int(r.best.frame_index), [int(t.frame_index) for t in r.top],
                     hashlib.sha1(np.ascontiguousarray(r.best.crop).tobytes()).hexdigest()] for r in kept)
                print(video.name, mode, name, len(kept), "tracks", flush=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frames", type=int, default=105)
    parser.add_argument("--video", default="arcade_walkers_1080p.mp4", help="a video of the shared data's videos/ (default: arcade)")
    parser.add_argument("--modes", nargs="+", default=["sparse", "exhaustive"])
    parser.add_argument("--fingerprint", metavar="JSON", help="instead: write the kept frames of every track "
                        "(see fingerprint()) to JSON, to compare two versions of the code")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    from facesel.data import data_root
    from facesel.video import open_source

    if args.fingerprint:
        fingerprint(args.fingerprint, args.modes)
        return

    frames = list(open_source(data_root() / "videos" / args.video, max_frames=args.frames))
    print(f"{args.video}: {len(frames)} frames decoded up front")
    first_rounds: dict = {}
    for mode in args.modes:
        runs: dict = {name: [] for name in VARIANTS}
        for _ in range(args.rounds):
            for name, rounds in runs.items():
                rounds.append(run_once(frames, VARIANTS[name], mode))
        print(f"\nmode {mode} ({args.rounds} rounds, alternating; median of the rounds)")
        print("| consensus | CPU ms per frame (process) | of which the back half | aligned | fully scored | "
              "most crops held | their bytes (KiB) | snapshots |")
        print("|---|---|---|---|---|---|---|---|")
        med, back = {}, {}
        for name, rs in runs.items():
            med[name] = float(np.median([r["cpu_per_frame"] for r in rs]))
            back[name] = float(np.median([r["back_per_frame"] for r in rs]))
            r = rs[0]
            print(f"| {name} | {1e3 * med[name]:.1f} | {1e3 * back[name]:.2f} | {r['aligned']} | {r['scored']} | {r['held']} | "
                  f"{r['held_bytes'] / 1024:.0f} | {r['snapshots']} |")
        for name in list(VARIANTS)[1:]:
            print(f"{name} / off: process CPU per frame {med[name] / med['off']:.3f}x")
        print(f"hog-median-gate-32 / edges-mean-16: {med['hog-median-gate-32'] / med['edges-mean-16']:.3f}x")
        # The consensus's own cost is in the back half (the front's detection and tracking do not
        # change with it); measured there it is not drowned in the detection's noise on a busy machine.
        extra = {name: back[name] - back["off"] for name in ("hog-median-gate-32", "hog-median-gate-32-reference")}
        print(f"hog-median-gate-32 (batched) / its reference code: process {med['hog-median-gate-32'] / med['hog-median-gate-32-reference']:.3f}x, "
              f"back half {back['hog-median-gate-32'] / back['hog-median-gate-32-reference']:.3f}x; the consensus's own CPU per "
              f"frame (back half over off): {1e3 * extra['hog-median-gate-32']:.2f} ms against "
              f"{1e3 * extra['hog-median-gate-32-reference']:.2f} ms ({extra['hog-median-gate-32'] / extra['hog-median-gate-32-reference']:.2f}x)")
        a = set(runs["off"][0]["best_frames"])
        for name in list(VARIANTS)[1:]:
            b = set(runs[name][0]["best_frames"])
            print(f"snapshots with the same (track id, best frame) as off: {name} {len(a & b)} of {len(b)} (off kept {len(a)})")
        first_rounds[mode] = {name: rs[0]["results"] for name, rs in runs.items()}
    if {"sparse", "exhaustive"} <= set(first_rounds):
        print("\nsparse against exhaustive, same setting: tracks keeping the same frame / within 2 frames / matched")
        for name in VARIANTS:
            same, close, matched = kept_frame_agreement(first_rounds["sparse"][name], first_rounds["exhaustive"][name])
            print(f"  {name}: {same} / {close} / {matched}")


if __name__ == "__main__":
    main()
