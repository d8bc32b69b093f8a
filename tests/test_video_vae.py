"""Session 18's VAE retrained per fold on the pipeline's own video crops (issue 22, item 3).

``experiments/video_vae_signals.py`` trains one VAE per leave-one-source-out fold and scores the
held-out source's crops; ``experiments/pick_vae_video.py`` puts its signals in the pick (a measured
negative result or not: docs/model_card.md, "The VAE retrained on the pipeline's own video crops"). These tests pin
what makes the figures honest and rerunnable, on hand-made inputs: a fold never learns a crop of
its held-out source and learns the detector's more confident half; the pass's per-pixel density is
the training loss's, at z = mu_z; the latent typicality peaks at the reference; the fold cache holds
numbers for the held-out clips only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
import video_vae_signals as vvs  # noqa: E402
from pick_vae_video import CANDIDATES  # noqa: E402

from facesel.training.loop import gaussian_nll  # noqa: E402
from facesel.training.model import VAE  # noqa: E402


def test_training_rows_never_take_the_held_out_source_and_keep_the_confident_half():
    det = np.array([0.9, 0.99, 0.6, 0.7, 0.8, 0.95, 0.65, 0.98])
    sources = np.array(["a", "a", "b", "b", "b", "b", "c", "c"])
    rows = vvs.training_rows(det, sources, "a")
    assert not np.any(sources[rows] == "a")
    # crops of b and c: confidences 0.6 0.7 0.8 0.95 0.65 0.98, median 0.75: the three above it
    assert rows.tolist() == [4, 5, 7]
    assert vvs.training_rows(det, sources, "zzz").tolist() == [0, 1, 5, 7]  # median 0.85 of all eight: 0.8 out


def test_training_rows_cap_draws_without_replacement_and_repeats_with_the_seed():
    det = np.linspace(0.5, 1.0, 200)
    sources = np.where(np.arange(200) % 4 == 0, "held", "other")
    a = vvs.training_rows(det, sources, "held", cap=20, seed=3)
    assert len(a) == 20 and len(set(a.tolist())) == 20 and np.all(np.diff(a) > 0)
    assert np.array_equal(a, vvs.training_rows(det, sources, "held", cap=20, seed=3))
    assert not np.any(sources[a] == "held")


@pytest.mark.parametrize("det, sources, held, cap, says", [
    (np.ones(3), np.array(["a", "a"]), "a", 5, "two"),
    (np.ones(2), np.array(["a", "a"]), "a", 5, "no crop outside"),
    (np.ones(2), np.array(["a", "b"]), "a", 0, "cap"),
])
def test_training_rows_refuse_what_cannot_make_a_fold(det, sources, held, cap, says):
    with pytest.raises(ValueError, match=says):
        vvs.training_rows(det, sources, held, cap=cap)


def _small_model(seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    return VAE(base_channels=4, latent=8).eval()


def test_the_pass_is_the_training_density_at_the_encoder_mean():
    model = _small_model()
    crops = np.random.default_rng(1).integers(0, 256, (5, 64, 64), dtype=np.uint8)
    ll, mu = vvs.torch_vae_pass(model, crops, batch=2)  # batches of 2, 2, 1
    assert ll.shape == (5, 64, 64) and ll.dtype == np.float32 and mu.shape == (5, 8)
    with torch.no_grad():
        x = torch.from_numpy(crops.astype(np.float32)[:, None] / 255.0)
        mu_z, _ = model.encoder(x)
        mu_x, log_sigma_x = model.decoder(mu_z)
        expected = gaussian_nll(x, mu_x, log_sigma_x).numpy()
    np.testing.assert_allclose(-ll.reshape(5, -1).sum(axis=1), expected, rtol=1e-4)
    np.testing.assert_allclose(mu, mu_z.numpy(), rtol=1e-5, atol=1e-6)
    empty_ll, empty_mu = vvs.torch_vae_pass(model, np.zeros((0, 64, 64), np.uint8))
    assert empty_ll.shape == (0, 64, 64) and empty_mu.shape == (0, 8)
    with pytest.raises(ValueError, match="crops must be"):
        vvs.torch_vae_pass(model, np.zeros((2, 32, 32), np.uint8))


def test_latent_typicality_is_highest_at_the_reference_and_falls_with_distance():
    rng = np.random.default_rng(0)
    train = rng.normal(2.0, 0.5, (400, 3))
    mean, std = vvs.latent_reference(train)
    np.testing.assert_allclose(mean, 2.0, atol=0.1)
    np.testing.assert_allclose(std, 0.5, atol=0.05)
    crops = np.full((3, 64, 64), 100, np.uint8)
    ll = np.full((3, 64, 64), -1.0, np.float32)
    mu = np.stack([mean, mean + std, mean + 3 * std])
    s = vvs.signals_of(crops, ll, mu, (mean, std))
    assert set(s) == set(vvs.VIDEO_SIGNALS)
    assert s["v_latent"][0] == pytest.approx(0.0) and s["v_latent"][1] == pytest.approx(-3.0)
    assert s["v_latent"][2] == pytest.approx(-27.0)
    np.testing.assert_allclose(s["v_ll"], -1.0)
    with pytest.raises(ValueError, match="M >= 2"):
        vvs.latent_reference(train[:1])


def test_a_fold_learns_no_held_out_crop_and_caches_numbers_for_the_held_out_clips_only(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)

    def clip(name, source, value, n):
        crops = np.full((n, 64, 64), value, np.uint8)
        context = SimpleNamespace(det_scores=rng.uniform(0.6, 1.0, n), landmarks=None)
        return (name, f"key-{name}", source, crops, context)

    clips = [clip("a1", "A", 10, 6), clip("b1", "B", 200, 8), clip("a2", "A", 10, 5), clip("c1", "C", 120, 7)]
    seen = []

    def fake_train(crops, epochs=vvs.EPOCHS):
        seen.append(crops.copy())
        return _small_model(), SimpleNamespace(seconds=1.5, loss=[-10.0, -20.0])

    monkeypatch.setattr(vvs, "train_fold_vae", fake_train)
    out = vvs.fold_signals(clips, "A", tmp_path)
    assert len(seen) == 1 and not np.any(seen[0] == 10)  # no crop of source A was learnt
    assert set(out) == {"a1", "a2"}
    assert len(out["a1"]["v_ll"]) == 6 and len(out["a2"]["v_latent"]) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vae18-key-a1.npz", "vae18-key-a2.npz"]
    for f in tmp_path.iterdir():
        stored = np.load(f)
        assert all(stored[k].size <= 6 for k in stored.files)  # per-crop numbers, never a 64x64 crop
    again = vvs.fold_signals([(n, k, s, None, c) for n, k, s, _, c in clips], "A", tmp_path)  # cached: no pixels needed
    assert len(seen) == 1
    np.testing.assert_array_equal(again["a1"]["v_ll"], out["a1"]["v_ll"])


def test_the_family_is_the_default_then_three_uses_of_each_signal():
    assert CANDIDATES[0] == ("default", None)
    assert len(CANDIDATES) == 1 + 3 * len(vvs.VIDEO_SIGNALS) == 13
    assert {s for _, s in CANDIDATES[1:]} == set(vvs.VIDEO_SIGNALS)


def test_training_groups_split_the_sources_and_a_group_is_held_out_whole():
    sources = ["d", "a", "c", "b", "e", "a", "f"]
    groups = vvs.training_groups(sources, n_groups=3)
    assert groups == [["a", "d"], ["b", "e"], ["c", "f"]]
    assert sorted(s for g in groups for s in g) == sorted(set(sources))
    det = np.linspace(0.6, 1.0, 7)
    rows = vvs.training_rows(det, np.array(sources), ["a", "d"])
    assert not np.any(np.isin(np.array(sources)[rows], ["a", "d"]))
    with pytest.raises(ValueError, match="n_groups"):
        vvs.training_groups(sources, n_groups=1)
