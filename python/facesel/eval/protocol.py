"""The evaluation set: references, probes, optional degradation of probes, crops and distances.

Reference rule (stated in every report): for each subject the reference is the image whose clean
embedding is closest (Euclidean) to the mean clean embedding of that subject's images. It depends
on the matcher only, so it favours no quality method. Every other image of the subject is a probe.
Subjects with fewer than two images are left out.

Degradation (``degrade_seed``): every probe, never a reference, gets one kind drawn uniformly from
:data:`facesel.eval.degrade.KINDS` at a severity drawn uniformly from [0, 1], seeded, in memory only.
The matcher sees that image and the quality scorers see the aligned crop made from that same
image, with :func:`facesel.faceset.align_tight_crop` (the canonical crop function).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facesel.eval.cache import embed_all
from facesel.eval.matcher import distance_matrix
from facesel.faceset import align_tight_crop, list_images, read_image

REFERENCE_RULE = (
    "Reference per subject: the image whose clean embedding is closest to the mean clean embedding of "
    "the subject's images (depends on the matcher only, favours no quality method); every other image "
    "is a probe. Subjects with fewer than two images are left out."
)


@dataclass
class EvalSet:
    """Everything the metrics need, one row per image.

    Attributes
    ----------
    identities : (N,) str
    paths : list[Path]
    is_reference : (N,) bool
    reference_of : (N,) int64
        Index of the subject's reference (a reference points to itself).
    kind : (N,) str
        Degradation applied ("none" for references and in the clean protocol).
    severity : (N,) float64
    embeddings : (N, 128) float32
        Of the image as the matcher saw it (degraded for degraded probes).
    crops : (N, 64, 64) uint8
        Aligned grey crops of the same images.
    detected : (N,) bool
        Whether the detector found the face for alignment (else the whole image was the box).
    image_side : (N,) float64
        Shorter side of the image in pixels (the face size for tight crops).
    degrade_seed : int or None
    """

    identities: np.ndarray
    paths: list
    is_reference: np.ndarray
    reference_of: np.ndarray
    kind: np.ndarray
    severity: np.ndarray
    embeddings: np.ndarray
    crops: np.ndarray
    detected: np.ndarray
    image_side: np.ndarray
    degrade_seed: int | None = None
    notes: list = field(default_factory=list)

    @property
    def probes(self) -> np.ndarray:
        """(P,) int64 indices of the probes."""
        return np.flatnonzero(~self.is_reference)

    def genuine_distance(self) -> np.ndarray:
        """(P,) float64 distance of each probe to its subject's reference, in :attr:`probes` order."""
        p = self.probes
        return np.linalg.norm(
            self.embeddings[p].astype(np.float64) - self.embeddings[self.reference_of[p]].astype(np.float64), axis=1
        )

    def impostor_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (reference, probe) pair of different subjects.

        Returns
        -------
        ref_index, probe_index : (M,) int64
        distance : (M,) float64
        """
        refs = np.flatnonzero(self.is_reference)
        probes = self.probes
        d = distance_matrix(self.embeddings[refs], self.embeddings[probes])
        other = self.identities[refs][:, None] != self.identities[probes][None, :]
        ri, pi = np.nonzero(other)
        return refs[ri], probes[pi], d[ri, pi]


def select_items(root: Path, limit_identities: int | None = None) -> list[tuple[str, Path]]:
    """(identity, path) of subjects with at least two images, the first ``limit_identities`` of them."""
    if limit_identities is not None and (not isinstance(limit_identities, int) or limit_identities < 2):
        raise ValueError(f"limit_identities must be an integer >= 2, got {limit_identities!r}")
    groups: dict[str, list[Path]] = defaultdict(list)
    for ident, path in list_images(Path(root)):
        groups[ident].append(path)
    names = [n for n in sorted(groups) if len(groups[n]) >= 2]
    if limit_identities is not None:
        names = names[:limit_identities]
    if len(names) < 2:
        raise ValueError(f"{root} has {len(names)} subjects with two or more images; the evaluation needs at least 2")
    return [(n, p) for n in names for p in groups[n]]


def choose_references(identities: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """(N,) int64: index of each image's subject reference (see :data:`REFERENCE_RULE`)."""
    reference_of = np.empty(len(identities), dtype=np.int64)
    for ident in np.unique(identities):
        members = np.flatnonzero(identities == ident)
        e = embeddings[members].astype(np.float64)
        centre = e.mean(axis=0)
        reference_of[members] = members[int(np.argmin(np.linalg.norm(e - centre, axis=1)))]
    return reference_of


def build_eval_set(
    root: Path,
    matcher,
    detector,
    cache=None,
    degrade_seed: int | None = None,
    limit_identities: int | None = None,
    progress: bool = False,
) -> EvalSet:
    """Read, (optionally) degrade, embed and align an ``<identity>/<image>`` folder.

    Parameters
    ----------
    root : path to the folder
    matcher : :class:`facesel.eval.matcher.DlibMatcher` or an object with ``embed`` and ``dim``
    detector : a :class:`facesel.detectors.Detector`, used only for aligning the quality crops
    cache : :class:`facesel.eval.cache.EmbeddingCache`, optional
    degrade_seed : int, optional
        Degrade every probe (see the module docstring).
    limit_identities : int, optional
        Keep the first N subjects (sorted by name) that have two or more images.
    progress : bool
        tqdm progress bars for the embedding and alignment steps.
    """
    if degrade_seed is not None and (isinstance(degrade_seed, bool) or not isinstance(degrade_seed, int) or degrade_seed < 0):
        raise ValueError(f"degrade_seed must be a non-negative integer, got {degrade_seed!r}")
    items = select_items(root, limit_identities)
    identities = np.array([ident for ident, _ in items])
    paths = [p for _, p in items]
    images = [read_image(p) for p in paths]
    clean = embed_all(matcher, images, cache, progress, desc=f"embedding {Path(root).name}")
    reference_of = choose_references(identities, clean)
    is_reference = reference_of == np.arange(len(items))

    kind = np.full(len(items), "none", dtype=object)
    severity = np.zeros(len(items))
    embeddings = clean
    if degrade_seed is not None:
        from facesel.eval.degrade import KINDS, degrade

        rng = np.random.default_rng(degrade_seed)
        probes = np.flatnonzero(~is_reference)
        for i in probes:
            kind[i] = KINDS[int(rng.integers(len(KINDS)))]
            severity[i] = float(rng.uniform(0.0, 1.0))
            # A child generator per image: the random parts of one degradation do not shift the others.
            images[i] = degrade(images[i], kind[i], severity[i], np.random.default_rng(rng.integers(2**63)))
        embeddings = clean.copy()
        embeddings[probes] = embed_all(
            matcher, [images[i] for i in probes], cache, progress, desc=f"embedding degraded {Path(root).name}"
        )

    iterator = range(len(images))
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc=f"aligning {Path(root).name}", unit="img")
    crops = np.zeros((len(images), 64, 64), np.uint8)
    detected = np.zeros(len(images), bool)
    for i in iterator:
        crops[i], detected[i] = align_tight_crop(images[i], detector)
    image_side = np.array([min(im.shape[:2]) for im in images], dtype=np.float64)
    return EvalSet(
        identities=identities,
        paths=paths,
        is_reference=is_reference,
        reference_of=reference_of,
        kind=kind.astype(str),
        severity=severity,
        embeddings=embeddings,
        crops=crops,
        detected=detected,
        image_side=image_side,
        degrade_seed=degrade_seed,
    )
