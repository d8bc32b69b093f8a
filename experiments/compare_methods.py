"""Measure every scoring rule of one exported model on real held-out data; print and save JSON.

    python experiments/compare_methods.py --model python/facesel/models/vae --out results.json

Data (all held out from training): 60 lfw/eval + 40 orl faces through the pipeline's crop
function, each degraded by the 8 kinds at severities 0, 1/3, 2/3, 1 (once in the crop, once in the
whole photo before alignment); 168 background crops of the
shared videos; the selfie video's face track. One VAE pass at L samples feeds every rule.
The numbers go into docs/model_card.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from facesel.data import data_root
from facesel.eval.evidence import (
    auroc,
    background_crops,
    degradation_grid,
    degradation_grid_before_alignment,
    held_out_faces,
    selfie_track,
    spearman,
    spearman_per_kind,
)
from facesel.scoring import LaplacianVarianceScorer
from facesel.scoring.vae import VAEScorer
from facesel.scoring.vae_methods import METHODS


def all_scores(scorer: VAEScorer, crops: np.ndarray, methods) -> dict:
    """{method: (N,) scores} from one pass of the VAE (the rules share its outputs)."""
    methods = list(methods)
    table = scorer.run_batches(
        crops, lambda outputs, chunk: np.stack([METHODS[m](outputs, chunk, scorer.calibration) for m in methods], axis=1),
        columns=len(methods),
    )
    return {m: table[:, k] for k, m in enumerate(methods)}


def selfie_summary(scores: np.ndarray, sharpness: np.ndarray, coverage: np.ndarray) -> dict:
    top = np.argsort(scores)[-3:]
    inside = coverage >= 0.95
    return {
        "spearman_vs_native_sharpness": spearman(scores, sharpness),
        "spearman_vs_frame_coverage": spearman(scores, coverage),
        "spearman_vs_sharpness_crops_inside_frame": spearman(scores[inside], sharpness[inside]),
        "crops_inside_frame": int(inside.sum()),
        "top3_sharpness_percentiles": [float(np.mean(sharpness <= sharpness[b])) for b in top],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    methods = args.methods.split(",")
    root = data_root()
    t = time.perf_counter()
    faces = held_out_faces(root, 60, 40)
    grid, kind_idx, sev = degradation_grid(faces, seed=5)
    photo_grid, photo_kind, photo_sev = degradation_grid_before_alignment(root, 60, 40, seed=5)
    bg = background_crops(root, seed=1)
    selfie, sharpness, coverage = selfie_track(root)
    s10 = VAEScorer(args.model, samples=args.samples, method=methods[0])
    s1 = VAEScorer(args.model, samples=1, use_mean=True, method=methods[0])
    grid_scores = all_scores(s10, grid, methods)
    photo_scores = all_scores(s10, photo_grid, methods)
    bg_scores = all_scores(s10, bg, methods)
    selfie_scores = all_scores(s10, selfie, methods)
    clean = (kind_idx == 0) & (sev == 0)
    clean1 = all_scores(s1, faces, methods)
    results = {
        "model": str(args.model),
        "faces": len(faces),
        "background_crops": len(bg),
        "selfie_frames": len(selfie),
        "samples": args.samples,
        "methods": {},
    }
    for m in methods:
        results["methods"][m] = {
            "spearman": spearman_per_kind(grid_scores[m], kind_idx, sev),
            "spearman_degraded_before_alignment": spearman_per_kind(photo_scores[m], photo_kind, photo_sev),
            "auroc_face_vs_background": auroc(grid_scores[m][clean], bg_scores[m]),
            "rank_corr_L1_vs_L10": spearman(clean1[m], grid_scores[m][clean]),
            "selfie": selfie_summary(selfie_scores[m], sharpness, coverage),
        }
    lap = LaplacianVarianceScorer()
    results["methods"]["laplacian_variance"] = {
        "spearman": spearman_per_kind(lap.score(grid), kind_idx, sev),
        "spearman_degraded_before_alignment": spearman_per_kind(lap.score(photo_grid), photo_kind, photo_sev),
        "auroc_face_vs_background": auroc(lap.score(faces), lap.score(bg)),
        "selfie": selfie_summary(lap.score(selfie), sharpness, coverage),
    }
    results["seconds"] = round(time.perf_counter() - t, 1)
    for m, r in results["methods"].items():
        sp = " ".join(f"{k[:6]}={v:+.2f}" for k, v in r["spearman"].items())
        print(
            f"{m:18s} AUROC={r['auroc_face_vs_background']:.3f} L1vL10={r.get('rank_corr_L1_vs_L10', float('nan')):.3f} "
            f"selfie={r['selfie']['spearman_vs_native_sharpness']:+.2f} "
            f"(coverage {r['selfie']['spearman_vs_frame_coverage']:+.2f}, inside {r['selfie']['spearman_vs_sharpness_crops_inside_frame']:+.2f}) "
            f"top3={[round(x, 2) for x in r['selfie']['top3_sharpness_percentiles']]} {sp}"
        )
        before = " ".join(f"{k[:6]}={v:+.2f}" for k, v in r["spearman_degraded_before_alignment"].items())
        print(f"{'':18s} degraded before alignment: {before}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
