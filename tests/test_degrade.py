"""facesel.eval.degrade: identity at severity 0, shape/dtype kept, strength grows with severity, input checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.eval.degrade import KINDS, degrade

SEVERITIES = (0.0, 0.25, 0.5, 0.75, 1.0)


@pytest.fixture(scope="module")
def orl_faces(shared_data):
    """Ten real ORL face images (92x112 grey), one per identity."""
    paths = sorted((shared_data / "faces" / "orl").glob("s*/1.pgm"))[:10]
    images = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]
    if len(images) < 10 or any(im is None for im in images):
        pytest.fail(f"expected 10 readable ORL images, got {len(images)}")
    return images


@pytest.mark.parametrize("kind", KINDS)
def test_severity_zero_is_an_unchanged_copy(orl_faces, kind):
    img = orl_faces[0]
    out = degrade(img, kind, 0.0, np.random.default_rng(0))
    assert out is not img
    np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("colour", [False, True])
def test_shape_and_dtype_are_kept(orl_faces, kind, colour):
    img = orl_faces[1]
    if colour:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    out = degrade(img, kind, 0.6, np.random.default_rng(1))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert not np.array_equal(out, img)


@pytest.mark.parametrize("kind", KINDS)
def test_change_grows_with_severity(orl_faces, kind):
    """Mean absolute change from the original, averaged over real faces, rises strictly."""
    change = []
    for s in SEVERITIES:
        diffs = [
            np.abs(degrade(img, kind, s, np.random.default_rng(i)).astype(float) - img).mean()
            for i, img in enumerate(orl_faces)
        ]
        change.append(np.mean(diffs))
    assert change[0] == 0.0
    assert all(b > a for a, b in zip(change, change[1:])), (kind, change)


@pytest.mark.parametrize("kind", ["gaussian_blur", "motion_blur", "downscale"])
def test_blur_kinds_remove_detail(orl_faces, kind):
    """Variance of the Laplacian (detail) falls as the blur-like kinds get stronger."""
    detail = [
        np.mean([cv2.Laplacian(degrade(img, kind, s, np.random.default_rng(3)), cv2.CV_64F).var() for img in orl_faces])
        for s in SEVERITIES
    ]
    assert all(b < a for a, b in zip(detail, detail[1:])), (kind, detail)


@pytest.mark.parametrize("kind", ["noise", "motion_blur", "occlusion"])
def test_same_seed_same_output(orl_faces, kind):
    a = degrade(orl_faces[2], kind, 0.7, np.random.default_rng(42))
    b = degrade(orl_faces[2], kind, 0.7, np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)


def test_bad_inputs_are_named(orl_faces):
    rng = np.random.default_rng(0)
    img = orl_faces[0]
    with pytest.raises(ValueError, match="kind"):
        degrade(img, "sepia", 0.5, rng)
    with pytest.raises(ValueError, match="severity"):
        degrade(img, "noise", 1.5, rng)
    with pytest.raises(ValueError, match="severity"):
        degrade(img, "noise", float("nan"), rng)
    with pytest.raises(TypeError, match="severity"):
        degrade(img, "noise", "high", rng)
    with pytest.raises(TypeError, match="rng"):
        degrade(img, "noise", 0.5, 0)
    with pytest.raises(TypeError, match="image"):
        degrade(img.astype(np.float32), "noise", 0.5, rng)
    with pytest.raises(ValueError, match="image"):
        degrade(np.zeros((8, 8, 4), np.uint8), "noise", 0.5, rng)


def test_jpeg_quality_falls_with_severity():
    from facesel.eval.degrade import jpeg_quality

    qualities = [jpeg_quality(s) for s in np.linspace(0.01, 1.0, 25)]
    assert qualities[0] == 95 and qualities[-1] == 5
    assert all(b <= a for a, b in zip(qualities, qualities[1:]))
