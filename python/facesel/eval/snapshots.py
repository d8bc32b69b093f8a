"""The snapshot audit's arithmetic: who is in a video, and which kept snapshots show whom.

Evaluation only: it uses a face matcher's embeddings (``facesel.eval.matcher``), which the product
never computes. Everything here works on plain arrays, so that each rule can be checked on
hand-made cases; :mod:`facesel.eval.census` feeds it real frames and snapshots.

Definitions (the numbers ``facesel eval snapshots`` reports):

- A **recognisable person** is a cluster of face embeddings (average linkage, Euclidean distance,
  cut at ``threshold``) whose members lie in at least ``min_frames`` distinct frames: the matcher
  recognises that face consistently somewhere in the video.
- A snapshot **matches** person P when the median distance of its embedding to P's members is
  below ``threshold`` (the smallest such median wins).
- A snapshot that matches nobody is a **poor snapshot** of P when its track passes over P's
  recognisable detections (the track is P, the chosen frame is not recognisable), an
  **unmatched face** when an independent face check (frontal or profile) accepts it, a **head**
  when no face is seen but an independent person check finds a person under it (a head seen
  from the side or back: a person, kept by the paper's rule), and a **non-face** (junk: no face,
  no person under it) otherwise.
- A snapshot is **linked** to P when it matches P or is a poor snapshot of P.
- **Recall**: recognisable people with at least one linked snapshot, over recognisable people;
  **match recall**: the same with matching snapshots only (the pick was recognisable too).
- **Snapshots per recognisable person**: linked snapshots over recognisable people (1.0 is the
  target: one snapshot per person).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MATCH_THRESHOLD = 0.6
"""dlib's usual decision threshold: genuine 0.44 +- 0.09 and impostor 0.80 +- 0.09 on 250 LFW
identities (shared data README), 98.1 % accuracy there."""

CATEGORIES = ("match", "poor", "unmatched_face", "head", "non_face")
"""Verdicts of a snapshot, in the order they are tried."""


def sample_positions(n: int, samples: int) -> np.ndarray:
    """Up to ``samples`` positions spread evenly over ``n`` observations of a track (first and last
    included) -> (K,) int64, K = min(n, samples); empty for n = 0. The audit's checks all look at
    the same crops of a track."""
    if n <= 0:
        return np.zeros(0, np.int64)
    return np.unique(np.linspace(0, n - 1, min(int(samples), n)).round().astype(np.int64))


LINK_GAP = 2
"""Frames two detections may lie apart and still be linked as one face by their overlap."""
LINK_IOU = 0.5
"""Overlap (IoU) of two boxes that close in time that makes them one face: far above what two
people's faces passing each other share for more than an instant."""


def _check_boxes(boxes, n: int) -> np.ndarray:
    array = np.asarray(boxes, dtype=np.float64)
    if array.shape != (n, 4) or not np.isfinite(array).all():
        raise ValueError(f"boxes must be a finite ({n}, 4) array, one per embedding, got shape {array.shape}")
    return array


