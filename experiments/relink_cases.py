"""Why a shared video still gives one person several snapshots: every pair of one person's
fragments that ended in two snapshots, with the re-link gate that refused it (docs/persons.md,
"Why the selfie, OTB Girl and the bed keep extra snapshots").

    python experiments/relink_cases.py [--cases selfie otb bed] [--rule default|...] [--no-census]

Each video (at most 600 frames, the default Selector with the Laplacian scorer: the pick is not what
is measured, tracks and links do not depend on it) is recorded once (:mod:`facesel.eval.crowds_replay`)
and replayed through a finaliser with the rule, which keeps a copy of what it knew each time it asked
for a successor (as ``experiments/crowds_refusals.py``). Who each fragment is:

- ``selfie``: one person (every fragment);
- ``otb``: OTB Girl, the girl by her ground-truth box (IoU >= 0.3 on at least half of the fragment's
  end observations), else the man;
- ``bed``: the children on the bed, by the audit's census (``facesel eval snapshots``' matcher and
  clustering, :func:`facesel.eval.snapshots.track_people` over the fragment's boxes): the
  recognisable person a fragment passes over, -1 for none (``--no-census``: every fragment -1).

Printed: every fragment (frames, seconds, box side, ended by, colours measured), the snapshots and
their fragments, and for every pair of consecutive fragments of one person in two snapshots the
short-link gates (:func:`facesel.select.link_explain.explain`) and the long-link gates
(:func:`facesel.select.link_explain.explain_long`) at the moment the finaliser asked, or why it
never asked (the two overlap in time; the later had not started).
"""

from __future__ import annotations

import argparse
import copy
import itertools
from pathlib import Path

import cv2
import numpy as np

CASES = {"selfie": ("videos/selfie_motion_blur_portrait.mp4", 16.0), "otb": ("videos/otb_girl/img", 8.0),
         "bed": ("videos/more/sam2__notebooks_videos_bedroom.mp4", 16.0)}


def read(root: Path, case: str, max_frames: int = 600):
    """(frames, fps, min_face_size) of a case."""
    from facesel.video import open_source

    rel, min_face = CASES[case]
    path = root / rel
    capture = cv2.VideoCapture(str(path)) if path.is_file() else None
    fps = (capture.get(cv2.CAP_PROP_FPS) if capture is not None else 0.0) or 25.0
    if capture is not None:
        capture.release()
    frames = []
    for frame, _ in open_source(path):
        frames.append(frame)
        if len(frames) >= max_frames:
            break
    return frames, fps, min_face


