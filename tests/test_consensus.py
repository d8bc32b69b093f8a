"""The consensus pick (facesel.scoring.consensus, ``consensus_finalists``) on real held-out faces.

A "track" is made of one real lfw/eval face seen on many frames (small shifts, as a head that
sways) plus a few disturbed frames (strong blur, the lower half covered) that the scorer rates
highest. Off, the store keeps the best-scored (a disturbed) frame; on, it keeps one that agrees
with the track's average. The not-a-face vote's candidates are the same both ways.
"""

from __future__ import annotations

import types

import cv2
import numpy as np
import pytest
from facesel.config import PipelineConfig
from facesel.eval.evidence import held_out_faces
from facesel.scoring.consensus import SIGNATURES, TrackConsensus, edge_signatures, hog_signatures
from facesel.scoring.native_blur import MEASURES, TrackSharpness, native_sharpness
from facesel.select.store import SelectionStore


@pytest.fixture(scope="module")
def faces(shared_data):
    return held_out_faces(shared_data, n_lfw=3, n_orl=0)


def shifted(face: np.ndarray, dx: int, dy: int) -> np.ndarray:
    return cv2.warpAffine(face, np.float32([[1, 0, dx], [0, 1, dy]]), (64, 64), borderMode=cv2.BORDER_REPLICATE)


def disturbed(face: np.ndarray) -> list[np.ndarray]:
    covered = face.copy()
    covered[34:] = 40  # a hand or scarf over the lower half
    return [cv2.GaussianBlur(face, (0, 0), 4.0), covered]


def track(face):
    """(greys, qualities): 10 frames swaying by a pixel (the aligner's jitter) of the face, then 2 disturbed ones scored highest."""
    typical = [shifted(face, dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)] + [face]
    greys = typical + disturbed(face)
    qualities = [1.0 + 0.01 * k for k in range(len(typical))] + [5.0, 4.0]
    return np.stack(greys), qualities


def test_edge_signatures_are_unit_rows_and_reject_bad_shapes(faces):
    sig = edge_signatures(faces)
    assert sig.shape == (len(faces), 4096) and sig.dtype == np.float32
    assert np.allclose(np.linalg.norm(sig, axis=1), 1.0, atol=1e-4)
    assert not edge_signatures(np.full((1, 64, 64), 128, np.uint8)).any()  # no edges: a zero row
    with pytest.raises(ValueError, match="greys"):
        edge_signatures(np.zeros((2, 32, 32), np.uint8))


def test_disturbed_frames_agree_least_with_the_track_average(faces):
    for face in faces:
        greys, _ = track(face)
        consensus = TrackConsensus()
        consensus.add(greys)
        agreement = consensus.scores(greys)
        assert agreement[-2:].max() < agreement[:-2].min()
    assert not TrackConsensus().scores(faces).any()  # nothing added yet: no preference


def run_store(greys, qualities, consensus_finalists: int, rescore: bool, clip_window: int = 0):
    config = PipelineConfig(consensus_finalists=consensus_finalists, clip_window=clip_window)
    full = (lambda g, context: np.asarray([qualities[int(i)] for i in context.det_scores], np.float64)) if rescore \
        else None
    store = SelectionStore(config, full)
    store.frame_shape = (480, 640)
    box = np.array([100, 100, 164, 164], np.float32)
    for k, (grey, q) in enumerate(zip(greys, qualities)):
        crop = np.dstack([grey] * 3)
        # det_score carries the frame number so that the rescore (the "full score") can find its quality
        store.observe(7, True, k, k / 25.0, crop, box, None, q, grey, det_score=float(k))
    update = types.SimpleNamespace(closed=np.array([7]), dropped=np.array([], np.int64))
    (result,) = store.finish(update)
    return result


@pytest.mark.parametrize("rescore", [False, True], ids=["exhaustive", "sparse"])
def test_consensus_keeps_a_typical_frame_where_the_score_keeps_a_disturbed_one(faces, rescore):
    for face in faces:
        greys, qualities = track(face)
        off = run_store(greys, qualities, 0, rescore)
        on = run_store(greys, qualities, 16, rescore)
        assert off.best.frame_index == len(greys) - 2  # the blurred frame, scored 5.0
        assert on.best.frame_index < len(greys) - 2  # a typical frame of the track
        assert [c.frame_index for c in on.candidates] == [c.frame_index for c in off.candidates]


