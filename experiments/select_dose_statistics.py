"""Choose the statistics of the ``dose`` scoring rule on training faces only, by greedy forward selection.

    python experiments/select_dose_statistics.py --model python/facesel/models/vae --out selection.json

Data: ``--faces`` images evenly spaced through ``lfw/train`` (the folder the VAE was trained on;
evaluation faces are never looked at here), through the pipeline's crop function, each degraded by
the 8 kinds of :mod:`facesel.eval.degrade` at severities 0, 1/3, 2/3, 1. One VAE pass at L = 10 gives
every statistic of :data:`facesel.scoring.vae_methods.STATISTICS` for every crop.

Split half: the Gaussian of a candidate set is fitted to the clean crops of the even-numbered faces,
and the set is judged on the odd-numbered faces by its worst degradation kind (the lowest
-Spearman(severity, score) pooled over faces). Greedy forward selection starts from ``--start``
(default: the five statistics shipped before JPEG was handled; ``--start ""`` starts empty) and adds,
one at a time, the statistic that most improves that worst kind, stopping when nothing improves it
by ``--min-gain``.
Degraded crops are used only to choose which statistics to look at; the shipped Gaussian is still
fitted to clean training faces alone (``facesel calibrate``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from facesel.data import data_root
from facesel.eval.degrade import KINDS
from facesel.eval.evidence import degradation_grid, spearman_per_kind
from facesel.faceset import align_tight_crop, list_images, read_image
from facesel.scoring.vae import VAEScorer
from facesel.scoring.vae_methods import STATISTICS, quality_statistics
from facesel.training.calibrate import COVARIANCES, fit_gaussian


FIRST_SET = ("log_rp_per_pixel", "log_webp_bits", "log_png_bits_half", "log_chi2_fine", "log_chi2_coarse")
"""The set facesel shipped first (chosen on a few lfw/eval faces; JPEG reached only -0.74 with it)."""


def training_faces(root: Path, n: int) -> np.ndarray:
    """(n, 64, 64) uint8 crops of images evenly spaced through lfw/train."""
    from facesel.detectors import YuNetDetector

    detector = YuNetDetector(min_confidence=0.5)
    items = list_images(root / "faces" / "lfw" / "train")
    picks = np.linspace(0, len(items) - 1, n).round().astype(int)
    return np.stack([align_tight_crop(read_image(items[k][1]), detector)[0] for k in picks])


def all_statistics(scorer: VAEScorer, crops: np.ndarray) -> np.ndarray:
    """(N, len(STATISTICS)) statistics of every crop, in the order of STATISTICS."""
    names = list(STATISTICS)
    return scorer.run_batches(crops, lambda out, chunk: quality_statistics(out, chunk, names), columns=len(names))


def per_kind(stats: np.ndarray, cols: list[int], fit: np.ndarray, judge: np.ndarray, kind, sev, covariance: str) -> dict:
    """{kind: Spearman} of the dose score of statistic columns ``cols`` on the ``judge`` rows."""
    mean, precision = fit_gaussian(stats[fit][:, cols], covariance=covariance)
    d = stats[judge][:, cols] - mean
    score = -np.einsum("ni,ij,nj->n", d, precision, d)
    return spearman_per_kind(score, kind[judge], sev[judge])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="exported model folder (encoder.onnx, decoder.onnx, model_card.json)")
    ap.add_argument("--faces", type=int, default=300, help="lfw/train faces to degrade")
    ap.add_argument("--start", default=",".join(FIRST_SET), help="comma-separated statistics to start from")
    ap.add_argument("--min-gain", type=float, default=0.005, help="stop when the worst kind improves by less")
    ap.add_argument("--covariance", choices=COVARIANCES, default="diagonal", help="Gaussian covariance (default diagonal)")
    ap.add_argument("--out", default=None, help="write the selection trace as JSON")
    args = ap.parse_args()

    root = data_root()
    if root is None:
        raise SystemExit("shared data not found: set FACESEL_DATA to the folder that holds faces/ and videos/")
    t0 = time.time()
    faces = training_faces(root, args.faces)
    crops, kind, sev = degradation_grid(faces, seed=11)
    scorer = VAEScorer(args.model, method="paper", samples=10, seed=0)
    stats = all_statistics(scorer, crops)
    names = list(STATISTICS)
    face = np.arange(len(crops)) // 4 % len(faces)  # degradation_grid: kind-major, then face, then 4 severities
    fit = (sev == 0) & (face % 2 == 0)
    judge = face % 2 == 1
    print(f"{len(faces)} lfw/train faces, {len(crops)} crops, statistics in {time.time() - t0:.0f} s")

    unknown = [n for n in args.start.split(",") if n and n not in names]
    if unknown:
        raise SystemExit(f"--start: unknown statistics {unknown}; known: {names}")
    chosen = [names.index(n) for n in args.start.split(",") if n]
    trace = []
    best_worst = -np.inf
    if chosen:
        rho = per_kind(stats, chosen, fit, judge, kind, sev, args.covariance)
        best_worst = -max(rho.values())
        trace.append({"added": None, "set": [names[i] for i in chosen], "worst": float(-best_worst), "spearman": rho})
        print(f"  start {len(chosen)} statistics      worst {-best_worst:+.2f}  " + " ".join(f"{k[:6]} {v:+.2f}" for k, v in rho.items()))
    while len(chosen) < len(names):
        trials = {}
        for c in range(len(names)):
            if c not in chosen:
                rho = per_kind(stats, chosen + [c], fit, judge, kind, sev, args.covariance)
                trials[c] = (-max(rho.values()), rho)  # worst kind, as a positive strength
        c, (worst, rho) = max(trials.items(), key=lambda item: item[1][0])
        if worst < best_worst + args.min_gain:
            break
        chosen.append(c)
        best_worst = worst
        step = {"added": names[c], "set": [names[i] for i in chosen], "worst": float(-worst), "spearman": rho}
        trace.append(step)
        print(f"+ {names[c]:22s} worst {-worst:+.2f}  " + " ".join(f"{k[:6]} {v:+.2f}" for k, v in rho.items()))
    print("selected:", [names[i] for i in chosen])
    if args.out:
        Path(args.out).write_text(json.dumps({"faces": args.faces, "covariance": args.covariance, "kinds": list(KINDS), "trace": trace}, indent=2))


if __name__ == "__main__":
    main()
