"""Which cheaper camera settings keep today's choice? Each setting against the exhaustive mode.

    python benchmarks/profile_agreement.py [--videos arcade_walkers_1080p.mp4 ...] [--profiles today capacity ...]

Not a test (not in CI). For every shared video and every named profile (:data:`PROFILES`: a scorer,
a decoding path and PipelineConfig overrides), the Selector runs the video once on one stage thread
and its choice is compared with two exhaustive runs of the same video (OpenCV decoding, one
thread): the default scorer's (the VAE quality: "today's exhaustive mode", the yardstick of
``benchmarks/realtime_throughput.py --tables end-to-end``) and, for a profile with another scorer,
that scorer's own. Printed per row: results against the exhaustive run's, the share of kept crops
in the exhaustive top 10 % (own score against the own scorer's exhaustive run / the VAE
exhaustive score of the kept frame: :func:`facesel.select.agreement.agreement` ``by="frame"``),
and the process CPU ms a frame of the run (decoding included; sinks are a callback: no vault, so
compare rows with each other, not with ``frame_costs.py``). The machine may be shared: the CPU
figures are ratios within one invocation.

Nothing here was tuned on these figures beyond choosing which named profile to ship.
"""

from __future__ import annotations

import argparse
import sys

from bench_runs import connection_frames, kept_run

VIDEOS = ("arcade_walkers_1080p.mp4", "selfie_motion_blur_portrait.mp4", "more/LivePortrait__assets_examples_source_s29.mp4",
          "intel_face_demographics_walking.gif")

PROFILES = {
    "today": ("default", "opencv", {}),
    "context": ("context", "opencv", {}),
    "context-every6": ("context", "opencv", {"detect_every": 6}),
    "context-every8": ("context", "opencv", {"detect_every": 8}),
    "context-pyav": ("context", "pyav", {}),
    "context-face48": ("context", "opencv", {"region_face_px": 48.0, "region_min_px": 96}),
    "context-scale2": ("context", "opencv", {"region_scale": 2.0}),
    "context-every6-face48": ("context", "opencv", {"detect_every": 6, "region_face_px": 48.0, "region_min_px": 96}),
    "context-every8-face48": ("context", "opencv", {"detect_every": 8, "region_face_px": 48.0, "region_min_px": 96}),
    "today-fast": ("default", "opencv", {"region_shrink": "fast"}),
    "today-face48": ("default", "opencv", {"region_face_px": 48.0, "region_min_px": 96}),
    "today-pyav-face48-fast": ("default", "pyav", {"region_face_px": 48.0, "region_min_px": 96,
                                                   "region_shrink": "fast"}),
    "context-fast": ("context", "opencv", {"region_shrink": "fast"}),
    "context-pyav-fast": ("context", "pyav", {"region_shrink": "fast"}),
    "context-face48-fast": ("context", "opencv", {"region_face_px": 48.0, "region_min_px": 96, "region_shrink": "fast"}),
    "context-pyav-face48-fast": ("context", "pyav", {"region_face_px": 48.0, "region_min_px": 96,
                                                     "region_shrink": "fast"}),
    "context-every6-face48-fast": ("context", "opencv", {"detect_every": 6, "region_face_px": 48.0,
                                                         "region_min_px": 96, "region_shrink": "fast"}),
    "context-pyav-face48-fast-every6": ("context", "pyav", {"detect_every": 6, "region_face_px": 48.0,
                                                            "region_min_px": 96, "region_shrink": "fast"}),
    "context-pyav-face48-fast-every8": ("context", "pyav", {"detect_every": 8, "region_face_px": 48.0,
                                                            "region_min_px": 96, "region_shrink": "fast"}),
    "context-pyav-face48-fast-side960": ("context", "pyav", {"max_side": 960, "region_face_px": 48.0,
                                                             "region_min_px": 96, "region_shrink": "fast"}),
    # issue 27, session 12: the region search's cost (serve's pick: consensus_finalists = 0)
    "today-miss1": ("default", "opencv", {"region_miss_limit": 1}),
    "today-miss2": ("default", "opencv", {"region_miss_limit": 2}),
    "today-scale2": ("default", "opencv", {"region_scale": 2.0}),
    "serve": ("default", "opencv", {"consensus_finalists": 0}),
    "serve-miss1": ("default", "opencv", {"consensus_finalists": 0, "region_miss_limit": 1}),
    "serve-miss2": ("default", "opencv", {"consensus_finalists": 0, "region_miss_limit": 2}),
    "serve-miss3": ("default", "opencv", {"consensus_finalists": 0, "region_miss_limit": 3}),
    "serve-every8": ("default", "opencv", {"consensus_finalists": 0, "detect_every": 8}),
    "serve-every8-miss3": ("default", "opencv", {"consensus_finalists": 0, "detect_every": 8, "region_miss_limit": 3}),
    "serve-scale2": ("default", "opencv", {"consensus_finalists": 0, "region_scale": 2.0}),
    "serve-miss1-scale2": ("default", "opencv", {"consensus_finalists": 0, "region_miss_limit": 1,
                                                 "region_scale": 2.0}),
    # issue 27, session 13: two-tier full-frame detection (values chosen before any agreement run)
    "serve-tier640x4": ("default", "opencv", {"consensus_finalists": 0, "coarse_max_side": 640, "fine_every": 4}),
    "serve-tier640x2": ("default", "opencv", {"consensus_finalists": 0, "coarse_max_side": 640, "fine_every": 2}),
    "today-tier640x4": ("default", "opencv", {"coarse_max_side": 640, "fine_every": 4}),
    "today-tier640x2": ("default", "opencv", {"coarse_max_side": 640, "fine_every": 2}),
    # the load governor's steps with coarsen_with_tiers (session 13): (8, two tiers), and its cap with and without
    "serve-every8-tier640x4": ("default", "opencv", {"consensus_finalists": 0, "detect_every": 8,
                                                     "coarse_max_side": 640, "fine_every": 4}),
    "serve-every8-tier640x2": ("default", "opencv", {"consensus_finalists": 0, "detect_every": 8,
                                                     "coarse_max_side": 640, "fine_every": 2}),
    "serve-every16": ("default", "opencv", {"consensus_finalists": 0, "detect_every": 16}),
    "serve-every16-tier640x4": ("default", "opencv", {"consensus_finalists": 0, "detect_every": 16,
                                                      "coarse_max_side": 640, "fine_every": 4}),
    # issue 27, session 14: the governor's cap (16 + two tiers) with region_miss_limit 3 (session 12's value)
    "serve-every16-tier640x4-miss3": ("default", "opencv", {"consensus_finalists": 0, "detect_every": 16,
                                                            "coarse_max_side": 640, "fine_every": 4,
                                                            "region_miss_limit": 3}),
    "serve-every16-tier640x4-fast": ("default", "opencv", {"consensus_finalists": 0, "detect_every": 16,
                                                           "coarse_max_side": 640, "fine_every": 4,
                                                           "region_shrink": "fast"}),
    "serve-every16-tier640x4-miss3-fast": ("default", "opencv", {"consensus_finalists": 0, "detect_every": 16,
                                                                 "coarse_max_side": 640, "fine_every": 4,
                                                                 "region_miss_limit": 3, "region_shrink": "fast"}),
    "serve-every16-tier640x4-pyav": ("default", "pyav", {"consensus_finalists": 0, "detect_every": 16,
                                                         "coarse_max_side": 640, "fine_every": 4}),
}
"""name -> (scorer setting, decoding path, PipelineConfig overrides)."""


