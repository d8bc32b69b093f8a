"""How well the privacy-safe view of ``facesel serve`` hides faces, on the arcade video.

    python experiments/view_privacy.py [--every 5] [--cells 4]

For every ``--every``-th frame of the shared arcade video: the view is rendered as ``facesel
serve`` renders it (:class:`facesel.serve.view.ViewRenderer`, no open tracks), then

- YuNet (facesel's detector) is run on the served JPEG at its default confidence (0.6) and at
  0.3: faces that a detector can still find;
- for every face YuNet finds on the full-size original (confidence 0.6): the mean absolute
  difference between the served pixels and the original's (shrunk to the view's size) in that
  box, over the same difference for a plain JPEG (quality 80) of the original. 1.0 means the
  face is served as it is; the mosaic gives far more.

Prints the counts, the lowest and median ratio, and the CPU seconds per rendered frame.
"""

from __future__ import annotations

import argparse
import time
import types

import cv2
import numpy as np

from facesel.data import data_root
from facesel.detect import make_detector
from facesel.serve import view
from facesel.serve.zones import ZoneMask
from facesel.video import open_source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--cells", type=int, default=view.MOSAIC_CELLS, help="mosaic cells across a face")
    args = parser.parse_args()
    view.hide_faces.__defaults__ = (view.MARGIN, args.cells)
    root = data_root()
    if root is None:
        raise SystemExit("the shared data is needed (FACESEL_DATA)")
    frames = [frame for frame, _ in open_source(root / "videos" / "arcade_walkers_1080p.mp4")]
    frames = frames[:: args.every]
    default, low = make_detector("yunet"), make_detector("yunet", min_confidence=0.3)
    ratios, left_default, left_low, cpu = [], 0, 0, 0.0
    for frame in frames:
        camera = types.SimpleNamespace(newest_frame=frame, adapter=None, zones=ZoneMask(),
                                       config=types.SimpleNamespace(name="arcade", settings={}))
        start = time.process_time()
        jpeg = view.ViewRenderer(camera).render()
        cpu += time.process_time() - start
        served = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        left_default += len(default.detect(served).boxes)
        left_low += len(low.detect(served).boxes)
        scale = served.shape[1] / frame.shape[1]
        shrunk = cv2.resize(frame, (served.shape[1], served.shape[0]), interpolation=cv2.INTER_AREA)
        plain = cv2.imdecode(cv2.imencode(".jpg", shrunk, [cv2.IMWRITE_JPEG_QUALITY, 80])[1], cv2.IMREAD_COLOR)
        for box in default.detect(frame).boxes * scale:
            x1, y1, x2, y2 = (int(round(v)) for v in box)
            face = shrunk[y1:y2, x1:x2].astype(np.float64)
            ratios.append(np.abs(face - served[y1:y2, x1:x2]).mean() / np.abs(face - plain[y1:y2, x1:x2]).mean())
    ratios = np.asarray(ratios)
    print(f"{len(frames)} frames, {len(ratios)} faces on the originals; faces YuNet finds in the served frames: "
          f"{left_default} at 0.6, {left_low} at 0.3; distance over a plain JPEG's: min {ratios.min():.2f}, "
          f"median {np.median(ratios):.2f}; {cpu / len(frames):.2f} CPU s per view frame ({args.cells} cells)")


if __name__ == "__main__":
    main()
