"""``facesel score IMAGE...``: the default quality score of every face in each image.

Each image is padded and searched by YuNet (so a tight face crop works as well as a photo);
every face found is aligned by :func:`facesel.align.align_face` and scored, and is reported with
its box in the image's own pixel coordinates, the face nearest the centre first. When no face is
found the whole image is taken as the face box (``"detected": false``). A file that is missing or
cannot be read is reported as an error for that file; the others are still scored and printed
(the exit code is then 1). Each image is printed once scored; Ctrl-C prints (with ``--json``, writes)
the images done and exits 130.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np


def scoring_rule(scorer):
    """``(name, scorer whose scale the numbers are on)``: a scorer that needs a video's context
    (the default pick rule: pose over time, detector confidence, size in the frame) scores a
    single image by its fallback, so the numbers are on the fallback's scale, not on the scale
    of the values ``facesel run`` and ``facesel list`` show."""
    name = getattr(scorer, "name", type(scorer).__name__)
    fallback = getattr(scorer, "fallback", None)
    if getattr(scorer, "uses_context", False) and fallback is not None:
        inner = getattr(fallback, "name", type(fallback).__name__)
        return f"{name} without a video's context = {inner}", fallback
    return name, scorer


def photo_rule(scorer):
    """:class:`facesel.scoring.stills.PhotoScorer` around ``scorer`` when it is the VAE's stills rule
    ``dose_flat`` and its model card holds the JPEG grid term's calibration, else None."""
    from facesel.scoring.stills import PhotoScorer
    from facesel.scoring.vae import VAEScorer

    calibration = getattr(scorer, "calibration", {}) or {}
    if isinstance(scorer, VAEScorer) and scorer.method == "dose_flat" and "jpeg_grid_std" in calibration:
        return PhotoScorer(vae=scorer)
    return None


def scale_hint(scorer) -> str:
    """One sentence on what the scorer's numbers mean (from its model card when it has one)."""
    method = getattr(scorer, "method", None)
    calibration = getattr(scorer, "calibration", {}) or {}
    if method in ("dose", "dose_flat") and calibration.get(f"{method}_statistics"):
        k = len(calibration[f"{method}_statistics"])
        # The score is minus a squared Mahalanobis distance over k statistics fitted on clean
        # faces: for faces like those it is about -chi2(k) (Wilson-Hilferty for the 95% point).
        q95 = k * (1 - 2 / (9 * k) + 1.645 * math.sqrt(2 / (9 * k))) ** 3
        return (f"higher is better; 0 is the best possible; faces like the clean training faces score "
                f"about -{k} on average and 95% of them above -{q95:.1f} (minus a squared distance over {k} "
                "statistics); lower means blurred, noisy, dark, occluded or not a face")
    if method == "paper":
        return "higher is better: the log reconstruction probability of the crop under the VAE (in nats)"
    if type(scorer).__name__ == "LaplacianVarianceScorer":
        return "higher is better: variance of the Laplacian of the 64x64 crop (0 = flat; sharpness only)"
    return f"higher is better; comparable only between crops scored by {getattr(scorer, 'name', type(scorer).__name__)}"


def _faces(image: np.ndarray, detector) -> list[tuple[np.ndarray, list[float], bool, float]]:
    """``(grey crop, box in image pixels, detected, JPEG grid excess)`` of every face, nearest the
    centre first; the excess (:func:`facesel.scoring.jpeg_grid.grid_zero_excess`) is measured on
    the image itself in the face box, before alignment."""
    from facesel.align import align_face, pad_for_detection
    from facesel.scoring.jpeg_grid import grid_zero_excess

    padded, dx, dy = pad_for_detection(image)
    dets = detector.detect(padded)
    h, w = image.shape[:2]
    if not len(dets):
        box = np.array([dx, dy, dx + w, dy + h], dtype=np.float32)
        whole = [0.0, 0.0, float(w), float(h)]
        return [(align_face(padded, box, None).grey, whole, False, grid_zero_excess(image, whole))]
    centres = (dets.boxes[:, :2] + dets.boxes[:, 2:]) / 2.0
    order = np.argsort(np.linalg.norm(centres - np.array([dx + w / 2.0, dy + h / 2.0]), axis=1), kind="stable")
    faces = []
    for i in order:
        landmarks = None if dets.landmarks is None else dets.landmarks[i]
        box = dets.boxes[i] - np.array([dx, dy, dx, dy], dtype=np.float32)
        faces.append((align_face(padded, dets.boxes[i], landmarks).grey, [round(float(v), 1) for v in box], True,
                      grid_zero_excess(image, box)))
    return faces