def frames(video, path: str):
    """``(frame, timestamp)`` of ``video``: ``opencv`` (cv2.VideoCapture, OpenCV's shrink) or
    ``pyav`` (the one-step shrink from the decoded picture)."""
    from facesel.sources.backends import FileConnection, PyAVFileConnection

    opened = FileConnection if path == "opencv" or str(video).endswith(".gif") else PyAVFileConnection
    yield from connection_frames(opened(video))


def choice(video, path: str, scorer_name: str, overrides: dict) -> tuple[list, float, int]:
    """The kept results, the process CPU seconds and the frame count of one run."""
    return kept_run(frames(video, path), scorer_name, **overrides)


def first_found(kept, reference, min_iou: float = 0.3) -> list[int | None]:
    """For each exhaustive track, how many frames after its first frame the run's track of the
    same face starts (the result sharing the most frames with it at IoU >= ``min_iou``; None: no
    result shares one). The exhaustive mode searches every frame whole, so this is how late the
    run found each face."""
    from facesel.select.agreement import counterpart

    late = []
    for ref in reference:
        # the same match with the roles swapped (the overlap count is symmetric)
        best = counterpart(ref, kept, min_iou)
        late.append(None if best is None else int(min(best.frame_indices)) - int(min(ref.frame_indices)))
    return late


def main(argv=None) -> int:
    import cv2
    from facesel.data import data_root_or_exit
    from facesel.select.agreement import agreement

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", nargs="+", default=list(VIDEOS),
                        help="under the shared data's videos/, or an absolute path (a 720p transcode in /tmp)")
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=list(PROFILES))
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root_or_exit()
    print("| video | profile | results / exhaustive | kept in top 10 % (own exhaustive / VAE exhaustive, kept frame) "
          "| CPU ms a frame | faces (observations) | first found after the exhaustive run: frames, each track "
          "(-: not found) |")
    print("|---|---|---|---|---|---|---|")
    for name in args.videos:
        video = root / "videos" / name  # an absolute name stays itself
        references: dict[str, list] = {}  # scorer -> its exhaustive run's choice on this video
        for profile in args.profiles:
            scorer_name, path, overrides = PROFILES[profile]
            for needed in {scorer_name, "default"} - set(references):
                references[needed] = choice(video, "opencv", needed, {"mode": "exhaustive"})[0]
            kept, cpu, count = choice(video, path, scorer_name, overrides)
            own = agreement(kept, references[scorer_name])
            vae = agreement(kept, references["default"], by="frame")
            late = first_found(kept, references[scorer_name])
            faces = sum(len(result.frame_indices) for result in kept)
            print(f"| {name} | {profile} | {own.tracks} / {own.reference_tracks} | "
                  f"{100.0 * own.share_within(0.1):.0f} % / {100.0 * vae.share_within(0.1):.0f} % | "
                  f"{1000.0 * cpu / max(1, count):.1f} | {faces} | "
                  f"{' '.join('-' if d is None else str(d) for d in late)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
