"""Head pose from the detector's five landmarks: how far a face is turned, rolled and tilted.

No model: the five points (left eye, right eye, nose tip, left and right mouth corner, as seen in
the image) are rotated so that the eyes lie on a horizontal line, then measured against the eye
distance. A frontal, upright face has its nose midway between the eyes (yaw ~ 0), level eyes
(roll ~ 0) and its nose about half-way from the eyes to the mouth (pitch ratio ~ 0.5 on the
template of :mod:`facesel.align`).
"""

from __future__ import annotations

import numpy as np

from facesel.align import TEMPLATE


def _template_pitch_ratio() -> float:
    eyes = TEMPLATE[:2].mean(axis=0)
    mouth = TEMPLATE[3:].mean(axis=0)
    return float((TEMPLATE[2, 1] - eyes[1]) / (mouth[1] - eyes[1]))


PITCH_RATIO_FRONTAL = _template_pitch_ratio()
"""Nose height between eyes (0) and mouth (1) on the alignment template (a frontal face)."""


def landmark_pose(landmarks: np.ndarray) -> np.ndarray:
    """(N, 5, 2) landmarks -> (N, 3) float64 columns yaw, roll, pitch.

    yaw
        Horizontal offset of the nose tip from the eyes' midpoint, in eye distances (about
        +-0.5 for a face in profile; 0 frontal). Rotation-invariant: measured after levelling the eyes.
    roll
        Angle of the eye line, radians.
    pitch
        Nose height between eye line (0) and mouth line (1), minus the template's (0 when frontal).

    Degenerate landmarks (coincident eyes) give NaN in that row.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[1:] != (5, 2):
        raise ValueError(f"landmarks must have shape (N, 5, 2), got {pts.shape}")
    eye_l, eye_r, nose = pts[:, 0], pts[:, 1], pts[:, 2]
    mouth = 0.5 * (pts[:, 3] + pts[:, 4])
    eye_mid = 0.5 * (eye_l + eye_r)
    axis = eye_r - eye_l
    ax, ay = axis[:, 0], axis[:, 1]
    dist = np.hypot(ax, ay)
    out = np.empty((len(pts), 3), np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ux, uy = ax / dist, ay / dist  # eye-line direction; (-uy, ux) points down the face
        rel_nose = nose - eye_mid
        rel_mouth = mouth - eye_mid
        # two-term dot products written out: the same sums, in the same order, as (a * b).sum(1)
        out[:, 0] = (rel_nose[:, 0] * ux + rel_nose[:, 1] * uy) / dist  # yaw
        out[:, 1] = np.arctan2(ay, ax)  # roll
        out[:, 2] = ((rel_nose[:, 0] * -uy + rel_nose[:, 1] * ux) / (rel_mouth[:, 0] * -uy + rel_mouth[:, 1] * ux)
                     - PITCH_RATIO_FRONTAL)  # pitch
    out[~np.isfinite(out).all(axis=1)] = np.nan
    return out


def frontalness(landmarks: np.ndarray) -> np.ndarray:
    """(N, 5, 2) landmarks -> (N,) float64 <= 0: minus the squared pose offset (0 = frontal, upright).

    yaw and pitch are in eye distances, roll in radians; each counts with weight one (a roll of
    0.3 rad, 17 degrees, costs as much as a nose 0.3 eye distances off centre). NaN rows (degenerate
    landmarks) get -inf.
    """
    pose = landmark_pose(landmarks)
    cost = (pose**2).sum(axis=1)
    return np.where(np.isnan(cost), -np.inf, -cost)
