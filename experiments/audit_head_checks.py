"""Where the snapshot audit's profile and "person under the box" thresholds come from (docs/persons.md).

Measured with the audit's own checks (facesel.eval.head_checks) on the arcade video:

- people: every track of a run without the finaliser (``facesel run VIDEO --no-finalise
  --plaintext-out RUN``) except the coat-of-arms poster's; on the arcade video every other track is
  a person (frontal faces, a profile, heads seen from the side or back, tops of a boy's head;
  checked on the contact sheet);
- junk: the poster's tracks, and static boxes of face size (25-120 px, 1.2 times as high as wide)
  at random places of the background, on 8 frames spread over the video, overlapping no face
  detection (YuNet at 0.3) and no track of the run on any of them. Two draws: ``--seed`` (the
  one the thresholds were chosen on) and ``--seed + 1`` (a second draw, to see the false-accept
  rate on boxes the choice never saw).

Each threshold's row: people accepted (and how many of the person tracks in which no frontal
detector, MTCNN or dlib HOG, sees a face), junk accepted. Run (about 2 CPU minutes after the run):

    facesel run ../shared/data/videos/arcade_walkers_1080p.mp4 --no-finalise --plaintext-out /tmp/arcade_before
    python experiments/audit_head_checks.py ../shared/data/videos/arcade_walkers_1080p.mp4 /tmp/arcade_before
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from facesel.detectors import YuNetDetector
from facesel.eval.census import IndependentFaceCheck
from facesel.eval.head_checks import PersonBelowCheck, ProfileFaceCheck
from facesel.eval.snapshot_audit import read_run
from facesel.eval.snapshots import sample_positions
from facesel.video import open_source

# The coat of arms above the entrance (1920x1080 frame pixels), as in tests/test_persons_videos.py.
POSTER_REGION = (880, 120, 1080, 300)
SAMPLES = 8


def _in_poster(box) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return POSTER_REGION[0] <= cx <= POSTER_REGION[2] and POSTER_REGION[1] <= cy <= POSTER_REGION[3]


def _overlaps(box, others) -> bool:
    if len(others) == 0:
        return False
    o = np.asarray(others, np.float64).reshape(-1, 4)
    ix = np.minimum(box[2], o[:, 2]) - np.maximum(box[0], o[:, 0])
    iy = np.minimum(box[3], o[:, 3]) - np.maximum(box[1], o[:, 1])
    return bool(np.any((ix > 0) & (iy > 0)))


def background_tracks(frames, records, n: int, seed: int) -> list[list[tuple[int, np.ndarray]]]:
    """``n`` static junk "tracks": one random face-sized box on 8 frames spread over the video."""
    at = [int(v) for v in np.linspace(0, len(frames) - 1, SAMPLES).round()]
    detector = YuNetDetector(min_confidence=0.3)
    taken = {f: list(detector.detect(frames[f]).boxes.reshape(-1, 4)) for f in at}
    for r in records:
        for f, b in zip(r["frame_indices"], r["boxes"]):
            if f in taken:
                taken[f].append(b)
    rng = np.random.default_rng(seed)
    h, w = frames[0].shape[:2]
    out = []
    while len(out) < n:
        side = rng.uniform(25, 120)
        x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - 1.2 * side)
        box = np.array([x0, y0, x0 + side, y0 + 1.2 * side])
        if not any(_overlaps(box, taken[f]) for f in at):
            out.append([(f, box) for f in at])
    return out


def evidence(crops, person: PersonBelowCheck, profile: ProfileFaceCheck) -> np.ndarray:
    """(K, 3) per crop: HOG person margin, upper-body neighbours, profile neighbours."""
    return np.array([[person.person_margin(frame, box), person.upper_body_neighbours(frame, box),
                      profile.neighbours(frame, box)] for frame, box in crops], np.float64).reshape(-1, 3)


def accepted(ev: np.ndarray, margin: float, neighbours: int, min_crops: int) -> bool:
    hits = (ev[:, 0] >= margin) | (ev[:, 1] >= neighbours)
    return int(hits.sum()) >= min(min_crops, len(ev))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video")
    parser.add_argument("run", help="--plaintext-out folder of 'facesel run VIDEO --no-finalise'")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--junk", type=int, default=60, help="random background boxes per draw")
    args = parser.parse_args()
    frames = [f for f, _ in open_source(args.video)]
    records = read_run(args.run)
    person, profile = PersonBelowCheck(SAMPLES), ProfileFaceCheck(SAMPLES)
    if not profile.available:
        print(f"profile check skipped: {profile.skip_reason}")

    def crops_of(frame_indices, boxes):
        return [(frames[int(frame_indices[k])], np.asarray(boxes[k], np.float64))
                for k in sample_positions(len(frame_indices), SAMPLES)]

    items = []  # (name, kind, evidence)
    frontal = IndependentFaceCheck(SAMPLES)
    faceless = set()  # person tracks in which no frontal detector (MTCNN, dlib HOG) sees a face
    for r in records:
        kind = "junk" if _in_poster(r["box"]) else "person"
        name = f"track {r['track_id']}"
        items.append((name, kind, evidence(crops_of(r["frame_indices"], r["boxes"]), person, profile)))
        if kind == "person" and not frontal(frames, r["frame_indices"], r["boxes"]):
            faceless.add(name)
    for draw, seed in (("chosen on", args.seed), ("second draw", args.seed + 1)):
        for k, track in enumerate(background_tracks(frames, records, args.junk, seed)):
            items.append((f"box {k} ({draw})", f"junk {draw}", evidence([(frames[f], b) for f, b in track], person, profile)))
    people = [i for i in items if i[1] == "person"]
    print(f"{len(people)} person tracks ({len(faceless)} without a frontal face: {sorted(faceless)}), "
          f"{sum(i[1] == 'junk' for i in items)} poster tracks, {args.junk} + {args.junk} background boxes")
    print("profile cascade, one crop enough: min_neighbours -> people accepted / junk accepted")
    for need in (2, 3, 4, 6, 8):
        ok = [n for n, _, ev in people if ev[:, 2].max(initial=0) >= need]
        junk = [n for n, kind, ev in items if kind != "person" and ev[:, 2].max(initial=0) >= need]
        print(f"  {need}: {len(ok)}/{len(people)} people ({len(faceless.intersection(ok))}/{len(faceless)} without "
              f"a frontal face); junk {junk}")
    print("person below (HOG margin or upper-body neighbours, on min_crops crops) -> people / junk accepted")
    for min_crops, margin, neighbours in itertools.product((1, 2, 3), (0.3, 0.5, 0.7, 0.9), (2, 3, 5, 99)):
        ok = [n for n, _, ev in people if accepted(ev, margin, neighbours, min_crops)]
        junk = {d: [n for n, kind, ev in items if kind == d and accepted(ev, margin, neighbours, min_crops)]
                for d in ("junk", "junk chosen on", "junk second draw")}
        chosen = " <- default" if (min_crops, margin, neighbours) == (person.min_crops, person.min_margin, person.min_neighbours) else ""
        print(f"  crops {min_crops} margin {margin} neighbours {neighbours}: {len(ok)}/{len(people)} people "
              f"({len(faceless.intersection(ok))}/{len(faceless)} without a frontal face); "
              f"poster {junk['junk']}, boxes {len(junk['junk chosen on'])}+{len(junk['junk second draw'])} "
              f"{junk['junk chosen on'] + junk['junk second draw']}{chosen}")
    print("per person track (default rule): crops with a person / crops, profile best neighbours")
    for name, kind, ev in items:
        if kind == "person" or kind == "junk" or accepted(ev, person.min_margin, person.min_neighbours, person.min_crops):
            hits = (ev[:, 0] >= person.min_margin) | (ev[:, 1] >= person.min_neighbours)
            print(f"  {name} ({kind}): {int(hits.sum())}/{len(ev)}, HOG margins {np.round(ev[:, 0], 2).tolist()}, "
                  f"upper-body {ev[:, 1].astype(int).tolist()}, profile {int(ev[:, 2].max(initial=0))}")


if __name__ == "__main__":
    main()
