"""tv27's settings (docs/prereg_tv27.md): a fade recorded as a cut for the finaliser
(``SwitchRule.fade_cut``) and the shot-return link's scale-tolerant "same shot" test
(``ShotReturnRule.scales``); on hand-made pictures and on real signers' frames."""

from __future__ import annotations

import numpy as np
import pytest

from facesel.select.evidence import TrackEvidence
from facesel.select.shot_return import ShotMemory, ShotReturnRule, zoom_thumb
from facesel.track_cues import thumbnail
from facesel.track_cues.rule import SwitchRule
from scene_pictures import fires as _fires, world as _world

BOX = (100, 100, 200, 200)


def _dissolve(a: np.ndarray, b: np.ndarray, rng) -> list:
    frames = [a] * 12 + [(1 - w) * a + w * b for w in np.linspace(0.17, 0.83, 5)] + [b] * 8
    return [np.clip(f + rng.normal(0, 2, f.shape), 0, 255).astype(np.uint8) for f in frames]


def test_a_dissolve_is_recorded_as_a_cut_only_with_fade_cut():
    rng = np.random.default_rng(3)
    a = _world(1)
    b = 0.6 * a + 0.4 * (255 - a)
    frames = _dissolve(a, b, rng)
    plain = _fires(SwitchRule(fade_cut=False), frames)
    assert [(kind, thumbs) for _, kind, thumbs in plain] == [("fade", None)]  # before tv27: no cut for the finaliser
    cut = _fires(SwitchRule(fade_cut=True, fade_settle=False, fade_blend=0.0), frames)
    assert [k for k, _, _ in cut] == [k for k, _, _ in plain]  # the same fire, frame for frame
    (frame, kind, (before, after)), = cut
    assert kind == "fade"
    # before: the shot before the dissolve began (fade_span frames back), after: this frame's picture
    assert np.abs(before - thumbnail(frames[frame - SwitchRule().fade_span])).max() == 0
    assert np.abs(after - thumbnail(frames[frame])).max() == 0
    assert np.abs(before - thumbnail(frames[0])).mean() < 3 < np.abs(after - before).mean()
    # a hard cut is recorded as before, with or without the setting
    hard = [np.clip(f + rng.normal(0, 2, f.shape), 0, 255).astype(np.uint8) for f in [a] * 12 + [255 - a] * 8]
    for rule in (SwitchRule(), SwitchRule(fade_cut=False)):
        assert [(kind, thumbs is not None) for _, kind, thumbs in _fires(rule, hard)] == [("cut", True)]


def _evidence(frames, box) -> TrackEvidence:
    e = TrackEvidence()
    hist = np.zeros((2, 64), np.float32)
    hist[0, 5] = hist[1, 0] = 1.0
    for f in frames:
        e.add(np.asarray(box, np.float64), 0.9, None, f / 25.0, f, False)
        e.colour_last(hist)
    return e


def _return(rule, back_shot: np.ndarray) -> float | None:
    """A | B | A': cuts at 50 and 100; A' is ``back_shot``; the cost of A' continuing A."""
    a, b = thumbnail(np.repeat(_world(1)[..., None], 3, 2).astype(np.uint8)), np.full((27, 48), 30, np.float32)
    memory = ShotMemory(rule)
    memory.record(50, 2.0, a, b)
    memory.record(100, 4.0, b, back_shot(a) if callable(back_shot) else back_shot)
    return memory.cost(_evidence(range(0, 50), BOX), _evidence(range(100, 150), BOX))


