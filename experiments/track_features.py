"""Per-crop candidate signals for the within-track pick, on every crop of every track of the shared videos.

Writes one ``features-<video>.npz`` per video to --out (numbers only: no pixels): each crop's
track id, matcher distance to its person, and candidate signals:

* context (free): detector confidence, log face size (shorter box side, frame pixels), landmark
  pose (|yaw|, |roll|, |pitch|; see facesel.scoring.pose);
* pixels: log variance of the Laplacian;
* VAE at L = 10 (seed 0, as scored today): the dose score, the paper's log RP, dose's statistics;
* VAE at L = 1 (z = mu_z, the cheap screen): dose score, log RP;
* VAE view of pose/expression: ||mu_z||^2 (typicality under the prior), the latent distance
  between the crop and its mirror image ||mu_z(x) - mu_z(flip x)|| (a frontal face is nearly
  symmetric), the log RP of the mirror image decoded from the crop's own latent, and the
  log likelihood of the eye band (facesel.scoring.pick.eye_log_likelihood) at L = 1;
* mu_z itself (for consensus experiments).

Run:  python experiments/track_features.py --out /tmp/pick/features
(about 3 min per 1,000 crops on one core; detections and embeddings come from the number cache of
facesel eval tracks in --cache).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from facesel.data import data_root
from facesel.eval.track_data import collect_tracks
from facesel.eval.track_persons import crop_distances
from facesel.scoring import LaplacianVarianceScorer, VAEScorer
from facesel.scoring.pick import eye_log_likelihood
from facesel.scoring.pose import landmark_pose
from facesel.scoring.vae_methods import METHODS, quality_statistics

VIDEOS = ["intel_head_pose_female.gif", "intel_face_demographics_walking.gif", "arcade_walkers_1080p.mp4",
          "selfie_motion_blur_portrait.mp4", "otb_girl/img"]


def log_gauss(x, mu, log_sigma):
    """(N, P) per-pixel Gaussian log density."""
    return -0.5 * ((x - mu) * np.exp(-log_sigma)) ** 2 - log_sigma - 0.5 * np.log(2 * np.pi)


def vae_features(crops: np.ndarray) -> dict:
    s10 = VAEScorer(samples=10, seed=0, batch_size=32)
    s1 = VAEScorer(samples=1, use_mean=True, seed=0, batch_size=32)
    cal = s10.calibration
    names = cal["dose_statistics"]

    def at_l10(out, chunk):
        return np.column_stack([METHODS["dose"](out, chunk, cal), METHODS["paper"](out, chunk, cal),
                                quality_statistics(out, chunk, names)])

    def at_mean(out, chunk):
        mu, ls = out.mu_z.astype(np.float64), out.log_sigma_z.astype(np.float64)
        xf, mu_f, _ = s1.runner.encode(np.ascontiguousarray(chunk[:, :, ::-1]))
        return np.column_stack([
            METHODS["dose"](out, chunk, cal), METHODS["paper"](out, chunk, cal),
            0.5 * (mu**2 + np.exp(2 * ls) - 1 - 2 * ls).sum(1),
            np.linalg.norm(out.mu_z - mu_f, axis=1),
            # the mirror image judged by the decoder of the crop's own latent: a symmetric face explains both
            log_gauss(xf, out.mu_x[:, 0], out.log_sigma_x[:, 0]).mean(1),
            eye_log_likelihood(out),
            out.mu_z,
        ])

    l10 = s10.run_batches(crops, at_l10, columns=2 + len(names))
    one = s1.run_batches(crops, at_mean, columns=6 + s1.runner.latent)
    # float32 where the features were float32 before (the VAE's outputs and their distances)
    return {"dose": l10[:, 0], "paper": l10[:, 1], "stats": l10[:, 2:], "dose_l1": one[:, 0], "paper_l1": one[:, 1],
            "kl": one[:, 2], "mirror_latent": one[:, 3].astype(np.float32), "mirror_log_rp": one[:, 4],
            "eye_ll": one[:, 5], "mu_z": one[:, 6:].astype(np.float32)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cache", type=Path, default=Path("/tmp/pick/cache"), help="number cache of facesel eval tracks")
    p.add_argument("--videos", nargs="+", default=VIDEOS)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    root = data_root() / "videos"
    for name in args.videos:
        target = args.out / f"features-{name.replace('/', '_')}.npz"
        if target.is_file():
            print("have", target)
            continue
        video = collect_tracks(root / name, cache_dir=args.cache)
        dist, persons = crop_distances(video)
        ctx = video.context
        b = ctx.boxes.astype(np.float64)
        pose = np.abs(landmark_pose(ctx.landmarks))
        feats = vae_features(video.crops)
        np.savez(
            target, track_ids=ctx.track_ids, frames=video.frame_indices, distance=dist, persons=persons,
            det=ctx.det_scores, log_size=np.log(np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])),
            yaw=pose[:, 0], roll=pose[:, 1], pitch=pose[:, 2],
            log_sharpness=np.log(LaplacianVarianceScorer().score(video.crops) + 1e-6), **feats,
        )
        print("wrote", target, len(dist), "crops", flush=True)


if __name__ == "__main__":
    main()
