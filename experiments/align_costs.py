"""The per-crop cost of :func:`facesel.align.align_face` in two versions of the code, and the check
that they make the same crops bit for bit (issue 27: the Python around each face's alignment).

    python experiments/align_costs.py --old /tmp/main/python/facesel/align.py [--frames 40] [--repeats 5]

Not a test (not in CI). The detections are real: the default detector on the first ``--frames``
frames of each video (every frame detected), plus synthetic faces that reach the rare branches (a
mirrored landmark set, which the fit must not mirror; faces larger than the crop, which are
averaged down first; faces at and past the frame's border; boxes without landmarks). Both versions
align every face; the transforms, grey crops and colour crops are compared bit for bit, then each
version is timed on all the faces ``--repeats`` times, alternated, on one thread (``time.thread_time``:
the machine is shared, so only the ratio means anything).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ("arcade_walkers_1080p.mp4", "selfie_motion_blur_portrait.mp4", "more/mmaction2__demo_demo.mp4",
          "more/sam2__notebooks_videos_bedroom.mp4")


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def real_faces(videos, frames: int) -> list:
    """(frame, box, landmarks) of every detection on the first ``frames`` frames of each video."""
    from facesel.data import data_root_or_exit
    from facesel.selector import default_detector
    from facesel.video import open_source

    root = data_root_or_exit()
    detector = default_detector()
    faces = []
    for name in videos:
        for k, (frame, _) in enumerate(open_source(root / "videos" / name)):
            if k >= frames:
                break
            dets = detector.detect(frame)
            for i in range(len(dets)):
                faces.append((frame, dets.boxes[i], None if dets.landmarks is None else dets.landmarks[i]))
    return faces


def synthetic_faces(count: int = 300, seed: int = 0) -> list:
    """Faces of every size, angle, side and position, some mirrored, some past the border, some box-only."""
    from facesel.align import TEMPLATE

    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (360, 640, 3), np.uint8)
    faces = []
    for k in range(count):
        side = float(rng.uniform(8, 400))
        angle = float(rng.uniform(-np.pi, np.pi))
        centre = rng.uniform([-40, -40], [680, 400])
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        points = (TEMPLATE - 32.0) * (side / 64.0) @ rot.T + centre + rng.normal(0, side / 40, (5, 2))
        if k % 5 == 0:
            points[:, 0] = 2 * centre[0] - points[:, 0]  # mirrored: the fit must refuse to mirror
        box = np.array([*(centre - side / 2), *(centre + side / 2)], np.float32)
        faces.append((frame, box, None if k % 7 == 0 else points.astype(np.float32)))
    return faces


def outputs(align, faces) -> list:
    out = []
    for frame, box, landmarks in faces:
        try:
            face = align.align_face(frame, box, landmarks, margin=0.25)
        except ValueError as error:
            out.append(("error", str(error)))
            continue
        out.append((face.transform.tobytes(), face.grey.tobytes(), face.colour.shape, face.colour.tobytes()))
    return out


def timed(align, faces) -> float:
    start = time.thread_time()
    outputs(align, faces)
    return time.thread_time() - start


def main(argv=None) -> int:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="the other version's facesel/align.py")
    parser.add_argument("--new", default=str(ROOT / "python" / "facesel" / "align.py"))
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    old, new = load(Path(args.old), "align_old"), load(Path(args.new), "align_new")
    real = real_faces(VIDEOS, args.frames)
    synthetic = synthetic_faces()
    for name, faces in (("real", real), ("synthetic", synthetic)):
        a, b = outputs(old, faces), outputs(new, faces)
        differ = [k for k, (x, y) in enumerate(zip(a, b)) if x != y]
        errors = sum(1 for x in a if x[0] == "error")
        print(f"{name}: {len(faces)} faces ({errors} refused), "
              + ("identical bit for bit" if not differ else f"{len(differ)} DIFFER: {differ[:10]}"))
        if differ:
            return 1
    spent = {"old": [], "new": []}
    for _ in range(args.repeats):
        spent["old"].append(timed(old, real))
        spent["new"].append(timed(new, real))
    o, n = np.median(spent["old"]), np.median(spent["new"])
    print(f"align_face on {len(real)} real faces, median of {args.repeats} alternated passes: "
          f"old {1e6 * o / len(real):.1f} us a face, new {1e6 * n / len(real):.1f} us, new/old {n / o:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
