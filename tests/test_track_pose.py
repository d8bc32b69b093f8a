"""The pose check of ``facesel eval tracks``: the 3-D fit recovers a known head tilt, and the
landmark pitch ratio moves with it in the documented direction (> 0: chin down)."""

import numpy as np
import pytest

from facesel.eval.track_pose import FACE_3D, pnp_angles
from facesel.scoring.pose import landmark_pose


def _project(pitch_deg=0.0, roll_deg=0.0, distance=600.0, f=640.0, shape=(480, 640)):
    """The generic face tilted by ``pitch_deg`` (> 0: its front turns down) and rolled, seen by a pinhole camera."""
    p = FACE_3D * np.array([1.0, -1.0, -1.0])  # camera axes: y down, z away from the camera
    a, r = np.radians(pitch_deg), np.radians(roll_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    q = p @ (rz @ rx).T + np.array([0.0, 0.0, distance])
    return (q[:, :2] / q[:, 2:] * f + np.array([shape[1] / 2, shape[0] / 2]))[None]


@pytest.mark.parametrize("pitch", [-25.0, -10.0, 0.0, 10.0, 25.0])
def test_the_3d_fit_recovers_a_known_pitch(pitch):
    angles = pnp_angles(_project(pitch), (480, 640))[0]
    assert angles[0] == pytest.approx(pitch, abs=0.5)
    assert abs(angles[1]) < 0.5 and abs(angles[2]) < 0.5


def test_the_landmark_pitch_ratio_rises_as_the_chin_goes_down_and_roll_is_the_eye_line_angle():
    ratios = [landmark_pose(_project(p))[0, 2] for p in (-25, -10, 0, 10, 25)]
    assert np.all(np.diff(ratios) > 0)
    assert abs(ratios[2]) < 0.05  # the template's frontal value is near this generic face's
    roll = landmark_pose(_project(0.0, 20.0))[0, 1]
    assert np.degrees(roll) == pytest.approx(20.0, abs=0.5)
    assert pnp_angles(_project(0.0, 20.0), (480, 640))[0, 2] == pytest.approx(20.0, abs=0.5)
