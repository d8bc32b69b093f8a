"""The body below a head across a face's gap (issue 23, selfie27; docs/prereg_body27.md,
docs/persons.md "The body below the head across a gap"): the patch never holds the head; on the
selfie the body at his last place does not stay in view through the gap (he leaves, body and
all), his body patch on his return matches above every pair of different signers measured; and
the crowds' talking-head clips have no body under the face, which is why no registered rule could
be chosen held out by family (stage A failed: nothing reads the cue)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from facesel.track_cues.body import body_histogram, body_ncc, body_pair, body_rect, histogram_distance


def _textured(seed: int, shape=(240, 320, 3)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 256, (shape[0] // 8, shape[1] // 8, 3), dtype=np.uint8)
    return np.kron(cells, np.ones((8, 8, 1), np.uint8))


def test_the_patch_lies_below_the_head_and_needs_most_of_it_in_the_frame():
    head = (140.0, 40.0, 180.0, 80.0)
    x1, y1, x2, y2 = body_rect(head, (240, 320, 3))
    assert y1 >= head[3] and (x1, y1, x2, y2) == (110, 90, 210, 150)  # 2.5 heads wide, 0.25-1.75 heads below
    assert body_rect((140.0, 200.0, 180.0, 240.0), (240, 320, 3)) is None  # the body is below the frame
    assert body_rect((-60.0, 40.0, -20.0, 80.0), (240, 320, 3)) is None  # wholly off to the left
    assert body_rect((-10.0, 40.0, 30.0, 80.0), (240, 320, 3)) is not None  # 65 % inside


def test_the_same_body_matches_and_another_does_not():
    frame, other = _textured(1), _textured(2)
    head = (140.0, 40.0, 180.0, 80.0)
    rect = body_rect(head, frame.shape)
    assert histogram_distance(body_histogram(frame, rect), body_histogram(frame, rect)) == pytest.approx(0.0, abs=1e-6)
    # the template is shrunk from the crop, the window from the whole frame: their pixel grids differ
    # by a fraction of a pixel (here 0.96 on 8-px cells shrunk to 0.32), a bias common to every figure
    assert body_ncc(frame, rect, frame, rect) > 0.95
    shifted = np.roll(frame, 12, axis=1)  # the same body 12 px to the right: found within the window
    assert body_ncc(frame, rect, shifted, rect) > 0.95
    assert body_pair(frame, head, other, head)["ncc"] < 0.5
    flat = np.full_like(frame, 90)
    assert np.isnan(body_ncc(flat, rect, frame, rect))  # a flat patch matches anything flat


def test_the_selfie_leaves_body_and_all_and_comes_back_in_the_same_clothes(shared_data):
    """Measured (``experiments/body_patch27.py``): last face on frame 71, back on 96; the body patch
    at his last place falls to NCC 0.27-0.29 on frames 82-89 (his shoulder leaves too, so a body
    follower dies as the face-and-band one did); his return matches 0.867, above every one of 134
    pairs of different signers (highest 0.828)."""
    from facesel.detect import make_detector
    from facesel.video import open_source

    path = shared_data / "videos" / "selfie_motion_blur_portrait.mp4"
    frames = [f for f, _ in itertools.islice(open_source(path), 97)]
    detector = make_detector(max_side=1280)

    def face(k):
        found = detector.detect(frames[k])
        return None if len(found.boxes) == 0 else np.asarray(found.boxes[int(np.argmax(found.scores))][:4])

    before, after = face(71), face(96)
    assert before is not None and after is not None, "his face before and after the gap (else this checks nothing)"
    assert face(84) is None  # his face is out of the frame mid-gap
    rect = body_rect(before, frames[71].shape)
    at_place = [body_ncc(frames[71], rect, frames[k], rect) for k in range(80, 92)]
    assert min(at_place) < 0.4  # the body at his last place is gone mid-gap
    back = body_pair(frames[71], before, frames[96], after)
    assert back["ncc"] > 0.83 and back["hist"] > 0.5  # the grey pattern returns; the colours moved


def test_the_crowds_talking_heads_have_no_body_patch(shared_data):
    """The crowds' clip pool: a body patch under the face only in the signers' clips (the face of a
    LivePortrait, video-retalking or other clip fills its 4:3 frame), so three of four folds have no
    negative pair to choose a threshold on, and the signers' fold none at all (stage A fails)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
    from body_patch27 import clip_patches
    from facesel.detect import make_detector
    from facesel.eval.crowds import families

    detector = make_detector(max_side=1280)
    fams = families(shared_data)
    for family in ("liveportrait", "retalking"):
        clip = fams[family][0]
        patches = clip_patches(clip, detector)
        assert patches["start"] is not None, f"no face found in {clip.name} (else this checks nothing)"
        frame, box = patches["start"]
        assert body_rect(box, frame.shape) is None
    frame, box = clip_patches(fams["signers"][0], detector)["start"]
    assert body_rect(box, frame.shape) is not None
