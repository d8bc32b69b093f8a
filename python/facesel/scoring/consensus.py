"""The track's typical appearance: how close each crop is to the average of its own track.

Issue 22's search for a within-track pick found that no weighting of pose, detector confidence,
size, sharpness or the VAE's scores comes within 0.007 of its bar, even chosen in-sample
(``experiments/pick_ceiling.py``). One signal that does better alone is the crop's agreement with
the rest of its track: the average, over all of a track's aligned crops, of their edge images
(Sobel gradient magnitude, each centred and scaled to unit length) is a blurred "typical frame" of
that person in that scene; the crop whose own edge image points the most the same way (cosine) is
the least disturbed one: not mid-turn, not mid-blink, not blurred, not half covered. Held out by
source over the 40 shared clips it beats a random frame and every single signal with intervals
that exclude zero (docs/model_card.md, ``experiments/pick_consensus.py``).

Session 11 (``experiments/pick_consensus_native.py``): the Selector's consensus compares
orientation histograms (:func:`hog_signatures`) with the per-coordinate median of the track's
aligned crops, among the finalists that are at least as sharp in their native frame as the
track's median crop (:mod:`facesel.scoring.native_blur`; the gate lives in
:class:`facesel.select.store.SelectionStore`): held out by source -0.015 against a random frame,
and it keeps sharp frames on the motion-blurred selfie where the edges rule kept blurred ones.
The edges against the mean remain available (``consensus_signature``, ``consensus_reference``).
Since session 11 it is the Selector's default (``consensus_finalists = 32``; 0 turns it off).

Why this is not recognition: nothing is compared across tracks or people; no identity model or
embedding is involved; the average lives only while its track is open and is discarded with it.
It answers "which of these frames looks most like the others", the same question a photographer
asks of a burst.

Why edges and not pixels: the gradient magnitude ignores the overall brightness and is less
sensitive to a lighting drift along the track (measured: pixels -0.014, edges -0.016 smoothed regret
against a random frame, same windows).
"""

from __future__ import annotations

import cv2
import numpy as np

SIDE = 64  # the aligned grey crop's side (facesel.align)


def edge_signatures(greys: np.ndarray) -> np.ndarray:
    """Unit-length, mean-centred Sobel gradient magnitude of each crop.

    Parameters
    ----------
    greys : (M, 64, 64) uint8
        Aligned grey crops.

    Returns
    -------
    (M, 4096) float32; a constant crop (no edges) gives a zero row.
    """
    greys = _checked_greys(greys)
    out = np.empty((len(greys), SIDE * SIDE), np.float32)
    for k, grey in enumerate(greys):
        # Exact integer gradients, then float64 steps that are each correctly rounded: the signature
        # is a function of the crop alone. (cv2.magnitude on float32 was not: its vector and scalar
        # paths differ by an ulp and which one runs depends on where the allocator put the gradient
        # arrays, so two identical crops got different signatures and near-tied agreements chose
        # differently from run to run.)
        gx = cv2.Sobel(grey, cv2.CV_16S, 1, 0).astype(np.float64)
        gy = cv2.Sobel(grey, cv2.CV_16S, 0, 1).astype(np.float64)
        magnitude = np.sqrt(gx * gx + gy * gy).reshape(-1)
        magnitude -= magnitude.mean()
        norm = float(np.sqrt(np.square(magnitude).sum()))  # not BLAS: see ``_dot``
        out[k] = magnitude / norm if norm > 0 else 0.0
    return out


HOG_CELL, HOG_BINS = 8, 9
"""Orientation histograms in 8x8 cells of 8x8 pixels, 9 unsigned bins (576 numbers a crop)."""


