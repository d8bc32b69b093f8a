"""Switch cues (facesel.track_cues, facesel.track.TrackStage): one person, one track.

Real clips from the shared data, spliced in memory (never written): a signer replaced by another
at the same place must give two snapshots, one per person; a genuine track (a head turning fast)
must not be split."""

from __future__ import annotations

import numpy as np
import pytest
from facesel.config import PipelineConfig
from facesel.detect import make_detector
from facesel.eval import switches as sw
from facesel.scoring import LaplacianVarianceScorer
from facesel.selector import Selector
from facesel.track import TrackStage
from facesel.track_cues import SwitchRule, crowded, distance, histogram
from facesel.types import Detections
from facesel.video import open_source

# -- the cues on hand-made input ----------------------------------------------------------------


def test_rule_settings_are_validated_naming_the_field():
    with pytest.raises(ValueError, match="max_size_jump"):
        SwitchRule(max_size_jump=0.5)
    with pytest.raises(ValueError, match="appearance"):
        SwitchRule(appearance=float("nan"))
    with pytest.raises(ValueError, match="history"):
        SwitchRule(history=0)
    with pytest.raises(ValueError, match="cut_spread"):
        SwitchRule(cut_spread=-0.1)
    with pytest.raises(ValueError, match="cut_colours"):
        SwitchRule(cut_colours=float("nan"))
    with pytest.raises(ValueError, match="fade_reach"):
        SwitchRule(fade_reach=-1)
    with pytest.raises(ValueError, match="fade_spread"):
        SwitchRule(fade_spread=-0.5)
    with pytest.raises(ValueError, match="fade_steps"):
        SwitchRule(fade_steps=1)
    with pytest.raises(TypeError, match="rule"):
        TrackStage(PipelineConfig(), rule="loose")


def test_histograms_ignore_exposure_but_not_colour():
    rng = np.random.default_rng(0)
    patch = rng.integers(40, 120, (60, 60, 3), dtype=np.uint8)
    h = histogram(patch, (0, 0, 60, 60))
    assert h.shape == (64,) and h.sum() == pytest.approx(1.0)
    brighter = np.clip(patch.astype(np.float32) * 1.5, 0, 255).astype(np.uint8)
    assert distance(h[None], histogram(brighter, (0, 0, 60, 60))[None]) < 0.2  # exposure is not a switch
    other = patch.copy()
    other[..., 2] = 20  # the red channel gone: another shirt
    assert distance(h[None], histogram(other, (0, 0, 60, 60))[None]) > 0.5


def test_crowded_boxes_get_no_colour_cue():
    boxes = np.array([[0, 0, 20, 20], [22, 10, 42, 30], [200, 200, 220, 220]], np.float32)
    assert crowded(boxes).tolist() == [True, True, False]
    assert crowded(boxes[:1]).tolist() == [False]


def test_a_flat_grey_square_changing_brightness_is_one_segment():
    """A box whose light changes every frame (the contract tests' synthetic faces) is not a switch."""
    stage = TrackStage(PipelineConfig(mode="exhaustive"))
    ids = set()
    for k in range(30):
        frame = np.zeros((120, 160, 3), np.uint8)
        frame[20:60, 20 + k:60 + k] = 100 + 5 * (k % 7)
        update = stage.update(Detections(np.array([[20 + k, 20, 60 + k, 60]], np.float32), np.ones(1)), frame)
        ids |= set(update.track_ids.tolist())
    assert ids == {1} and stage.counts["appearance"] == 0


def test_segments_report_life_cycle_like_the_tracker():
    """Cues off: segment ids are the C++ tracker's ids, confirmed/closed/dropped unchanged."""
    config = PipelineConfig(mode="exhaustive", switch_cues=False, max_age=1)
    stage = TrackStage(config)
    box = Detections(np.array([[10, 10, 50, 50]], np.float32), np.ones(1))
    confirmed = [bool(stage.update(box).confirmed[0]) for _ in range(3)]
    assert confirmed == [False, False, True]
    stage.update(Detections.empty())
    update = stage.update(Detections.empty())
    assert update.closed.tolist() == [1]


# -- real clips -----------------------------------------------------------------------------------


