"""Local-binary-pattern texture against the track's own median: a second new signal for the
within-track pick, held out by source (issue 22, session 14). PRE-REGISTERED: this docstring and the
code below were committed before the script was first run on the benchmark, after the first family
(``pick_landmark_shape.py``, landmark shape) was run and found nothing.

Why: every per-crop signal tried so far that ranks a track's crops like the ground truth is a
*typicality* of the crop's edges (the default's orientation histograms, edge images, their bands
and halves) or of the VAE's latent; the loss diagnosis (docs/eval/tracks/pick_loss_diagnosis.txt)
puts 0.0152 of the default's 0.0235 smoothed regret in the order among the gated finalists, where
a frame within 0.0082 of the best is available. Local binary patterns (the sign of each pixel's
8 neighbours against it, histogrammed in cells) describe the skin's and features' fine texture and
are invariant to any monotone change of brightness: a different kind of information from gradient
orientations (which a change of expression or pose moves, but a lighting change or shading barely
does, and the other way round for texture). They are hand-made (no learnt model, no recognition
model) and cost about as much as the histograms per aligned crop.

Signal (per crop; computed on the 64x64 grey crop the Selector aligns, ``facesel.eval.track_data._align``):

* uniform LBP codes (8 neighbours at radius 1; the 58 codes with at most two 0/1 transitions
  around the circle, every other code one more label: 59 labels) of the inner 60x60 pixels,
  histogrammed in a 4x4 grid of 15x15 cells; each cell's histogram divided by its sum, square-rooted
  (Hellinger), the 944 numbers then scaled to unit length;
* ``L`` = cosine of a crop's signature with the per-coordinate median of its track's admitted crops'
  signatures (those that joined the track's 32 best by the screen when they came), at unit length.

Candidates (each on the default's gated finalists, as in ``pick_landmark_shape.py``; ties of a rank
sum to the higher ``A``):

 1. ``A`` (the default consensus pick)
 2. ``L``
 3. rank A + rank L

The answer: the candidate chosen leave-one-source-out among these 3; and, as the honest figure for
"the best of everything tried in session 14", the choice among the union with the first family
(6 candidates: A, rank A + rank G, gate G then A, rank A + rank Gm, L, rank A + rank L). Same
report as the first family (against random, paired against the default, the context rule and each
single signal, per source, matchable, unsmoothed); ``--window 2`` as a secondary check.

Run: ``nice -n 5 python experiments/pick_lbp_consensus.py --cache-dir /tmp/pick-cache/tracks
--lbp-cache /tmp/pick22b/lbp`` (the first run decodes every clip once and caches the signatures,
numbers only, in ``--lbp-cache``: keep it private like the track cache).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from facesel.eval.track_data import collect_tracks

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pick_consensus_native import admitted_mask, unit  # noqa: E402
from pick_consensus_robust import VIDEOS  # noqa: E402
from pick_landmark_shape import CANDIDATES as SHAPE_CANDIDATES, report, shape_signals  # noqa: E402
from pick_loss_diagnosis import K, load, per_track_rows  # noqa: E402

CANDIDATES = (("A",), ("L",), ("rank", "A", "L"))
UNION = SHAPE_CANDIDATES + CANDIDATES[1:]
GRID, CELL, LABELS = 4, 15, 59
# neighbours of a pixel, in circular order (row, column offsets)
RING = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def uniform_labels() -> np.ndarray:
    """(256,) uint8: label of each 8-bit LBP code, 0..57 for the uniform codes (<= 2 transitions
    around the circle), 58 for the rest."""
    table = np.full(256, LABELS - 1, np.uint8)
    label = 0
    for code in range(256):
        bits = [(code >> k) & 1 for k in range(8)]
        if sum(bits[k] != bits[(k + 1) % 8] for k in range(8)) <= 2:
            table[code] = label
            label += 1
    assert label == LABELS - 1
    return table


TABLE = uniform_labels()


def lbp_signatures(greys: np.ndarray) -> np.ndarray:
    """(N, 64, 64) uint8 aligned grey crops -> (N, 944) float32 unit-length Hellinger LBP signatures."""
    g = np.asarray(greys, np.int16)
    if g.ndim != 3 or g.shape[1:] != (64, 64):
        raise ValueError(f"greys must have shape (N, 64, 64), got {g.shape}")
    c = g[:, 2:62, 2:62]
    code = np.zeros(c.shape, np.uint8)
    for k, (dy, dx) in enumerate(RING):
        code |= ((g[:, 2 + dy:62 + dy, 2 + dx:62 + dx] >= c).astype(np.uint8) << k)
    lab = TABLE[code].reshape(len(g), GRID, CELL, GRID, CELL).transpose(0, 1, 3, 2, 4).reshape(len(g), GRID * GRID, CELL * CELL)
    hist = np.zeros((len(g), GRID * GRID, LABELS), np.float64)
    n_idx, cell_idx = np.meshgrid(np.arange(len(g)), np.arange(GRID * GRID), indexing="ij")
    np.add.at(hist, (n_idx[..., None], cell_idx[..., None], lab), 1.0)
    sig = np.sqrt(hist / (CELL * CELL)).reshape(len(g), -1)
    return (sig / np.maximum(np.linalg.norm(sig, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def photometry(greys: np.ndarray) -> np.ndarray:
    """(N, 64, 64) uint8 aligned grey crops -> (N, 3) float64: mean brightness, contrast (standard
    deviation) and the left half's mean minus the right half's over the mean (the light's side).
    For the loss diagnosis only (``pick_loss_diagnosis.py --lbp-cache``), not a candidate."""
    g = np.asarray(greys, np.float64)
    mean = g.mean(axis=(1, 2))
    side = (g[:, :, :32].mean(axis=(1, 2)) - g[:, :, 32:].mean(axis=(1, 2))) / np.maximum(mean, 1.0)
    return np.stack([mean, g.std(axis=(1, 2)), side], axis=1)


def video_lbp(video_path: Path, cache_dir: Path, lbp_cache: Path, what: str = "lbp") -> np.ndarray:
    """(N, 944) LBP signatures (``what="lbp"``) or (N, 3) :func:`photometry` (``"photo"``) of every
    crop of ``video_path``'s tracks in VideoTracks order (both cached by the first call)."""
    from facesel.eval.track_data import _align
    from facesel.eval.track_native import decoded_crop_rows

    video = collect_tracks(video_path, cache_dir=cache_dir, with_crops=False)
    lbp_cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    out_file = lbp_cache / f"lbp-{video.key}.npz"
    if out_file.is_file():
        z = np.load(out_file)
        if what in z.files:
            return z[what]
    z = np.load(Path(cache_dir) / f"tracks-{video.key}.npz", allow_pickle=False)
    frames, boxes, lms, ids = z["frames"], z["boxes"], z["landmarks"], z["track_ids"]
    order = np.lexsort((frames, ids))
    greys = np.zeros((len(frames), 64, 64), np.uint8)
    for frame, row in decoded_crop_rows(video_path, frames):
        greys[row] = _align(frame, boxes[row], None if np.isnan(lms[row]).all() else lms[row])
    out = {"lbp": lbp_signatures(greys)[order], "photo": photometry(greys)[order]}
    del greys
    tmp = out_file.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **out)
    os.replace(tmp, out_file)
    return out[what]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--lbp-cache", type=Path, required=True)
    ap.add_argument("--window", type=float, default=4.0)
    ap.add_argument("--videos", nargs="*", default=VIDEOS)
    args = ap.parse_args()
    obs, tracks, pos, lms_of, views = load(args.cache_dir, args.videos, args.window, with_landmarks=True)

    def signatures_of(path: Path) -> np.ndarray:
        return video_lbp(path, args.cache_dir, args.lbp_cache).astype(np.float64)

    for key, s in per_track_rows(args.cache_dir, args.videos, signatures_of):
        t = tracks[key]
        ref = unit(np.median(s[admitted_mask(t["ctx"], K)], axis=0))
        t["L"] = s @ ref
        t.update(shape_signals(lms_of[key], t["ctx"]))
    print("== the LBP family (3) ==")
    report(obs, tracks, pos, views, CANDIDATES, args.window)
    print("\n== the union with the landmark-shape family (6) ==")
    report(obs, tracks, pos, views, UNION, args.window)


if __name__ == "__main__":
    main()
