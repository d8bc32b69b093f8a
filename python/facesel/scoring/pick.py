"""PickScorer: the selection rule facesel uses to choose one crop per track.

Since issue 22 the default (``default_scorer()``, rule ``context``) is this scorer with the VAE
weights at 0: pose, detector confidence and size only, no network pass per crop. The VAE terms
did not improve the within-track pick on 40 clips of 10 sources (docs/eval/tracks/tracks.md) and
cost about 2,700x the context terms; the full rule below stays as ``default_scorer("pick")``.

Within one track every crop shows the same person, so what makes one frame more recognisable than
another is mostly pose, eyes and size, not the image defects a density of clean faces is best at.
The score is a weighted sum of

* the VAE's log likelihood of the **eye band** of the crop (rows 20..37 of the 64x64 crop, the
  template's eyes sit at row 29.5) relative to the whole crop's, decoded once from z = mu_z: closed
  eyes, a lowered gaze, glasses glare or a turned head make the eyes unlike the training faces';
* the VAE's ``dose`` score from the same pass, with a small weight, so that the rule still falls
  with blur, noise, darkness, low contrast, downscaling, occlusion and JPEG;
* the head pose from the five landmarks (|yaw|, |roll|, |pitch| of :mod:`facesel.scoring.pose`);
* the detector's confidence;
* the log of the face size in frame pixels (shorter box side, before resizing to 64 px).

Unsupervised at run time (no recognition model). The weights were fitted as a within-track
pairwise ranking of the smoothed matcher distance on the shared videos, and judged leave-one-video-
out (``experiments/track_signals.py``); the dose weight on lfw/train photos
(docs/model_card.md, "Within a track").

Without a context (a still photograph, ``facesel score``, the ERC/degradation evidence) the score
is the stills default, the model card's ``default_method`` (``dose_flat``: dose plus the flat-patch
statistic that notices a photo compressed before alignment) at L = 10: a photograph has no landmarks
or detector confidence from the pipeline, and on photos that rule is what the evidence supports.
"""

from __future__ import annotations

import numbers

import numpy as np

from facesel.scoring.base import as_grey_batch
from facesel.scoring.pose import landmark_pose
from facesel.scoring.score_memo import ScoreMemo

EYE_ROWS = slice(20, 38)
"""Rows of the 64x64 crop whose likelihood is the eye term (template eyes at row 29.5)."""

PICK_WEIGHTS = {"dose": 0.02, "eyes_relative": 0.9256, "eyes": 0.0, "detector": 2.7601, "yaw": 0.9921, "roll": 0.3531,
                "pitch": 3.9303, "log_size": 1.1207}
"""Weights of: the dose score at z = mu_z; the eye band's mean log likelihood minus the whole
crop's (nats per pixel; ``eyes`` is the eye band's alone, unused by default); detector confidence;
minus |yaw| (eye distances), |roll| (radians), |pitch| offset; log face size (pixels).
The eye variant and the dose weight were chosen on lfw/train photos (within-face degradation grid
with the detector's context within 0.10 of dose's on every kind:
``experiments/pick_degradation.py --split train``; met from 0.01 on) and by the existing
selfie check (tests/test_selector_videos.py: at 0.01 the selfie's first track kept a frame less
sharp than its median; 0.02, the next weight of the grid, passes); the other six were then fitted on the
five shared videos' tracks (pairwise logistic ranking of the smoothed matcher distance, L2 = 10 on
signals in within-track standard deviations; ``experiments/track_signals.py``). The
numbers reported for the videos are leave-one-video-out; see docs/model_card.md."""

_BAD_POSE = 1.0
"""|yaw|, |roll|, |pitch| given to degenerate landmarks: worse than any real face's pose."""


def eye_log_likelihood(outputs) -> np.ndarray:
    """(N,) float64 mean per-pixel Gaussian log likelihood of the eye band under the first decoded
    sample (:class:`facesel.scoring.vae_runtime.VAEOutputs`; with ``use_mean`` that is z = mu_z)."""
    return _pixel_log_likelihood(outputs)[:, EYE_ROWS].mean(axis=(1, 2), dtype=np.float64)


def _pixel_log_likelihood(outputs) -> np.ndarray:
    """(N, 64, 64) float32 Gaussian log density of each pixel under the first decoded sample."""
    x = outputs.x
    mu, log_sigma = outputs.mu_x[:, 0], outputs.log_sigma_x[:, 0]
    ll = -0.5 * ((x - mu) * np.exp(-log_sigma)) ** 2 - log_sigma - np.float32(0.5 * np.log(2.0 * np.pi))
    return ll.reshape(-1, 64, 64)


def _check_weights(weights) -> dict:
    if not isinstance(weights, dict):
        raise TypeError(f"weights must be a dict of signal -> weight, got {type(weights).__name__}")
    unknown = sorted(set(weights) - set(PICK_WEIGHTS))
    if unknown:
        raise ValueError(f"weights has unknown signals {unknown}; known: {sorted(PICK_WEIGHTS)}")
    out = dict(PICK_WEIGHTS)
    for k, v in weights.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise ValueError(f"weights[{k!r}] must be a finite number, got {v!r}")
        out[k] = float(v)
    return out