def _signer(shared_data, name, count):
    path = shared_data / "videos" / "more" / f"sample-videos__asl_gestures_{name}.mkv"
    return sw.read_frames(str(path), count)


def _run(frames, **settings):
    selector = Selector(make_detector(max_side=1280), LaplacianVarianceScorer(), threads=1, **settings)
    selector._track.records = []
    results = []
    for k, frame in enumerate(frames):
        results += selector.feed(frame, k / 30.0).closed
    return results + selector.flush(), selector


@pytest.mark.slow
def test_a_splice_of_two_real_signers_gives_one_snapshot_per_person(shared_data):
    """'night' (one man) cut to 'no' (another man, at the same place): the tracker alone follows
    the box across the cut; with the cues each person gets their own track and snapshot."""
    n = 40
    frames = _signer(shared_data, "night", n) + _signer(shared_data, "no", n)
    assert sw.SIGNER_PEOPLE["night"] != sw.SIGNER_PEOPLE["no"]
    results, selector = _run(frames)
    sides = [{int(f) >= n for f in r.frame_indices} for r in results]
    assert len(results) == 2, sides
    assert sorted(len(s) for s in sides) == [1, 1] and sides[0] != sides[1]  # one per person
    assert sum(selector._track.counts[k] for k in ("cut", "appearance", "size", "aspect")) >= 1
    # the same splice without the cues: one track slides from the first man onto the second
    plain, _ = _run(frames, switch_cues=False)
    assert any({int(f) >= n for f in r.frame_indices} == {False, True} for r in plain)


@pytest.mark.slow
def test_a_head_turning_fast_is_not_split(shared_data):
    """Intel's head-pose clip: one woman turning her head left and right; one track, one snapshot,
    no switch cue standing."""
    frames = [f for f, _ in open_source(shared_data / "videos" / "intel_head_pose_female.gif")]
    stage = TrackStage(PipelineConfig(mode="exhaustive"))
    detector = make_detector(max_side=1280)
    stood = []
    for frame in frames:
        stage.update(detector.detect(frame), frame)
        stood += [reason for reason in stage.switches.values() if reason not in (None, "pending")]
    assert stood == []
    results, _ = _run(frames)
    assert len(results) == 1


@pytest.mark.slow
def test_splices_ground_truth_and_judging(shared_data):
    """The eval's splice: owners per frame, blended frames owned by nobody; a switch is caught
    only when no confirmed segment holds both people."""
    detector = make_detector(max_side=1280)
    a = sw.Clip("night", "signers", "signer3", f := _signer(shared_data, "night", 20), [detector.detect(x) for x in f])
    b = sw.Clip("no", "signers", "signer1", f := _signer(shared_data, "no", 20), [detector.detect(x) for x in f])
    frames, dets, owner = sw.splice(a, b, "fade", 12, 4, detector)
    assert owner == [0] * 12 + [-1] * 4 + [1] * 12 and len(frames) == len(dets) == 28
    rows = [(1, 1, 0), (1, 1, 0), (1, 1, 1)]  # one segment over both people
    assert sw.judge_rows(rows, {1}, {1}, rows)[:2] == (True, False)
    rows_split = [(1, 1, 0), (1, 1, 0), (1, 2, 1), (1, 2, 1)]
    assert sw.judge_rows(rows_split, {1, 2}, {1}, rows)[:4] == (True, True, 2, 0)


@pytest.mark.slow
def test_a_cross_fade_between_two_real_signers_is_caught(shared_data):
    """'night' dissolving into 'no' over 5 frames: no two consecutive frames differ much (the cut
    cue stays quiet) and the two men's dark clothes are close in colour, but the picture 6
    frames apart changed: the fade cue ends the track, and no confirmed segment holds both men.
    The same splice without the cues keeps one track over both."""
    detector = make_detector(max_side=1280)
    clips = []
    for name in ("night", "no"):
        f = _signer(shared_data, name, 50)
        clips.append(sw.Clip(name, "signers", f"signer{sw.SIGNER_PEOPLE[name]}", f, [detector.detect(x) for x in f]))
    frames, dets, owner = sw.splice(clips[0], clips[1], "fade", 40, 5, detector)
    config = PipelineConfig(mode="exhaustive")
    plain, conf_plain, _ = sw.track(frames, dets, config, None)
    cued, conf_cued, counts = sw.track(frames, dets, config, SwitchRule())
    made, caught, genuine, split = sw.judge_rows(sw._owners(cued, dets, owner), conf_cued, conf_plain,
                                                 sw._owners(plain, dets, owner))
    assert made and caught and split == 0, counts
    assert counts["fade"] >= 1 and counts["cut"] == 0