def test_a_crop_always_gets_the_same_signature_and_identical_crops_tie_exactly(faces):
    """The signature is a function of the crop alone (not of where the arrays happen to lie in
    memory, nor of the thread): near-tied agreements decide the kept frame, so a threaded run must
    give what ``feed`` gives (tests/test_selector_contract.py). cv2.magnitude on float32 gradients
    differed by an ulp between runs on the same crop."""
    face = faces[0]
    first = edge_signatures(face[None])
    for _ in range(30):
        assert np.array_equal(edge_signatures(face[None]), first)
    consensus = TrackConsensus()
    consensus.add(np.stack([shifted(face, 1, 0), face]))
    agreement = consensus.scores(np.stack([face, shifted(face, 0, 1), face, face]))
    assert agreement[0] == agreement[2] == agreement[3]
    with pytest.raises(ValueError, match="greys must be uint8"):
        edge_signatures(face[None].astype(np.float32))


def test_with_a_clip_the_kept_crop_is_inside_its_own_clip(faces):
    """The store holds only the clip around the best by score (frames 8-11 around the blurred
    frame 10), so the consensus pick chooses among the finalists inside it (a typical frame, 8 or
    9), not the track's most typical frame (the unshifted face, here moved before 8), and the clip is
    cut to the chosen frame's +-2."""
    greys, qualities = track(faces[0])
    greys = np.concatenate([greys[9:10], greys[:9], greys[10:]])  # frame 9, the unshifted face, first
    assert run_store(greys, qualities, 16, rescore=False).best.frame_index < 8  # no clip: outside it
    result = run_store(greys, qualities, 16, rescore=False, clip_window=2)
    best = result.best
    assert best.frame_index in (8, 9)
    assert best.frame_index in best.clip_frame_indices and len(best.clip) == len(best.clip_frame_indices)
    assert all(abs(f - best.frame_index) <= 2 for f in best.clip_frame_indices)
    assert result.top[0] is best


# -- the references, the orientation histograms and the native-frame gate (session 11) -----------


def test_hog_signatures_are_unit_rows_that_a_shadow_moves_less_than_the_edges(faces):
    sig = hog_signatures(faces)
    assert sig.shape == (len(faces), 576) and sig.dtype == np.float64
    assert np.allclose(np.linalg.norm(sig, axis=1), 1.0)
    assert not hog_signatures(np.full((1, 64, 64), 128, np.uint8)).any()  # no gradients: a zero row
    with pytest.raises(ValueError, match="greys"):
        hog_signatures(np.zeros((2, 32, 32), np.uint8))
    for face in faces:  # each cell at unit length: half the face in shadow still points the same way
        shadow = face.copy()
        shadow[:, :32] = (shadow[:, :32] * 0.4).astype(np.uint8)
        hog = hog_signatures(np.stack([face, shadow]))
        edges = edge_signatures(np.stack([face, shadow])).astype(np.float64)
        assert hog[0] @ hog[1] > edges[0] @ edges[1] + 0.05


