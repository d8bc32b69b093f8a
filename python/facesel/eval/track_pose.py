"""Is the landmark pose of :mod:`facesel.scoring.pose` what the clips' real head movements are?

Two checks on the benchmark's windows, both written into the tracks report:

* **against the matcher**: pooled over every crop of every eligible window, the crop's distance
  above its window's best, by bin of signed pitch, |roll|, |yaw| and detector confidence. A pose
  measure that tracks real head tilts has the least excess near 0 and more towards the extremes;
  an asymmetric table (e.g. chin-up worse than chin-down) says where a symmetric penalty is wrong.
* **against a 3-D fit**: the head's pitch, yaw and roll in degrees from ``cv2.solvePnP`` of the same
  five points on a generic 3-D face (:data:`FACE_3D`; camera focal length = frame width), a
  geometric model independent of the 2-D ratios; Spearman between the two per clip, and the
  degrees one unit of the ratio is worth. Same landmarks, so it checks the ratio's geometry and
  sign, not the detector's landmark errors.
"""

from __future__ import annotations

import numpy as np

FACE_3D = np.array([[-31.0, 32.0, -26.0], [31.0, 32.0, -26.0], [0.0, 0.0, 0.0], [-23.0, -30.0, -22.0],
                    [23.0, -30.0, -22.0]], np.float64)
"""Generic 3-D positions (mm; x right, y up, z towards the camera; nose tip at the origin) of the
left eye, right eye, nose tip and mouth corners as seen in the image: rough adult averages."""

BINS = {
    "pitch": (-np.inf, -0.2, -0.1, -0.05, 0.05, 0.1, 0.2, np.inf),
    "|roll| (deg)": (0.0, 5.0, 10.0, 15.0, 30.0, np.inf),
    "|yaw|": (0.0, 0.05, 0.1, 0.15, 0.25, np.inf),
    "detector": (0.0, 0.6, 0.7, 0.8, 0.9, 1.01),
}


def _pooled(observations, views) -> dict[str, np.ndarray]:
    excess, dist, clip, values = [], [], [], {k: [] for k in BINS}
    for o, v in zip(observations, views):
        excess.append(o.distances - o.distances.min())
        dist.append(o.distances)
        clip += [o.clip] * len(o.rows)
        s = v.signals
        values["pitch"].append(s["pitch"])
        values["|roll| (deg)"].append(np.degrees(np.abs(s["roll"])))
        values["|yaw|"].append(np.abs(s["yaw"]))
        values["detector"].append(s["det"])
    out = {k: np.concatenate(v) if v else np.zeros(0) for k, v in values.items()}
    out["excess"] = np.concatenate(excess) if excess else np.zeros(0)
    out["distance"] = np.concatenate(dist) if dist else np.zeros(0)
    out["clip"] = np.array(clip)
    return out


def pose_bins(observations, views) -> dict[str, list[dict]]:
    """Per signal, per bin: crops, clips, mean distance above the window's best, share matchable."""
    from facesel.eval.track_metrics import MATCH_THRESHOLD

    p = _pooled(observations, views)
    out = {}
    for name, edges in BINS.items():
        rows = []
        x = p[name]
        for lo, hi in zip(edges[:-1], edges[1:]):
            m = (x >= lo) & (x < hi)
            if not m.any():
                rows.append({"low": lo, "high": hi, "crops": 0})
                continue
            rows.append({"low": float(lo), "high": float(hi), "crops": int(m.sum()), "clips": int(len(set(p["clip"][m]))),
                         "excess": float(p["excess"][m].mean()),
                         "matchable": float((p["distance"][m] < MATCH_THRESHOLD).mean())})
        nan = ~np.isfinite(x)
        if nan.any():
            rows.append({"low": float("nan"), "high": float("nan"), "crops": int(nan.sum()),
                         "clips": int(len(set(p["clip"][nan]))), "excess": float(p["excess"][nan].mean()),
                         "matchable": float((p["distance"][nan] < MATCH_THRESHOLD).mean())})
        out[name] = rows
    return out


