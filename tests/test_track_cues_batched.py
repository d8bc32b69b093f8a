"""The switch cues computed a frame at a time (facesel.track_cues: appearances, grey_samples_many,
middle_regions, box_jumps, distance_whole, thumbnail) give, bit for bit, what the per-box
definitions give (histogram over regions(), grey_samples, size_jump, aspect_jump, distance).

Issue 23 (speed): the batched forms exist only to cost less; any difference, even in the last
bit of a float, could move a threshold decision, so equality is exact (bytes), on boxes partly
outside the frame, tiny and huge boxes, colour, grey and non-contiguous frames."""

from __future__ import annotations

import numpy as np
import pytest
from facesel.track_cues import (
    appearance,
    appearances,
    aspect_jump,
    box_jumps,
    distance,
    distance_whole,
    grey_samples,
    grey_samples_many,
    histogram,
    middle_regions,
    regions,
    size_jump,
    thumbnail,
)

SHAPES = [(1080, 1920, 3), (96, 128, 3), (360, 640, 3)]


def _boxes(rng, shape, n):
    """(n, 4) float32 boxes of every kind: inside, across each edge, sub-pixel and frame-sized."""
    h, w = shape[:2]
    x1 = rng.uniform(-0.2 * w, 1.05 * w, n)
    y1 = rng.uniform(-0.2 * h, 1.05 * h, n)
    bw = np.exp(rng.uniform(np.log(0.3), np.log(0.6 * w), n))
    bh = np.exp(rng.uniform(np.log(0.3), np.log(0.6 * h), n))
    return np.stack([x1, y1, x1 + bw, y1 + bh], axis=1).astype(np.float32)


def _middle(box):
    """The pinned-logo cue's region of one box, as TrackStage computed it box by box."""
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = 0.2 * (x2 - x1), 0.2 * (y2 - y1)
    return int(x1 + dx), int(y1 + dy), int(x2 - dx), int(y2 - dy)


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("shape", SHAPES)
def test_colours_of_a_frame_equal_each_box_region_by_region(shape):
    rng = np.random.default_rng(sum(shape))
    frame = rng.integers(0, 256, shape, dtype=np.uint8)
    for frame_view in (frame, frame[:, ::-1]):  # contiguous, and a view the flat take cannot use
        boxes = _boxes(rng, shape, 40)
        batch = appearances(frame_view, boxes)
        assert batch.shape == (40, 2, 64) and batch.dtype == np.float32
        for box, colours in zip(boxes, batch):
            face, band = regions(box, frame_view.shape)
            assert _same(colours, np.stack([histogram(frame_view, face), histogram(frame_view, band)]))
            assert _same(appearance(frame_view, box), colours)
    assert appearances(frame, np.zeros((0, 4), np.float32)).shape == (0, 2, 64)


def test_colours_of_a_grey_frame_are_made_box_by_box():
    rng = np.random.default_rng(3)
    grey = rng.integers(0, 256, (120, 160), dtype=np.uint8)
    boxes = _boxes(rng, grey.shape, 6)
    batch = appearances(grey, boxes)
    for box, colours in zip(boxes, batch):
        face, band = regions(box, grey.shape)
        assert _same(colours, np.stack([histogram(grey, face), histogram(grey, band)]))


@pytest.mark.parametrize("shape", SHAPES + [(240, 320)])
def test_grey_samples_of_many_regions_equal_each_region(shape):
    rng = np.random.default_rng(len(shape) + shape[0])
    frame = rng.integers(0, 256, shape, dtype=np.uint8)
    for frame_view in (frame, frame[::-1]):
        boxes = _boxes(rng, shape, 40)
        middles = middle_regions(boxes)
        assert [tuple(r) for r in middles.tolist()] == [_middle(b) for b in boxes]
        samples = grey_samples_many(frame_view, middles)
        for region, row in zip(middles.tolist(), samples):
            assert _same(row, grey_samples(frame_view, tuple(region)))


@pytest.mark.parametrize("shape", SHAPES + [(240, 320)])
def test_thumbnail_is_the_green_channel_on_its_grid(shape):
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, shape, dtype=np.uint8)
    h, w = shape[:2]
    ys = np.linspace(0, h - 1, 27).astype(np.intp)
    xs = np.linspace(0, w - 1, 48).astype(np.intp)
    plane = frame[..., 1] if frame.ndim == 3 else frame
    expected = plane[ys[:, None], xs[None, :]].astype(np.float32)
    assert _same(thumbnail(frame), expected)
    assert _same(thumbnail(np.asfortranarray(frame)), expected)


def test_box_jumps_equal_the_pairwise_functions():
    rng = np.random.default_rng(11)
    previous, boxes = _boxes(rng, (1080, 1920), 500), _boxes(rng, (1080, 1920), 500)
    size, aspect = box_jumps(previous, boxes)
    assert size == [size_jump(p, b) for p, b in zip(previous, boxes)]
    assert aspect == [aspect_jump(p, b) for p, b in zip(previous, boxes)]


def test_distance_without_the_region_check_equals_distance_on_whole_colours():
    rng = np.random.default_rng(5)
    frame = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    colours = appearances(frame, _boxes(rng, frame.shape, 30))
    for a in colours:
        for b in colours[:10]:
            assert distance_whole(a, b) == distance(a, b)


def test_shadowed_boxes_are_those_a_surer_box_covers_by_a_tenth():
    from facesel.select.evidence import shadowed_mask

    rng = np.random.default_rng(13)
    for n in range(9):
        boxes = _boxes(rng, (300, 400), n)
        if n > 2:
            boxes[2] = boxes[0]  # a box twice, on the same pixels
        scores = rng.choice([0.5, 0.7, 0.9], n)
        expected = []
        for i in range(n):
            hit = False
            for j in range(n):
                w = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])
                h = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])
                inter = max(float(w), 0.0) * max(float(h), 0.0)
                areas = [float((b[2] - b[0]) * (b[3] - b[1])) for b in (boxes[i], boxes[j])]
                hit |= j != i and scores[j] > scores[i] and inter >= 0.1 * max(min(areas), 1e-9)
            expected.append(hit)
        assert shadowed_mask(boxes, scores).tolist() == expected


def test_scene_change_differences_are_the_mean_of_the_thumbnails_difference():
    from facesel.track_cues import SceneChange, SwitchRule

    rng = np.random.default_rng(17)
    rule = SwitchRule()
    scene = SceneChange(rule)
    thumbs = []
    for _ in range(rule.fade_span + 3):
        frame = rng.integers(0, 256, (270, 480, 3), dtype=np.uint8)
        scene.update(frame)
        thumbs.append(thumbnail(frame))
        if len(thumbs) > 1:
            assert scene.frame_change == float(np.abs(thumbs[-1] - thumbs[-2]).mean())
    assert list(scene._spans)[-1] == float(np.abs(thumbs[-1] - thumbs[-1 - rule.fade_span]).mean())