def hog_signatures_reference(greys: np.ndarray) -> np.ndarray:
    """Unit-length, mean-centred gradient-orientation histograms of each crop (session 11's code,
    kept as the reference: ``consensus_impl = "reference"``; :func:`hog_signatures` gives the same
    rows bit for bit, with fewer temporary arrays).

    Per cell of 8x8 pixels, the histogram of unsigned gradient orientations (9 bins over 180
    degrees) weighted by the gradient magnitude, each cell scaled to unit length; then the whole
    vector centred and scaled to unit length. Why: the per-cell unit length ignores local
    contrast, so a face half in shadow still matches its lit frames (tests/test_consensus.py:
    cosine 0.86-0.94 where the edge images give 0.67-0.76), and it was the best signature held
    out by source (experiments/pick_consensus_robust.py, pick_consensus_native.py). It is not more
    robust to blur than the edge image (measured: Gaussian blur of 1.5 pixels moves both alike);
    blur is judged on the native frame instead (:mod:`facesel.scoring.native_blur`).

    All crops of a call are done in one set of array operations (the Selector hands a frame's
    crops at once); each row is bit-identical to the crop's row computed alone, whatever the batch
    (tests/test_consensus.py): every step is elementwise or reduces along one crop's own row in
    the same order, and the consensus pick's near-ties depend on it (see :func:`_dot`).

    Parameters
    ----------
    greys : (M, 64, 64) uint8

    Returns
    -------
    (M, 576) float64; a constant crop gives a zero row.
    """
    greys = _checked_greys(greys)
    m, width = len(greys), _CELLS * HOG_BINS
    if m == 0:
        return np.zeros((0, width), np.float64)
    gx, gy = _sobel(greys)
    magnitude = np.sqrt(gx * gx + gy * gy).reshape(m, -1)
    angle = np.arctan2(gy, gx).reshape(m, -1)  # (-pi, pi]; gy is never -0.0 (an integer's float)
    # np.mod(angle, pi) without its division: for |angle| <= pi it is angle, angle + pi when
    # negative and 0 at pi, the very floating-point operations np.mod does here (and 2.5x faster)
    angle = np.where(angle < 0, angle + np.pi, angle)
    angle[angle == np.pi] = 0.0
    bins = np.minimum((angle * (HOG_BINS / np.pi)).astype(np.int64), HOG_BINS - 1)
    bins += _CELL_INDEX
    bins += (np.arange(m, dtype=np.int64) * width)[:, None]
    # bincount adds each bin's pixels in pixel order, as for one crop alone
    hist = np.bincount(bins.ravel(), weights=magnitude.ravel(), minlength=m * width)
    return _signature_rows(hist, m)


def hog_signatures(greys: np.ndarray) -> np.ndarray:
    """:func:`hog_signatures_reference` bit for bit, with a third of its temporary arrays.

    The same elementwise operations on the same values, each written into an array that is no
    longer needed (the orientation before the magnitude, which then overwrites the gradients), so
    a frame's batch allocates 3 arrays of its size where the reference allocated about 12: in the
    Selector, between detections that evict the caches, that memory traffic was much of the
    histograms' cost. (A table of the orientation bins of every integer gradient pair was tried:
    4 MiB, 30 % cheaper a crop alone and no cheaper in the Selector, its lookups missing the cache.)

    Parameters
    ----------
    greys : (M, 64, 64) uint8

    Returns
    -------
    (M, 576) float64; a constant crop gives a zero row.
    """
    greys = _checked_greys(greys)
    m, width = len(greys), _CELLS * HOG_BINS
    if m == 0:
        return np.zeros((0, width), np.float64)
    gx, gy = _sobel(greys)
    angle = np.arctan2(gy, gx)  # the reference's operations from here, in place
    np.add(angle, np.pi, out=angle, where=angle < 0)
    angle[angle == np.pi] = 0.0
    angle *= HOG_BINS / np.pi
    bins = angle.astype(np.int64).reshape(m, -1)
    np.minimum(bins, HOG_BINS - 1, out=bins)
    bins += _CELL_INDEX
    bins += (np.arange(m, dtype=np.int64) * width)[:, None]
    gx *= gx
    gy *= gy
    gx += gy
    magnitude = np.sqrt(gx, out=gx)
    hist = np.bincount(bins.ravel(), weights=magnitude.ravel(), minlength=m * width)
    return _signature_rows(hist, m)


def _checked_greys(greys) -> np.ndarray:
    """``greys`` as an (M, 64, 64) uint8 array, or a ValueError naming what is wrong."""
    greys = np.asarray(greys)
    if greys.ndim != 3 or greys.shape[1:] != (SIDE, SIDE):
        raise ValueError(f"greys must have shape (M, {SIDE}, {SIDE}), got {greys.shape}")
    if greys.dtype != np.uint8:
        raise ValueError(f"greys must be uint8, got {greys.dtype}")
    return greys


def _signature_rows(hist: np.ndarray, m: int) -> np.ndarray:
    """(M, 576) float64 signatures from the (M * 576,) float64 cell histograms of M crops: each
    cell scaled to unit length, then each row centred and scaled to unit length (a zero row stays
    zero). Modifies ``hist`` in place."""
    width = _CELLS * HOG_BINS
    hist = hist.reshape(m * _CELLS, HOG_BINS)
    hist /= np.maximum(np.sqrt(np.square(hist).sum(axis=1, keepdims=True)), 1e-6)
    rows = hist.reshape(m, width)
    rows -= rows.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.square(rows).sum(axis=1))
    out = np.zeros((m, width), np.float64)
    flat = norms > 0
    out[flat] = rows[flat] / norms[flat, None]
    return out


