"""References, degradation of probes, the embedding cache and the method registry, on real faces."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dlib")

from facesel.detectors import YuNetDetector
from facesel.eval import methods as registry
from facesel.eval.cache import EmbeddingCache, embed_all
from facesel.eval.matcher import DlibMatcher
from facesel.eval.protocol import build_eval_set, choose_references


class CountingMatcher:
    """The real matcher, counting how often it runs (to see the cache work)."""

    def __init__(self, inner):
        self.inner, self.dim, self.identity, self.calls = inner, inner.dim, inner.identity, 0

    def embed(self, image):
        self.calls += 1
        return self.inner.embed(image)


@pytest.fixture(scope="module")
def matcher():
    return CountingMatcher(DlibMatcher())


@pytest.fixture(scope="module")
def session_cache(matcher, tmp_path_factory):
    # The same folder as test_eval_cli.py: the first ORL subjects are embedded once per session.
    return EmbeddingCache(tmp_path_factory.getbasetemp() / "facesel-eval-embedding-cache", matcher.identity)


@pytest.fixture(scope="module")
def orl(shared_data):
    return shared_data / "faces" / "orl"


def test_matcher_separates_subjects(orl, matcher):
    from facesel.faceset import read_image

    same = [read_image(orl / "s1" / f"{k}.pgm") for k in (1, 2)]
    other = read_image(orl / "s2" / "1.pgm")
    e = np.stack([matcher.embed(im) for im in [*same, other]])
    assert e.shape == (3, 128) and e.dtype == np.float32
    assert np.linalg.norm(e[0] - e[1]) < np.linalg.norm(e[0] - e[2])
    with pytest.raises(TypeError, match="uint8"):
        matcher.embed(np.zeros((64, 64), np.float32))


def test_cache_reuses_embeddings_and_keys_on_content(orl, matcher, tmp_path):
    from facesel.faceset import read_image

    images = [read_image(orl / "s3" / f"{k}.pgm") for k in (1, 2, 3)]
    cache = EmbeddingCache(tmp_path / "c", matcher.identity)
    before = matcher.calls
    first = embed_all(matcher, images, cache)
    assert matcher.calls - before == 3
    second = embed_all(matcher, images, cache)
    assert matcher.calls - before == 3  # all three came from the cache
    np.testing.assert_array_equal(first, second)
    changed = images[0].copy()
    changed[0, 0] ^= 1
    assert cache.key(changed) != cache.key(images[0])
    assert oct((tmp_path / "c").stat().st_mode & 0o777) == oct(0o700)  # biometric templates: private


def test_degradation_touches_probes_only_and_is_seeded(orl, matcher, session_cache):
    det = YuNetDetector(min_confidence=0.5)
    # Seed 7 and the first subjects, as in test_eval_cli.py: probes are degraded in order, so these
    # are the same images and come from the session cache.
    clean = build_eval_set(orl, matcher, det, session_cache, None, limit_identities=3)
    a = build_eval_set(orl, matcher, det, session_cache, 7, limit_identities=3)
    b = build_eval_set(orl, matcher, det, session_cache, 7, limit_identities=3)
    c = build_eval_set(orl, matcher, det, session_cache, 8, limit_identities=2)
    refs = clean.is_reference
    assert refs.sum() == 3 and np.array_equal(a.is_reference, refs)
    np.testing.assert_array_equal(a.embeddings[refs], clean.embeddings[refs])
    np.testing.assert_array_equal(a.crops[refs], clean.crops[refs])
    assert np.all(a.kind[refs] == "none") and np.all(a.kind[~refs] != "none")
    assert not np.array_equal(a.embeddings[~refs], clean.embeddings[~refs])
    np.testing.assert_array_equal(a.kind, b.kind)
    np.testing.assert_array_equal(a.embeddings, b.embeddings)
    assert not np.array_equal(a.severity[: len(c.severity)], c.severity)
    # The quality crops come from the degraded images, the ones the matcher saw.
    assert not np.array_equal(a.crops[~refs], clean.crops[~refs])


def test_reference_is_the_image_nearest_the_subject_mean():
    ids = np.array(["a", "a", "a", "b", "b", "b"])
    emb = np.array([[0.0, 0], [1, 0], [5, 0], [0, 1], [0, 2], [0, 3]], dtype=np.float32)
    # Means: a -> (2, 0), nearest is index 1; b -> (0, 2), index 4.
    np.testing.assert_array_equal(choose_references(ids, emb), [1, 1, 1, 4, 4, 4])


def test_registry_reports_unavailable_methods_with_a_reason():
    def build(ctx):
        raise registry.MethodUnavailable("model file missing")

    name = "test-unavailable-method"
    registry.register(registry.Method(name, registry.HEURISTIC, "always unavailable", build))
    try:
        built, unavailable = registry.build_methods(["sharpness", name], registry.MethodContext(None, None))
        assert list(built) == ["sharpness"] and unavailable == {name: "model file missing"}
        with pytest.raises(ValueError, match="already registered"):
            registry.register(registry.Method(name, registry.HEURISTIC, "", build))
    finally:
        registry._REGISTRY.pop(name)
    with pytest.raises(ValueError, match="unknown quality method"):
        registry.get_method("no-such-method")
    # Methods that need training faces say so instead of failing when there are none.
    _, unavailable = registry.build_methods(["pca-error"], registry.MethodContext(None, None))
    assert "no training folder" in unavailable["pca-error"]


def test_vae_methods_say_why_when_their_model_is_missing(tmp_path):
    ctx = registry.MethodContext(None, None, vae_model=tmp_path / "no-model")
    built, unavailable = registry.build_methods(["vae", "vae-paper", "vae-paper-L1", "vae-recon-error"], ctx)
    assert built == {}
    for reason in unavailable.values():
        assert "encoder" in reason or "not in this installation" in reason


def test_vae_methods_score_real_crops_when_the_shipped_model_exists(shared_data):
    from facesel.faceset import load_face_folder

    ctx = registry.MethodContext(None, None)
    built, unavailable = registry.build_methods(["vae-paper-L1"], ctx)
    if unavailable:
        pytest.skip(f"no shipped VAE model here: {unavailable['vae-paper-L1']}")
    crops = load_face_folder(shared_data / "faces" / "orl", limit=8).grey
    q = built["vae-paper-L1"](crops, np.full(len(crops), 92.0))
    assert q.shape == (8,) and np.all(np.isfinite(q))
    assert "use_mean=True" in ctx.notes[-1]


def test_shared_vae_pass_equals_separate_scorers(shared_data):
    from facesel.eval.vae_methods import SharedVAEOutputs
    from facesel.faceset import load_face_folder

    try:
        from facesel.scoring import VAEScorer

        paper = VAEScorer(method="paper", samples=3, batch_size=4)
    except (ImportError, FileNotFoundError) as err:
        pytest.skip(f"no shipped VAE model here: {err}")
    crops = load_face_folder(shared_data / "faces" / "orl", limit=6).grey
    shared = SharedVAEOutputs(paper)
    shared.add_rule("paper")
    shared.add_rule("recon_error")
    np.testing.assert_allclose(shared.score(crops, "paper"), paper.score(crops), rtol=1e-6)
    recon = VAEScorer(method="recon_error", samples=3, batch_size=4)
    np.testing.assert_allclose(shared.score(crops, "recon_error"), recon.score(crops), rtol=1e-6)
    with pytest.raises(ValueError, match="not added"):
        shared.score(crops, "typicality")
