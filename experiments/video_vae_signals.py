"""A VAE trained per fold on the pipeline's own aligned video crops, and its per-crop signals (issue 22 item 3, session 18).

The shipped VAE learnt still photographs (``lfw/train``); among the default's finalists none of its
signals orders video crops like the ground truth (session 17, docs/model_card.md "The VAE against a
complexity model"). Here the same architecture (:class:`facesel.training.model.VAE`, smaller width)
is trained by :func:`facesel.training.loop.train_vae` on crops the pipeline itself aligned from
video, one model per group of held-out sources (:func:`training_groups`), on the crops of the
*other* sources only (:func:`training_rows` refuses a held-out crop). Which crops it learns is unsupervised: every crop of
a confirmed track whose detector confidence is at or above the median of those crops; no matcher
distance, no ground truth.

Signals of a crop (one pass at z = mu_z of the fold's model; higher: more like a good face), named
``v_*`` to keep them apart from session 17's (:mod:`vae_ratio_signals`, whose complexity models and
latent distance are reused):

* ``v_ll``: mean per-pixel Gaussian log likelihood (nats, on x / 255);
* ``v_lr_png``, ``v_lr_local``: that likelihood in bits a pixel minus a PNG's / a local predictive
  model's (the likelihood ratio against a complexity model);
* ``v_latent``: minus the squared standardised distance of mu_z from the diagonal Gaussian of the
  fold's *frontal* training crops (:func:`facesel.eval.track_persons.frontal_mask`: landmark pose
  and detector confidence, no labels).

Nothing here writes pixels: the crops live in memory; the cache holds numbers per crop only.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from vae_ratio_signals import latent_typicality, ratio_signals

VIDEO_SIGNALS = ("v_ll", "v_lr_png", "v_lr_local", "v_latent")
"""The pre-registered signals of the video-trained VAE (higher: more typical of a good video face)."""
BASE_CHANNELS = 16
"""Width of the fold models (16..256 channels; the shipped model's is 32): a fold trains in minutes on one core."""
LATENT = 128
EPOCHS = 5
BATCH = 72
"""Half the shipped batch: twice the Adam steps for the same CPU (amended before any figure, see pick_vae_video.py)."""
TRAIN_CAP = 4320
"""At most this many training crops a fold (30 batches of 144), drawn uniformly (seed 0)."""
SEED = 0
N_GROUPS = 5
"""Training folds: the 10 sources in 5 groups of 2 (:func:`training_groups`), one VAE a group: half the
CPU of one VAE a source; a source's crops are still scored only by a model that never saw them."""


def training_rows(det_scores: np.ndarray, sources: np.ndarray, held_out, cap: int = TRAIN_CAP,
                  seed: int = SEED) -> np.ndarray:
    """(M,) sorted int64 indices of the crops a fold's VAE may learn.

    det_scores : (N,) float detector confidence of every crop of every confirmed track, all clips.
    sources : (N,) str the source (leave-one-source-out group) of each crop's clip.
    held_out : str or collection of str: the fold's source(s): none of their crops is ever chosen.

    Chosen: crops of the other sources with confidence at or above the median confidence of those
    crops (the more confident half: the detector's own doubt, no label), then at most ``cap`` of
    them uniformly at random without replacement (``seed``)."""
    det_scores, sources = np.asarray(det_scores, np.float64), np.asarray(sources)
    if det_scores.shape != sources.shape or det_scores.ndim != 1:
        raise ValueError(f"det_scores and sources must be two (N,) arrays, got {det_scores.shape} and {sources.shape}")
    if cap < 1:
        raise ValueError(f"cap must be >= 1, got {cap!r}")
    held = _as_group(held_out)
    other = np.flatnonzero(~np.isin(sources, held))
    if not len(other):
        raise ValueError(f"no crop outside the held-out source {held_out!r} to train on")
    conf = det_scores[other]
    pool = other[conf >= np.median(conf)]
    if len(pool) > cap:
        pool = np.sort(np.random.default_rng(seed).choice(pool, cap, replace=False))
    assert not np.any(np.isin(sources[pool], held))  # the fold's guarantee, kept visible
    return pool.astype(np.int64)


def train_fold_vae(crops: np.ndarray, epochs: int = EPOCHS):
    """The fold model: :func:`facesel.training.loop.train_vae` on (M, 64, 64) uint8 crops at
    :data:`BASE_CHANNELS`, :data:`LATENT`, :data:`BATCH`, one thread, the shipped recipe otherwise
    (Adam 0.001, flips, seed 0). Returns (model in eval mode, history)."""
    from facesel.training.loop import TrainConfig, train_vae

    config = TrainConfig(epochs=epochs, batch_size=BATCH, base_channels=BASE_CHANNELS, latent=LATENT, seed=SEED, threads=1)
    return train_vae(np.ascontiguousarray(crops, np.uint8), config, progress=False)


def torch_vae_pass(model, crops: np.ndarray, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """One pass at z = mu_z of a torch :class:`facesel.training.model.VAE` (eval mode) over (N, 64, 64)
    uint8 crops: (N, 64, 64) float32 per-pixel Gaussian log densities (nats, on x / 255; their
    negated sum is :func:`facesel.training.loop.gaussian_nll`) and (N, D) float32 mu_z."""
    import torch

    from facesel.training.data import to_tensor_batch

    crops = np.asarray(crops, np.uint8)
    if crops.ndim != 3 or crops.shape[1:] != (64, 64):
        raise ValueError(f"crops must be (N, 64, 64) uint8, got {crops.shape}")
    lls, mus = [], []
    with torch.no_grad():
        for s in range(0, len(crops), batch):
            x = to_tensor_batch(np.ascontiguousarray(crops[s:s + batch]))
            mu_z, _ = model.encoder(x)
            mu_x, log_sigma_x = model.decoder(mu_z)
            ll = -0.5 * ((x - mu_x) * torch.exp(-log_sigma_x)) ** 2 - log_sigma_x - 0.5 * np.log(2.0 * np.pi)
            lls.append(ll[:, 0].numpy().astype(np.float32))
            mus.append(mu_z.numpy().astype(np.float32))
    if not lls:
        return np.zeros((0, 64, 64), np.float32), np.zeros((0, model.latent), np.float32)
    return np.concatenate(lls), np.concatenate(mus)


def latent_reference(mu_z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D,) mean and (D,) std (float64) of (M, D) encoder means: the diagonal Gaussian ``v_latent`` measures against."""
    mu_z = np.asarray(mu_z, np.float64)
    if mu_z.ndim != 2 or len(mu_z) < 2:
        raise ValueError(f"mu_z must be (M, D) with M >= 2, got {mu_z.shape}")
    return mu_z.mean(axis=0), mu_z.std(axis=0)


def signals_of(crops: np.ndarray, ll: np.ndarray, mu_z: np.ndarray, reference: tuple) -> dict[str, np.ndarray]:
    """:data:`VIDEO_SIGNALS` of (N, 64, 64) uint8 crops from their pass (``ll``, ``mu_z``) and the
    fold's latent ``reference`` (mean, std): dict name -> (N,) float64."""
    ratios = ratio_signals(crops, ll)
    return {"v_ll": ll.reshape(len(ll), -1).mean(axis=1, dtype=np.float64),
            "v_lr_png": ratios["lr_png"], "v_lr_local": ratios["lr_local"],
            "v_latent": latent_typicality(mu_z, reference[0], reference[1])}


def _as_group(held_out) -> list[str]:
    return [held_out] if isinstance(held_out, str) else sorted(held_out)


def training_groups(sources, n_groups: int = N_GROUPS) -> list[list[str]]:
    """The sources split into ``n_groups`` training folds: sorted by name, source i in group
    i mod ``n_groups`` (one VAE a group, trained on the other groups' crops, scores this group's)."""
    names = sorted(set(sources))
    if n_groups < 2:
        raise ValueError(f"n_groups must be >= 2, got {n_groups!r}")
    return [names[i::n_groups] for i in range(n_groups) if names[i::n_groups]]


def fold_signals(clips: list, held_out, cache_dir: Path, epochs: int = EPOCHS) -> dict[str, dict]:
    """Train the fold's VAE and score the held-out source's clips; cached per clip.

    clips : list of (name, key, source, crops (N, 64, 64) uint8 or None, context) for every clip;
        crops may be None only when every clip of ``held_out`` is cached already.
    held_out : a source, or a group of sources (:func:`training_groups`) held out together.
    epochs : the fold model's training epochs (:data:`EPOCHS` registered; other values only for
        a post-hoc check, in a cache of its own).
    Returns clip name -> {signal: (N,) float64, ``cpu_pass`` (seconds, 1 thread), ``crops``,
    ``train_crops``, ``train_seconds``, ``final_loss``} for the clips of ``held_out``."""
    from facesel.eval.track_persons import frontal_mask

    held = _as_group(held_out)
    files = {name: Path(cache_dir) / f"vae18-{key}.npz" for name, key, source, _, _ in clips if source in held}
    if all(f.is_file() for f in files.values()):
        return {name: dict(np.load(f)) for name, f in files.items()}
    crops = np.concatenate([c[3] for c in clips])
    det = np.concatenate([c[4].det_scores for c in clips])
    sources = np.concatenate([np.full(len(c[3]), c[2], dtype=object) for c in clips]).astype(str)
    frontal = np.concatenate([frontal_mask(c[4]) for c in clips])
    rows = training_rows(det, sources, held_out)
    model, history = train_fold_vae(crops[rows], epochs=epochs)
    _, mu_train = torch_vae_pass(model, crops[rows[frontal[rows]]])
    reference = latent_reference(mu_train)
    out = {}
    for name, key, source, clip_crops, _ in clips:
        if source not in held:
            continue
        t0 = time.process_time()
        ll, mu = torch_vae_pass(model, clip_crops)
        cpu = time.process_time() - t0
        table = signals_of(clip_crops, ll, mu, reference)
        table.update(cpu_pass=np.float64(cpu), crops=np.float64(len(clip_crops)), train_crops=np.float64(len(rows)),
                     train_seconds=np.float64(history.seconds), final_loss=np.float64(history.loss[-1]))
        tmp = files[name].with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **table)
        os.replace(tmp, files[name])
        out[name] = table
    return out
