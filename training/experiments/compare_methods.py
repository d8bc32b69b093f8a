"""Measure every scoring rule of one exported model on real held-out data; print and save JSON.

    python training/experiments/compare_methods.py --model DIR --faces 100 --samples 10 --out results.json

Data: aligned crops of lfw/eval (every 16th image) and orl, the shared videos' background crops.
All faces are held out from training. The numbers go into the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facesel.data import data_root  # noqa: E402
from facesel.faceset import align_tight_crop, list_images, read_image  # noqa: E402
from facesel.scoring import LaplacianVarianceScorer  # noqa: E402
from facesel.scoring.vae_methods import METHODS  # noqa: E402
from facesel.scoring.vae import VAEScorer  # noqa: E402
from facesel_training.evidence import (  # noqa: E402
    auroc,
    background_crops,
    degradation_grid,
    spearman,
    spearman_per_kind,
)


def held_out_faces(root: Path, n: int, cache: Path | None) -> np.ndarray:
    """n aligned lfw/eval crops (every k-th image, so many identities), optionally cached."""
    if cache is not None and cache.is_file():
        grey = np.load(cache)["grey"]
        if len(grey) >= n:
            return grey[:n]
    from facesel.detectors import YuNetDetector

    det = YuNetDetector(min_confidence=0.5)
    items = list_images(root / "faces" / "lfw" / "eval")
    step = max(1, len(items) // n)
    return np.stack([align_tight_crop(read_image(p), det)[0] for _, p in items[::step][:n]])


def all_scores(scorer: VAEScorer, crops: np.ndarray, methods) -> dict:
    """{method: (N,) scores} from one pass of the VAE (rules share the outputs)."""
    out = {m: np.empty(len(crops)) for m in methods}
    for start in range(0, len(crops), scorer.batch_size):
        chunk = crops[start : start + scorer.batch_size]
        outputs = scorer.runner.run(chunk, scorer.samples, scorer.use_mean, scorer.seed)
        for m in methods:
            out[m][start : start + len(chunk)] = METHODS[m](outputs, chunk, scorer.calibration)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--faces", type=int, default=100)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--face-cache", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    methods = args.methods.split(",")
    root = data_root()
    faces = held_out_faces(root, args.faces, Path(args.face_cache) if args.face_cache else None)
    grid, kind_idx, sev = degradation_grid(faces)
    bg = background_crops(root)
    clean = faces
    t = time.perf_counter()
    s10 = VAEScorer(args.model, samples=args.samples, threads=1, method=methods[0])
    grid_scores = all_scores(s10, grid, methods)
    face_scores = {m: grid_scores[m][sev == 0][: len(clean)] for m in methods}  # kind 0, severity 0 = clean
    bg_scores = all_scores(s10, bg, methods)
    s1 = VAEScorer(args.model, samples=1, use_mean=True, method=methods[0])
    clean1 = all_scores(s1, clean, methods)
    clean10 = all_scores(s10, clean, methods)
    results = {"faces": len(faces), "background": len(bg), "samples": args.samples, "methods": {}}
    for m in methods:
        results["methods"][m] = {
            "spearman": spearman_per_kind(grid_scores[m], kind_idx, sev),
            "auroc_face_vs_background": auroc(face_scores[m], bg_scores[m]),
            "rank_corr_L1_vs_L10": spearman(clean1[m], clean10[m]),
        }
    lap = LaplacianVarianceScorer()
    results["methods"]["laplacian_variance"] = {
        "spearman": spearman_per_kind(lap.score(grid), kind_idx, sev),
        "auroc_face_vs_background": auroc(lap.score(clean), lap.score(bg)),
    }
    results["seconds"] = time.perf_counter() - t
    for m, r in results["methods"].items():
        sp = " ".join(f"{k[:6]}={v:+.2f}" for k, v in r["spearman"].items())
        print(f"{m:18s} AUROC={r['auroc_face_vs_background']:.3f} L1vL10={r.get('rank_corr_L1_vs_L10', float('nan')):.3f} {sp}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