_CELLS = (SIDE // HOG_CELL) ** 2
_CELL_INDEX = (((np.arange(SIDE) // HOG_CELL)[:, None] * (SIDE // HOG_CELL) + (np.arange(SIDE) // HOG_CELL)[None, :])
               * HOG_BINS).ravel()
"""(4096,) int64: the first histogram bin of each pixel's cell."""


def _sobel(greys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, 64, 64) float64 x and y gradients of (M, 64, 64) uint8 crops: ``cv2.Sobel`` in exact
    integers (3x3, its default border), crop by crop (a crop's border must not see its neighbour)."""
    gx = np.empty(greys.shape, np.int16)
    gy = np.empty(greys.shape, np.int16)
    for k, grey in enumerate(greys):
        cv2.Sobel(grey, cv2.CV_16S, 1, 0, dst=gx[k])
        cv2.Sobel(grey, cv2.CV_16S, 0, 1, dst=gy[k])
    return gx.astype(np.float64), gy.astype(np.float64)


SIGNATURES = {"edges": lambda greys: edge_signatures(greys).astype(np.float64), "hog": hog_signatures}
"""Signature of a crop by name: ``(M, 64, 64) uint8 -> (M, D) float64`` unit rows."""
REFERENCE_SIGNATURES = {**SIGNATURES, "hog": hog_signatures_reference}
"""The same by session 11's code (``consensus_impl = "reference"``): the same rows bit for bit."""
REFERENCES = ("mean", "median")
MEDIAN_CAPACITY = 1024
"""Signatures a ``median`` reference keeps per track at most; past it every other one is dropped
and only every 2nd (then 4th...) new one is kept, so memory stays bounded on an endless track
(1024 x 576 float32 = 2.3 MiB for the histograms) while the kept ones still span the whole track."""


class TrackConsensus:
    """One track's reference signature; :meth:`scores` compares crops with it (cosine).

    Parameters
    ----------
    signature : {"edges", "hog"}
        :func:`edge_signatures` (the rule of session 9) or :func:`hog_signatures`.
    reference : {"mean", "median"}
        ``mean``: a running sum, one (D,) float64 vector whatever the track's length (32 KiB for
        the edges). ``median``: the per-coordinate median of the signatures added, which needs them
        kept (float32, at most :data:`MEDIAN_CAPACITY`, decimated evenly past it); a median is not
        pulled by the few crops that are far from the rest (a turn, a hand), a mean is.
    """

    __slots__ = ("signature", "reference", "total", "count", "_rows", "_stride", "_skipped")

    def __init__(self, signature: str = "edges", reference: str = "mean") -> None:
        if signature not in SIGNATURES:
            raise ValueError(f"signature must be one of {sorted(SIGNATURES)}, got {signature!r}")
        if reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
        self.signature, self.reference = signature, reference
        self.total = None
        self.count = 0
        self._rows: list[np.ndarray] = []
        self._stride, self._skipped = 1, 0

    def add(self, greys: np.ndarray) -> None:
        """Add (M, 64, 64) uint8 crops of this track to its reference."""
        self.add_signatures(SIGNATURES[self.signature](greys))

    def add_signatures(self, signatures: np.ndarray) -> None:
        """Add crops already turned into (M, D) float64 rows by ``SIGNATURES[self.signature]``
        (the Selector computes a frame's crops at once and keeps the finalists' rows)."""
        self.count += len(signatures)
        if self.reference == "mean":
            total = signatures.sum(axis=0, dtype=np.float64)
            self.total = total if self.total is None else self.total + total
            return
        for row in signatures.astype(np.float32):
            self._skipped += 1
            if self._skipped < self._stride:
                continue
            self._skipped = 0
            self._rows.append(row)
            if len(self._rows) >= MEDIAN_CAPACITY:
                self._rows = self._rows[::2]
                self._stride *= 2

    def centre(self) -> np.ndarray | None:
        """(D,) float64 unit reference, or None before any crop was added or when it has no edges."""
        if self.reference == "mean":
            centre = self.total
        else:
            centre = np.median(np.stack(self._rows), axis=0).astype(np.float64) if self._rows else None
        if centre is None:
            return None
        norm = float(np.sqrt(_dot(centre[None], centre)[0]))
        return None if norm == 0.0 else centre / norm

    def scores(self, greys: np.ndarray) -> np.ndarray:
        """(M,) float64 cosine of each crop's signature with the track's reference, in [-1, 1]
        (all 0 before any crop was added, or when the reference has no edges)."""
        return self.agreement(SIGNATURES[self.signature](greys))

    def agreement(self, signatures: np.ndarray) -> np.ndarray:
        """:meth:`scores` of crops already turned into (M, D) float64 signature rows."""
        centre = self.centre()
        if centre is None:
            return np.zeros(len(signatures))
        return _dot(signatures, centre)


def _dot(rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """(M,) float64 dot product of each row of (M, N) ``rows`` with (N,) ``vector``, bit-identical
    for identical rows and whatever thread calls it.

    Why not ``rows @ vector``: BLAS (OpenBLAS) splits a matrix-vector product into blocks whose
    rounding depends on the row's position and on whether the call came from the main thread or
    from a stage thread beside another BLAS user. Crops of a track are often near-identical, so
    their agreements tie to ~1e-12 and that rounding chose the kept frame: a threaded run kept frame
    36 where ``feed`` kept frame 24 (tests/test_selector_contract.py). numpy's own product and
    pairwise sum do the same operations in the same order for every row, in every thread.
    """
    return np.multiply(rows, vector[None, :]).sum(axis=1)
