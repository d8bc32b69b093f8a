"""dissolve28's settings (docs/prereg_dissolve28.md): the quiet fade (``SwitchRule.fade_quiet``, a
dissolve under the fade floor that the frames inside its span show as mixes of its ends) and the
shot-return link's place gate after the zoom its "same shot" test found
(``ShotReturnRule.zoom_place``); on hand-made pictures and on real LivePortrait frames."""

from __future__ import annotations

import numpy as np
import pytest

from facesel.select.evidence import TrackEvidence
from facesel.select.shot_return import ShotMemory, ShotReturnRule, zoom_box, zoom_thumb
from facesel.track_cues import thumbnail
from facesel.track_cues.rule import SwitchRule
from scene_pictures import fires as _fires, world as _world


def _noisy(frames, rng) -> list:
    return [np.clip(f + rng.normal(0, 2, f.shape), 0, 255).astype(np.uint8) for f in frames]


def _quiet_dissolve(rng):
    """20 frames of one picture, a 6-frame dissolve to a picture about 11 grey levels away (under
    the fade floor of 15, as LivePortrait's d18 -> d19), 15 frames of that."""
    a = _world(1)
    b = a + 0.09 * (255 - 2 * a)
    frames = [a] * 20 + [(1 - w) * a + w * b for w in np.arange(1, 7) / 7] + [b] * 15
    return _noisy(frames, rng), 20


def test_a_quiet_dissolve_fires_once_at_its_peak_only_with_fade_quiet():
    rng = np.random.default_rng(5)
    frames, start = _quiet_dissolve(rng)
    assert _fires(SwitchRule(), frames) == []  # today: under the fade floor, no cue at all
    rule = SwitchRule(fade_quiet=8.0)
    fires = _fires(rule, frames)
    assert [kind for _, kind, _ in fires] == ["fade"], [(k, kind) for k, kind, _ in fires]
    (frame, _, thumbs), = fires
    # fired once the span difference stopped rising: the dissolve (frames 20-25) is over
    assert start + 6 <= frame <= start + 6 + rule.fade_span, frame
    assert thumbs is not None and thumbs[2] == rule.fade_span  # recorded as a settled cut (fade_cut, fade_settle)
    before, after = thumbs[0], thumbs[1]
    assert np.abs(before - thumbnail(frames[0])).mean() < 3 < np.abs(after - before).mean()
    # without the mix test (fade_blend 0) no quiet fade fires
    assert _fires(SwitchRule(fade_quiet=8.0, fade_blend=0.0), frames) == []


def test_a_quiet_pan_does_not_fire():
    """A slow pan over a low-contrast world moves the picture by about as much over the span; its
    frames are shifted pictures, not mixes of the span's ends: no quiet fade."""
    rng = np.random.default_rng(2)
    world = rng.integers(100, 156, (8, 60), dtype=np.uint8)
    world = np.repeat(np.repeat(world, 40, 0), 40, 1)[:270, :].astype(np.float32)
    for step in (10, 30):  # 30 px a frame fires today's fade (beyond its shift search): nothing is added
        pan = _noisy([world[:, x:x + 480] for x in [0] * 12 + list(range(step, step * 40, step))], rng)
        today = _fires(SwitchRule(), pan)
        quiet = _fires(SwitchRule(fade_quiet=8.0), pan)
        assert [(k, kind) for k, kind, _ in quiet] == [(k, kind) for k, kind, _ in today], step
        assert (step == 10) == (today == [])


def test_a_still_picture_never_fires_a_quiet_fade():
    rng = np.random.default_rng(3)
    still = _noisy([_world(2)] * 60, rng)
    assert _fires(SwitchRule(fade_quiet=8.0), still) == []


def test_fade_quiet_is_validated():
    with pytest.raises(ValueError, match="fade_quiet"):
        SwitchRule(fade_quiet=-1.0)
    with pytest.raises(TypeError, match="zoom_place"):
        ShotReturnRule(zoom_place=1)
    assert SwitchRule().fade_quiet == 0.0 and ShotReturnRule().zoom_place is False  # off by default


