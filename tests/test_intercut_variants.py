"""The intercut variants (issue 23, persons26): shot lengths, a return after two shots, a
cross-fade, a burned-in corner logo and a zoomed return, made in memory from real shared clips."""

from __future__ import annotations

import numpy as np
import pytest

from facesel.eval.intercut_variants import FADE_FRAMES, VARIANTS, burn_logo, cross_fade, make, zoomed


def _clips(n=3, frames=150, h=48, w=64):
    # three flat "clips" of distinct grey levels (their frames only need to be told apart)
    return [[np.full((h, w, 3), 40 + 80 * p, np.uint8) for _ in range(frames)] for p in range(n)]


def test_each_variant_has_its_shot_order_and_length():
    clips = _clips()
    for variant, shot, order in (("default", 50, [0, 1, 0, 1, 0, 1]), ("shot25", 25, [0, 1, 0, 1, 0, 1]),
                                 ("shot100", 100, [0, 1, 0, 1, 0, 1]), ("abca", 50, [0, 1, 2, 0, 1, 2])):
        frames, owner, major = make(variant, "interview", clips if variant != "shot100" else _clips(frames=300))
        assert owner == [p for p in order for _ in range(shot)] and major == owner
        assert len(frames) == 6 * shot
    frames, owner, _ = make("default", "control", clips)
    assert owner == [0] * 50 + [1] * 50 + [2] * 50
    with pytest.raises(ValueError, match="variant"):
        make("dissolve", "interview", clips)


def test_a_cross_fade_blends_both_shots_and_marks_its_frames_as_both_persons():
    frames, owner, major = make("fade", "interview", _clips())
    # each of the 5 cuts: FADE_FRAMES blended frames, owned by nobody, the grey between the two shots
    assert owner.count(-1) == 5 * FADE_FRAMES
    blend = [k for k in range(40, 60) if owner[k] == -1]
    assert blend == list(range(50 - FADE_FRAMES // 2, 50 + FADE_FRAMES // 2))
    greys = [int(frames[k][0, 0, 0]) for k in blend]
    assert greys == sorted(greys) and 40 < greys[0] and greys[-1] < 120  # A (40) dissolving into B (120)
    assert [major[k] for k in blend] == [0, 0, 0, 1, 1, 1]
    assert all(o == m for o, m in zip(owner, major) if o >= 0)


def test_the_logo_changes_only_its_corner_and_the_zoom_enlarges_the_centre():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    logo = burn_logo(frame)
    changed = np.argwhere((logo != frame).any(axis=2))
    assert changed.size and changed[:, 0].max() < 480 // 6 and changed[:, 1].min() > 640 // 2
    ramp = np.tile((np.arange(640) // 3).astype(np.uint8)[None, :, None], (480, 1, 3))
    big = zoomed(ramp)
    assert big.shape == ramp.shape
    # 1.3x: the picture is stretched, so the horizontal ramp climbs 1.3 times slower around the centre
    slope = (float(big[240, 420, 0]) - float(big[240, 220, 0])) / (float(ramp[240, 420, 0]) - float(ramp[240, 220, 0]))
    assert 1 / 1.4 < slope < 1 / 1.2


def test_the_zoom_variant_zooms_only_the_returns_of_a():
    rng = np.random.default_rng(1)
    clips = [[rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(150)] for _ in range(2)]
    plain, _, _ = make("default", "interview", clips)
    zoom, owner, _ = make("zoom", "interview", clips)
    same = [np.array_equal(a, b) for a, b in zip(plain, zoom)]
    # A1 and every B kept; A2 and A3 (the returns) zoomed
    assert all(same[:100]) and all(same[150:200]) and all(same[250:300])
    assert not any(same[100:150]) and not any(same[200:250]) and set(owner[100:150]) == {0}


def test_real_variants_are_made_from_the_shared_clips(shared_data):
    from facesel.eval.intercut_variants import variant_material

    # the first interview of two variants only (each reads real clips: seconds on a loaded machine)
    family, kind, clips, frames, owner, major = next(variant_material(shared_data, "abca", ["retalking"], ("interview",)))
    assert family == "retalking" and len(clips) == 3 and frames[0].shape == (480, 640, 3)
    assert owner == [p for p in (0, 1, 2, 0, 1, 2) for _ in range(50)] and major == owner
    family, kind, clips, frames, owner, major = next(variant_material(shared_data, "shot25", ["retalking"], ("interview",)))
    assert len(frames) == 150 and len(clips) == 2
    # A's second shot continues A's clip (not its first frames again)
    assert not np.array_equal(frames[0], frames[50])