@pytest.mark.slow
def test_a_hand_held_camera_whipped_round_is_not_a_cut(shared_data):
    """mmaction2's arm-wrestling demo: a hand-held phone jerked about, every other frame repeated.
    The man in white stays one segment: the scene-change cues take out repeated frames and the
    camera's own motion."""
    path = shared_data / "videos" / "more" / "mmaction2__demo_demo.mp4"
    frames = sw.read_frames(str(path), 150)
    detector = make_detector(max_side=1280)
    dets = [detector.detect(f) for f in frames]
    config = PipelineConfig(mode="exhaustive")
    cued, confirmed, counts = sw.track(frames, dets, config, SwitchRule())
    segments: dict = {}
    for pairs in cued:
        for raw, segment in pairs:
            if segment in confirmed:
                segments.setdefault(raw, set()).add(segment)
    assert segments and all(len(s) == 1 for s in segments.values()), counts


def test_scene_change_tells_a_cut_and_a_fade_from_a_pan_and_repeats():
    """Hand-made thumbnails' worth of frames: a textured picture panned a few pixels a frame
    (with every other frame repeated) never fires; a hard cut to another picture fires "cut"
    once; a dissolve over 5 frames fires "fade" once."""
    from facesel.track_cues import SceneChange

    rng = np.random.default_rng(1)
    world = rng.integers(0, 255, (8, 30), dtype=np.uint8)
    world = np.repeat(np.repeat(world, 40, 0), 40, 1)[:270, :]  # blobs of 40 px, not noise
    other = 255 - world
    pan = [np.ascontiguousarray(world[:, 4 * (k // 2): 4 * (k // 2) + 480]) for k in range(40)]
    scene = SceneChange(SwitchRule())
    assert [scene.update(f)[0] for f in pan] == [None] * 40

    def live(f):  # a little sensor noise, so that no frame is a repeat
        return np.clip(f + rng.normal(0, 2, f.shape), 0, 255).astype(np.uint8)

    a, b = world[:, :480].astype(np.float32), other[:, :480].astype(np.float32)
    scene = SceneChange(SwitchRule())
    assert [k for k in (scene.update(live(f))[0] for f in [a] * 12 + [b] * 8) if k] == ["cut"]
    c = 0.6 * a + 0.4 * b  # a picture 34 grey levels away on average: 6-7 per frame of the dissolve
    dissolve = [a] * 12 + [(1 - w) * a + w * c for w in np.linspace(0.17, 0.83, 5)] + [c] * 8
    scene = SceneChange(SwitchRule())
    assert [k for k in (scene.update(live(f))[0] for f in dissolve) if k] == ["fade"]


def _blobs(seed: int, shape=(270, 480)) -> np.ndarray:
    """(H, W, 3) uint8 colour blobs of 30 px (a picture, not noise) from ``seed``."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 255, (shape[0] // 30 + 1, shape[1] // 30 + 1, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.repeat(np.repeat(cells, 30, 0), 30, 1)[:shape[0], :shape[1]])


def _cut_frames(scene, frames, noise: float = 2.0, seed: int = 2) -> list:
    """The kinds ``scene`` fires over ``frames``, each with sensor noise of ``noise`` grey (no repeats)."""
    rng = np.random.default_rng(seed)
    return [k for k in (scene.update(np.clip(f + rng.normal(0, noise, f.shape), 0, 255).astype(np.uint8))[0]
                        for f in frames) if k]


def test_the_spread_gate_refuses_a_patch_over_part_of_the_picture_but_not_a_cut():
    """A grey patch over the left 45 % of a still picture (a sudden occluder) changes the mean
    as much as a cut does: the shipped cue calls it a cut; with ``cut_spread`` (a cut must change
    at least that fraction of the cells) it does not, while a cut to another picture still fires.
    The noise is a compressed still camera's (0.5 grey): sensor noise of 2 grey already moves
    about half the cells by more than the gate's 2 levels, the gate's weakness."""
    from facesel.track_cues import SceneChange

    a, b = _blobs(3), _blobs(4)
    patched = a.copy()
    patched[:, :216] = 128
    before, after = [a] * 12 + [patched] * 8, [a] * 12 + [b] * 8
    assert _cut_frames(SceneChange(SwitchRule()), before, noise=0.5) == ["cut"]
    assert "cut" not in _cut_frames(SceneChange(SwitchRule(cut_spread=0.65)), before, noise=0.5)
    assert _cut_frames(SceneChange(SwitchRule(cut_spread=0.65)), after, noise=0.5) == ["cut"]


def test_the_colour_gate_refuses_a_new_layout_of_the_same_colours():
    """The same picture mirrored left to right changes every cell's grey level but not the
    colours it holds: a cut to the shipped cue, no cut with ``cut_colours``; a cut to other colours
    still fires. The spread measure agrees with :func:`moved_difference` on the mean."""
    from facesel.track_cues import SceneChange
    from facesel.track_cues.scene import colour_distance, colour_histogram, moved_change, moved_difference, thumbnail

    a = _blobs(5)
    mirrored = np.ascontiguousarray(a[:, ::-1])
    assert colour_distance(colour_histogram(a), colour_histogram(mirrored)) < 0.05
    assert _cut_frames(SceneChange(SwitchRule()), [a] * 12 + [mirrored] * 8) == ["cut"]
    # the fade cue (no colour gate) may still read it as a fade over its span
    assert "cut" not in _cut_frames(SceneChange(SwitchRule(cut_colours=0.09)), [a] * 12 + [mirrored] * 8)
    other = np.ascontiguousarray(255 - a)
    assert _cut_frames(SceneChange(SwitchRule(cut_colours=0.09)), [a] * 12 + [other] * 8) == ["cut"]
    ta, tb = thumbnail(a), thumbnail(mirrored)
    mean, spread = moved_change(ta, tb)
    assert mean == pytest.approx(moved_difference(ta, tb)) and 0.5 < spread <= 1.0


def test_thresholds_are_chosen_on_the_other_sources():
    """Leave-one-source-out: each fold's rule is the best on the other source's splices, and its
    figures are those of the held-out source; a rule that splits more than 2 % of the training
    tracks is never chosen over one that does not."""
    from facesel.eval.switches_heldout import choose, leave_one_source_out, rule_grid

    rules = rule_grid()
    assert rules[0] == SwitchRule() and len(rules) == 27 and len(set(rules)) == 27

    def result(source, made, caught, genuine, split):
        return sw.SpliceResult(source, "a", "b", "cut", made, caught, genuine, split)

    # rule 0 catches everything on A but splits 1/10 there; rule 1 catches less on A, splits nothing
    by_rule = [[result("A", True, True, 10, 1), result("B", True, False, 10, 0)],
               [result("A", True, False, 10, 0), result("B", True, True, 10, 0)]]
    assert choose(by_rule, ["A"]) == 1  # 10 % split on A: not allowed
    loso = leave_one_source_out(rules[:2], by_rule)
    assert loso["folds"]["B"]["rule_index"] == 1  # chosen on A
    assert loso["folds"]["B"]["held_out"] == {"splices": 1, "made": 1, "caught": 1, "genuine": 10, "split": 0}
    assert loso["folds"]["A"]["rule_index"] == 1  # on B both split nothing; rule 1 catches B's switch
    assert loso["held_out"]["caught"] == 1 and loso["held_out"]["made"] == 2


# -- junk: a face-like logo pinned to the frame -------------------------------------------------


def _with_logo(shared_data, count):
    """The pancake clip (a person moving in a kitchen) with a real face photo (FEI, frontal)
    pasted as a fixed watermark in its top-left corner; (frames, logo box)."""
    import cv2

    photo = cv2.imread(str(shared_data / "faces" / "fei" / "fei_004" / "4a.jpg"))
    logo = cv2.resize(photo, (90, 120), interpolation=cv2.INTER_AREA)
    frames = []
    for frame, _ in open_source(shared_data / "videos" / "more" / "decord__examples_flipping_a_pancake.mkv"):
        frame = frame.copy()
        frame[4:124, 4:94] = logo
        frames.append(frame)
        if len(frames) == count:
            break
    return frames, np.array([4, 4, 94, 124], np.float32)


def _on_logo(result, logo) -> bool:
    boxes = np.asarray(result.boxes, np.float32).reshape(-1, 4)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    inside = (centres[:, 0] > logo[0]) & (centres[:, 0] < logo[2]) & (centres[:, 1] > logo[1]) & (centres[:, 1] < logo[3])
    return bool(len(boxes)) and inside.mean() > 0.5


@pytest.mark.slow
def test_a_face_logo_pinned_in_a_moving_scene_is_not_sealed(shared_data):
    """1.5 s of the clip: shorter than the 2 s the drift rule needs, so only the pinned-box rule
    (the logo's box stays on the same pixels, no head does) can drop it; kept when static tracks
    are kept, so the detector does see it as a face."""
    frames, logo = _with_logo(shared_data, 45)
    kept, _ = _run(frames, keep_static=True)
    assert any(_on_logo(r, logo) for r in kept)
    results, selector = _run(frames)
    assert not any(_on_logo(r, logo) for r in results)
    assert selector.finaliser.stats.dropped["static"] >= 1


def test_relink_refuses_other_colours_and_segments_a_cue_ended():
    """The finaliser's re-link: same place and time, but other clothes (colours > 0.6 apart) or a
    segment that a switch cue ended, is not continued; the same colours are."""
    from facesel.select.evidence import TrackEvidence
    from facesel.select.linking import LinkRule

    def evidence(first_frame, colours, ended_by=None):
        e = TrackEvidence()
        for k in range(5):
            e.add([100, 100, 150, 150], 0.9, None, (first_frame + k) / 25.0, first_frame + k, False)
            if colours is not None:  # measured on every observation (the re-link compares only colours measured near the ends)
                e.colour_last(colours)
        e.ended_by = ended_by
        return e

    blue, red = np.zeros((2, 64), np.float32), np.zeros((2, 64), np.float32)
    blue[:, 3], red[:, 48] = 1.0, 1.0
    rule = LinkRule()
    assert rule.cost(evidence(0, blue), evidence(6, blue)) is not None
    assert rule.cost(evidence(0, blue), evidence(6, red)) is None
    # issue 23 (crowds): a segment a cue other than a cut ended is re-joined only by close colours
    # (LinkRule.rejoin_colour_distance; None: never, the rule before); a cut is never re-joined.
    assert LinkRule(rejoin_colour_distance=None).cost(evidence(0, blue, ended_by="appearance"), evidence(6, blue)) is None
    assert rule.cost(evidence(0, blue, ended_by="appearance"), evidence(6, red)) is None
    assert rule.cost(evidence(0, blue, ended_by="cut"), evidence(6, blue)) is None
    assert rule.cost(evidence(0, blue, ended_by=None), evidence(6, None)) is not None  # no colours: position decides


def test_pinned_rule_needs_enough_still_steps():
    from facesel.select.evidence import TrackEvidence
    from facesel.select.faceness import FacenessRule

    rule = FacenessRule()
    e = TrackEvidence()
    for k in range(10):
        e.add([10 + 3 * k, 10, 60 + 3 * k, 60], 0.9, None, k / 25.0, k, False)  # moving: not static by drift
    e.still = 9
    assert rule.is_static(e)
    e.still = 3
    assert not rule.is_static(e)
    with pytest.raises(ValueError, match="pinned_fraction"):
        FacenessRule(pinned_fraction=0.0)


def _panned(world: np.ndarray, speed: int, rng) -> list:
    """A still start (12 frames), then a window of 480 px panned ``speed`` px a frame across
    ``world`` (29 frames) and held (8), each frame with 2 grey of sensor noise."""
    xs = [0] * 12 + [speed * k for k in range(1, 30)] + [speed * 29] * 8
    return [np.clip(world[:, x:x + 480] + rng.normal(0, 2, (world.shape[0], 480)), 0, 255).astype(np.uint8) for x in xs]


def test_a_pan_beyond_the_fade_reach_fires_the_fade_cue_and_a_wider_reach_does_not():
    """A textured picture panned 12 px a frame (1.2 thumbnail cells: 7 cells over the 6-frame fade
    span) is a fade to a 3-cell shift search (the earlier ``fade_reach``) and nothing to the
    shipped 9-cell one; a pan of 25 px a frame (15 cells over the span) is beyond both. A dissolve fires "fade"
    whatever the reach and with ``fade_steps`` (no shift explains a step of a dissolve)."""
    from facesel.track_cues import SceneChange

    rng = np.random.default_rng(1)
    world = rng.integers(0, 255, (8, 60), dtype=np.uint8)
    world = np.repeat(np.repeat(world, 40, 0), 40, 1)[:270, :]  # blobs of 40 px, 2,400 px wide

    def fired(rule, frames):
        scene = SceneChange(rule)
        return [k for k in (scene.update(f)[0] for f in frames) if k]

    assert SwitchRule().fade_reach == 9
    assert fired(SwitchRule(fade_reach=3), _panned(world, 12, rng)) == ["fade"]
    assert fired(SwitchRule(), _panned(world, 12, rng)) == []
    assert fired(SwitchRule(), _panned(world, 25, rng)) == ["fade"]
    a, b = world[:, :480].astype(np.float32), (255 - world)[:, :480].astype(np.float32)
    c = 0.6 * a + 0.4 * b
    dissolve = [a] * 12 + [(1 - w) * a + w * c for w in np.linspace(0.17, 0.83, 5)] + [c] * 8
    noisy = [np.clip(f + rng.normal(0, 2, f.shape), 0, 255).astype(np.uint8) for f in dissolve]
    for rule in (SwitchRule(), SwitchRule(fade_reach=3), SwitchRule(fade_steps=True)):
        assert fired(rule, noisy) == ["fade"], rule


@pytest.mark.slow
def test_a_tv_like_pan_over_a_real_clip_is_not_split(shared_data):
    """video-retalking's face_2 under a fast TV-like pan (:func:`facesel.eval.pans.pan_clip`, 12
    frames each way, the face in view throughout): the picture 6 frames apart moves by more than
    3 thumbnail cells, so the earlier fade decision (``fade_reach`` 3) fires on the pan and splits
    her track; the shipped 9-cell search takes the pan out: one confirmed segment, no fade. (A
    cross-fade between two real signers is still caught under the shipped rule:
    :func:`test_a_cross_fade_between_two_real_signers_is_caught`.)"""
    from facesel.eval import crowds
    from facesel.eval import edge_return as er
    from facesel.eval.pans import pan_clip

    detector = make_detector(max_side=1280)
    path = shared_data / "videos" / "more" / "video-retalking__examples_face_2.mp4"
    frames, box = er.first_face(detector, crowds.read_tile(path, 120, skip=10))
    clip = pan_clip(frames, box, 12)
    assert clip is not None and len(clip) == 84
    dets = [detector.detect(f) for f in clip]
    config = PipelineConfig(mode="exhaustive")

    def confirmed_segments(rule):
        assigned, confirmed, counts = sw.track(clip, dets, config, rule)
        return {s for pairs in assigned for _, s in pairs if s in confirmed}, counts

    shipped, counts = confirmed_segments(SwitchRule())
    assert len(shipped) == 1 and counts["fade"] == 0, counts
    earlier, counts = confirmed_segments(SwitchRule(fade_reach=3))
    assert counts["fade"] >= 1 and len(earlier) == 2, counts


def test_pan_clip_holds_and_pans_and_refuses_without_room():
    """The pan window keeps the face inside: a face in the middle of a 400 x 300 picture leaves
    room to pan; one as wide as the window leaves none (None); a pan of 0 frames is refused."""
    from facesel.eval.pans import pan_clip

    frames = [_blobs(7, (300, 400))] * 3
    clip = pan_clip(frames, np.array([180.0, 120.0, 220.0, 170.0]), 5, hold=2, out_width=120)
    assert clip is not None and len(clip) == 3 * 2 + 2 * 5 and clip[0].shape == (90, 120, 3)
    assert np.array_equal(clip[0], clip[1]) and not np.array_equal(clip[2], clip[8])
    assert pan_clip(frames, np.array([80.0, 100.0, 320.0, 200.0]), 5) is None
    with pytest.raises(ValueError, match="pan"):
        pan_clip(frames, np.array([180.0, 120.0, 220.0, 170.0]), 0)
