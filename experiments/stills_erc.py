"""The photo rule (dose_flat minus the photo's JPEG grid term) in the ERC/EDC harness on degraded
lfw/eval, beside dose_flat (the harness's ``vae``), issue 22.

``facesel eval erc`` scores the aligned crops only, so the photo's grid term cannot enter it as a
method. This script builds the same evaluation set (:func:`facesel.eval.protocol.build_eval_set`,
degrade seed 1: every probe degraded whole by one kind at a random severity, in memory), redoes the
same degradations to measure each photo's grid term in its face box (the crop made from that
photo is checked equal to the harness's crop, so the two cannot drift apart), and runs the
harness's own analysis (:func:`facesel.eval.analysis.analyse`, bootstrap over subjects) and
per-kind Spearman. Numbers only; no image is written. The embedding cache (biometric templates)
goes to ``--cache-dir``: keep it private, delete it after.

Run:  python experiments/stills_erc.py --cache-dir /tmp/erc-cache [--limit-identities N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from facesel.data import data_root
from facesel.detectors import YuNetDetector
from facesel.eval.analysis import analyse, kind_spearman
from facesel.eval.cache import EmbeddingCache
from facesel.eval.degrade import KINDS, degrade
from facesel.eval.matcher import DlibMatcher
from facesel.eval.protocol import build_eval_set
from facesel.faceset import read_image
from facesel.scoring.jpeg_grid import jpeg_grid_penalty
from facesel.scoring.stills import face_in_photo
from facesel.scoring.vae import VAEScorer


def photo_grid_excess(eval_set, detector) -> np.ndarray:
    """(N,) grid term input of every image as the harness degraded it (same draws as build_eval_set)."""
    images = [read_image(p) for p in eval_set.paths]
    rng = np.random.default_rng(eval_set.degrade_seed)
    for i in eval_set.probes:
        kind = KINDS[int(rng.integers(len(KINDS)))]
        severity = float(rng.uniform(0.0, 1.0))
        assert kind == eval_set.kind[i] and severity == eval_set.severity[i], "the draws drifted from build_eval_set's"
        images[i] = degrade(images[i], kind, severity, np.random.default_rng(rng.integers(2**63)))
    excess = np.empty(len(images))
    for i, image in enumerate(images):
        crop, _, _, excess[i] = face_in_photo(image, detector)
        assert np.array_equal(crop, eval_set.crops[i]), f"image {i}: not the harness's crop"
    return excess


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache-dir", type=Path, required=True, help="embedding cache (sensitive: biometric templates)")
    p.add_argument("--limit-identities", type=int, default=None)
    p.add_argument("--bootstrap", type=int, default=500)
    p.add_argument("--split", choices=("eval", "train"), default="eval",
                   help="train: lfw/train's subjects with two images, where a variant may be chosen")
    args = p.parse_args()
    matcher, detector = DlibMatcher(), YuNetDetector(min_confidence=0.5)
    eval_set = build_eval_set(data_root() / "faces" / "lfw" / args.split, matcher, detector, EmbeddingCache(args.cache_dir, matcher.identity),
                              degrade_seed=1, limit_identities=args.limit_identities, progress=False)
    excess = photo_grid_excess(eval_set, detector)
    vae = VAEScorer(method="dose_flat", samples=10, seed=0)
    dose_flat = vae.score(eval_set.crops)
    # the shipped linear term, and the squared one it replaced (PhotoScorer(tail="gaussian"))
    qualities = {"dose_flat": dose_flat, "photo rule": dose_flat - jpeg_grid_penalty(excess, vae.calibration),
                 "squared": dose_flat - jpeg_grid_penalty(excess, vae.calibration, "gaussian")}
    results, skipped = analyse(eval_set, qualities, n_boot=args.bootstrap)
    print(f"lfw/{args.split} degraded (seed 1): {len(np.unique(eval_set.identities))} subjects, {len(eval_set.probes)} probes; skipped {skipped}")
    for proto, res in results.items():
        print(f"\n{proto} ({res.n_errors} failures of {res.n_comparisons})")
        for name in ("photo rule", "squared", "dose_flat"):
            row = res.rows[name]
            print(f"  {name}: gain@20% {row['gain@0.2']:.2f} [{row['gain@0.2_ci'][0]:.2f}, {row['gain@0.2_ci'][1]:.2f}]")
        pair = res.paired["dose_flat vs photo rule@0.2"]
        print(f"  photo rule - dose_flat: {-pair['gain_difference']:+.3f} [{-pair['ci'][1]:+.3f}, {-pair['ci'][0]:+.3f}]")
        pair = res.paired["dose_flat vs squared@0.2"]
        print(f"  squared - dose_flat: {-pair['gain_difference']:+.3f} [{-pair['ci'][1]:+.3f}, {-pair['ci'][0]:+.3f}]")
    rho = kind_spearman(eval_set, qualities)
    print("\nper-kind Spearman(severity, score) over the probes:")
    for name in ("photo rule", "squared", "dose_flat"):
        print(f"  {name}: " + ", ".join(f"{k} {rho[name][k]:+.2f}" for k in KINDS if k in rho[name]))


if __name__ == "__main__":
    main()
