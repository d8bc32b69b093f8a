"""Would a denser or softer colour histogram tell one person after a pause from the next person at the
same place better than the cue's own? A probe, not a rule (docs/persons.md, "The selfie's colours
at the frame edge").

    python experiments/colour_sampling_probe.py [--pause 40] [--families talking_heads signers]

The long link compares the typical colours (median histogram of the last / first 8 observations)
of two fragments: 4 x 4 x 4 bins of a 12 x 12 grid of pixels of the face box and of the band below
it, gain-normalised (:func:`facesel.track_cues.appearances`). The selfie's two fragments of one man
are 0.365 apart (limit 0.15; ``experiments/colour_ends.py``). Two suspects in the measurement
itself, each measured here on the same observations (the boxes the tracker gave) by recomputing
the histograms from the frames:

- ``dense``: every 4th pixel of the region instead of 144 (sampling noise of a 12 x 12 grid);
- ``soft``: each sample split between its two nearest levels per channel (trilinear) instead of
  rounded into one (a dark band whose pixels straddle a level edge).

Pairs: **one person** (the selfie; every talking head and signer hidden ``--pause`` frames at 25 fps,
the material of ``experiments/relink_loso.py``) and **two people** (each clip followed by another
person at the same place after the same pause: :func:`facesel.eval.crowds.replacement`). Per
measurement: each pair's distance, and how many two-person pairs lie at or under the largest /
the median one-person distance (what a limit letting the one-person pairs through would join).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS = ("grid", "dense", "grid soft", "dense soft")


def histogram(frame: np.ndarray, region, dense: bool, soft: bool) -> np.ndarray:
    """(64,) float32 colour histogram of ``region`` (x1, y1, x2, y2 ints, clipped) of a BGR frame:
    the cue's gain normalisation and 4 levels per channel; ``dense``: every 4th pixel, else the
    cue's 12 x 12 grid; ``soft``: trilinear split between neighbouring levels."""
    from facesel.track_cues.sampling import BINS, _grid

    x1, y1, x2, y2 = region
    if dense:
        pixels = frame[y1:y2:4, x1:x2:4].reshape(-1, 3).astype(np.float64)
    else:
        pixels = frame[_grid(y1, y2)[:, None], _grid(x1, x2)[None, :]].reshape(-1, 3).astype(np.float64)
    gain = (160.0 * BINS / 256.0) / max(1.0, float(pixels.mean()))
    v = pixels * gain  # levels 0 .. BINS (bin k covers [k, k + 1))
    if not soft:
        q = np.minimum(v.astype(np.intp), BINS - 1)
        hist = np.bincount(q @ np.array([BINS * BINS, BINS, 1]), minlength=BINS ** 3).astype(np.float64)
        return (hist / hist.sum()).astype(np.float32)
    c = np.clip(v - 0.5, 0.0, BINS - 1.0)  # position between bin centres
    lo = np.minimum(np.floor(c).astype(np.intp), BINS - 2)
    w = c - lo  # weight of the upper level
    hist = np.zeros(BINS ** 3)
    for corner in range(8):
        bits = [(corner >> k) & 1 for k in range(3)]
        idx = sum((lo[:, k] + bits[k]) * (BINS ** (2 - k)) for k in range(3))
        weight = np.prod([w[:, k] if bits[k] else 1 - w[:, k] for k in range(3)], axis=0)
        hist += np.bincount(idx, weights=weight, minlength=BINS ** 3)
    return (hist / hist.sum()).astype(np.float32)


def colours(frame: np.ndarray, box, variant: str) -> np.ndarray:
    """(2, 64): the face box's and the band's histograms under ``variant``, the regions placed and
    clipped as the cue places them (:func:`facesel.track_cues.regions`)."""
    from facesel.track_cues import regions

    face, band = regions(box, frame.shape)
    return np.stack([histogram(frame, r, "dense" in variant, "soft" in variant) for r in (face, band)])


