"""Is a long link's colour refusal a measurement artefact? The colours of two fragments of one
person, observation by observation, and every way of sampling them (docs/persons.md, "The selfie's
colours at the frame edge").

    python experiments/colour_ends.py [--case selfie] [--fragments A B]

The long link (:meth:`facesel.select.linking.LinkRule._long_cost`) compares the typical colours
(element-wise median histogram, :func:`facesel.select.linking._typical`) of the earlier fragment's
last 8 observations with those of the later fragment's first 8, the larger of the face region's and
the band's distance (:func:`facesel.track_cues.distance`), against ``long_colour_distance`` 0.15.
On the selfie the man leaves the frame by its left edge and comes back there, so both samples are
taken where his face is cut by the frame edge. Printed, for the two fragments (by default the two
with the most observations):

- per observation: frame, box, detector confidence, how many of the 5 landmarks lie outside the
  frame, the share of the face box and of the band below it (:func:`facesel.track_cues.regions`
  before clipping) inside the frame, and the face / band distance of its colours to its own
  fragment's middle and to the other fragment's end sample;
- the long link's sample and the same with observations at the frame edge left out (box within
  1 px or 2 % of the frame width of a border; a landmark outside the frame; band less than half in
  the frame), among the end's 16 observations and at any age;
- every pair of 8-observation windows, one in each fragment (the smallest distance any such sample
  could give), and the drift between disjoint windows of one fragment.

Each video is recorded once through the default Selector (Laplacian scorer: tracks and colours do
not depend on the pick), everything in memory.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def observations(rec) -> dict:
    """Per track id, its observations as (frame, box (4,), score, landmarks (5, 2) or None, colours
    (2, 64) or None), from a :class:`facesel.eval.crowds_replay.Recording`."""
    tracks: dict = {}
    for packet, _, _ in rec.steps:
        if packet is None:
            continue
        marks = packet.detections.landmarks
        for k, track_id in enumerate(np.asarray(packet.update.track_ids).tolist()):
            colours = packet.appearances[k] if k < len(packet.appearances) else None
            tracks.setdefault(int(track_id), []).append(
                (int(packet.index), np.asarray(packet.detections.boxes[k], np.float64), float(packet.detections.scores[k]),
                 None if marks is None else np.asarray(marks[k], np.float64), colours))
    return tracks


def share_inside(region, width: int, height: int) -> float:
    """Share of the area of ``region`` (x1, y1, x2, y2, not clipped) inside a frame of that size."""
    x1, y1, x2, y2 = (float(v) for v in region)
    area = (x2 - x1) * (y2 - y1)
    if area <= 0:
        return 0.0
    inside = max(0.0, min(width, x2) - max(0.0, x1)) * max(0.0, min(height, y2) - max(0.0, y1))
    return inside / area


def band_of(box) -> np.ndarray:
    """(4,) the band below a face box as :func:`facesel.track_cues.appearances` places it, before clipping."""
    from facesel.track_cues.colours import _BAND_FROM, _BAND_SCALE

    box = np.asarray(box, np.float64)
    size = np.concatenate([box[2:] - box[:2], box[2:] - box[:2]])
    return box[_BAND_FROM] + size * _BAND_SCALE


def apart(a, b) -> tuple[float, float, float]:
    """(decision, face, band) distances of two (2, 64) colours (the decision is the larger)."""
    from facesel.track_cues import distance

    return distance(a, b), distance(a[:1], b[:1]), distance(a[1:], b[1:])


def main(argv=None) -> int:
    import cv2
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval.crowds_replay import record
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.linking import LinkRule, _typical
    from relink_cases import CASES, read

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="selfie", choices=list(CASES))
    parser.add_argument("--fragments", nargs=2, type=int, help="the earlier and the later fragment (ids of this run)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    frames, fps, min_face = read(data_root(), args.case)
    height, width = frames[0].shape[:2]
    rec = record(frames, make_detector(max_side=1280), LaplacianVarianceScorer(), fps, None, min_face_size=min_face)
    tracks = observations(rec)
    if args.fragments:
        a_id, b_id = args.fragments
    else:
        a_id, b_id = sorted(sorted(tracks, key=lambda t: -len(tracks[t]))[:2], key=lambda t: tracks[t][0][0])
    a, b = tracks[a_id], tracks[b_id]
    rule = LinkRule()
    window = rule.window
    print(f"{args.case}: {len(frames)} frames of {width} x {height} at {fps:.1f} fps; fragments {a_id} (frames "
          f"{a[0][0]}-{a[-1][0]}, {len(a)} obs) and {b_id} ({b[0][0]}-{b[-1][0]}, {len(b)} obs); long-link colour "
          f"limit {rule.long_colour_distance}")
    coloured = {t: [o for o in tracks[t] if o[4] is not None] for t in (a_id, b_id)}
    if len(coloured[a_id]) < 2 * window or len(coloured[b_id]) < 2 * window:
        print("too few observations with colours for the windows")
        return 1

    def typical(obs):
        return _typical([o[4] for o in obs])

    end_a, start_b = typical(coloured[a_id][-window:]), typical(coloured[b_id][:window])
    middle = {t: typical(c[len(c) // 4: 3 * len(c) // 4]) for t, c in coloured.items()}
    other_end = {a_id: start_b, b_id: end_a}
    for t in (a_id, b_id):
        print(f"\n-- fragment {t}: frame, box, confidence, landmarks outside, face / band share inside the frame, "
              f"distance (face, band) to its own middle; to the other fragment's end sample")
        for frame, box, score, marks, colours in tracks[t]:
            outside = "-" if marks is None else int(((marks[:, 0] < 0) | (marks[:, 0] >= width) | (marks[:, 1] < 0)
                                                      | (marks[:, 1] >= height)).sum())
            shares = f"{share_inside(box, width, height):.2f} / {share_inside(band_of(box), width, height):.2f}"
            if colours is None:
                print(f"  {frame:4d} {np.round(box).astype(int).tolist()} {score:.2f} {outside} {shares}  no colours")
                continue
            own, other = apart(colours, middle[t])[1:], apart(colours, other_end[t])[1:]
            print(f"  {frame:4d} {np.round(box).astype(int).tolist()} {score:.2f} {outside} {shares}  "
                  f"own ({own[0]:.2f}, {own[1]:.2f}); other ({other[0]:.2f}, {other[1]:.2f})")

    def at_edge(margin):
        return lambda o: bool(o[1][0] <= margin or o[1][1] <= margin or o[1][2] >= width - margin or o[1][3] >= height - margin)

    def landmark_out(o):
        m = o[3]
        return m is not None and bool(((m[:, 0] < 0) | (m[:, 0] >= width) | (m[:, 1] < 0) | (m[:, 1] >= height)).any())

    samples = {"every observation (the long link's sample)": lambda o: False,
               "box within 1 px of a border left out": at_edge(1.0),
               "box within 2 % of the width of a border left out": at_edge(0.02 * width),
               "a landmark outside the frame left out": landmark_out,
               "band under half inside the frame left out": lambda o: share_inside(band_of(o[1]), width, height) < 0.5}
    print(f"\n-- the end samples ({window} observations with colours at each end; 'within 16': among the end's "
          f"16 observations; decision = max(face, band))")
    for name, dropped in samples.items():
        for reach in (16, None):
            ends_a = a[-reach:] if reach else a
            ends_b = b[:reach] if reach else b
            keep_a = [o for o in ends_a if o[4] is not None and not dropped(o)][-window:]
            keep_b = [o for o in ends_b if o[4] is not None and not dropped(o)][:window]
            where = "within 16" if reach else "any age"
            if not keep_a or not keep_b:
                print(f"  {name}, {where}: no sample ({len(keep_a)} / {len(keep_b)} observations left)")
                continue
            d, face, band = apart(typical(keep_a), typical(keep_b))
            print(f"  {name}, {where}: frames {keep_a[0][0]}-{keep_a[-1][0]} and {keep_b[0][0]}-{keep_b[-1][0]}: "
                  f"{d:.3f} (face {face:.3f}, band {band:.3f})")
    ca, cb = coloured[a_id], coloured[b_id]
    cross = [(apart(typical(ca[i:i + window]), typical(cb[j:j + window])), ca[i][0], cb[j][0])
             for i in range(len(ca) - window + 1) for j in range(len(cb) - window + 1)]
    values = np.array([c[0] for c in cross])  # (pairs, 3)
    best = int(values[:, 0].argmin())
    print(f"\n-- every pair of {window}-observation windows, one in each fragment ({len(cross)} pairs): decision min "
          f"{values[best, 0]:.3f} (windows from frames {cross[best][1]} and {cross[best][2]}; face {values[best, 1]:.3f}, band "
          f"{values[best, 2]:.3f}), median {np.median(values[:, 0]):.3f}, max {values[:, 0].max():.3f}; face alone min "
          f"{values[:, 1].min():.3f} median {np.median(values[:, 1]):.3f}; band alone min {values[:, 2].min():.3f} median "
          f"{np.median(values[:, 2]):.3f}")
    for t, c in coloured.items():
        drift = np.array([apart(typical(c[i:i + window]), typical(c[j:j + window]))
                          for i, j in itertools.combinations(range(len(c) - window + 1), 2) if j - i >= window])
        print(f"   within fragment {t} (disjoint windows, {len(drift)} pairs): decision median {np.median(drift[:, 0]):.3f}, "
              f"max {drift[:, 0].max():.3f}; share over the limit {np.mean(drift[:, 0] > rule.long_colour_distance):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
