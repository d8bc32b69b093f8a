"""The scorer protocol and the input check every scorer shares."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import cv2
import numpy as np


@runtime_checkable
class Scorer(Protocol):
    """The scoring protocol: any object with ``score(crops) -> (N,) float64``.

    Crops are (N, 64, 64) uint8 grey (:func:`as_grey_batch` also takes (N, 64, 64, 3) uint8 BGR).
    Optional parts, each looked up by name: ``uses_context`` (then ``score`` takes
    ``context=CropContext``), ``screen`` / ``screen_context`` (a cheap first ranking:
    :func:`screen_crops`) and ``reads_pixels``.
    """
    def score(self, crops: np.ndarray) -> np.ndarray:
        """(N, 64, 64) uint8 grey crops -> (N,) float64 quality, higher is better.

        A scorer whose class sets ``uses_context = True`` is called as
        ``score(crops, context=facesel.types.CropContext)`` instead (see :func:`score_crops`).
        A scorer may also offer a cheap ``screen(crops, context=None)``: see :func:`screen_crops`."""


def score_crops(scorer, crops: np.ndarray, context=None) -> np.ndarray:
    """Call ``scorer`` the way it asks to be called: with the crops' context when it declares
    ``uses_context = True`` and a context is known, with pixels only otherwise.

    ``crops``: (N, 64, 64) uint8 grey; ``context``: a :class:`facesel.types.CropContext` of N
    detections or None. Returns the scorer's (N,) float64 scores."""
    if context is not None and getattr(scorer, "uses_context", False):
        return scorer.score(crops, context=context)
    return scorer.score(crops)


def screen_crops(scorer, crops: np.ndarray, context=None) -> np.ndarray | None:
    """The scorer's cheap screen of ``crops``, or None when it has none.

    The screen protocol (optional): a scorer may have ``screen(crops, context=None) -> (N,)
    float64``, an estimate of ``score(crops)`` that costs much less and orders crops the same
    way (higher is better). In the sparse mode the Selector screens every crop it looks at, keeps
    each track's ``PipelineConfig.finalists`` best by the screen, and calls ``score`` only on
    those, when the track closes; so the screen must rank a track's crops like ``score`` does
    (its scale does not matter). It takes the same crops as ``score`` and the context
    (``facesel.types.CropContext``) whether or not it uses it. The shipped default
    (``PickScorer``) screens with its context terms alone (detector confidence, landmark pose,
    size; no network); the VAE rules (``facesel.scoring.default``'s ``ScreenedVAEScorer``) with the
    same VAE at L = 1 and z = mu_z. A scorer
    without ``screen`` has every crop looked at fully scored at once.

    A screen that reads no pixels may also be offered as ``screen_context(context) -> (N,)``, the
    same values from the context alone: then the Selector screens before aligning and aligns
    only the crops its store admits among a track's finalists (``PickScorer`` has it).
    """

    screen = getattr(scorer, "screen", None)
    if not callable(screen):
        return None
    return screen(crops, context=context)


def as_grey_batch(crops: np.ndarray, size: int = 64) -> np.ndarray:
    """Validate and normalise a batch of crops to (N, size, size) uint8 grey.

    Accepts (N, size, size) grey or (N, size, size, 3) BGR uint8 (colour is converted).
    """
    crops = np.asarray(crops)
    if crops.dtype != np.uint8:
        raise TypeError(f"crops must be uint8, got dtype {crops.dtype}")
    if crops.ndim == 4 and crops.shape[3] == 3:
        crops = np.stack([cv2.cvtColor(c, cv2.COLOR_BGR2GRAY) for c in crops]) if len(crops) else crops[..., 0]
    if crops.ndim != 3 or crops.shape[1:] != (size, size):
        raise ValueError(f"crops must have shape (N, {size}, {size}) grey or (N, {size}, {size}, 3) BGR, got {crops.shape}")
    return np.ascontiguousarray(crops)
