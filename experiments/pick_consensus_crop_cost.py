"""Per-crop CPU of the consensus pick's parts, in one run: session 9's edge signature against the
orientation histogram and the native-frame sharpness the consensus defaults add (ratios only: the
machine is shared). The whole-pipeline cost is ``benchmarks/consensus_cost.py``'s.

    python experiments/pick_consensus_crop_cost.py
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from facesel.align import align_face
from facesel.data import data_root
from facesel.detect import make_detector
from facesel.scoring.consensus import edge_signatures, hog_signatures
from facesel.scoring.native_blur import native_sharpness
from facesel.video import open_source


def main() -> None:
    cv2.setNumThreads(1)
    frames = [f for f, _ in open_source(data_root() / "videos" / "arcade_walkers_1080p.mp4", max_frames=30)]
    detector = make_detector("yunet")
    faces = [(f, b, m) for f in frames for d in [detector.detect(f)] for b, m in zip(d.boxes, d.landmarks)]
    greys = np.stack([align_face(f, b, m).grey for f, b, m in faces])

    def per_crop_ms(fn, rounds: int = 5) -> float:
        spent = []
        for _ in range(rounds):
            start = time.process_time()
            fn()
            spent.append(time.process_time() - start)
        return float(np.median(spent)) / len(faces) * 1e3

    align = per_crop_ms(lambda: [align_face(f, b, m) for f, b, m in faces])
    edges = per_crop_ms(lambda: edge_signatures(greys))
    hog = per_crop_ms(lambda: hog_signatures(greys))
    native = per_crop_ms(lambda: [native_sharpness(f, b, "gradient") for f, b, _ in faces])
    print(f"{len(faces)} arcade faces, ms a crop (process CPU, median of 5 rounds, 1 thread): align_face {align:.3f}, "
          f"edge signature {edges:.3f}, hog signature {hog:.3f}, native gradient sharpness {native:.3f}; "
          f"(hog + native) / edges: {(hog + native) / edges:.2f}x; (hog + native) / align_face: {(hog + native) / align:.2f}x")


if __name__ == "__main__":
    main()
