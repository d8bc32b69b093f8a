"""Where the finaliser's "is it a face" thresholds come from (docs/persons.md), measured without
the videos' tracks: held-out faces (lfw/eval + orl, never lfw/train), degraded by facesel.eval.degrade,
against the background crops of facesel.eval.evidence.

- DOSE_FACE_FLOOR: the equal-error threshold of the shipped VAE's ``dose`` score between faces
  degraded up to severity 2/3 ("poor faces") and background crops.
- FacenessRule.min_det_score: the 1st percentile of YuNet's confidence on the clean held-out
  photos (padded as tight crops need).

Run: python experiments/persons_thresholds.py   (about 2 CPU minutes)
"""

from __future__ import annotations

import sys

import numpy as np

from facesel.align import pad_for_detection
from facesel.data import data_root
from facesel.detect import make_detector
from facesel.eval.degrade import KINDS, degrade
from facesel.eval.evidence import SEVERITIES, background_crops, degradation_grid, held_out_faces, held_out_photos
from facesel.scoring.vae import VAEScorer


def equal_error_threshold(positive: np.ndarray, negative: np.ndarray) -> tuple[float, float]:
    """(threshold, error): where the share of positives below equals the share of negatives at or above."""
    grid = np.unique(np.concatenate([positive, negative]))
    below = np.searchsorted(np.sort(positive), grid, side="left") / len(positive)
    above = 1.0 - np.searchsorted(np.sort(negative), grid, side="left") / len(negative)
    k = int(np.argmin(np.abs(below - above)))
    return float(grid[k]), float((below[k] + above[k]) / 2)


def main() -> None:
    root = data_root()
    if root is None:
        raise SystemExit("the shared data is needed (FACESEL_DATA)")
    crops, _, severity = degradation_grid(held_out_faces(root))
    backgrounds = background_crops(root)
    # the vote's rule: dose at L = 10 (DOSE_FACE_FLOOR), and at z = mu_z once (a seventh of the
    # cost; DOSE_ONCE_FACE_FLOOR, the finaliser's default vote since issue 23)
    for label, scorer in (("dose L=10", VAEScorer(method="dose")),
                          ("dose z=mu_z", VAEScorer(method="dose", samples=1, use_mean=True))):
        faces = scorer.score(crops)
        background = scorer.score(backgrounds)
        for top in (0.0, 1 / 3, 2 / 3):
            threshold, error = equal_error_threshold(faces[severity <= top + 1e-9], background)
            print(f"{label}: faces degraded up to severity {top:.2f} vs {len(background)} background crops: "
                  f"equal-error threshold {threshold:.1f} ({100 * error:.0f} % misjudged)")
    if "--dose-only" in sys.argv:
        return
    detector = make_detector("yunet", min_confidence=0.3)
    confidences = []
    for photo in held_out_photos(root):
        found = detector.detect(pad_for_detection(photo)[0])
        confidences.append(float(found.scores.max()) if len(found) else 0.0)
    confidences = np.array(confidences)
    print(f"YuNet confidence on {len(confidences)} clean held-out photos: 1st percentile "
          f"{np.percentile(confidences, 1):.2f}, 5th {np.percentile(confidences, 5):.2f}, median {np.median(confidences):.2f}")
    for s in SEVERITIES[1:]:
        scores = []
        for k, kind in enumerate(KINDS):
            for f, photo in enumerate(held_out_photos(root)):
                found = detector.detect(pad_for_detection(degrade(photo, kind, s, np.random.default_rng([0, f, k])))[0])
                scores.append(float(found.scores.max()) if len(found) else 0.0)
        scores = np.array(scores)
        print(f"  degraded (severity {s:.2f}): missed {np.mean(scores == 0):.0%}, 5th percentile of the found "
              f"{np.percentile(scores[scores > 0], 5):.2f}")


if __name__ == "__main__":
    main()
