"""Whole-frame signals at every frame of the cut cue's material (issue 23, session 22): what
separates a real hard cut from the cue's misses and false fires. A diagnosis, no rule.

    nice -n 5 python experiments/cut_signals.py [--only intercut shared edge crowds splices blanked]
        [--out /tmp/cut22-signals.pkl]

For every frame (each material's frames made in memory, as its evaluation makes them) the
shipped :class:`facesel.track_cues.scene.SceneChange` is run and, per frame, recorded (numbers only,
no pixels): the mean absolute grey difference of the 48x27 thumbnail to the last one's (``d``),
the recent median the cue compares it with (``usual``), whether the frame repeats the last, the
difference left once camera shifts of up to 3 / 6 cells are taken out (``m3``, ``m6``; only where
``d`` > 6), the fraction of cells that changed by more than 20 grey at the best 3-cell shift
(``f3``), the colour-histogram distance of the two thumbnails' grids
(:func:`facesel.track_cues.scene.colour_distance`), and
whether the shipped cue fired ("cut" / "fade"). Truth: intercut boundaries (``owner`` changes) are
real cuts; the edge material's returns, the crowds and the blanked face have none.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import cv2
import numpy as np

def signals(frames) -> list[dict]:
    """One dict per frame (module docstring)."""
    from facesel.track_cues.rule import SwitchRule
    from facesel.track_cues.scene import (REPEATED, SceneChange, colour_distance, colour_histogram, moved_change,
                                          moved_difference, thumbnail)

    scene = SceneChange(SwitchRule())
    out = []
    last_thumb, last_hist = None, None
    for frame in frames:
        kind, _ = scene.update(frame)
        thumb = thumbnail(frame)
        hist = colour_histogram(frame)
        row = {"kind": kind, "rep": False, "d": 0.0}
        if last_thumb is not None and last_thumb.shape == thumb.shape:
            d = float(np.abs(thumb - last_thumb).mean())
            row["d"] = d
            row["rep"] = d < REPEATED
            row["usual"] = float(np.median(scene._diffs)) if scene._diffs else 0.0
            row["hist"] = colour_distance(hist, last_hist)
            if d > 6:
                row["m3"] = moved_difference(thumb, last_thumb, 3)
                row["m6"] = moved_difference(thumb, last_thumb, 6)
                row["f3"] = moved_change(thumb, last_thumb, 3, level=20.0)[1]
        if not row["rep"]:
            last_thumb, last_hist = thumb, hist
        out.append(row)
    return out


def intercut_material(root):
    from facesel.eval import intercut

    for family, kind, names, frames, owner in intercut.material(root):
        cuts = [k for k in range(1, len(owner)) if owner[k] != owner[k - 1]]
        yield "intercut", family, f"{kind} {' | '.join(names)}", frames, cuts


def shared_material(root):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from crowds_shared import videos

    from facesel.video import open_source

    for path, _ in videos(root):
        frames = [f for f, _ in open_source(path, max_frames=600)]
        yield "shared", "shared", path.name if path.name != "img" else "otb_girl", frames, None


def edge_material(root):
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval import edge_return as er

    gaps = (5, 20, 45)
    detector = make_detector(max_side=1280)
    total = 2 * er.HOLD + 2 * er.PAN + max(gaps)
    for family, paths in crowds.families(root).items():
        clips = {}
        for p in paths:
            found = er.first_face(detector, [cv2.resize(f, (640, 480)) for f in crowds.read_tile(p, total + 20, skip=10)])
            if found is not None:
                clips[p.name] = found
        names = list(clips)
        for k, a in enumerate(names):
            b = names[(k + 1) % len(names)] if len(names) > 1 else None
            for edge in er.EDGES:
                for gap in gaps:
                    for kind in ("return", "next"):
                        if kind == "next" and b is None:
                            continue
                        second = (None, None) if kind == "return" else clips[b]
                        clip = er.edge_clip(clips[a][0], clips[a][1], edge, gap, second[0], second[1])
                        switch = [int(np.argmax(clip.owner))] if kind == "next" else []
                        yield "edge", family, f"{kind} {edge} gap{gap}:{a}", clip.frames, switch


def crowd_material(root):
    from facesel.eval import crowds
    from facesel.eval.crowds_approach import approach_crowd
    from facesel.eval.crowds_crossing import crossing_crowd

    groups = crowds.crowds_of(crowds.families(root), 6)
    for family, clips in groups:
        tiles = [crowds.read_tile(p, 150, skip=10) for p in clips]
        yield "crowds", family, f"tiled {clips[0].name}", crowds.compose(tiles, 3, 240, True, 40, 1.5), []
    for family, clips in groups:
        for layout in range(6):
            yield "crowds", family, f"crossing{layout} {clips[0].name}", crossing_crowd(clips, 200, layout)[0], []
        for layout in range(2):
            yield "crowds", family, f"approach{layout} {clips[0].name}", approach_crowd(clips, 200, layout)[0], []


def splice_material(root):
    from facesel.eval import switches
    from facesel.selector import default_detector

    detector = default_detector()
    sources = switches.load_sources(root, detector, 40, 5)
    for source, clips in sources.items():
        for a, b in switches.pairs_of(clips):
            for kind in ("cut", "fade", "gap"):
                frames, _, owner = switches.splice(a, b, kind, 40, 5, detector)
                first = owner.index(1) if 1 in owner else len(owner)
                yield "splices", source, f"{kind} {a.name}->{b.name}", frames, [first]
        for a in clips:
            yield "splices", source, f"alone {a.name}", a.frames, []


def blanked_material(root):
    from facesel.detect import make_detector
    from facesel.eval.crowds import read_tile

    detector = make_detector(max_side=1280)
    frames = [cv2.resize(f, (480, f.shape[0] * 480 // f.shape[1])) for f in
              read_tile(root / "videos" / "more" / "video-retalking__examples_face_2.mp4", 110, skip=10)]
    for t in range(50, 65):
        found = detector.detect(frames[t])
        if len(found):
            x1, y1, x2, y2 = found.boxes[int(np.argmax(found.scores))]
            pad = 0.3 * (x2 - x1)
            frames[t] = frames[t].copy()
            frames[t][max(0, int(y1 - pad)):int(y2 + pad), max(0, int(x1 - pad)):int(x2 + pad)] = 128
    yield "blanked", "retalking", "face_2 blanked 50-64", frames, []


MATERIAL = {"intercut": intercut_material, "shared": shared_material, "edge": edge_material,
            "crowds": crowd_material, "splices": splice_material, "blanked": blanked_material}


def main(argv=None) -> int:
    from facesel.data import data_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(MATERIAL), choices=list(MATERIAL))
    parser.add_argument("--out", type=Path, default=Path("/tmp/cut22-signals.pkl"))
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root()
    rows = pickle.loads(args.out.read_bytes()) if args.out.exists() else {}
    for material in args.only:
        rows[material] = []
        for source, family, name, frames, cuts in MATERIAL[material](root):
            rows[material].append({"family": family, "name": name, "cuts": cuts, "frames": signals(frames)})
            fired = [k for k, r in enumerate(rows[material][-1]["frames"]) if r["kind"]]
            print(f"{material} {family} {name[:70]}: frames {len(frames)} truth {cuts} fired {fired}", flush=True)
        args.out.write_bytes(pickle.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