def _evidence(frames, box) -> TrackEvidence:
    e = TrackEvidence()
    hist = np.zeros((2, 64), np.float32)
    hist[0, 5] = hist[1, 0] = 1.0
    for f in frames:
        e.add(np.asarray(box, np.float64), 0.9, None, f / 25.0, f, False)
        e.colour_last(hist)
    return e


def _zoomed_return(rule, shape=(270, 480), zoom=1.3):
    """A | B | A zoomed ``zoom`` x about the centre; A's face off-centre (box 40-100, 150-210 of a
    480 x 270 frame), A's return's face where that zoom puts it. The cost of the return continuing A."""
    a = thumbnail(np.repeat(_world(1)[..., None], 3, 2).astype(np.uint8))
    memory = ShotMemory(rule)
    memory.frame_shape = shape
    memory.record(50, 2.0, a, np.full((27, 48), 30, np.float32))
    memory.record(100, 4.0, np.full((27, 48), 30, np.float32), zoom_thumb(a, zoom))
    box = (40.0, 150.0, 100.0, 210.0)
    return memory.cost(_evidence(range(0, 50), box), _evidence(range(100, 150), zoom_box(box, zoom, (270, 480))))


def test_the_place_gate_after_the_zoom_links_an_off_centre_face():
    # the zoom moved the face's centre by 0.77 of its side: the place gate (0.5) refuses it today
    assert _zoomed_return(ShotReturnRule()) is None
    linked = _zoomed_return(ShotReturnRule(zoom_place=True))
    # the shot-return offset, the earliest weight x the gap (frame 49 to 100 at 25 fps), place 0
    assert linked == pytest.approx(200.0 + 100.0 * (100 - 49) / 25.0)
    # without the frame's size nothing is mapped (as today)
    assert _zoomed_return(ShotReturnRule(zoom_place=True), shape=None) is None
    # the mapping is zoom_thumb's geometry: the frame centre stays, a corner moves away from it by the zoom
    assert zoom_box((240, 135, 240, 135), 1.3, (270, 480)) == (240, 135, 240, 135)
    assert zoom_box((0, 0, 480, 270), 1 / 1.3, (270, 480))[0] == pytest.approx(240 - 240 / 1.3)


def test_the_zoom_found_is_the_direction_of_the_rescale():
    rule = ShotReturnRule()
    a = thumbnail(np.repeat(_world(2)[..., None], 3, 2).astype(np.uint8))
    assert rule.same_shot_zoom(zoom_thumb(a, 1.3), a)[1] == 1.3  # the return is closer
    assert rule.same_shot_zoom(a, zoom_thumb(a, 1.3))[1] == pytest.approx(1 / 1.3)  # the return is wider
    assert rule.same_shot_zoom(a, a) == (0.0, 1.0)
    assert rule.same_shot(zoom_thumb(a, 1.3), a) == rule.same_shot_zoom(zoom_thumb(a, 1.3), a)[0]


@pytest.mark.slow
def test_the_real_liveportrait_dissolve_no_cue_saw_fires_a_quiet_fade(shared_data):
    """LivePortrait's d18 dissolving into d19 (the intercut `fade` variant's 6-frame cross-fade,
    one framing): today no cue fires (span difference 12 grey against the floor of 15, the
    tracker carried the box from one person to the next); with ``fade_quiet`` 8 one fade fires,
    after the dissolve, recorded as a cut."""
    from facesel.eval.intercut import read_person
    from facesel.eval.intercut_variants import cross_fade

    more = shared_data / "videos" / "more"
    people = [read_person(more / f"LivePortrait__assets_examples_driving_{name}.mp4", 40) for name in ("d18", "d19")]
    frames, owner, _ = cross_fade(people[0] + people[1], [0] * 40 + [1] * 40)
    assert _fires(SwitchRule(), frames) == []
    fires = _fires(SwitchRule(fade_quiet=8.0), frames)
    assert [kind for _, kind, _ in fires] == ["fade"], [(k, kind) for k, kind, _ in fires]
    frame, _, thumbs = fires[0]
    assert 40 <= frame <= 40 + 3 + 6 and thumbs is not None  # the dissolve is frames 37-42
