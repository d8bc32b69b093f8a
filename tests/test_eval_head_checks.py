"""The audit's profile and person-under-the-box checks without real data: geometry, bad arguments,
and what happens when the installed OpenCV lacks a cascade (real frames: tests/test_persons_videos.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facesel.eval.head_checks import PersonBelowCheck, ProfileFaceCheck, opencv_cascade, scaled_region


def test_scaled_region_keeps_the_box_centre_where_the_frame_is_clipped():
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[40:60, 10:30] = 255  # the box
    image, cx, cy, side = scaled_region(frame, [10, 40, 30, 60], left=3, right=3, up=1, down=2, side_pixels=40)
    assert side == 40
    # 3 sides to the left would leave the frame: the region starts at x = 0, so the centre is at
    # 20 frame pixels, 40 region pixels (scale 2); 1 side up from y = 50 is y = 30 -> 20 * 2.
    assert (cx, cy) == (40.0, 40.0)
    assert image.shape[:2] == ((90 - 30) * 2, (80 - 0) * 2)
    assert image[int(cy), int(cx)].tolist() == [255, 255, 255]
    assert scaled_region(frame, [300, 300, 320, 320], 1, 1, 1, 1, 40) is None  # outside the frame
    assert scaled_region(frame, [10, 10, 10, 10], 1, 1, 1, 1, 40) is None  # an empty box


def test_a_missing_cascade_is_skipped_with_its_reason(monkeypatch, tmp_path):
    assert opencv_cascade("haarcascade_profileface.xml")[0] is not None  # opencv<5 ships it
    cascade, reason = opencv_cascade("no_such_cascade.xml")
    assert cascade is None and "no_such_cascade.xml" in reason
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path))  # an OpenCV without its cascades
    profile, person = ProfileFaceCheck(), PersonBelowCheck()
    assert not profile.available and "haarcascade_profileface.xml" in profile.skip_reason
    assert "haarcascade_upperbody.xml" in person.upper_body_skip_reason
    frame = np.full((240, 320, 3), 128, np.uint8)
    assert profile.neighbours(frame, [100, 80, 160, 150]) == 0 and not profile({0: frame}, [0], [[100, 80, 160, 150]])
    assert person.upper_body_neighbours(frame, [100, 80, 160, 150]) == 0  # the HOG detector still runs


def test_a_flat_frame_has_no_profile_and_no_person():
    frame = np.full((480, 640, 3), 90, np.uint8)
    frames = {k: frame for k in range(4)}
    boxes = [[300, 100, 340, 150]] * 4
    assert not ProfileFaceCheck()(frames, range(4), boxes)
    person = PersonBelowCheck()
    assert person.person_margin(frame, boxes[0]) == float("-inf")
    assert not person(frames, range(4), boxes)
    assert not person(frames, [], np.zeros((0, 4)))  # an empty track shows nobody


def test_checks_name_their_bad_arguments():
    with pytest.raises(ValueError, match="samples"):
        ProfileFaceCheck(samples=0)
    with pytest.raises(ValueError, match="min_margin"):
        PersonBelowCheck(min_margin=float("nan"))
    with pytest.raises(ValueError, match="track_boxes"):
        PersonBelowCheck()({0: np.zeros((8, 8, 3), np.uint8)}, [0, 1], [[0, 0, 4, 4]])
