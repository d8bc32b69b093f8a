"""Check facesel's ONNX MTCNN against the reference, mtcnn 1.0.0 running on TensorFlow.

Three steps, because the reference needs TensorFlow, which facesel never needs:

    python experiments/mtcnn_reference_check.py frames /tmp/mtcnn_frames.npz
    python -m venv /tmp/tfref && /tmp/tfref/bin/pip install tensorflow-cpu mtcnn==1.0.0 opencv-python-headless
    /tmp/tfref/bin/python experiments/mtcnn_reference_check.py reference /tmp/mtcnn_frames.npz /tmp/mtcnn_ref.npz
    python experiments/mtcnn_reference_check.py compare /tmp/mtcnn_frames.npz /tmp/mtcnn_ref.npz

The frames file holds real faces from the shared data: keep it outside the repository (e.g. /tmp)
and delete it afterwards. The comparison prints, per source, how many faces each found, how many
pair up (IoU >= 0.5), and the largest and mean absolute deviation of box corners, landmarks (in
pixels) and scores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def collect_frames(out: Path) -> None:
    """Real frames from the shared data, BGR uint8, saved to ``out`` (npz) with their source names."""
    import cv2
    from facesel.align import pad_for_detection
    from facesel.data import data_root
    from facesel.faceset import list_images, read_image

    root = data_root()
    if root is None:
        raise SystemExit("shared data not found (set FACESEL_DATA)")
    frames, names = [], []

    def video(path: Path, indices, label: str, size=None):
        cap = cv2.VideoCapture(str(path))
        index = 0
        while True:
            ok, frame = cap.read()
            if not ok or index > max(indices):
                break
            if index in indices:
                frames.append(frame if size is None else cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
                names.append(f"{label}#{index}")
            index += 1
        cap.release()

    videos = root / "videos"
    video(videos / "arcade_walkers_1080p.mp4", {0, 40, 80}, "arcade1080")
    video(videos / "arcade_walkers_1080p.mp4", {20, 60, 100}, "arcade720", (1280, 720))
    video(videos / "intel_face_demographics_walking.gif", {5, 15, 25}, "intel_walk")
    video(videos / "intel_head_pose_female.gif", {0, 10, 20}, "intel_pose")
    for i in (1, 100, 200, 300, 400):
        frames.append(cv2.imread(str(videos / "otb_girl" / "img" / f"{i:04d}.jpg")))
        names.append(f"otb_girl#{i}")
    seen = set()
    for ident, path in list_images(root / "faces" / "lfw" / "eval"):
        if ident in seen:
            continue
        seen.add(ident)
        frames.append(pad_for_detection(read_image(path))[0])
        names.append(f"lfw_padded#{path.stem}")
        if len(seen) == 10:
            break
    np.savez_compressed(out, names=np.array(names), **{f"f{i}": f for i, f in enumerate(frames)})
    print(f"{len(frames)} frames -> {out}")


def run_reference(frames_path: Path, out: Path) -> None:
    """mtcnn 1.0.0 (TensorFlow) on every frame; rows [x1, y1, x2, y2, score, 5 x, 5 y], unrounded."""
    from mtcnn import MTCNN

    data = np.load(frames_path)
    detector = MTCNN()
    results = {}
    for i in range(len(data["names"])):
        rgb = data[f"f{i}"][:, :, ::-1].astype(np.float32)
        rows = detector.detect_faces(rgb, box_format="xyxy", output_type="numpy")
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 16)
        results[f"r{i}"] = rows[:, 1:]
    np.savez(out, **results)
    print(f"reference results -> {out}")


def compare(frames_path: Path, reference_path: Path) -> None:
    from facesel.detectors.mtcnn import MTCNNDetector

    data, ref = np.load(frames_path), np.load(reference_path)
    detector = MTCNNDetector()
    per_source: dict[str, dict] = {}
    for i, name in enumerate(data["names"]):
        frame = data[f"f{i}"]
        h, w = frame.shape[:2]
        ours = detector.detect(frame)
        theirs = ref[f"r{i}"]
        # The reference clips boxes to [0, size - 1]; clip ours the same way before comparing.
        boxes = ours.boxes.astype(np.float64).copy()
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w - 1)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h - 1)
        stats = per_source.setdefault(
            str(name).split("#")[0], {"ours": 0, "ref": 0, "paired": 0, "box": [], "lm": [], "score": []}
        )
        stats["ours"] += len(boxes)
        stats["ref"] += len(theirs)
        if len(boxes) == 0 or len(theirs) == 0:
            continue
        rb = theirs[:, :4]
        iw = np.minimum(boxes[:, None, 2], rb[None, :, 2]) - np.maximum(boxes[:, None, 0], rb[None, :, 0])
        ih = np.minimum(boxes[:, None, 3], rb[None, :, 3]) - np.maximum(boxes[:, None, 1], rb[None, :, 1])
        inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
        area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        iou = inter / (area(boxes)[:, None] + area(rb)[None, :] - inter)
        used = set()
        for a in np.argsort(-iou.max(axis=1)):
            b = int(np.argmax(np.where([j in used for j in range(len(rb))], -1, iou[a])))
            if iou[a, b] < 0.5 or b in used:
                continue
            used.add(b)
            stats["paired"] += 1
            stats["box"].append(np.abs(boxes[a] - rb[b]).max())
            ref_lm = np.stack([theirs[b, 5:10], theirs[b, 10:15]], axis=1)
            stats["lm"].append(np.abs(ours.landmarks[a] - ref_lm).max())
            stats["score"].append(abs(float(ours.scores[a]) - theirs[b, 4]))
    print("| source | faces (ours) | faces (reference) | paired (IoU>=0.5) | box corner dev. max / mean (px) | landmark dev. max / mean (px) | score dev. max |")
    print("|---|---|---|---|---|---|---|")
    for source, s in per_source.items():
        fmt = lambda v: f"{max(v):.4f} / {np.mean(v):.4f}" if v else "-"
        score = f"{max(s['score']):.2g}" if s["score"] else "-"
        print(f"| {source} | {s['ours']} | {s['ref']} | {s['paired']} | {fmt(s['box'])} | {fmt(s['lm'])} | {score} |")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in {"frames", "reference", "compare"}:
        raise SystemExit(__doc__)
    if sys.argv[1] == "frames":
        collect_frames(Path(sys.argv[2]))
    elif sys.argv[1] == "reference":
        run_reference(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        compare(Path(sys.argv[2]), Path(sys.argv[3]))
