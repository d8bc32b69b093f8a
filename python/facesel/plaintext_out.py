"""Unencrypted output of ``facesel run --plaintext-out``: FOR TESTING ONLY, faces in the clear.

Writes each track's best snapshot as ``track_<id>.png`` (its clip, when there is one, as
``track_<id>_clip_<frame>.png``; the runners-up with ``top_k > 1`` as ``track_<id>_top<rank>.png``)
plus one JSON line per track in ``tracks.jsonl``. A deployment
seals snapshots into the vault instead (:mod:`facesel.vault`); nothing here is encrypted.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from facesel.path_arg import path_arg
from facesel.types import TrackResult

TRACKS_FILE = "tracks.jsonl"


def snapshot_name(track_id: int) -> str:
    """The snapshot file's name of track ``track_id``: ``track_NNNNN.png`` (zero-padded to five digits)."""
    return f"track_{track_id:05d}.png"


def track_record(result: TrackResult, snapshot_file: str | None = None, clip_files: list[str] | None = None) -> dict:
    """The JSON-ready metadata of one result (no pixels)."""
    best = result.best
    record = {
        "track_id": int(result.track_id),
        "first_frame": int(result.first_frame),
        "last_frame": int(result.last_frame),
        "first_timestamp": float(result.first_timestamp),
        "last_timestamp": float(result.last_timestamp),
        "best_frame": int(best.frame_index),
        "best_timestamp": float(best.timestamp),
        "quality": float(best.quality),
        "box": [float(v) for v in np.asarray(best.box).reshape(-1)],
        "landmarks": None if best.landmarks is None else np.asarray(best.landmarks, dtype=float).round(2).tolist(),
        "snapshot": snapshot_file,
        "clip": clip_files or [],
        "frame_indices": np.asarray(result.frame_indices, dtype=np.int64).tolist(),
        "qualities": [float(q) for q in np.asarray(result.qualities, dtype=np.float64)],
    }
    boxes = getattr(result, "boxes", None)  # a SelectedTrack also has the track's box per frame
    if boxes is not None:
        record["boxes"] = np.asarray(boxes, dtype=float).round(1).tolist()
    return record


class PlaintextWriter:
    """Writes results into ``folder`` in the clear. For testing; see the module docstring.

    Parameters
    ----------
    folder : path
        Created when missing. A folder that already holds a ``tracks.jsonl`` is refused, so that
        two runs never mix.
    name : str
        What errors call ``folder``: the Python argument, or the flag (``facesel run`` gives
        ``--plaintext-out``).
    """

    def __init__(self, folder, *, name: str = "folder"):
        self.folder = path_arg(folder, name).expanduser()
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"{name} must be a folder, got the file {self.folder}")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._jsonl_path = self.folder / TRACKS_FILE
        if self._jsonl_path.exists():
            raise ValueError(f"{self.folder} already holds a run ({TRACKS_FILE}); choose an empty folder")
        self._jsonl = open(self._jsonl_path, "w", encoding="utf-8")
        self.written = 0

    def write(self, result: TrackResult) -> dict:
        """Write one result's PNG(s) and its JSON line; returns the JSON record."""
        name = snapshot_name(result.track_id)
        _write_png(self.folder / name, result.best.crop)
        clip_files = []
        for frame_index, crop in zip(result.best.clip_frame_indices, result.best.clip):
            clip_name = f"track_{result.track_id:05d}_clip_{int(frame_index):06d}.png"
            _write_png(self.folder / clip_name, crop)
            clip_files.append(clip_name)
        record = track_record(result, name, clip_files)
        # A SelectedTrack with top_k > 1 also has the runners-up (top[0] is the best itself).
        record["top"] = []
        for rank, snap in enumerate(getattr(result, "top", [])[1:], start=2):
            top_name = f"track_{result.track_id:05d}_top{rank}.png"
            _write_png(self.folder / top_name, snap.crop)
            record["top"].append({"snapshot": top_name, "frame": int(snap.frame_index), "quality": float(snap.quality)})
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        self.written += 1
        return record

    def close(self) -> None:
        """Close ``tracks.jsonl`` (every line written is already flushed)."""
        self._jsonl.close()

    def __enter__(self) -> PlaintextWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _write_png(path: Path, image: np.ndarray) -> None:
    # Encoded in memory, written by Python: cv2.imwrite on a full disk printed libpng's "Write
    # Error" on stderr and returned False, so the error could not say why (ux17); now an OSError
    # names the reason and the file, and a partial PNG is removed.
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise RuntimeError(f"could not encode {path.name} as PNG (crop shape {image.shape}, dtype {image.dtype})")
    try:
        path.write_bytes(png.tobytes())
    except OSError:
        path.unlink(missing_ok=True)
        raise