def _read_faces(path: Path, detector, max_frame_pixels: int) -> dict:
    """One image's row: ``{"path", "faces": [{"box", "detected"}], ...}`` and its crops and grid
    excesses under the private keys ``_crops`` / ``_excess``, or ``{"path", "error"}``."""
    from facesel.faceset import read_image

    row = {"path": str(path)}
    if not path.is_file():
        # a folder (or a FIFO) exists: "not found" sent the user looking for a typo
        row["error"] = f"not an image file: {path} is a folder" if path.is_dir() else f"image not found: {path}"
        return row
    try:
        faces = _faces(read_image(path, max_frame_pixels), detector)
    except ValueError as err:  # every error names its file: several images may be given
        row["error"] = str(err) if str(path) in str(err) else f"{path}: {err}"
        return row
    row["faces"] = [{"box": box, "detected": found} for _, box, found, _ in faces]
    row["_crops"] = np.stack([crop for crop, _, _, _ in faces])
    row["_excess"] = np.array([grid for _, _, _, grid in faces])
    return row


def _print_row(row: dict) -> None:
    for k, face in enumerate(row.get("faces", [])):
        box = ",".join(f"{v:.0f}" for v in face["box"])
        note = "" if face["detected"] else "\t(no face detected: whole image used)"
        print(f"{row['path']}\t{face['quality']:.4f}\tface {k + 1}/{len(row['faces'])} box {box}{note}", flush=True)


def _run(args) -> int:
    from facesel.detectors import YuNetDetector
    from facesel.scoring.default import default_scorer

    from facesel.serve.quiet_media import quiet_media_libraries

    quiet_media_libraries()  # as `facesel run`: FFmpeg's "[png @ 0x...] Invalid PNG signature" off stderr
    detector = YuNetDetector(min_confidence=0.5)
    scorer = default_scorer()
    rule, on_scale_of = scoring_rule(scorer)
    photo = photo_rule(on_scale_of)
    if photo is not None:  # a photo's stills rule also reads the photo's JPEG grid (issue 22)
        rule = rule.removesuffix(on_scale_of.name) + photo.name
    hint = scale_hint(on_scale_of)
    if photo is not None:
        hint += ("; minus the photo's JPEG grid term (0 unless the face's pixels were compressed harder than the "
                 "clean training photos, JPEG quality 95)")
    if on_scale_of is not scorer:
        hint += ("; NOT the scale of the quality that 'facesel run' and 'facesel list' show, which the pick "
                 "rule gives with a video's context")
    if not args.json:
        print(f"quality ({rule}): {hint}", file=sys.stderr)
    # Image by image, each printed once scored: Ctrl-C in a long list keeps the scores done so far
    # (before, every image was scored at the end and an interrupt printed none of them). The
    # scorers score each crop on its own, so one image's batch gives the numbers the whole list's did.
    paths = [Path(p) for p in args.images]
    rows, interrupted = [], False
    try:
        for path in paths:
            row = _read_faces(path, detector, args.max_frame_pixels)
            if "faces" in row:
                crops, excess = row.pop("_crops"), row.pop("_excess")
                scores = photo.score(crops, excess) if photo is not None else scorer.score(crops)
                for face, value in zip(row["faces"], scores):
                    face["quality"] = float(value)
                # the face nearest the centre, as the one-face summary
                row["quality"], row["detected"] = row["faces"][0]["quality"], row["faces"][0]["detected"]
            rows.append(row)
            if not args.json:
                _print_row(row)
    except KeyboardInterrupt:
        interrupted = True
    if args.json:
        doc = {"scorer": rule, "scale": hint, "results": rows}
        if interrupted:
            doc["interrupted"] = f"stopped by Ctrl-C after {len(rows)} of {len(paths)} images"
        print(json.dumps(doc, indent=2))
    errors = [row["error"] for row in rows if "error" in row]
    for message in errors:
        print(f"facesel score: error: {message}", file=sys.stderr)
    if interrupted:
        print(f"facesel score: interrupted by Ctrl-C after {len(rows)} of {len(paths)} images: the scores above "
              "are those of the images done", file=sys.stderr)
        return 130
    return 1 if errors else 0


def register(subparsers) -> None:
    """Add ``facesel score`` to ``subparsers``."""
    from facesel.cli.argtypes import add_max_frame_pixels

    p = subparsers.add_parser("score", help="print the face-quality score of every face in each image (higher is better)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (face crops or photos with faces)")
    p.add_argument("--json", action="store_true", help="machine-readable output (one entry per image, a list of faces)")
    add_max_frame_pixels(p, "an image")
    p.set_defaults(func=_run)
