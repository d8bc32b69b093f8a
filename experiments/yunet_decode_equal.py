"""Not a test: YuNet on every frame of a shared video, decoded by the C++ core and by the numpy
reference; counts faces and any difference (boxes, scores, landmarks compared bit for bit), and
the CPU each decoder spends (thread time, both in this one run).

    python experiments/yunet_decode_equal.py [--video arcade_walkers_1080p.mp4] [--max-side 1280]

``--pipeline``: the whole Selector (default settings, one thread) on the video with each decoder;
compares every frame's tracks (id, box, quality) and every closed track's best snapshot.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> int:
    from facesel.data import data_root_or_exit
    from facesel.detect import yunet_graph
    from facesel.detect.yunet import YuNetDetector, _padded, shrink
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default="arcade_walkers_1080p.mp4")
    parser.add_argument("--max-side", type=int, default=1280)
    parser.add_argument("--pipeline", action="store_true", help="compare the whole Selector's output instead")
    args = parser.parse_args()
    if args.pipeline:
        return pipeline(data_root_or_exit() / "videos" / args.video)
    detector = YuNetDetector(max_side=args.max_side)
    faces = differ = frames = 0
    spent = {"core": 0.0, "numpy": 0.0}
    for frame, _ in open_source(data_root_or_exit() / "videos" / args.video):
        image, _ = shrink(frame, detector.max_side)
        outputs = detector._run_onnx(_padded(image)[None])
        found = {}
        for decoder in ("numpy", "core"):
            start = time.thread_time()
            found[decoder] = yunet_graph.decode_many(outputs, detector.min_confidence, decoder=decoder)[0]
            spent[decoder] += time.thread_time() - start
        frames += 1
        faces += len(found["numpy"][1])
        differ += not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(found["core"], found["numpy"]))
    print(f"{args.video}: {frames} frames, {faces} faces; frames whose decoded faces differ: {differ}")
    print(f"decoding CPU ms a frame: numpy {1000 * spent['numpy'] / frames:.3f}, core {1000 * spent['core'] / frames:.3f}, "
          f"ratio {spent['numpy'] / spent['core']:.1f}x")
    return 0


def selector_fingerprint(video):
    """One default Selector run of ``video`` (one thread): ((per frame, the tracked faces' id, box
    bytes and quality), (per closed track, its id and kept frame, box bytes and quality)), and the
    Selector. Two runs that must be bit-identical compare these tuples."""
    from facesel.selector import Selector
    from facesel.video import open_source

    selector = Selector(threads=1)
    frames, closed = [], []
    for view in selector.run(open_source(video), live=False):
        frames.append([(t.track_id, t.box.tobytes(), t.quality) for t in view.tracks])
        closed += view.closed
    closed += selector.flush()
    best = [(r.track_id, r.best.frame_index, r.best.box.tobytes(), r.best.quality) for r in closed]
    return (frames, best), selector


def pipeline(video) -> int:
    from facesel.detect.yunet import YuNetDetector

    seen = {}
    for decoder in ("numpy", "core"):
        YuNetDetector.output_decoder = decoder
        seen[decoder], _ = selector_fingerprint(video)
        frames, best = seen[decoder]
        print(f"{decoder}: {len(frames)} frames, {sum(map(len, frames))} tracked faces, {len(best)} tracks closed")
    same_frames = sum(a == b for a, b in zip(seen["numpy"][0], seen["core"][0]))
    print(f"frames with identical tracks (id, box bytes, quality): {same_frames} of {len(seen['numpy'][0])}; "
          f"closed tracks' best snapshots identical: {seen['numpy'][1] == seen['core'][1]}")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
