"""Who each track is: its person's reference embedding, taken from the frontal frames of the whole
video, and each crop's matcher distance to it.

A track's frontal crops are those the landmarks call frontal and upright (|yaw| < 0.15 eye
distances, |roll| < 15 degrees, |pitch| < 0.15) with detector confidence >= 0.7; a track with fewer
than three takes its three most frontal. Tracks whose frontal means lie closer than
:data:`SAME_PERSON` are one person (average linkage), so that a track that never looks at the
camera is still judged against its person's good frames elsewhere in the video. Two tracks that
share a frame are two people, whatever their embeddings say.

A crop's distance is the mean of its distances to each of its person's frontal embeddings
**without the crops of its own track within +-2 frames of it** (the smoothing window): a crop must
not be judged against itself, or a score that prefers frontal crops would be rewarded for having
chosen the reference. A mean of pairwise distances (not the distance to the mean embedding, which
is shorter) keeps dlib's 0.6 threshold meaningful: it says how well the crop matches a typical
frontal frame of the person.
"""

from __future__ import annotations

import numpy as np

from facesel.scoring.pose import landmark_pose

SAME_PERSON = 0.5
"""Distance between two tracks' frontal means under which they are one person (dlib genuine ~0.44)."""

_EXCLUDE = 2


def frontal_mask(context) -> np.ndarray:
    """(N,) bool: crops frontal and upright by their landmarks, with a confident detection."""
    if context.landmarks is None:
        return context.det_scores >= 0.7
    pose = np.abs(landmark_pose(context.landmarks))
    with np.errstate(invalid="ignore"):
        return (pose[:, 0] < 0.15) & (pose[:, 1] < np.radians(15)) & (pose[:, 2] < 0.15) & (context.det_scores >= 0.7)


def _reference_sets(tracks, context) -> list[np.ndarray]:
    """Per track, the indices of the crops that stand for its frontal look."""
    frontal = frontal_mask(context)
    pose_cost = (np.nan_to_num(landmark_pose(context.landmarks), nan=9.0) ** 2).sum(1) if context.landmarks is not None else -context.det_scores
    sets = []
    for idx in tracks:
        chosen = idx[frontal[idx]]
        if len(chosen) < 3:
            chosen = idx[np.argsort(pose_cost[idx], kind="stable")[:3]]
        sets.append(chosen)
    return sets


def group_tracks(means: np.ndarray, threshold: float = SAME_PERSON, apart=None) -> np.ndarray:
    """(T,) person label per track: average-linkage clustering of (T, D) track means at ``threshold``.

    ``apart`` : (T, T) bool, optional: pairs of tracks that cannot be one person (they share a
    frame); two clusters holding such a pair are never merged."""
    from facesel.eval.matcher import distance_matrix

    labels = np.arange(len(means))
    if len(means) < 2:
        return labels
    d = distance_matrix(means, means)
    clusters = {i: [i] for i in range(len(means))}
    while len(clusters) > 1:
        keys = list(clusters)
        best, pair = threshold, None
        for a_i, a in enumerate(keys):
            for b in keys[a_i + 1:]:
                if apart is not None and apart[np.ix_(clusters[a], clusters[b])].any():
                    continue
                link = d[np.ix_(clusters[a], clusters[b])].mean()
                if link < best:
                    best, pair = link, (a, b)
        if pair is None:
            break
        clusters[pair[0]] += clusters.pop(pair[1])
    for label, members in enumerate(clusters.values()):
        labels[members] = label
    return labels


class PersonReferences:
    """A video's tracks grouped into persons, with each person's reference crops.

    Attributes
    ----------
    tracks : list of (n_t,) int64 arrays, each track's crop indices
    embeddings : (N, D) float64, the matcher's embedding of each crop
    references : list of (r_t,) int64 arrays, each track's reference crops
    labels : (T,) int64, each track's person
    position, track_of : (N,) int64, each crop's place within its track and its track
    """

    def __init__(self, video):
        self.tracks = video.track_slices()
        emb = self.embeddings = video.embeddings.astype(np.float64)
        refs = self.references = _reference_sets(self.tracks, video.context)
        n = len(self.tracks)
        means = np.stack([emb[r].mean(0) for r in refs]) if n else np.zeros((0, emb.shape[1]))
        frame_sets = [set(video.frame_indices[idx].tolist()) for idx in self.tracks]
        apart = np.array([[bool(a & b) for b in frame_sets] for a in frame_sets]).reshape(n, n)
        self.labels = group_tracks(means, apart=apart)
        self.position = np.zeros(len(emb), np.int64)
        self.track_of = np.zeros(len(emb), np.int64)
        for t, idx in enumerate(self.tracks):
            self.position[idx] = np.arange(len(idx))
            self.track_of[idx] = t

    def persons(self):
        """Yield (label, (T_p,) member tracks, (R,) their reference crops concatenated), one per person."""
        for label in np.unique(self.labels):
            members = np.flatnonzero(self.labels == label)
            yield label, members, np.concatenate([self.references[t] for t in members])

    def distance(self, i: int, ref: np.ndarray) -> float:
        """Crop ``i``'s mean embedding distance to ``ref`` (crop indices), leaving out the crops of its
        own track within ``_EXCLUDE`` places of it (near-copies of it) while any other is left."""
        t = self.track_of[i]
        near = (self.track_of[ref] == t) & (np.abs(self.position[ref] - self.position[i]) <= _EXCLUDE)
        use = ref[~near] if (~near).sum() >= 1 else ref
        return float(np.linalg.norm(self.embeddings[use] - self.embeddings[i], axis=1).mean())


def crop_distances(video) -> tuple[np.ndarray, np.ndarray]:
    """Each crop's distance to its track's person.

    Parameters
    ----------
    video : :class:`facesel.eval.track_data.VideoTracks`

    Returns
    -------
    distances : (N,) float64
    persons : (N,) int64, the person label of each crop's track
    """
    people = PersonReferences(video)
    n = len(people.embeddings)
    dist = np.full(n, np.nan)
    persons = np.zeros(n, np.int64)
    for label, members, ref in people.persons():
        for t in members:
            for i in people.tracks[t]:
                dist[i] = people.distance(i, ref)
            persons[people.tracks[t]] = label
    return dist, persons
