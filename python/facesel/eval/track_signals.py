"""Every per-crop signal a selection rule of ``facesel eval tracks`` may use, computed once per video.

The expensive part of judging a rule is not the rule: it is the VAE pass behind the ``dose``,
``paper`` and ``default`` scores. This module runs each network once over all the crops of a
video and keeps the numbers (one float per crop and signal), so that comparing, choosing and
cross-validating rules is arithmetic on a table (:mod:`facesel.eval.track_rules`).

**Cache**: one ``.npz`` per video next to the track cache of :mod:`facesel.eval.track_data`
(key: that video's track key, the VAE model card and :data:`SIGNALS_VERSION`). Numbers only,
no pixels.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

SIGNALS_VERSION = 1
"""Bumped whenever a signal's definition changes, so that old caches are not reused."""

SIGNAL_NAMES = ("det", "size", "sharpness", "yaw", "roll", "pitch", "dose", "paper", "dose_mu", "eyes",
                "eyes_relative", "default", "default_context")
"""The columns of a signal table (all (N,) float64, higher is not necessarily better):

* ``det``: detector confidence; ``size``: shorter box side in frame pixels;
* ``sharpness``: log(1 + variance of the Laplacian) of the aligned crop;
* ``yaw``, ``roll``, ``pitch``: signed head pose of :func:`facesel.scoring.pose.landmark_pose`
  (NaN for degenerate or missing landmarks);
* ``dose``, ``paper``: the VAE's DoSE rule and the paper's log reconstruction probability, L = 10;
* ``dose_mu``, ``eyes``, ``eyes_relative``: dose, eye-band log likelihood and eye band minus the whole
  crop's, from one VAE pass at z = mu_z (what PickScorer uses);
* ``default``: the ``pick`` rule (``default_scorer("pick")``, the default before issue 22: VAE eye
  band and dose + context) called as the Selector calls it, with context (the column keeps its
  name so that cached tables stay valid);
* ``default_context``: that scorer's context part alone (its ``screen``: no network), which is
  today's default (``default_scorer()``, rule ``context``).
"""


def _key(tracks_key: str, model_dir: Path) -> str:
    h = hashlib.sha256()
    h.update(repr((tracks_key, SIGNALS_VERSION)).encode())
    card = model_dir / "model_card.json"
    h.update(card.read_bytes() if card.is_file() else b"")
    return h.hexdigest()[:24]


def compute_signals(crops: np.ndarray, context, timing: dict | None = None) -> dict[str, np.ndarray]:
    """The signal table of one video's crops.

    Parameters
    ----------
    crops : (N, 64, 64) uint8
    context : facesel.types.CropContext of the same N crops
    timing : dict, optional
        Filled with the CPU seconds (``time.process_time``) of the context terms, the L = 1 VAE
        pass of the default rule and the L = 10 passes, measured in this call.

    Returns
    -------
    dict name -> (N,) float64, the names of :data:`SIGNAL_NAMES`.
    """
    from facesel.scoring import LaplacianVarianceScorer, VAEScorer, default_scorer
    from facesel.scoring.pick import _pixel_log_likelihood, EYE_ROWS
    from facesel.scoring.pose import landmark_pose
    from facesel.scoring.vae_methods import score_dose

    n = len(crops)
    out: dict[str, np.ndarray] = {}
    out["det"] = context.det_scores.astype(np.float64)
    b = context.boxes.astype(np.float64).reshape(-1, 4)
    out["size"] = np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    out["sharpness"] = LaplacianVarianceScorer().score(crops) if n else np.zeros(0)
    pose = landmark_pose(context.landmarks) if context.landmarks is not None else np.full((n, 3), np.nan)
    out["yaw"], out["roll"], out["pitch"] = pose[:, 0], pose[:, 1], pose[:, 2]
    timing = {} if timing is None else timing
    if n == 0:
        for k in SIGNAL_NAMES:
            out.setdefault(k, np.zeros(0))
        return out
    scorer = default_scorer("pick")  # its screen is the context rule, today's default
    t = time.process_time()
    out["default_context"] = np.asarray(scorer.screen(crops, context=context), np.float64)
    timing["context_cpu_s"] = time.process_time() - t
    t = time.process_time()
    vae_part = scorer.vae_terms(crops)
    timing["default_vae_cpu_s"] = time.process_time() - t
    out["default"] = vae_part + out["default_context"]
    once = scorer._once

    def reduce(outputs, chunk):
        ll = _pixel_log_likelihood(outputs)
        eyes = ll[:, EYE_ROWS].mean(axis=(1, 2), dtype=np.float64)
        return np.stack([score_dose(outputs, chunk, once.calibration), eyes,
                         eyes - ll.mean(axis=(1, 2), dtype=np.float64)], axis=1)

    mu = once.run_batches(crops, reduce, columns=3)
    out["dose_mu"], out["eyes"], out["eyes_relative"] = mu[:, 0], mu[:, 1], mu[:, 2]
    t = time.process_time()
    out["dose"] = VAEScorer(method="dose").score(crops)
    timing["dose_l10_cpu_s"] = time.process_time() - t
    out["paper"] = VAEScorer(method="paper").score(crops)
    timing["crops"] = n
    return out


def video_signals(video, tracks_key: str | None, cache_dir=None, timing: dict | None = None) -> dict[str, np.ndarray]:
    """:func:`compute_signals` of a :class:`facesel.eval.track_data.VideoTracks`, through the cache.

    ``tracks_key`` is the video's track-cache key (``VideoTracks.key``); with it and a
    ``cache_dir`` the table is read from / written to ``signals-<key>.npz``. ``timing`` gets the
    CPU seconds of :func:`compute_signals`, also when read from the cache (then as measured
    when the table was computed)."""
    from facesel.scoring.vae import shipped_model_dir

    cache_file = None
    if cache_dir is not None and tracks_key is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
        cache_file = Path(cache_dir) / f"signals-{_key(tracks_key, shipped_model_dir())}.npz"
        if cache_file.is_file():
            z = np.load(cache_file, allow_pickle=False)
            if set(SIGNAL_NAMES) <= set(z.files) and all(len(z[k]) == len(video.frame_indices) for k in SIGNAL_NAMES):
                if timing is not None:  # the CPU times measured when the table was computed
                    timing.update({k.removeprefix("timing_"): float(z[k]) for k in z.files if k.startswith("timing_")})
                return {k: z[k].astype(np.float64) for k in SIGNAL_NAMES}
    if video.crops is None:
        raise ValueError(f"{video.name}: the signals are not cached and the video was loaded without its crops")
    timing = {} if timing is None else timing
    table = compute_signals(video.crops, video.context, timing)
    if cache_file is not None:
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **table, **{f"timing_{k}": np.float64(v) for k, v in timing.items()})
        os.replace(tmp, cache_file)
    return table


def has_cached_signals(tracks_key: str | None, cache_dir) -> bool:
    """Whether :func:`video_signals` would read the table from the cache (no crops needed)."""
    from facesel.scoring.vae import shipped_model_dir

    if cache_dir is None or tracks_key is None:
        return False
    return (Path(cache_dir) / f"signals-{_key(tracks_key, shipped_model_dir())}.npz").is_file()