def pnp_angles(landmarks, frame_shape) -> np.ndarray:
    """(N, 5, 2) landmarks -> (N, 3) pitch, yaw, roll in degrees from a 3-D fit (NaN where it fails).

    Pitch > 0: chin down (looking down); yaw > 0: turned towards the image's right; roll: the
    image-plane rotation."""
    import cv2

    lm = np.asarray(landmarks, np.float64)
    h, w = frame_shape
    f = float(max(w, 1))
    cam = np.array([[f, 0, w / 2.0], [0, f, h / 2.0], [0, 0, 1]], np.float64)
    # the 3-D model has y up; the image has y down: flip y so the points agree
    model = FACE_3D * np.array([1.0, -1.0, -1.0])
    out = np.full((len(lm), 3), np.nan)
    for i, pts in enumerate(lm):
        if not np.isfinite(pts).all():
            continue
        # five points are too few for the DLT start: start from a frontal head at the distance its
        # eye spacing implies, then refine (Levenberg-Marquardt)
        eye_px = float(np.hypot(*(pts[1] - pts[0])))
        if eye_px < 1.0:
            continue
        z0 = f * 62.0 / eye_px
        centre = pts.mean(axis=0)
        t0 = np.array([[(centre[0] - w / 2.0) * z0 / f], [(centre[1] - h / 2.0) * z0 / f], [z0]])
        ok, rvec, _t = cv2.solvePnP(model, pts.reshape(-1, 1, 2), cam, None, np.zeros((3, 1)), t0,
                                    useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
        if not ok:
            continue
        r, _ = cv2.Rodrigues(rvec)
        # Euler angles (x: pitch, y: yaw, z: roll) of the head in the camera frame
        sy = np.hypot(r[0, 0], r[1, 0])
        out[i] = np.degrees([np.arctan2(r[2, 1], r[2, 2]), np.arctan2(-r[2, 0], sy), np.arctan2(r[1, 0], r[0, 0])])
    return out


def pose_agreement(observations, views) -> dict:
    """Spearman between the landmark ratios and the 3-D fit's angles (median over clips with 10 or
    more crops), and the least-squares degrees per unit of ratio, pooled."""
    from facesel.eval.track_metrics import spearman

    by_clip: dict[str, list] = {}
    for o, v in zip(observations, views):
        if v.context is None or v.context.landmarks is None:
            continue
        by_clip.setdefault(o.clip, []).append((v.context.landmarks, v.context.frame_shape, v.signals))
    rho = {"pitch": [], "yaw": [], "roll": []}
    pooled = {"pitch": ([], []), "yaw": ([], []), "roll": ([], [])}
    for parts in by_clip.values():
        lm = np.concatenate([p[0] for p in parts])
        ang = pnp_angles(lm, parts[0][1])
        ratio = {k: np.concatenate([p[2][k] for p in parts]) for k in ("pitch", "yaw", "roll")}
        ratio["roll"] = np.degrees(ratio["roll"])
        for j, k in enumerate(("pitch", "yaw", "roll")):
            ok = np.isfinite(ang[:, j]) & np.isfinite(ratio[k])
            if ok.sum() >= 10 and np.ptp(ratio[k][ok]) > 0 and np.ptp(ang[ok, j]) > 0:
                rho[k].append(spearman(ratio[k][ok], ang[ok, j]))
            pooled[k][0].append(ratio[k][ok])
            pooled[k][1].append(ang[ok, j])
    out = {}
    for k in rho:
        x = np.concatenate(pooled[k][0]) if pooled[k][0] else np.zeros(0)
        y = np.concatenate(pooled[k][1]) if pooled[k][1] else np.zeros(0)
        slope = float(np.polyfit(x, y, 1)[0]) if len(x) > 2 and np.ptp(x) > 0 else float("nan")
        out[k] = {"clips": len(rho[k]), "median_spearman": float(np.median(rho[k])) if rho[k] else float("nan"),
                  "degrees_per_unit": slope, "crops": int(len(x))}
    return out


def markdown(observations, views) -> str:
    """The report section: the bins table and the 3-D agreement."""
    lines = ["Crops pooled over every eligible window; `excess`: the crop's matcher distance above its window's best "
             "(what picking it would cost); `matchable`: share below 0.6. Pitch: nose height between eyes and mouth "
             "minus the alignment template's (> 0: nose nearer the mouth).", ""]
    for name, rows in pose_bins(observations, views).items():
        lines += [f"| {name} | crops | clips | excess | matchable |", "|---|---|---|---|---|"]
        for r in rows:
            label = "NaN (degenerate)" if np.isnan(r["low"]) else f"[{r['low']:g}, {r['high']:g})"
            if r["crops"] == 0:
                lines.append(f"| {label} | 0 | - | - | - |")
            else:
                lines.append(f"| {label} | {r['crops']} | {r['clips']} | {r['excess']:.3f} | {r['matchable']:.2f} |")
        lines.append("")
    agree = pose_agreement(observations, views)
    lines += ["Landmark ratio against a 3-D fit of the same five points (`cv2.solvePnP` on a generic face):", "",
              "| angle | clips | median Spearman (ratio, 3-D angle) | degrees per unit of ratio | crops |", "|---|---|---|---|---|"]
    for k, a in agree.items():
        lines.append(f"| {k} | {a['clips']} | {a['median_spearman']:+.2f} | {a['degrees_per_unit']:+.1f} | {a['crops']} |")
    return "\n".join(lines)
