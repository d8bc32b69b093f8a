"""The switches no cue sees (issue 23, dissolve28; docs/prereg_dissolve28.md): every scene cue's
value at the `fade` variant's tracker-level joins, and the box-patch cue's values there and on
genuine frames.

    nice -n 5 python experiments/dissolve28_account.py joins      # the 4 joins, frame by frame
    nice -n 5 python experiments/dissolve28_account.py spread     # the patch cue on every frame of the runs
    nice -n 5 python experiments/dissolve28_account.py colours    # the colour cue at LivePortrait d18 -> d19

Material: :mod:`facesel.eval.intercut_variants`' ``fade`` variant (made in memory), the runs whose
tracker joined two people under the shipped defaults (tv27's record, ``/tmp/tv27/fade.both.json``:
signers interview bird | eat at 196, LivePortrait d18 | d19 at 46, d13 | d18 | d19 at 96,
d18 | d19 | d3 at 46). Per frame: the whole-picture scene cue exactly as
:class:`facesel.track_cues.scene.SceneChange` computes it (one-frame difference and its floor
max(cut, cut_ratio x median of the last cut_window), the span difference against ``fade_span``
back and its floor, each also with the camera shift taken out), and for the face box (the
detector's best box on the frame: one person is seen at a time in these runs) the box-patch cue:
the mean absolute grey difference of the 12 x 12 samples of the box's middle against the same
samples of the box ``k`` observations back (``patch_k``), and the picture's change over the same
frames (``picture_k``, the 48 x 27 thumbnail). Grey levels only; nothing of identity.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

RUNS = {("signers", "interview", ("asl_gestures_bird", "asl_gestures_eat")): 196,
        ("liveportrait", "interview", ("assets_examples_driving_d18", "assets_examples_driving_d19")): 46,
        ("liveportrait", "control", ("assets_examples_driving_d13", "assets_examples_driving_d18",
                                     "assets_examples_driving_d19")): 96,
        ("liveportrait", "control", ("assets_examples_driving_d18", "assets_examples_driving_d19",
                                     "assets_examples_driving_d3")): 46}
"""The `fade` variant's tracker-level joins under the shipped defaults (run, switch frame)."""
K = 6
"""Observations back the patch is compared with (the fade cue's span)."""


def stats(frames, detector):
    """Per frame: dict of the scene cue's values and the box-patch cue's (module docstring)."""
    from facesel.track_cues import GRID, SwitchRule, grey_samples_many, middle_regions
    from facesel.track_cues.scene import _median, moved_change, thumbnail

    rule = SwitchRule()
    thumbs, diffs, spans, patches, out = [], [], [], [], []
    for frame in frames:
        t = thumbnail(frame)
        row = {}
        if thumbs:
            d = float(np.abs(t - thumbs[-1]).mean())
            row["cut"] = d
            row["cut_floor"] = max(rule.cut, rule.cut_ratio * (_median(diffs[-rule.cut_window:]) if diffs else 0.0))
            row["cut_moved"] = moved_change(t, thumbs[-1])[0]
            diffs.append(d)
        if len(thumbs) >= rule.fade_span:
            s = float(np.abs(t - thumbs[-rule.fade_span]).mean())
            row["span"] = s
            row["span_floor"] = max(rule.fade, rule.fade_ratio * (_median(spans[-rule.cut_window:]) if spans else 0.0))
            row["span_moved"] = moved_change(t, thumbs[-rule.fade_span], rule.fade_reach)[0]
            spans.append(s)
        thumbs.append(t)
        det = detector.detect(frame)
        patch = None
        if len(det.boxes):
            box = np.asarray(det.boxes[int(np.argmax(det.scores))], np.float32).reshape(1, 4)
            patch = grey_samples_many(frame, middle_regions(box))[0]
            row["side"] = float(min(box[0, 2] - box[0, 0], box[0, 3] - box[0, 1]))
        patches.append(patch)
        if len(patches) > K and patch is not None and patches[-1 - K] is not None:
            row["patch_k"] = float(np.abs(patch - patches[-1 - K]).mean())
            row["picture_k"] = float(np.abs(t - thumbs[-1 - K]).mean())
        out.append(row)
    assert GRID == 12
    return out


