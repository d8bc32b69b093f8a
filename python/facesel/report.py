"""Per-track report figures of ``facesel run --report``.

- ``track_<id>_quality.png``: quality over time with the chosen observation marked (like Fig. 8
  of Baert et al., AAAI-21). Holds no face pixels.
- ``track_<id>_strip.png``: a strip of the track's crops with the chosen one outlined (like their
  Fig. 7). It shows faces, so it is written only when the caller allows plaintext faces on disk
  (``facesel run`` does so only together with ``--plaintext-out``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facesel.path_arg import path_arg
from facesel.setting_checks import check_flag
from facesel.types import TrackResult

_CHOSEN = "#d62728"


def _figure(width: float, height: float):
    # Figure without pyplot: no global state, no GUI backend, safe in threads and tests.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def chosen_point(result: TrackResult) -> tuple[float, str]:
    """Where the plot's star goes and how its title names the chosen crop's value.

    The star sits on the curve, at the chosen observation's own per-frame value. The value the
    track was chosen by (``best.quality``, what ``facesel list`` shows) can be on another scale:
    with the pick rule the finalists are rescored with the full score when the track closes, and
    the series holds the cheap screen's values. Drawn against the curve it sat below it at the
    same frame; it goes in the title instead, named as the final score.
    """
    frames = np.asarray(result.frame_indices)
    best = result.best
    at = np.flatnonzero(frames == best.frame_index)
    if not len(at):  # the series was thinned past this frame: only the final value is known
        return float(best.quality), f" (quality {best.quality:.3g})"
    value = float(np.asarray(result.qualities, np.float64)[at[0]])
    if np.isclose(value, best.quality):
        return value, f" (quality {best.quality:.3g})"
    return value, f" (this frame {value:.3g}; chosen by its final score {best.quality:.3g})"


def plot_quality(result: TrackResult, path) -> Path:
    """Write the quality-over-time plot of one track.

    Parameters
    ----------
    result : TrackResult
        Uses ``frame_indices`` (M,) int64, ``qualities`` (M,) float64 and ``best``.
    path : path of the PNG to write.
    """
    path = Path(path)
    fig = _figure(6.4, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    frames = np.asarray(result.frame_indices)
    qualities = np.asarray(result.qualities, dtype=np.float64)
    ax.plot(frames, qualities, "-o", color="#1f77b4", markersize=3, linewidth=1, label="observations")
    best = result.best
    if best.clip_frame_indices:
        ax.axvspan(min(best.clip_frame_indices), max(best.clip_frame_indices), color=_CHOSEN, alpha=0.12,
                   label="clip")
    star, chosen_by = chosen_point(result)
    ax.plot([best.frame_index], [star], "*", color=_CHOSEN, markersize=14, label="chosen")
    ax.axvline(best.frame_index, color=_CHOSEN, linewidth=0.8, linestyle=":")
    ax.set_xlabel("frame index")
    ax.set_ylabel("quality per frame (higher is better)")
    ax.set_title(f"track {result.track_id}: frames {result.first_frame}-{result.last_frame}, "
                 f"chosen {best.frame_index}{chosen_by}", fontsize=9)
    ax.legend(loc="best", fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    return path


def plot_strip(result: TrackResult, thumbnails, thumbnail_frames, path) -> Path:
    """Write a strip of a track's crops with the chosen one outlined. CONTAINS FACE PIXELS.

    Parameters
    ----------
    result : TrackResult
    thumbnails : list of (h, w, 3) uint8 BGR
        Crops spread over the track, in frame order.
    thumbnail_frames : (T,) int
        Frame index of each thumbnail.
    path : path of the PNG to write.
    """
    if len(thumbnails) == 0:
        raise ValueError(f"track {result.track_id} has no thumbnails to draw (keep some with Selector(thumbnails=N))")
    if len(thumbnails) != len(thumbnail_frames):
        raise ValueError(f"got {len(thumbnails)} thumbnails but {len(thumbnail_frames)} frame indices")
    path = Path(path)
    quality_of = dict(zip(np.asarray(result.frame_indices).tolist(), np.asarray(result.qualities).tolist()))
    n = len(thumbnails)
    fig = _figure(max(3.0, 1.1 * n), 1.7)
    for k, (crop, frame) in enumerate(zip(thumbnails, np.asarray(thumbnail_frames).tolist())):
        ax = fig.add_subplot(1, n, k + 1)
        ax.imshow(crop[:, :, ::-1])  # BGR -> RGB
        ax.set_xticks([])
        ax.set_yticks([])
        chosen = frame == result.best.frame_index
        for spine in ax.spines.values():
            spine.set_edgecolor(_CHOSEN if chosen else "#bbbbbb")
            spine.set_linewidth(4 if chosen else 0.5)
        q = quality_of.get(frame)
        label = f"{frame}" if q is None else f"{frame}\n{q:.3g}"
        ax.set_title(label, fontsize=7, color=_CHOSEN if chosen else "black")
    fig.suptitle(f"track {result.track_id}: frame / quality, chosen outlined", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path


class ReportWriter:
    """Writes the report figures of each result into ``folder``.

    Parameters
    ----------
    folder : path
        Created when missing.
    with_faces : bool
        Also write the crop strips (face pixels, unencrypted). Only for testing runs that write
        plaintext anyway.
    name : str
        What errors call ``folder``: the Python argument, or the flag (``facesel run`` gives
        ``--report``).
    """

    def __init__(self, folder, with_faces: bool = False, *, name: str = "folder"):
        self.folder = path_arg(folder, name).expanduser()
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"{name} must be a folder, got the file {self.folder}")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.with_faces = check_flag(with_faces, "with_faces")  # "no" would have drawn the faces (ux19)
        self.written: list[Path] = []

    def write(self, result: TrackResult) -> list[Path]:
        """Plot one track's result; returns the files written (also added to ``written``)."""
        paths = [plot_quality(result, self.folder / f"track_{result.track_id:05d}_quality.png")]
        thumbnails = getattr(result, "thumbnails", None)
        if self.with_faces and thumbnails:
            paths.append(plot_strip(result, thumbnails, result.thumbnail_frames,
                                    self.folder / f"track_{result.track_id:05d}_strip.png"))
        self.written.extend(paths)
        return paths