def owners(root: Path, case: str, frames, census: bool):
    """``owner(result) -> int`` for the fragments of a case (see the module docstring)."""
    from facesel.boxes import pairwise_iou

    if case == "selfie":
        return lambda r: 0
    if case == "otb":
        folder = root / "videos" / "otb_girl"
        truth = np.array((folder / "groundtruth_rect.txt").read_text().replace(",", " ").split(), np.float32).reshape(-1, 4)
        truth[:, 2:] += truth[:, :2]

        def girl(r):
            hits = [pairwise_iou(np.asarray(b, np.float32)[None], truth[min(len(truth) - 1, int(f))][None])[0, 0] >= 0.3
                    for f, b in zip(r.frame_indices, r.boxes)]
            return int(np.mean(hits) >= 0.5)
        return girl
    if not census:
        return lambda r: -1
    from facesel.detect import make_detector
    from facesel.eval.census import RecognisableChip
    from facesel.eval.census import census as take_census
    from facesel.eval.matcher import DlibMatcher
    from facesel.eval.snapshots import MATCH_THRESHOLD, cluster_people, track_people

    people = take_census(frames, make_detector(max_side=1280), DlibMatcher(), chipper=RecognisableChip())
    labels = cluster_people(people.embeddings, people.frames, MATCH_THRESHOLD, 3, boxes=people.boxes, cuts=people.cuts)
    print(f"census: {len(labels)} detections, {int(labels.max()) + 1 if len(labels) else 0} recognisable people", flush=True)
    return lambda r: track_people(r.frame_indices, r.boxes, people.frames, people.boxes, labels)


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval.crowds_replay import record, replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser
    from facesel.select.link_explain import explain, explain_long
    from facesel.select.linking import LinkRule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--no-census", action="store_true", help="the bed without the census (owners unknown)")
    parser.add_argument("--pairs", nargs="*", default=[], help="also these fragment pairs A:B (ids of this run), e.g. "
                        "fragments of one person the census does not recognise but the contact sheet shows")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root()
    detector, scorer, rule = make_detector(max_side=1280), LaplacianVarianceScorer(), LinkRule()
    for case in args.cases:
        frames, fps, min_face = read(root, case)
        rec = record(frames, detector, scorer, fps, None, min_face_size=min_face)
        owner_of = owners(root, case, frames, not args.no_census)
        fin = Finaliser.for_scorer(scorer, link=rule)
        asked, fragments, owner, seen = {}, {}, {}, {}
        cont, add = fin._continue, fin.add

        def spy(held, open_ok=True, fin=fin, cont=cont, asked=asked):
            memo = {}  # one copy per evidence: crowding() skips the two fragments by identity
            cands = {t: copy.deepcopy(h.evidence, memo) for t, h in fin._held.items()}
            if open_ok:
                cands.update({t: copy.deepcopy(e, memo) for t, e in fin.evidence.items()})
            others = [copy.deepcopy(e, memo) for e in fin.others()]
            waiting = set(fin._waiting)
            done = cont(held, open_ok)
            asked[(int(held.result.track_id), int(held.evidence.last_frame))] = (copy.deepcopy(held.evidence), cands, waiting, others)
            return done

        def keep(result, now, fin=fin, add=add):
            fragments[int(result.track_id)] = copy.deepcopy(fin.evidence.get(result.track_id))
            owner[int(result.track_id)] = owner_of(result)
            seen[int(result.track_id)] = {int(f) for f in result.frame_indices}
            return add(result, now)

        fin._continue, fin.add = spy, keep
        delivered = replay(rec, fin)
        chains = crowds._chains(fin.links)
        print(f"\n== {case}: {len(frames)} frames of {frames[0].shape[1]} x {frames[0].shape[0]} at {fps:.1f} fps, {len(fragments)} fragments, {len(delivered)} snapshots, "
              f"links {fin.links}, drops {fin.drops}", flush=True)
        for t, e in sorted(fragments.items(), key=lambda kv: kv[1].first_frame if kv[1] else 0):
            if e is None:
                continue
            side = min(e.last_box[2] - e.last_box[0], e.last_box[3] - e.last_box[1])
            print(f"  fragment {t}: frames {e.first_frame}-{e.last_frame} ({e.first_time:.2f}-{e.last_time:.2f} s), "
                  f"{e.count} obs, side {side:.0f}, first box {np.round(e.first_box).astype(int).tolist()}, last box "
                  f"{np.round(e.last_box).astype(int).tolist()}, owner {owner[t]}, ended_by {e.ended_by}, "
                  f"colours {'yes' if e.last_colours is not None else 'no'}")
        root_of = {}
        for r in delivered:
            members = sorted(chains.get(int(r.track_id), {int(r.track_id)}))
            for m in members:
                root_of[m] = int(r.track_id)
            print(f"  snapshot {int(r.track_id)}: fragments {members}, owners {sorted({owner.get(m, -9) for m in members})}")
        listed = [(-1, tuple(int(x) for x in p.split(":"))) for p in args.pairs]
        for person in sorted(set(owner.values())):
            mine = sorted((m for m in fragments if owner[m] == person and m in root_of and fragments[m] is not None),
                          key=lambda m: fragments[m].first_frame)
            listed += [(person, pair) for pair in itertools.pairwise(mine)]
        for person, (a, b) in listed:
            if a not in fragments or b not in fragments:
                continue
            if root_of[a] == root_of[b]:
                continue
            fa, fb = fragments[a], fragments[b]
            head = f"  person {person}: {a} ({fa.first_frame}-{fa.last_frame}) -> {b} ({fb.first_frame}-{fb.last_frame})"
            info = asked.get((root_of[a], fa.last_frame))
            if fb.first_time <= fa.last_time:
                print(f"{head}: overlap in time ({fa.last_time - fb.first_time:.2f} s; gate {rule.max_overlap_seconds}); "
                      f"frames with both seen: {len(seen[a] & seen[b])} (of {len(seen[a])} and {len(seen[b])})")
            if fb.first_time < fa.last_time - rule.max_overlap_seconds:
                info = None
            if info is None:
                continue
            ev_a, cands, waiting, others = info
            cand = cands.get(b)
            if cand is None:
                # released before the later one started: what the gates say of the two as they ended
                print(f"{head}: not a candidate when asked (gap {fb.first_time - fa.last_time:.2f} s); as they ended:")
                ev_a, cand, others = fa, fb, [f for f in fragments.values() if f is not None]
            e, g = explain(rule, ev_a, cand), explain_long(rule, ev_a, cand, others)
            colour = "-" if e["colour"] is None else f"{e['colour']:.2f}"
            lc = "-" if g["colour"] is None else f"{g['colour']:.2f}"
            print(f"{head}: short {'+'.join(e['refused']) or 'pass'} (gap {e['gap']:.2f} s, colour {colour}, size "
                  f"{e['size']:.2f}, position {e['position']:.2f} / {e['allowance']:.2f}); long "
                  f"{'+'.join(g['refused']) or 'pass'} (still {g['still']:.2f}, colour {lc}, near {g['near']}, "
                  f"allowed {g['allowed']:.2f} s){'; taken' if b in waiting else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
