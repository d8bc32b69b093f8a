"""Degradation grids of whole photos that keep what the photo rule needs besides the crop: the
photo's JPEG grid statistic in the face box (:class:`facesel.scoring.stills.PhotoScorer`).

Same photos, degradations, random parts and crops as
:func:`facesel.eval.evidence.degradation_grid_own_crop` and
:func:`facesel.eval.evidence.degradation_grid_before_alignment` (same order), so both rules are
compared on the same images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facesel.align import align_face, pad_for_detection
from facesel.eval.degrade import KINDS, degrade
from facesel.eval.evidence import SEVERITIES, _detector_or_yunet, held_out_photos
from facesel.scoring.jpeg_grid import grid_zero_excess
from facesel.scoring.stills import face_in_photo


def own_crop_grid_with_photo(
    photos: list[np.ndarray], severities=SEVERITIES, kinds=KINDS, seed: int = 0, detector=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each photo degraded whole, the detector run on the degraded photo (as ``facesel score``).

    Returns crops (F*K*S, 64, 64) uint8, kind index (int), severity (float), found (bool: the
    detector found the face; else the whole photo is the box), and (F*K*S,) float64
    :func:`grid_zero_excess` of the degraded photo in that box.
    """
    detector = _detector_or_yunet(detector, 0.5)
    crops, kind_idx, sev, found, excess = [], [], [], [], []
    for k, kind in enumerate(kinds):
        for f, photo in enumerate(photos):
            for s in severities:
                crop, _, ok, value = face_in_photo(degrade(photo, kind, s, np.random.default_rng([seed, f, k])), detector)
                crops.append(crop)
                kind_idx.append(k)
                sev.append(s)
                found.append(ok)
                excess.append(value)
    return np.stack(crops), np.array(kind_idx), np.array(sev), np.array(found), np.array(excess)


def before_alignment_grid_with_photo(
    data_root: Path, n_lfw: int = 60, n_orl: int = 40, severities=SEVERITIES, kinds=KINDS, seed: int = 0, detector=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each photo degraded whole and cut with the clean photo's box and landmarks.

    Returns crops (F*K*S, 64, 64) uint8, kind index, severity, and (F*K*S,) float64
    :func:`grid_zero_excess` of the degraded photo in the clean photo's box.
    """
    from facesel.faceset import locate_tight_face

    detector = _detector_or_yunet(detector, 0.5)
    photos = held_out_photos(data_root, n_lfw, n_orl)
    placements = []  # (box in padded coordinates, landmarks, box in the photo's own coordinates)
    for photo in photos:
        padded, box, landmarks, _ = locate_tight_face(photo, detector)
        dy, dx = (padded.shape[0] - photo.shape[0]) // 2, (padded.shape[1] - photo.shape[1]) // 2
        placements.append((box, landmarks, np.asarray(box, np.float64) - np.array([dx, dy, dx, dy])))
    crops, kind_idx, sev, excess = [], [], [], []
    for k, kind in enumerate(kinds):
        for f, (photo, (box, landmarks, own)) in enumerate(zip(photos, placements)):
            for s in severities:
                degraded = degrade(photo, kind, s, np.random.default_rng([seed, f, k]))
                crops.append(align_face(pad_for_detection(degraded)[0], box, landmarks).grey)
                kind_idx.append(k)
                sev.append(s)
                excess.append(grid_zero_excess(degraded, own))
    return np.stack(crops), np.array(kind_idx), np.array(sev), np.array(excess)