class PickScorer:
    """Eye-band VAE likelihood + landmark pose + detector confidence + face size (``default_scorer("pick")``);
    with the VAE weights at 0, facesel's default rule (``default_scorer()``, rule ``context``).

    Parameters
    ----------
    weights : dict, optional
        Overrides of :data:`PICK_WEIGHTS` (keys ``dose``, ``eyes``, ``eyes_relative``, ``detector``, ``yaw``, ``roll``,
        ``pitch``, ``log_size``).
    **vae_settings
        Keyword arguments of :class:`facesel.scoring.VAEScorer` for the no-context fallback (the stills rule, the model card's default_method;
        samples, seed, threads, batch_size, device, ``model_dir``). The eye term always decodes
        z = mu_z once.

    Notes
    -----
    ``score(crops, context)`` costs one encoder and one decoder pass per crop (the L = 1 cost, about
    a seventh of dose at L = 10). ``screen(crops, context)`` is the context part alone (no network,
    microseconds per crop): the cheap first ranking for selective scoring. Without a context both
    fall back to the VAE's dose rule (``screen`` at L = 1, z = mu_z).
    """

    uses_context = True

    def __init__(self, weights: dict | None = None, **vae_settings) -> None:
        from facesel.scoring.vae import VAEScorer

        if "method" in vae_settings:
            raise TypeError("PickScorer's fallback is the stills default (the model card's default_method); "
                            "for another VAE rule use VAEScorer(method=...)")
        self.weights = _check_weights({} if weights is None else weights)
        model_dir = vae_settings.pop("model_dir", None)
        # Without a context (a photo) the rule is the stills default, the model card's default_method
        # (dose_flat); the within-track dose term below keeps plain dose (vae_terms calls it by name).
        self.fallback = VAEScorer(model_dir, **vae_settings)
        once = {k: v for k, v in vae_settings.items() if k not in ("samples", "use_mean")}
        self._once = VAEScorer(model_dir, samples=1, use_mean=True, **once)
        # the context rule (VAE weights 0) runs no network with a context: its name says so
        self.name = "vae-pick" if self.uses_vae else "context-pick"
        # The dose term is the not-a-face vote's rule on the same pass (z = mu_z): the finaliser
        # reads a finalist's score here instead of running the VAE on it again (issue 23, speed).
        self.dose_memo = ScoreMemo() if self.weights["dose"] else None

    @property
    def vae_runner(self):
        """The ONNX sessions of the within-track VAE pass (:class:`facesel.scoring.vae_runtime.VAERunner`):
        a ``dose`` score in :attr:`dose_memo` is that of a scorer with the same runner, ``samples=1``
        and ``use_mean=True``."""
        return self._once.runner

    @property
    def uses_vae(self) -> bool:
        """Whether a crop with a context costs a VAE pass (any of the VAE terms weighted)."""
        return any(self.weights[k] for k in ("dose", "eyes", "eyes_relative"))

    @property
    def reads_pixels(self) -> bool:
        """Whether :meth:`score` and :meth:`screen` with a context look at the crops' pixels. The
        context rule (VAE weights 0) does not: it uses their number only, so the Selector need not
        make grey crops for it (:class:`facesel.select.stage.ScoreStage`)."""
        return self.uses_vae

    def context_terms(self, context, n: int) -> np.ndarray:
        """(n,) float64: the weighted pose, detector and size signals of a CropContext."""
        if len(context) != n:
            raise ValueError(f"context has {len(context)} entries for {n} crops")
        w = self.weights
        boxes = context.boxes.astype(np.float64)
        side = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        total = w["detector"] * context.det_scores.astype(np.float64)
        total += w["log_size"] * np.log(np.maximum(side, 1.0))
        if context.landmarks is not None:  # without landmarks the pose terms would be one constant
            pose = np.abs(landmark_pose(context.landmarks))  # NaN rows: degenerate landmarks, never inf
            pose[np.isnan(pose)] = _BAD_POSE
            total -= w["yaw"] * pose[:, 0] + w["roll"] * pose[:, 1] + w["pitch"] * pose[:, 2]
        return total

    def vae_terms(self, crops: np.ndarray) -> np.ndarray:
        """(N,) float64: the weighted dose score and eye-band log likelihood, both from one VAE pass
        at z = mu_z."""
        from facesel.scoring.vae_methods import score_dose

        calibration = self._once.calibration

        def reduce(outputs, chunk: np.ndarray) -> np.ndarray:
            ll = _pixel_log_likelihood(outputs)
            eyes = ll[:, EYE_ROWS].mean(axis=(1, 2), dtype=np.float64)
            part = self.weights["eyes"] * eyes + self.weights["eyes_relative"] * (eyes - ll.mean(axis=(1, 2), dtype=np.float64))
            if self.weights["dose"]:
                dose = score_dose(outputs, chunk, calibration)
                self.dose_memo.put(chunk, dose)
                part += self.weights["dose"] * dose
            return part

        return self._once.run_batches(crops, reduce)

    def score(self, crops: np.ndarray, context=None) -> np.ndarray:
        """(N, 64, 64) uint8 grey crops (+ optional CropContext) -> (N,) float64, higher is better."""
        crops = as_grey_batch(crops)
        if context is None:
            return self.fallback.score(crops)
        if not self.uses_vae:
            # context only (default_scorer("context")): the VAE terms would be 0, skip their pass
            return self.context_terms(context, len(crops))
        return self.vae_terms(crops) + self.context_terms(context, len(crops))

    def screen(self, crops: np.ndarray, context=None) -> np.ndarray:
        """The cheap first ranking: the context part of :meth:`score` (no network); dose at L = 1
        when there is no context. (N, 64, 64) uint8 crops -> (N,) float64, higher is better."""
        crops = as_grey_batch(crops)
        if context is None:
            return self._once.score(crops)
        return self.context_terms(context, len(crops))

    def screen_context(self, context) -> np.ndarray:
        """:meth:`screen` of crops not made yet: (N,) float64 from a CropContext of N detections
        alone. The Selector screens with it before aligning, and aligns only the crops that make
        a track's finalists."""
        return self.context_terms(context, len(context))

    def __repr__(self) -> str:
        return f"PickScorer(weights={self.weights}, fallback={self.fallback!r})"
