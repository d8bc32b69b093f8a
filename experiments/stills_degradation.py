"""The stills default against the previous one: degradation grids and the added cost per crop.

Three grids, Spearman(severity, score) pooled over faces, severities 0, 1/3, 2/3, 1
(:mod:`facesel.eval.evidence`), both rules from the same VAE pass (L = 10, seed 0):

* ``own crop``: 120 held-out lfw/eval photos degraded whole, YuNet on the degraded photo gives the
  crop (:func:`facesel.eval.stills_grid.own_crop_grid_with_photo`, the same crops as
  :func:`facesel.eval.evidence.degradation_grid_own_crop`), as ``facesel score`` sees a photo;
* ``before alignment``: the evidence set (60 lfw/eval + 40 orl), degraded whole, cut with the
  clean photo's landmarks;
* ``crop``: the evidence set's aligned crops degraded (the model card's main table; no photo, so
  no photo rule).

The first two grids also give the photo rule (``dose_flat + jpeg grid``,
:class:`facesel.scoring.stills.PhotoScorer`: dose_flat minus the photo's JPEG grid term, linear)
and its squared variant, from the same pass; the own-crop grid also prints the JPEG diagnosis
(is a quality-77 copy's crop identical to the clean one; per-face Spearman; the pooled figure with
identical crops as ties) and the photo term's cost against dose_flat's VAE pass.

``--split train`` runs the own-crop grid on 120 lfw/train photos instead (where the flat-patch
statistic was chosen). Cost: ``VAEScorer(method=...).score`` of the same crops, dose and
dose_flat alternating, CPU time (``time.process_time``) of one process and thread; the ratio is
what counts on a loaded machine. Numbers only are printed; no crop is written.

Run:  python experiments/stills_degradation.py [--split train] [--only own]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from facesel.data import data_root
from facesel.eval.degrade import KINDS
from facesel.eval.evidence import (
    degradation_grid,
    held_out_faces,
    lfw_eval_photos,
    spearman_per_kind,
)
from facesel.eval.stills_grid import (
    before_alignment_grid_with_photo,
    own_crop_grid_with_photo,
)
from facesel.scoring import LaplacianVarianceScorer, VAEScorer
from facesel.scoring.jpeg_grid import grid_zero_excess, jpeg_grid_penalty
from facesel.scoring.vae_methods import METHODS, flat_fraction

RULES = ("dose_flat", "dose", "paper")
PHOTO_RULE = "dose_flat + jpeg grid"


def lfw_train_photos(n: int) -> list[np.ndarray]:
    from facesel.faceset import list_images, read_image

    items = list_images(data_root() / "faces" / "lfw" / "train")
    return [read_image(items[k][1]) for k in np.linspace(0, len(items) - 1, n).round().astype(int)]


def scores(crops: np.ndarray, grid_excess: np.ndarray | None = None) -> dict:
    """Every rule's scores of the crops; with ``grid_excess`` (the photos' JPEG grid statistic) also
    the photo rule (:class:`facesel.scoring.stills.PhotoScorer`: dose_flat minus the grid penalty)."""
    scorer = VAEScorer(samples=10, seed=0)
    table = scorer.run_batches(
        crops, lambda out, chunk: np.stack([METHODS[r](out, chunk, scorer.calibration) for r in RULES], axis=1), columns=len(RULES)
    )
    named = {r: table[:, i] for i, r in enumerate(RULES)}
    if grid_excess is not None:
        # the shipped linear (Laplace) term, and the squared one it replaced (PhotoScorer(tail="gaussian"))
        named = {PHOTO_RULE: named["dose_flat"] - jpeg_grid_penalty(grid_excess, scorer.calibration),
                 "dose_flat + squared grid": named["dose_flat"] - jpeg_grid_penalty(grid_excess, scorer.calibration, "gaussian"), **named}
    named["laplacian"] = LaplacianVarianceScorer().score(crops)
    return named


def print_grid(title: str, named: dict, kind_idx, sev) -> None:
    print(f"\n{title}\n| rule | " + " | ".join(KINDS) + " | worst |\n|---|" + "---|" * (len(KINDS) + 1))
    for name, s in named.items():
        rho = spearman_per_kind(s, kind_idx, sev)
        print(f"| {name} | " + " | ".join(f"{rho[k]:+.2f}" for k in KINDS) + f" | {max(rho.values()):+.2f} |")


def cost(crops: np.ndarray, repeats: int = 3) -> None:
    old, new = VAEScorer(method="dose", samples=10), VAEScorer(method="dose_flat", samples=10)
    old.score(crops[:4]), new.score(crops[:4])  # warm up the sessions
    spent = {"dose": 0.0, "dose_flat": 0.0}
    for _ in range(repeats):
        for name, scorer in (("dose", old), ("dose_flat", new)):
            t = time.process_time()
            scorer.score(crops)
            spent[name] += time.process_time() - t
        t = time.process_time()
        flat_fraction(crops)
        spent["flat_fraction"] = spent.get("flat_fraction", 0.0) + time.process_time() - t
    per = {k: 1000 * v / (repeats * len(crops)) for k, v in spent.items()}
    print(f"\ncost, {len(crops)} crops x {repeats}: dose {per['dose']:.2f} ms, dose_flat {per['dose_flat']:.2f} ms CPU per crop; "
          f"ratio {spent['dose_flat'] / spent['dose']:.3f}; the added statistic alone {per['flat_fraction']:.4f} ms "
          f"= {spent['flat_fraction'] / spent['dose']:.5f} of dose")


def jpeg_diagnosis(crops, kind_idx, sev, named, excess) -> None:
    """Is the JPEG grid degenerate? Per face: is the quality-77 copy's crop identical (or within a
    grey level on average) to the clean one; per-face Spearman; and the pooled figure with
    identical crops treated as ties (their severity set to the clean one's), beside the plain one."""
    from facesel.eval.evidence import spearman

    jpeg = KINDS.index("jpeg")
    levels = sorted(set(sev.tolist()))
    by_level = [crops[(kind_idx == jpeg) & (sev == lev)].astype(np.int16) for lev in levels]
    diff01 = np.abs(by_level[1] - by_level[0]).mean(axis=(1, 2))
    identical = np.all(by_level[1] == by_level[0], axis=(1, 2))
    print(f"\njpeg, clean vs first step (quality 77), {len(diff01)} faces: crops identical {identical.sum()}, "
          f"mean |crop difference| < 0.5 grey level {(diff01 < 0.5).sum()}, < 1 {(diff01 < 1).sum()}; median {np.median(diff01):.2f}")
    ex = [excess[(kind_idx == jpeg) & (sev == lev)] for lev in levels]
    print("  photo grid excess by level: " + ", ".join(f"{e.mean():.3f} +- {e.std():.3f}" for e in ex)
          + f"; first step above clean for {(ex[1] > ex[0]).mean():.2f} of faces")
    m = kind_idx == jpeg
    face = np.tile(np.repeat(np.arange(len(diff01)), len(levels)), 1)
    tied = sev[m].copy()
    tied[np.repeat(identical, len(levels)) & (tied == levels[1])] = levels[0]
    for name, s in named.items():
        if name == "laplacian":
            continue
        per = np.array([spearman(sev[m][face == f], s[m][face == f]) for f in range(len(diff01))])
        per = per[np.isfinite(per)]
        print(f"  {name}: pooled {spearman(sev[m], s[m]):+.2f}, identical first-step crops as ties {spearman(tied, s[m]):+.2f}; "
              f"per face median {np.median(per):+.2f}, share <= -0.8 {np.mean(per <= -0.8):.2f}")


def photo_cost(photos: list, repeats: int = 3) -> None:
    """CPU time of the photo term (grid_zero_excess in the face box) against dose_flat's VAE pass of
    the same faces' crops, alternating, one process (the ratio is what counts)."""
    from facesel.detectors import YuNetDetector
    from facesel.scoring.stills import face_in_photo

    detector = YuNetDetector(min_confidence=0.5)
    faces = [face_in_photo(p, detector) for p in photos]
    crops = np.stack([f[0] for f in faces])
    vae = VAEScorer(method="dose_flat", samples=10)
    vae.score(crops[:4])
    spent = {"dose_flat": 0.0, "grid": 0.0}
    for _ in range(repeats):
        t = time.process_time()
        vae.score(crops)
        spent["dose_flat"] += time.process_time() - t
        t = time.process_time()
        for photo, (_, box, _, _) in zip(photos, faces):
            grid_zero_excess(photo, box)
        spent["grid"] += time.process_time() - t
    per = {k: 1000 * v / (repeats * len(photos)) for k, v in spent.items()}
    print(f"\nphoto cost, {len(photos)} photos x {repeats}: dose_flat {per['dose_flat']:.2f} ms, the grid term {per['grid']:.2f} ms "
          f"CPU per face; the photo rule / dose_flat = {(spent['dose_flat'] + spent['grid']) / spent['dose_flat']:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", choices=("eval", "train"), default="eval")
    p.add_argument("--only", choices=("own", "before", "crop", "cost", "selfie", "auroc"), default=None)
    args = p.parse_args()
    root = data_root()
    photos = lfw_eval_photos(root, 120) if args.split == "eval" else lfw_train_photos(120)
    if args.only in (None, "own"):
        crops, kind_idx, sev, found, excess = own_crop_grid_with_photo(photos)
        print(f"own crop: {len(photos)} lfw/{args.split} photos; face found on the degraded photo in "
              f"{found.mean():.2f} of {len(found)} copies (else the whole photo is the box)")
        named = scores(crops, excess)
        print_grid(f"own crop, lfw/{args.split}", named, kind_idx, sev)
        jpeg_diagnosis(crops, kind_idx, sev, named, excess)
        if args.only is None:
            cost(crops[sev == 0][:128])
            photo_cost(photos[:64])
    if args.split == "train":
        return
    if args.only in (None, "before"):
        crops, kind_idx, sev, excess = before_alignment_grid_with_photo(root)
        print_grid("before alignment, clean landmarks, 60 lfw/eval + 40 orl", scores(crops, excess), kind_idx, sev)
    if args.only in (None, "crop"):
        crops, kind_idx, sev = degradation_grid(held_out_faces(root))
        print_grid("aligned crop degraded, 60 lfw/eval + 40 orl", scores(crops), kind_idx, sev)
    if args.only == "cost":
        cost(held_out_faces(root)[:128])
        photo_cost(photos[:64])
    if args.only == "selfie":
        selfie(root)
    if args.only == "auroc":
        face_vs_background(root)


def face_vs_background(root) -> None:
    """AUROC of the evidence faces against background crops (seed 1, as the evidence test), and
    L = 1 (z = mu_z) against L = 10 on the faces, for both rules."""
    from facesel.eval.evidence import auroc, background_crops, spearman

    faces, background = held_out_faces(root), background_crops(root, seed=1)
    for rule in RULES[:2]:
        ten = VAEScorer(method=rule, samples=10, seed=0)
        one = VAEScorer(method=rule, samples=1, use_mean=True)
        f = ten.score(faces)
        print(f"{rule}: AUROC face vs background {auroc(f, ten.score(background)):.3f} ({len(faces)} faces, "
              f"{len(background)} background crops); Spearman L1 vs L10 {spearman(one.score(faces), f):.3f}")


def selfie(root) -> None:
    """The selfie check of tests/test_quality_evidence.py for both rules, both YuNet engines, seeds 0-2."""
    from facesel.detect.yunet import YuNetDetector
    from facesel.eval.evidence import selfie_track, spearman

    for engine in ("yuface", "onnxruntime"):
        crops, sharpness, coverage = selfie_track(root, detector=YuNetDetector(min_confidence=0.5, engine=engine))
        for seed in (0, 1, 2):
            scorer = VAEScorer(samples=10, seed=seed)
            table = scorer.run_batches(
                crops, lambda out, chunk, cal=scorer.calibration: np.stack([METHODS[r](out, chunk, cal) for r in RULES[:2]], axis=1),
                columns=2,
            )
            for i, rule in enumerate(RULES[:2]):
                order = np.argsort(table[:, i])
                pct = [float(np.mean(sharpness <= sharpness[j])) for j in order[-3:]]
                print(f"selfie {engine} seed {seed} {rule}: best frame's sharpness percentile {pct[-1]:.2f}, top-3 lowest "
                      f"{min(pct):.2f}, Spearman with sharpness {spearman(table[:, i], sharpness):+.2f}, with coverage "
                      f"{spearman(table[:, i], coverage):+.2f}")


if __name__ == "__main__":
    main()
