"""The small statistics and data helpers behind the quality evidence (fast, no model)."""

from __future__ import annotations

import numpy as np
from facesel.eval.degrade import KINDS
from facesel.eval.evidence import auroc, average_ranks, degradation_grid, spearman


def test_average_ranks_share_ties():
    np.testing.assert_array_equal(average_ranks([10, 20, 20, 5]), [2.0, 3.5, 3.5, 1.0])


def test_spearman_is_rank_based():
    x = np.arange(20.0)
    assert spearman(x, np.exp(x)) == 1.0
    assert spearman(x, -(x**3)) == -1.0
    assert abs(spearman(x, np.sin(7 * x))) < 0.5


def test_auroc_counts_ties_as_half():
    assert auroc([3, 4], [1, 2]) == 1.0
    assert auroc([1, 2], [3, 4]) == 0.0
    assert auroc([2, 3], [1, 2]) == 0.875


def test_degradation_grid_layout(shared_data):
    import cv2

    paths = sorted((shared_data / "faces" / "orl").glob("s*/1.pgm"))[:2]
    faces = np.stack([cv2.resize(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), (64, 64)) for p in paths])
    crops, kind_idx, sev = degradation_grid(faces, severities=(0.0, 1.0))
    assert crops.shape == (2 * len(KINDS) * 2, 64, 64)
    np.testing.assert_array_equal(crops[sev == 0][:2], faces)  # severity 0 is the clean face
    assert np.all(np.bincount(kind_idx) == 4)


def test_degradation_before_alignment_starts_from_the_pipeline_crop(shared_data):
    """At severity 0 the photo is untouched, so the crop must be exactly the held-out face crop;
    a strong JPEG of the whole photo must change it."""
    from facesel.eval.evidence import degradation_grid_before_alignment, held_out_faces

    faces = held_out_faces(shared_data, n_lfw=3, n_orl=2)
    crops, kind, sev = degradation_grid_before_alignment(shared_data, 3, 2, severities=(0.0, 1.0), kinds=("jpeg",))
    assert crops.shape == (10, 64, 64) and crops.dtype == np.uint8
    assert np.array_equal(crops[sev == 0], faces)
    assert np.all(np.abs(crops[sev == 1].astype(int) - faces.astype(int)).mean(axis=(1, 2)) > 1.0)
    assert np.array_equal(kind, np.zeros(10, int))