def end_pair(frames, rec, earlier_ends_before: int, later_starts_from: int):
    """(earlier's last 8 (frame, box), later's first 8) of the last track ending before frame
    ``earlier_ends_before`` and the first starting at or after ``later_starts_from``; None when absent."""
    tracks: dict = {}
    for packet, _, _ in rec.steps:
        if packet is None:
            continue
        for k, t in enumerate(np.asarray(packet.update.track_ids).tolist()):
            if k < len(packet.appearances) and packet.appearances[k] is not None:
                tracks.setdefault(int(t), []).append((int(packet.index), np.asarray(packet.detections.boxes[k], np.float64)))
    before = [o for o in tracks.values() if o[-1][0] < earlier_ends_before and len(o) >= 3]
    after = [o for o in tracks.values() if o[0][0] >= later_starts_from and len(o) >= 3]
    if not before or not after:
        return None
    a = max(before, key=lambda o: o[-1][0])
    b = min(after, key=lambda o: o[0][0])
    return a[-8:], b[:8]


def distances(frames, pair) -> dict:
    """Per variant, the distance of the two ends' typical colours."""
    from facesel.select.linking import _typical
    from facesel.track_cues import distance

    out = {}
    for variant in VARIANTS:
        a = _typical([colours(frames[f], box, variant) for f, box in pair[0]])
        b = _typical([colours(frames[f], box, variant) for f, box in pair[1]])
        out[variant] = distance(a, b)
    return out


def main(argv=None) -> int:
    import cv2
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval import switches as sw
    from facesel.eval.crowds_replay import record
    from facesel.scoring import LaplacianVarianceScorer
    from relink_cases import read
    from relink_loso import _cover

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pause", type=int, default=40, help="frames hidden at 25 fps")
    parser.add_argument("--families", nargs="+", default=["talking_heads", "signers"], choices=["talking_heads", "signers"])
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root()
    detector, scorer = make_detector(max_side=1280), LaplacianVarianceScorer()
    rows = []  # (kind, name, {variant: distance})
    frames, fps, min_face = read(root, "selfie")
    rec = record(frames, detector, scorer, fps, None, min_face_size=min_face)
    pair = end_pair(frames, rec, 80, 80)
    rows.append(("one", "selfie", distances(frames, pair)))
    more = root / "videos" / "more"
    n = args.pause
    for family in args.families:
        if family == "signers":
            paths = [p for p in sorted(more.glob("sample-videos__asl_gestures_*.mkv"))
                     if p.stem.split("asl_gestures_")[-1] in sw.SIGNER_PEOPLE]
            person = {p: sw.SIGNER_PEOPLE[p.stem.split("asl_gestures_")[-1]] for p in paths}
        else:
            paths = [more / name for name in sw.TALKING_HEADS if (more / name).is_file()]
            person = {p: p.name for p in paths}
        clips = {p: [cv2.resize(f, (640, 480)) for f in crowds.read_tile(p, 160, skip=10)] for p in paths}
        for p in paths:
            frames = _cover(clips[p][:40 + n + 50], detector, range(40, 40 + n))
            pair = end_pair(frames, record(frames, detector, scorer, 25.0, None, keep_static=True), 40, 40 + n)
            if pair is not None:
                rows.append(("one", f"pause {p.name}", distances(frames, pair)))
        for k, a in enumerate(paths):
            b = next((q for q in paths[k + 1:] + paths[:k] if person[q] != person[a]), None)
            if b is None:
                continue
            frames = crowds.replacement(clips[a][:45], clips[b][:n + 50], detector, missed=n)
            pair = end_pair(frames, record(frames, detector, scorer, 25.0, None, keep_static=True), 45, 45)
            if pair is not None:
                rows.append(("two", f"next {a.name} -> {b.name}", distances(frames, pair)))
        print(f"{family}: {len(rows)} pairs so far", flush=True)
    print("\nkind  " + "  ".join(f"{v:>10s}" for v in VARIANTS) + "  pair")
    for kind, name, d in rows:
        print(f"{kind:4s}  " + "  ".join(f"{d[v]:10.3f}" for v in VARIANTS) + f"  {name}")
    print("\nper measurement: one-person pairs (max, median), two-person pairs (min), two-person pairs at or under "
          "the one-person max / median / the selfie")
    for v in VARIANTS:
        one = np.array([d[v] for k, _, d in rows if k == "one"])
        two = np.array([d[v] for k, _, d in rows if k == "two"])
        selfie = rows[0][2][v]
        print(f"  {v:10s}: one {one.max():.3f} / {np.median(one):.3f} ({len(one)}), two min {two.min():.3f} ({len(two)}); "
              f"two under one's max {int((two <= one.max()).sum())}, under one's median {int((two <= np.median(one)).sum())}, "
              f"under the selfie ({selfie:.3f}) {int((two <= selfie).sum())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
