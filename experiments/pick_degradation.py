"""The degradation grid of the selection rule WITH the detector's context, as in video.

The still-photo evidence (compare_methods.py, tests/test_quality_evidence.py) scores crops without
a context, where PickScorer is exactly dose. In the pipeline the rule also sees the detector's
confidence, landmarks and box of the degraded frame, so here each photo is degraded whole (8 kinds,
severities 0, 1/3, 2/3, 1), YuNet (the pipeline's default, min confidence 0.6) runs on the degraded
photo, and the detection nearest the clean face gives both the crop and the context. A degraded
copy the detector misses would never reach the scorer in video; it is left out and counted.

Two Spearman(severity, score) per kind: pooled over faces (as the still-photo grid), and within
each face (its detected severities; mean over faces), which is what a selection rule needs: to
prefer the clean copy of the same face.

``--split train`` (100 lfw/train photos) chooses the dose weight of PickScorer (the eye term,
the paper's likelihood on the eye band, rises when a face is darkened, like the paper's score);
``--split held-out`` (the 60 lfw/eval + 40 orl photos of the evidence) reports.

Run:  python experiments/pick_degradation.py --split train
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from facesel.align import align_face, pad_for_detection
from facesel.data import data_root
from facesel.detectors import make_detector
from facesel.eval.degrade import KINDS, degrade
from facesel.eval.evidence import SEVERITIES, held_out_photos, spearman, spearman_per_kind
from facesel.faceset import list_images, locate_tight_face, read_image
from facesel.scoring import LaplacianVarianceScorer, PickScorer, VAEScorer
from facesel.types import CropContext

DOSE_WEIGHTS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)
EYE_VARIANTS = {"eyes": "eye_ll", "eyes_relative": "eye_rel"}  # PickScorer weight -> feature in track_signals
CONTEXT = ["detector", "-yaw", "-roll", "-pitch", "log_size"]
WEIGHT_OF = {"detector": "detector", "-yaw": "yaw", "-roll": "roll", "-pitch": "pitch", "log_size": "log_size"}


def fitted_weights(features, eye: str, w_dose: float) -> dict:
    """PickScorer weights: the dose weight fixed, the others fitted on the videos' tracks
    (experiments/track_signals.py, pairwise ranking, L2 = 10)."""
    import track_signals as ts

    names = [EYE_VARIANTS[eye]] + CONTEXT
    beta = ts.fit_ranking(features, names, l2=10.0, offset=lambda f: w_dose * f["dose_l1"])
    weights = {"dose": w_dose, "eyes": 0.0, "eyes_relative": 0.0, eye: float(beta[0])}
    weights.update({WEIGHT_OF[n]: float(b) for n, b in zip(CONTEXT, beta[1:])})
    return weights


def train_photos(n: int = 100) -> list[np.ndarray]:
    items = list_images(data_root() / "faces" / "lfw" / "train")
    return [read_image(items[k][1]) for k in np.linspace(0, len(items) - 1, n).round().astype(int)]


def degraded_detections(photos, detector):
    crops, dets, boxes, lms, face, kind_idx, sev = [], [], [], [], [], [], []
    missed = {k: 0 for k in KINDS}
    for f, photo in enumerate(photos):
        _, clean_box, _, _ = locate_tight_face(photo, detector)
        centre = (clean_box[:2] + clean_box[2:]) / 2.0
        for k, kind in enumerate(KINDS):
            for s in SEVERITIES:
                padded = pad_for_detection(degrade(photo, kind, s, np.random.default_rng([0, f, k])))[0]
                found = detector.detect(padded)
                if len(found) == 0:
                    missed[kind] += 1
                    continue
                c = (found.boxes[:, :2] + found.boxes[:, 2:]) / 2.0
                i = int(np.argmin(np.linalg.norm(c - centre, axis=1)))
                crops.append(align_face(padded, found.boxes[i], found.landmarks[i]).grey)
                dets.append(found.scores[i])
                boxes.append(found.boxes[i])
                lms.append(found.landmarks[i])
                face.append(f)
                kind_idx.append(k)
                sev.append(s)
    context = CropContext(np.array(dets), np.array(boxes), np.array(lms), (0, 0))
    return np.stack(crops), context, np.array(face), np.array(kind_idx), np.array(sev), missed


def within_face(scores, face, kind_idx, sev) -> dict:
    out = {}
    for k, kind in enumerate(KINDS):
        rhos = []
        for f in np.unique(face[kind_idx == k]):
            m = (kind_idx == k) & (face == f)
            if m.sum() >= 2 and np.ptp(scores[m]) > 0:
                rhos.append(spearman(sev[m], scores[m]))
        out[kind] = float(np.mean(rhos)) if rhos else float("nan")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", choices=("train", "held-out"), required=True)
    p.add_argument("--features", type=Path, default=Path("/tmp/pick/features"), help="track_features.py output")
    p.add_argument("--only", nargs=2, metavar=("EYE", "DOSE_WEIGHT"), help="one variant only (the held-out report)")
    args = p.parse_args()
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import track_signals as ts

    ts.SIGNALS.setdefault("eye_rel", lambda f: f["eye_rel"])
    features = ts.load(args.features)
    for f in features.values():
        f.setdefault("eye_rel", f["eye_ll"] - f["paper_l1"] / 4096.0)
    detector = make_detector("yunet")
    photos = train_photos() if args.split == "train" else held_out_photos(data_root())
    crops, context, face, kind_idx, sev, missed = degraded_detections(photos, detector)
    variants = [(e, float(w)) for e in EYE_VARIANTS for w in DOSE_WEIGHTS] if args.only is None else [(args.only[0], float(args.only[1]))]
    rules = {}
    for eye, w_dose in variants:
        weights = fitted_weights(features, eye, w_dose)
        rules[f"pick, {eye}, dose weight {w_dose}"] = PickScorer(weights=weights).score(crops, context=context)
        print(f"{eye}, dose {w_dose}: weights {({k: round(v, 4) for k, v in weights.items()})}")
    rules["dose (previous default, L = 10)"] = VAEScorer(method="dose").score(crops)
    rules["Laplacian variance"] = LaplacianVarianceScorer().score(crops)
    print(f"split {args.split}: {len(photos)} photos; missed detections per kind (of {4 * len(photos)}): {missed}")
    for title, fn in (("pooled over faces", lambda s: spearman_per_kind(s, kind_idx, sev)),
                      ("within each face", lambda s: within_face(s, face, kind_idx, sev))):
        print(f"\n{title}\n| rule | " + " | ".join(KINDS) + " | worst |")
        print("|---|" + "---|" * (len(KINDS) + 1))
        for name, scores in rules.items():
            rho = fn(scores)
            print(f"| {name} | " + " | ".join(f"{rho[k]:+.2f}" for k in KINDS) + f" | {max(rho.values()):+.2f} |")


if __name__ == "__main__":
    main()