def _join_by_continuity(raw: np.ndarray, frames: np.ndarray, boxes: np.ndarray, gap: int, min_iou: float,
                        cuts=()) -> np.ndarray:
    """Cluster labels after the video's continuity: detections linked by overlap (within ``gap``
    frames, IoU >= ``min_iou``, no scene cut on the frames after the first up to the second) form tracklets, and every member of a tracklet takes the label
    most of its members carry (ties: the larger cluster). Whole clusters are never merged: a
    mixed cluster (a few turned faces of several people) would chain different people into one."""
    from facesel.boxes import pairwise_iou

    parent = list(range(len(raw)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    cut_frames = np.unique(np.asarray(sorted(cuts), np.int64))
    for f in np.unique(frames):
        here = np.flatnonzero(frames == f)
        # up to the next cut: a face does not jump, but a cut replaces the picture (a TV cut to
        # another face at the same place must not hand that face to the person before it)
        after = cut_frames[cut_frames > f]
        end = min(f + gap, int(after[0]) - 1) if len(after) else f + gap
        later = np.flatnonzero((frames > f) & (frames <= end))
        if len(later) == 0:
            continue
        iou = pairwise_iou(boxes[here].astype(np.float32), boxes[later].astype(np.float32))
        for i, j in zip(*np.nonzero(iou >= min_iou)):
            a, b = root(int(here[i])), root(int(later[j]))
            if a != b:
                parent[max(a, b)] = min(a, b)
    tracklets = np.array([root(i) for i in range(len(raw))])
    labels, sizes = np.unique(raw, return_counts=True)
    size_of = dict(zip(labels.tolist(), sizes.tolist()))
    out = raw.copy()
    for t in np.unique(tracklets):
        members = np.flatnonzero(tracklets == t)
        votes, counts = np.unique(raw[members], return_counts=True)
        out[members] = max(zip(counts.tolist(), (size_of[int(v)] for v in votes), votes.tolist()))[2]
    return out


def _check_embeddings(embeddings, name: str) -> np.ndarray:
    array = np.asarray(embeddings, dtype=np.float64)
    if array.ndim != 2 or (len(array) and not np.isfinite(array).all()):
        raise ValueError(f"{name} must be a finite (N, D) array, got shape {array.shape}")
    return array


def cluster_people(embeddings, frames, threshold: float = MATCH_THRESHOLD, min_frames: int = 3, boxes=None,
                   link_gap: int = LINK_GAP, link_iou: float = LINK_IOU, cuts=()) -> np.ndarray:
    """Label each detection with its recognisable person, or -1.

    Parameters
    ----------
    embeddings : (N, D) float
        Matcher embeddings of every usable detection of the video.
    frames : (N,) int
        Frame index of each detection.
    threshold : float > 0
        Average-linkage cut (a cluster's members are on average closer than this).
    min_frames : int >= 1
        Distinct frames a cluster must span to count as a recognisable person.
    boxes : (N, 4) float, optional
        Each detection's box (x1, y1, x2, y2). When given, the video's continuity is used too: two
        detections at most ``link_gap`` frames apart whose boxes overlap by IoU ``link_iou`` or
        more are one face (a face does not jump), and each chain of such links takes the person
        most of its detections were clustered to. Without it, the matcher alone gathers the
        turned or blurred faces of several people into a small extra "person" that no snapshot
        can match (seen on the arcade video: 6 detections on 5 frames, each lying on the path of
        another person).
    cuts : iterable of int
        Frames on which the picture was replaced (:attr:`facesel.eval.census.Census.cuts`): no
        continuity link crosses one. Without it, a person who appears after a cut at the place of
        another (issue 23: a TV cut from a singer to another man) was joined to the one before.

    Returns
    -------
    (N,) int64
        Person labels 0..P-1, numbered by first appearance; -1 for detections in no such cluster.
    """
    emb = _check_embeddings(embeddings, "embeddings")
    frames = np.asarray(frames, dtype=np.int64).reshape(-1)
    if len(frames) != len(emb):
        raise ValueError(f"frames must have one entry per embedding ({len(emb)}), got {len(frames)}")
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0, got {threshold!r}")
    if isinstance(min_frames, bool) or not isinstance(min_frames, (int, np.integer)) or min_frames < 1:
        raise ValueError(f"min_frames must be an integer >= 1, got {min_frames!r}")
    labels = np.full(len(emb), -1, np.int64)
    if len(emb) == 0:
        return labels
    if len(emb) == 1:
        raw = np.zeros(1, np.int64)
    else:
        from scipy.cluster.hierarchy import fcluster, linkage

        raw = fcluster(linkage(emb, method="average", metric="euclidean"), t=threshold, criterion="distance")
    if boxes is not None:
        raw = _join_by_continuity(raw, frames, _check_boxes(boxes, len(emb)), link_gap, link_iou, cuts)
    people = []
    for cluster in np.unique(raw):
        members = np.flatnonzero(raw == cluster)
        if len(np.unique(frames[members])) >= min_frames:
            people.append(members)
    people.sort(key=lambda m: (frames[m].min(), m.min()))
    for person, members in enumerate(people):
        labels[members] = person
    return labels


def match_snapshots(snapshot_embeddings, embeddings, labels, threshold: float = MATCH_THRESHOLD):
    """The person each snapshot shows.

    Parameters
    ----------
    snapshot_embeddings : (S, D) float
        Embedding of each kept snapshot; a row of NaN for a snapshot the matcher could not embed.
    embeddings : (N, D) float
        The census embeddings that ``labels`` refers to.
    labels : (N,) int
        :func:`cluster_people` labels.
    threshold : float

    Returns
    -------
    person : (S,) int64
        The matched person, -1 for none.
    distance : (S,) float64
        Median distance to that person (to the nearest person when none matched; inf without any).
    """
    snaps = np.asarray(snapshot_embeddings, dtype=np.float64)
    emb = _check_embeddings(embeddings, "embeddings")
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(labels) != len(emb):
        raise ValueError(f"labels must have one entry per embedding ({len(emb)}), got {len(labels)}")
    person = np.full(len(snaps), -1, np.int64)
    distance = np.full(len(snaps), np.inf)
    ids = np.unique(labels[labels >= 0])
    for s, row in enumerate(snaps):
        if not np.isfinite(row).all() or len(ids) == 0:
            continue
        medians = np.array([np.median(np.linalg.norm(emb[labels == p] - row, axis=1)) for p in ids])
        k = int(np.argmin(medians))
        distance[s] = medians[k]
        if medians[k] < threshold:
            person[s] = ids[k]
    return person, distance


def track_people(track_frames, track_boxes, det_frames, det_boxes, labels, min_iou: float = 0.5) -> int:
    """The recognisable person a track passes over most often, or -1.

    Parameters
    ----------
    track_frames : (M,) int and track_boxes : (M, 4) float
        The track's frames and face boxes (x1, y1, x2, y2).
    det_frames : (N,) int and det_boxes : (N, 4) float
        The census detections; ``labels`` (N,) int their persons (-1 for none).
    min_iou : float
        Overlap for a track box to be that detection.
    """
    det_frames = np.asarray(det_frames, dtype=np.int64).reshape(-1)
    det_boxes = np.asarray(det_boxes, dtype=np.float64).reshape(-1, 4)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    votes: dict[int, int] = {}
    for frame, box in zip(np.asarray(track_frames).reshape(-1), np.asarray(track_boxes, dtype=np.float64).reshape(-1, 4)):
        here = np.flatnonzero((det_frames == frame) & (labels >= 0))
        if len(here) == 0:
            continue
        overlaps = iou(box, det_boxes[here])
        k = int(np.argmax(overlaps))
        if overlaps[k] >= min_iou:
            votes[int(labels[here[k]])] = votes.get(int(labels[here[k]]), 0) + 1
    if not votes:
        return -1
    return max(sorted(votes), key=lambda p: votes[p])


def iou(box, boxes) -> np.ndarray:
    """IoU of one (4,) box with each of (K, 4) boxes (x1, y1, x2, y2) -> (K,) float64."""
    box = np.asarray(box, dtype=np.float64).reshape(4)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = w * h
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


@dataclass
class SnapshotVerdict:
    """What the audit says of one kept snapshot."""

    track_id: int
    category: str
    person: int
    distance: float
    static: bool
    seen_by: str = ""
    """Which independent check accepted a snapshot that matches nobody ("" when none was asked or none did)."""


@dataclass
class AuditSummary:
    """The audit's numbers for one run (JSON-ready through :meth:`as_dict`)."""

    people: int
    snapshots: int
    recall: float
    match_recall: float
    snapshots_per_person: float
    per_person: list[int]
    counts: dict[str, int]
    static_snapshots: int
    verdicts: list[SnapshotVerdict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The summary as a JSON-ready dict: the counts, each person's snapshots and every verdict."""
        return {
            "recognisable_people": self.people,
            "snapshots": self.snapshots,
            "recall": self.recall,
            "match_recall": self.match_recall,
            "snapshots_per_recognisable_person": self.snapshots_per_person,
            # Every kept snapshot over the recognisable people: counts the unrecognisable ones too
            # (duplicates of a person the matcher cannot link, junk, people never recognisable).
            "all_snapshots_per_recognisable_person": self.snapshots / self.people if self.people else float("nan"),
            "linked_snapshots_per_person": self.per_person,
            "matched": self.counts["match"],
            "poor_of_a_known_person": self.counts["poor"],
            "matches_nobody": self.counts["poor"] + self.counts["unmatched_face"] + self.counts["head"] + self.counts["non_face"],
            "unmatched_faces": self.counts["unmatched_face"],
            # A person seen only from the side or back (no face found, a person under the box).
            "head": self.counts["head"],
            # Junk: no face and no person under it.
            "non_face": self.counts["non_face"],
            "static": self.static_snapshots,
            # Per recognisable person, the snapshots (track ids) linked to them and how.
            "snapshots_of_person": [[{"track_id": v.track_id, "category": v.category} for v in self.verdicts
                                     if v.person == p and v.category in ("match", "poor")] for p in range(self.people)],
            # The snapshots linked to nobody, each with its reason.
            "linked_to_nobody": [{"track_id": v.track_id, "category": v.category, "seen_by": v.seen_by}
                                 for v in self.verdicts if v.category not in ("match", "poor")],
            "snapshot_verdicts": [vars(v) for v in self.verdicts],
        }


def summarise(people: int, track_ids, matched, track_person, face_check, head_check, static) -> AuditSummary:
    """Combine the per-snapshot facts into the audit's numbers.

    Parameters
    ----------
    people : int
        Recognisable people in the video.
    track_ids : (S,) int
    matched : (S,) int
        :func:`match_snapshots` person of each snapshot (-1 none).
    track_person : (S,) int
        :func:`track_people` of each snapshot's track (-1 none).
    face_check : (S,) bool
        Whether an independent face check accepts the snapshot (used only when it matches nobody).
    head_check : (S,) bool
        Whether an independent person check finds a person under the snapshot's box (used only
        when it matches nobody and no face check accepts it): "head" rather than "non_face".
    static : (S,) bool
        Whether the snapshot's track never moved (reported, not a category).
    """
    if isinstance(people, bool) or not isinstance(people, (int, np.integer)) or people < 0:
        raise ValueError(f"people must be an integer >= 0, got {people!r}")
    matched = np.asarray(matched, dtype=np.int64).reshape(-1)
    columns = [np.asarray(track_ids).reshape(-1), np.asarray(track_person).reshape(-1),
               np.asarray(face_check).reshape(-1), np.asarray(head_check).reshape(-1), np.asarray(static).reshape(-1)]
    if any(len(c) != len(matched) for c in columns):
        raise ValueError(f"every per-snapshot input must have {len(matched)} entries, got {[len(c) for c in columns]}")
    verdicts = []
    for tid, person, owner, is_face, is_head, still in zip(columns[0], matched, *columns[1:]):
        if person >= 0:
            category = "match"
        elif owner >= 0:
            category, person = "poor", owner
        elif is_face:
            category = "unmatched_face"
        elif is_head:
            category = "head"
        else:
            category = "non_face"
        verdicts.append(SnapshotVerdict(int(tid), category, int(person), float("nan"), bool(still)))
    linked = np.array([v.person if v.category in ("match", "poor") else -1 for v in verdicts], np.int64)
    per_person = [int(np.sum(linked == p)) for p in range(people)]
    counts = {c: sum(v.category == c for v in verdicts) for c in CATEGORIES}
    return AuditSummary(
        people=int(people), snapshots=len(verdicts),
        recall=float(np.mean([n > 0 for n in per_person])) if people else float("nan"),
        match_recall=float(np.mean([np.any(matched == p) for p in range(people)])) if people else float("nan"),
        snapshots_per_person=float(np.sum(linked >= 0) / people) if people else float("nan"),
        per_person=per_person, counts=counts, static_snapshots=int(np.sum(columns[4].astype(bool))),
        verdicts=verdicts,
    )


def is_static(boxes, max_travel: float = 0.25) -> bool:
    """Whether a track's face never moved: its box centre stays within ``max_travel`` box sizes.

    Parameters
    ----------
    boxes : (M, 4) float
        The track's boxes (x1, y1, x2, y2).
    max_travel : float
        Largest extent of the centre's path (x and y), in median box sides.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) < 2:
        return False
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    side = float(np.median(np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])))
    extent = float((centres.max(0) - centres.min(0)).max())
    return extent <= max_travel * max(side, 1e-9)