def hog_one_crop(grey: np.ndarray) -> np.ndarray:
    """(576,) float64: the orientation histograms of one crop written out step by step with
    cv2.Sobel and np.mod (the definition, as it was computed crop by crop before issue 22's
    batching), to check the batched :func:`hog_signatures` against."""
    gx = cv2.Sobel(grey, cv2.CV_16S, 1, 0).astype(np.float64)
    gy = cv2.Sobel(grey, cv2.CV_16S, 0, 1).astype(np.float64)
    cell = (np.arange(64) // 8)[:, None] * 8 + (np.arange(64) // 8)[None, :]
    bins = np.minimum((np.mod(np.arctan2(gy, gx), np.pi) * (9 / np.pi)).astype(np.int64), 8)
    hist = np.bincount((cell * 9 + bins).ravel(), weights=np.sqrt(gx * gx + gy * gy).ravel(), minlength=576)
    hist = hist.reshape(64, 9)
    hist /= np.maximum(np.sqrt(np.square(hist).sum(axis=1, keepdims=True)), 1e-6)
    row = hist.ravel()
    row -= row.mean()
    norm = float(np.sqrt(np.square(row).sum()))
    return row / norm if norm > 0 else np.zeros(576)


def test_batched_hog_signatures_equal_each_crop_alone_to_the_bit(faces):
    """The Selector computes a frame's crops in one call; the consensus pick's near-ties (crops of
    a still face agree to 1e-12) must not depend on which crops shared a frame. Real faces, their
    disturbed and shifted copies, flat and saturated crops, stripes whose gradients lie exactly on
    the bin edges (0 and 90 degrees) and noise, in batches of 1 to all."""
    rng = np.random.default_rng(5)
    crops = [g for face in faces for g in track(face)[0]]
    stripes = np.zeros((64, 64), np.uint8)
    stripes[:, ::2] = 255
    crops += [np.zeros((64, 64), np.uint8), np.full((64, 64), 255, np.uint8), stripes, stripes.T.copy(),
              rng.integers(0, 256, (64, 64), dtype=np.uint8)]
    crops = np.stack(crops)
    expected = np.stack([hog_one_crop(g) for g in crops])
    for size in (1, 3, len(crops)):
        got = np.concatenate([hog_signatures(crops[k:k + size]) for k in range(0, len(crops), size)])
        assert np.array_equal(got, expected), f"batches of {size}"
    assert hog_signatures(np.zeros((0, 64, 64), np.uint8)).shape == (0, 576)


@pytest.mark.parametrize("signature", ["hog", "edges"])
def test_the_store_compares_the_signature_made_when_the_crop_came(faces, signature):
    """The Selector hands each crop's signature with it (a frame's crops at once) and the store
    keeps the finalists' rows for the close (the histograms; the edge images, 4x a grey crop's
    bytes, keep the grey crop and are computed again): the same pick as the store computing them
    itself, and no grey crop held for the rescoring when the full score reads no pixels."""
    greys, qualities = track(faces[0])
    config = PipelineConfig(consensus_finalists=16, consensus_signature=signature)

    def pick(handed: bool, reads_pixels: bool):
        full = lambda g, context: np.asarray([qualities[int(i)] for i in context.det_scores], np.float64)
        store = SelectionStore(config, full, rescore_reads_pixels=reads_pixels)
        store.frame_shape = (480, 640)
        box = np.array([100, 100, 164, 164], np.float32)
        rows = SIGNATURES[signature](greys)
        for k, (grey, q) in enumerate(zip(greys, qualities)):
            store.observe(7, True, k, k / 25.0, np.dstack([grey] * 3), box, None, q, grey, det_score=float(k),
                          signature=rows[k] if handed else None)
        held_greys = [o.grey is not None for o in store._observations.values()]
        held = {o.signature.dtype for o in store._observations.values()}
        assert held == ({np.dtype(np.float64)} if signature == "hog" else {np.dtype(np.uint8)})
        (result,) = store.finish(types.SimpleNamespace(closed=np.array([7]), dropped=np.array([], np.int64)))
        return [s.frame_index for s in result.top], held_greys

    by_store, greys_kept = pick(False, True)
    assert all(greys_kept)
    assert by_store[0] < len(greys) - 2  # a typical frame, not the disturbed ones scored highest
    for reads_pixels in (True, False):
        handed, greys_kept = pick(True, reads_pixels)
        assert handed == by_store
        assert all(greys_kept) == reads_pixels and any(greys_kept) == reads_pixels


@pytest.mark.parametrize("signature", ["edges", "hog"])
def test_running_references_equal_the_batch_references(faces, signature):
    """Crops added one at a time give the reference of all of them at once: the mean's running sum
    and the median of the kept signatures (below its capacity every signature is kept)."""
    greys, _ = track(faces[0])
    batch = SIGNATURES[signature](greys)
    for reference, centre in (("mean", batch.mean(axis=0)), ("median", np.median(batch.astype(np.float32), axis=0))):
        running = TrackConsensus(signature, reference)
        for grey in greys:
            running.add(grey[None])
        expected = centre / np.linalg.norm(centre)
        assert running.count == len(greys)
        assert np.allclose(running.centre(), expected, atol=1e-6)
        assert np.allclose(running.scores(greys), batch @ expected, atol=1e-6)


def test_the_median_reference_ignores_a_minority_the_mean_follows(faces):
    """Four crops of one face and three of another: the median reference is the majority's face,
    the mean lies between them (why the median was chosen: a turn or a hand is a minority)."""
    a, b = faces[0], faces[1]
    greys = np.stack([shifted(a, dx, 0) for dx in (-1, 0, 1, 0)] + [b, shifted(b, 1, 0), shifted(b, -1, 0)])
    sig = hog_signatures(np.stack([a, b]))
    median, mean = TrackConsensus("hog", "median"), TrackConsensus("hog", "mean")
    median.add(greys)
    mean.add(greys)
    assert median.centre() @ sig[0] - median.centre() @ sig[1] > mean.centre() @ sig[0] - mean.centre() @ sig[1]


def test_the_median_reference_stays_bounded_and_spans_the_track(faces, monkeypatch):
    import facesel.scoring.consensus as consensus_module

    monkeypatch.setattr(consensus_module, "MEDIAN_CAPACITY", 8)
    greys, _ = track(faces[0])
    consensus = TrackConsensus("hog", "median")
    for _ in range(10):
        consensus.add(greys)
    assert consensus.count == 10 * len(greys) and len(consensus._rows) < 8
    assert np.isfinite(consensus.scores(greys)).all()
    with pytest.raises(ValueError, match="reference"):
        TrackConsensus("hog", "mode")
    with pytest.raises(ValueError, match="signature"):
        TrackConsensus("pixels", "mean")


def blocks(side: int, seed: int) -> np.ndarray:
    """(side, side) uint8: the same random sharp-edged rectangles drawn at ``side`` pixels (a
    pattern that is sharp at every size, unlike an upscaled 64x64 crop)."""
    rng = np.random.default_rng(seed)
    image = np.full((side, side), 120, np.uint8)
    for _ in range(12):
        x1, y1, x2, y2 = (rng.uniform(0, 1, 4) * side).astype(int)
        cv2.rectangle(image, (min(x1, x2), min(y1, y2)), (max(x1, x2), max(y1, y2)), int(rng.integers(0, 255)), -1)
    return image


def test_native_sharpness_falls_with_blur_more_than_with_the_faces_size():
    """Both measures on a sharp pattern pasted into a frame at 96 and 192 pixels, sharp and blurred
    by 2 pixels: blur lowers each at both sizes, by more than doubling the size changes it; a box
    outside the frame is nan."""
    for measure in MEASURES:
        for seed in range(3):
            values = {}
            for side in (96, 192):
                frame = np.full((400, 400), 90, np.uint8)
                box = np.array([50, 50, 50 + side, 50 + side], np.float32)
                for name, image in (("sharp", blocks(side, seed)), ("blurred", cv2.GaussianBlur(blocks(side, seed), (0, 0), 2.0))):
                    frame[50:50 + side, 50:50 + side] = image
                    values[name, side] = native_sharpness(frame, box, measure)
            drop = min(values["sharp", s] - values["blurred", s] for s in (96, 192))
            assert drop > 0, (measure, values)
            assert abs(values["sharp", 96] - values["sharp", 192]) < drop, (measure, values)
        assert np.isnan(native_sharpness(np.zeros((50, 50), np.uint8), np.array([60, 60, 90, 90]), measure))
    with pytest.raises(ValueError, match="measure"):
        native_sharpness(np.zeros((50, 50), np.uint8), np.array([0, 0, 20, 20]), "laplacian")


def test_track_sharpness_median_is_bounded_and_ignores_nan():
    seen = TrackSharpness(capacity=16)
    for v in [float("nan")] + list(range(100)):
        seen.add(float(v))
    assert len(seen) < 16 and 30 < seen.median() < 70  # decimated evenly: still the middle of 0..99
    assert np.isnan(TrackSharpness().median())


def test_the_gate_keeps_the_most_typical_of_the_finalists_sharper_than_the_tracks_median(faces):
    """A hand-made track: nine typical crops, the most typical ones (the unshifted face and its
    one-pixel shifts) measured blurred in their frame, the rest sharp. Without the gate the pick
    is one of the blurred typical crops; with it, the most typical of the sharp ones; with no
    sharpness measured (nan: a box outside the frame) there is no gate."""
    greys, qualities = track(faces[0])
    keep = [k for k in range(10) if k != 4]  # the typical frames only, without the zero shift (a copy of frame 9)
    greys, qualities = greys[keep], [qualities[k] for k in keep]
    consensus = TrackConsensus("hog", "median")
    consensus.add(greys)
    agreement = consensus.scores(greys)
    order = np.argsort(-agreement)
    native = np.full(len(greys), 5.0)
    native[order[:4]] = 1.0  # the four most typical crops are the blurred ones

    def pick(native_values, gate: str = "gradient"):
        config = PipelineConfig(consensus_finalists=16, consensus_gate=gate)
        store = SelectionStore(config)
        store.frame_shape = (480, 640)
        box = np.array([100, 100, 164, 164], np.float32)
        for k, (grey, q) in enumerate(zip(greys, qualities)):
            store.seen_sharpness(7, float(native_values[k]))
            store.observe(7, True, k, k / 25.0, np.dstack([grey] * 3), box, None, q, grey, native=float(native_values[k]))
        (result,) = store.finish(types.SimpleNamespace(closed=np.array([7]), dropped=np.array([], np.int64)))
        return result.best.frame_index

    assert pick(np.zeros(len(greys)), gate="off") == order[0]
    assert pick(native) == order[4]  # the most typical crop at or above the median sharpness
    # the store only gates what the owner measured: no sharpness seen, no gate
    flat = np.full(len(greys), np.nan)
    assert pick(flat) == order[0]
