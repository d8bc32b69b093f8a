"""VAEScorer with the shipped weights: settings, determinism, batching, colour input, input checks.

Runs on ONNX Runtime + NumPy + the C++ core only (no torch).
"""

from __future__ import annotations

import cv2
import facesel
import numpy as np
import pytest
from facesel.scoring import Scorer, VAEScorer, default_scorer
from facesel.scoring.vae_methods import METHODS


@pytest.fixture(scope="module")
def faces(shared_data):
    """(6, 64, 64) uint8: real ORL faces resized to the crop size."""
    paths = sorted((shared_data / "faces" / "orl").glob("s*/3.pgm"))[:6]
    return np.stack([cv2.resize(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), (64, 64), interpolation=cv2.INTER_AREA) for p in paths])


@pytest.fixture(scope="module")
def scorer():
    return VAEScorer.default(samples=4, batch_size=4)


def test_default_scorer_is_exported_and_follows_the_protocol():
    s = default_scorer("dose", samples=2)  # the VAE's own default rule (the selection default is PickScorer)
    assert isinstance(s, Scorer) and isinstance(s, facesel.VAEScorer)
    assert s.method == s.card["default_method"] and s.method != "paper"
    assert VAEScorer.paper(samples=2).method == "paper"


def test_scores_are_finite_float64(scorer, faces):
    out = scorer.score(faces)
    assert out.shape == (len(faces),) and out.dtype == np.float64 and np.all(np.isfinite(out))
    assert np.ptp(out) > 0  # different faces, different scores


def test_same_seed_same_scores_other_seed_other_scores(faces):
    a = VAEScorer.paper(samples=5, seed=11).score(faces)
    b = VAEScorer.paper(samples=5, seed=11).score(faces)
    c = VAEScorer.paper(samples=5, seed=12).score(faces)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_crops_score_does_not_depend_on_its_batch(scorer, faces):
    whole = scorer.score(faces)
    alone = np.array([scorer.score(faces[i : i + 1])[0] for i in range(len(faces))])
    np.testing.assert_allclose(whole, alone, rtol=1e-6)
    np.testing.assert_allclose(scorer.score(faces[::-1]), whole[::-1], rtol=1e-6)


def test_run_batches_keeps_each_batchs_values_in_order(faces):
    """The one batch loop: a rule through run_batches equals the rule on one pass over all crops,
    whatever the batch size; several values per crop come back as columns."""
    paper = VAEScorer.paper(samples=3, batch_size=4)
    rule = METHODS["paper"]
    one_pass = rule(paper.runner.run(faces, 3, False, paper.seed), faces, paper.calibration)
    for batch_size in (1, 4, len(faces) + 1):
        got = paper.runner.run_batches(faces, lambda out, chunk: rule(out, chunk, paper.calibration), batch_size, 3, False,
                                       paper.seed)
        np.testing.assert_allclose(got, one_pass, rtol=1e-6)
    sizes = paper.run_batches(faces, lambda out, chunk: np.column_stack([chunk.mean(axis=(1, 2)), out.mu_z[:, :2]]),
                              samples=1, use_mean=True, columns=3)
    assert sizes.shape == (len(faces), 3) and sizes.dtype == np.float64
    np.testing.assert_allclose(sizes[:, 0], faces.mean(axis=(1, 2)))  # each row belongs to its own crop
    assert paper.run_batches(faces[:0], lambda out, chunk: chunk.mean(axis=(1, 2)), columns=2).shape == (0, 2)
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match="batch_size"):
            paper.runner.run_batches(faces, lambda out, chunk: chunk.mean(axis=(1, 2)), bad, 1, True, 0)
    with pytest.raises(ValueError, match="columns"):
        paper.run_batches(faces, lambda out, chunk: chunk.mean(axis=(1, 2)), columns=0)


def test_colour_crops_are_converted(scorer, faces):
    colour = np.stack([cv2.cvtColor(f, cv2.COLOR_GRAY2BGR) for f in faces])
    np.testing.assert_allclose(scorer.score(colour), scorer.score(faces), rtol=1e-6)


def test_mean_latent_mode_is_deterministic_without_a_seed(faces):
    a = VAEScorer.paper(samples=1, use_mean=True, seed=1).score(faces)
    b = VAEScorer.paper(samples=1, use_mean=True, seed=2).score(faces)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_scores(method, faces):
    out = VAEScorer.default(method=method, samples=2).score(faces[:3])
    assert out.shape == (3,) and np.all(np.isfinite(out))


def test_empty_batch(scorer):
    assert scorer.score(np.zeros((0, 64, 64), np.uint8)).shape == (0,)


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        ({"method": "psychic"}, ValueError, "method"),
        ({"samples": 0}, ValueError, "samples"),
        ({"samples": 2.5}, TypeError, "samples"),
        ({"samples": 3, "use_mean": True}, ValueError, "samples"),
        ({"use_mean": "yes"}, TypeError, "use_mean"),
        ({"threads": 0}, ValueError, "threads"),
        ({"batch_size": -1}, ValueError, "batch_size"),
        ({"seed": -3}, ValueError, "seed"),
        ({"device": "tpu"}, ValueError, "device"),
    ],
)
def test_bad_settings_are_named(kwargs, error, word):
    with pytest.raises(error, match=word):
        VAEScorer.default(**kwargs)


def test_bad_crops_are_rejected(scorer):
    with pytest.raises(TypeError, match="uint8"):
        scorer.score(np.zeros((2, 64, 64), np.float32))
    with pytest.raises(ValueError, match="shape"):
        scorer.score(np.zeros((2, 32, 32), np.uint8))


def test_missing_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="encoder"):
        VAEScorer(tmp_path)


def test_dose_needs_its_calibration(faces, tmp_path):
    """A model card without the dose Gaussian cannot score with 'dose', and says why."""
    import json
    import shutil

    src = VAEScorer.default(samples=1, use_mean=True).model_dir
    for name in ("encoder.onnx", "decoder.onnx"):
        shutil.copy(src / name, tmp_path / name)
    (tmp_path / "model_card.json").write_text(json.dumps({"default_method": "dose"}))
    with pytest.raises(ValueError, match="calibrated"):
        VAEScorer(tmp_path, samples=1, use_mean=True).score(faces[:2])


def test_statistics_and_codecs_are_checked(faces):
    from facesel.scoring.vae_methods import compressed_bits, quality_statistics

    scorer = VAEScorer.default(samples=1, use_mean=True)
    out = scorer.runner.run(faces[:2], 1, True, 0)
    with pytest.raises(ValueError, match="unknown statistics"):
        quality_statistics(out, faces[:2], ["log_mood"])
    with pytest.raises(ValueError, match="codec"):
        compressed_bits(faces[:2], "gif")
    # more detail costs more bits: a blurred face compresses better than the face itself
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 2.0) for f in faces])
    assert np.all(compressed_bits(blurred, "png") < compressed_bits(faces, "png"))


def test_default_scoring_never_imports_torch(faces):
    """`pip install .` has no torch; scoring must not need it (torch is the [train] extra only).
    The crops go through a pipe, never through a file."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from facesel.scoring import VAEScorer\n"
        "crops = np.frombuffer(sys.stdin.buffer.read(), np.uint8).reshape(-1, 64, 64)\n"
        "s = VAEScorer.default(samples=2).score(crops)\n"
        "assert s.shape == (6,) and np.isfinite(s).all()\n"
        "print(sorted(m for m in ('torch', 'tensorflow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], input=faces.tobytes(), capture_output=True, timeout=300, check=True)
    assert out.stdout.decode().strip() == "[]"