def test_a_zoomed_return_passes_the_same_shot_test_only_with_scales():
    zoom = ShotReturnRule(scales=(1.0, 1.15, 1.3, 1.5))
    plain = ShotReturnRule(scales=(1.0,))  # before tv27
    assert ShotReturnRule().scales == zoom.scales  # the default since tv27
    assert _return(plain, lambda a: a) is not None  # the same framing: linked before
    assert _return(plain, lambda a: zoom_thumb(a, 1.3)) is None  # zoomed 1.3x: refused before
    assert _return(zoom, lambda a: zoom_thumb(a, 1.3)) is not None
    assert _return(zoom, lambda a: zoom_thumb(a, 1.3)[::-1].copy()) is None  # another picture: still refused
    # zoomed out (the return wider than the shot left) is found by rescaling the other way
    wide = ShotReturnRule(scales=(1.0, 1.3))
    assert wide.same_shot(np.full((27, 48), 7, np.float32), np.full((27, 48), 7, np.float32)) == 0
    a = thumbnail(np.repeat(_world(2)[..., None], 3, 2).astype(np.uint8))
    assert wide.same_shot(a, zoom_thumb(a, 1.3)) < plain.same_shot(a, zoom_thumb(a, 1.3))


@pytest.mark.parametrize("bad", [(), (0.9,), (1.0, float("nan")), (True,), "1.3", None])
def test_scales_are_validated(bad):
    with pytest.raises(ValueError, match="scales"):
        ShotReturnRule(scales=bad)


def test_fade_cut_must_be_a_bool():
    with pytest.raises(ValueError, match="fade_cut"):
        SwitchRule(fade_cut=1)


@pytest.mark.slow
def test_a_cross_fade_between_two_real_signers_is_recorded_as_a_cut(shared_data):
    """Two signers of the shared data (one office, one framing) joined by the ``fade`` variant's
    6-frame cross-fade: the fade cue fires at the dissolve; with ``fade_cut`` the finaliser gets
    a cut there whose "before" is the first signer's shot (the shot-change test sees another
    shot after it, the office being the same: thumbnails more than ``thumb_distance`` apart is
    not required, only recorded)."""
    from facesel.eval.intercut import read_person
    from facesel.eval.intercut_variants import cross_fade

    more = shared_data / "videos" / "more"
    people = [read_person(more / f"sample-videos__asl_gestures_{name}.mkv", 30) for name in ("again", "bird")]
    frames, owner, _ = cross_fade(people[0] + people[1], [0] * 30 + [1] * 30)
    fires = _fires(SwitchRule(), frames)  # the default since tv27: recorded, settled, blend-gated
    assert fires and all(kind == "fade" for _, kind, _ in fires), [(k, kind) for k, kind, _ in fires]
    frame, _, thumbs = fires[0]
    assert thumbs is not None and thumbs[2] == SwitchRule().fade_span
    before = thumbs[0]
    assert 27 <= frame <= 36  # within the dissolve (frames 27-32) or the span after it
    assert np.abs(before - thumbnail(frames[frame - 6])).max() == 0
    assert [k for k, _, t in _fires(SwitchRule(fade_cut=False), frames) if t is not None] == []  # before: none


def test_a_settled_fade_cut_takes_the_picture_after_the_dissolve():
    """``fade_settle``: the fade's cut carries ``fade_span``; the shot memory replaces its "after"
    by the thumbnail that many frames later, so a return by cross-fade compares shot to shot."""
    rng = np.random.default_rng(4)
    a = _world(1)
    b = 0.6 * a + 0.4 * (255 - a)
    frames = _dissolve(a, b, rng)
    rule = SwitchRule()  # the default since tv27
    assert rule.fade_cut and rule.fade_settle
    (frame, _, thumbs), = _fires(rule, frames)
    assert len(thumbs) == 3 and thumbs[2] == rule.fade_span
    memory = ShotMemory(ShotReturnRule())
    memory.record(frame, frame / 25.0, *thumbs)
    for k in range(frame + 1, len(frames)):
        memory.settle(k, thumbnail(frames[k]))
    settled = memory.cuts[-1].after
    assert np.abs(settled - thumbnail(frames[frame + rule.fade_span])).max() == 0
    assert np.abs(settled - thumbnail(frames[-1])).mean() < 3  # the shot the dissolve landed on
    # a hard cut's "after" is never replaced
    memory.record(100, 4.0, thumbs[0], thumbs[1])
    memory.settle(120, np.zeros((27, 48), np.float32))
    assert memory.cuts[-1].after is thumbs[1]


