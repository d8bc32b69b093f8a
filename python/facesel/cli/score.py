"""``facesel score IMAGE...``: the default quality score of the face in each image.

Each image is passed through the pipeline's crop function (YuNet detection on a padded copy,
then :func:`facesel.align.align_face` on the detection nearest the image centre), so a tight face
crop and a photo with one face both work; when no face is found the whole image is taken as the
face box (reported as ``"detected": false``).
"""

from __future__ import annotations

import json
from pathlib import Path


def _run(args) -> int:
    import cv2

    from facesel.detectors import YuNetDetector
    from facesel.faceset import align_tight_crop, read_image
    from facesel.scoring.default import default_scorer

    paths = [Path(p) for p in args.images]
    for path in paths:  # check all files before the slow part, so a typo fails at once
        if not path.is_file():
            raise FileNotFoundError(f"image not found: {path}")
    detector = YuNetDetector(min_confidence=0.5)
    crops, found = [], []
    for path in paths:
        crop, ok = align_tight_crop(read_image(path), detector)
        crops.append(crop)
        found.append(ok)
    import numpy as np

    scorer = default_scorer()
    scores = scorer.score(np.stack(crops))
    if args.json:
        rows = [
            {"path": str(p), "quality": float(s), "detected": bool(ok)} for p, s, ok in zip(paths, scores, found)
        ]
        print(json.dumps({"scorer": getattr(scorer, "name", type(scorer).__name__), "results": rows}, indent=2))
    else:
        for p, s, ok in zip(paths, scores, found):
            print(f"{p}\t{s:.4f}" + ("" if ok else "\t(no face detected: whole image used)"))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("score", help="print the face-quality score of each image (higher is better)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (a face crop or a photo with one face)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