def material(which):
    from facesel.data import data_root
    from facesel.eval.intercut import clip_label
    from facesel.eval.intercut_variants import variant_material

    fams = sorted({f for f, _, _ in RUNS}) if which == "joins" else ["signers", "liveportrait"]
    for family, kind, clips, frames, owner, _major in variant_material(data_root(), "fade", fams):
        key = (family, kind, tuple(clip_label(c) for c in clips))
        if which == "joins" and key not in RUNS:
            continue
        yield key, frames, owner


def joins() -> None:
    import cv2

    from facesel.config import PipelineConfig
    from facesel.selector import default_detector

    cv2.setNumThreads(1)
    detector = default_detector(PipelineConfig())
    for key, frames, owner in material("joins"):
        at = RUNS[key]
        rows = stats(frames, detector)
        print(f"== {key[0]} {key[1]} {' | '.join(key[2])}: tracker switch at {at}")
        for k in range(max(0, at - 10), min(len(frames), at + 10)):
            r = rows[k]
            f = lambda n: f"{r[n]:6.2f}" if n in r else "     -"  # noqa: E731
            print(f"  {k:4d} owner {owner[k]:2d} cut {f('cut')} (moved {f('cut_moved')}, floor {f('cut_floor')}) "
                  f"span {f('span')} (moved {f('span_moved')}, floor {f('span_floor')}) "
                  f"patch_{K} {f('patch_k')} picture_{K} {f('picture_k')} side {f('side')}", flush=True)


def spread() -> None:
    """The box-patch cue on every frame of the signers' and LivePortrait's `fade` runs: the largest
    values where the same person holds the box over the K frames (genuine) and where it changed."""
    import cv2

    from facesel.config import PipelineConfig
    from facesel.selector import default_detector

    cv2.setNumThreads(1)
    detector = default_detector(PipelineConfig())
    for key, frames, owner in material("spread"):
        rows = stats(frames, detector)
        same, change = [], []
        for k, r in enumerate(rows):
            if "patch_k" not in r or k < K:
                continue
            a, b = owner[k - K], owner[k]
            (same if a == b and a >= 0 else change).append((r["patch_k"], r["picture_k"], k))
        top = sorted(same, reverse=True)[:3]
        print(f"{key[0]:12s} {key[1]:9s} {' | '.join(key[2])}: genuine top patch_k {[(round(p, 1), round(q, 1), k) for p, q, k in top]}; "
              f"changed {[(round(p, 1), round(q, 1), k) for p, q, k in sorted(change, reverse=True)[:3]]}", flush=True)


def colours() -> None:
    """The colour cue's distance (``distance_whole`` of the box's and band's histograms) of the
    detector's best box on frames 46-61 of the `fade` LivePortrait d18 | d19 interview, to the box 4
    and 6 frames back: does a fade there split the track (``SwitchRule.cut_appearance`` 0.1)?"""
    import cv2

    from facesel.config import PipelineConfig
    from facesel.selector import default_detector
    from facesel.track_cues import appearances, distance_whole

    cv2.setNumThreads(1)
    detector = default_detector(PipelineConfig())
    for key, frames, owner in material("joins"):
        if key[1] != "interview" or key[0] != "liveportrait":
            continue
        hist = {}
        for k in range(40, 62):
            det = detector.detect(frames[k])
            box = np.asarray(det.boxes[int(np.argmax(det.scores))], np.float32).reshape(1, 4)
            hist[k] = appearances(frames[k], box)[0]
        for k in range(46, 62):
            print(f"{k} owner {owner[k]:2d}: to 6 back {distance_whole(hist[k - 6], hist[k]):.3f}, "
                  f"to 4 back {distance_whole(hist[k - 4], hist[k]):.3f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("joins", "spread", "colours"))
    args = parser.parse_args()
    {"joins": joins, "spread": spread, "colours": colours}[args.what]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