def test_fade_blend_records_a_dissolve_but_not_a_pan_that_fires_the_fade_cue():
    """A pan of 25 px a frame fires the fade cue under the shipped rule (beyond its 9-cell shift
    search); its frames are shifted pictures, no mix of the span's ends (``blend_residual`` near
    1), so ``fade_blend`` 0.5 records no cut there, while a dissolve's frames are mixes (near 0)
    and its cut is recorded. The fade fires (and so the tracks split) the same either way."""
    from facesel.track_cues.scene import blend_residual

    rng = np.random.default_rng(1)
    world = rng.integers(0, 255, (8, 60), dtype=np.uint8)
    world = np.repeat(np.repeat(world, 40, 0), 40, 1)[:270, :].astype(np.float32)
    pan = [np.clip(world[:, x:x + 480] + rng.normal(0, 2, (270, 480)), 0, 255).astype(np.uint8)
           for x in [0] * 12 + list(range(25, 25 * 40, 25))]
    blend = SwitchRule(fade_cut=True, fade_blend=0.5)
    plain = _fires(SwitchRule(), pan)
    gated = _fires(blend, pan)
    assert plain and [(k, kind) for k, kind, _ in gated] == [(k, kind) for k, kind, _ in plain]
    assert {kind for _, kind, _ in plain} == {"fade"}
    assert all(thumbs is None for _, _, thumbs in gated)  # no cut recorded on the pan
    assert all(thumbs is not None for _, _, thumbs in _fires(SwitchRule(fade_cut=True, fade_blend=0.0), pan))  # without the gate: recorded
    a = _world(1)
    frames = _dissolve(a, 0.6 * a + 0.4 * (255 - a), rng)
    (_, kind, thumbs), = _fires(blend, frames)
    assert kind == "fade" and thumbs is not None
    thumbs_pan = [thumbnail(f) for f in pan[12:19]]
    assert blend_residual(thumbs_pan) > 0.5 > blend_residual([thumbnail(f) for f in frames[10:17]])
    with pytest.raises(ValueError, match="fade_blend"):
        SwitchRule(fade_blend=-1)


@pytest.mark.slow
def test_a_cross_fade_between_two_real_signers_no_longer_joins_them_end_to_end(shared_data):
    """'again' dissolving into 'bird' (``facesel eval switches``' cross-fade splice, 40 frames
    each, 5-frame dissolve; one office, one framing): before tv27 the fade ended the track but
    left no cut, and the short link joined the two signers into one snapshot (the first without
    one of her own; ``experiments/tv27_account.py splices``: 6 of the 25 cross-fade splices).
    Under the default the dissolve is recorded as a cut: no snapshot holds both, each has one."""
    from unittest import mock

    from facesel.detect import make_detector
    from facesel.eval import switches as sw
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.selector import Selector

    detector = make_detector(max_side=1280)
    clips = []
    for name in ("again", "bird"):
        path = shared_data / "videos" / "more" / f"sample-videos__asl_gestures_{name}.mkv"
        f = sw.read_frames(str(path), 50)
        clips.append(sw.Clip(name, "signers", f"signer{sw.SIGNER_PEOPLE[name]}", f, [detector.detect(x) for x in f]))
    frames, _, owner = sw.splice(clips[0], clips[1], "fade", 40, 5, detector)

    def run(rule):
        with mock.patch("facesel.track.SwitchRule", lambda: rule):
            selector = Selector(detector, LaplacianVarianceScorer(), threads=1)
            results = []
            for k, frame in enumerate(frames):
                results += selector.feed(frame, k / 30.0).closed
            results += selector.flush()
        return [{int(owner[int(i)]) for i in r.frame_indices} for r in results], \
               {int(owner[int(r.best.frame_index)]) for r in results}

    before_sets, _ = run(SwitchRule(fade_cut=False, fade_settle=False, fade_blend=0.0))
    assert any(s >= {0, 1} for s in before_sets), before_sets  # the join the default now prevents
    now_sets, now_best = run(SwitchRule())
    assert not any(s >= {0, 1} for s in now_sets) and now_best >= {0, 1}, (now_sets, now_best)
