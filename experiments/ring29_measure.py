"""The box's surroundings across a dissolve (issue 23, ring29; docs/prereg_ring29.md), stage A:
the ring blend cue (:mod:`facesel.track_cues.ring`) at the `fade` variant's 4 tracker-level joins,
on every span of the signers' and LivePortrait's `fade` runs, and on the 40 shared videos.

    nice -n 5 python experiments/ring29_measure.py collect [--only joins variants shared others]
    nice -n 5 python experiments/ring29_measure.py collect --videos NAME ...   # 600 frames of these
    nice -n 5 python experiments/ring29_measure.py table

``collect`` writes each span's values (change, residual, monotone per ring scale) to
``/tmp/ring29/<material>.json`` (numbers only, no pixel); ``table`` applies the 12 registered
candidates to them. Grey levels of strips around the detector's box; nothing of identity.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

OUT = Path("/tmp/ring29")
K = 6
SCALES = (1.5, 2.0)
FLOORS = (4.0, 6.0, 8.0)
CEILINGS = (0.3, 0.5)


def span_values(frames, t0: int, box) -> dict:
    """{scale: [change, residual, monotone]} of the span t0 .. t0 + K at ``box``'s ring."""
    from facesel.track_cues.ring import ring_blend, ring_regions, ring_samples

    out = {}
    for scale in SCALES:
        regions = ring_regions(box, scale, frames[t0].shape)
        if len(regions) == 0:
            continue
        change, residual, monotone = ring_blend(ring_samples(frames[t0:t0 + K + 1], regions))
        out[str(scale)] = [round(change, 3), round(residual, 4), bool(monotone)]
    return out


def boxes_at(detector, frame, best_only: bool):
    det = detector.detect(frame)
    if not len(det.boxes):
        return []
    boxes = np.asarray(det.boxes, np.float32).reshape(-1, 4)
    if best_only:
        return [boxes[int(np.argmax(det.scores))]]
    return list(boxes)


def collect_variants(detector, joins_only: bool, others: bool = False) -> list:
    """Spans of the `fade` runs: joins (t0 around the switch, stride 1) or all (stride 2) of the
    signers' and LivePortrait's runs, or (``others``, beyond the registration) of the retalking
    and other families' runs."""
    from dissolve28_account import RUNS, material

    from facesel.data import data_root
    from facesel.eval.intercut import clip_label
    from facesel.eval.intercut_variants import variant_material

    def other_runs():
        for family, kind, clips, frames, owner, _ in variant_material(data_root(), "fade", ["retalking", "other"]):
            yield (family, kind, tuple(clip_label(c) for c in clips)), frames, owner

    rows = []
    for key, frames, owner in other_runs() if others else material("joins" if joins_only else "spread"):
        at = RUNS.get(key)
        if joins_only:
            starts = range(max(0, at - K - 2), min(len(frames) - K, at + 9))
        else:
            starts = range(0, len(frames) - K, 2)
        for t0 in starts:
            boxes = boxes_at(detector, frames[t0], True)
            if not boxes:
                continue
            seen = set(int(o) for o in owner[t0:t0 + K + 1])
            rows.append({"run": f"{key[0]} {key[1]} {' | '.join(key[2])}", "family": key[0], "t0": t0,
                         "join": at, "same": len(seen) == 1 and min(seen) >= 0,
                         "values": span_values(frames, t0, boxes[0])})
        print(f"{key}: {len(rows)} spans so far", flush=True)
    return rows


def collect_shared(detector, max_frames: int = 300, stride: int = 3, names=None) -> list:
    """Spans of the 40 shared videos (first ``max_frames``), every box at t0; each span with
    whether today's cut or fade cue fires inside it."""
    from crowds_shared import videos

    from facesel.data import data_root
    from facesel.track_cues.rule import SwitchRule
    from facesel.track_cues.scene import SceneChange
    from facesel.video import open_source

    rows = []
    for path, _ in videos(data_root()):
        name = path.name if path.name != "img" else "otb_girl"
        if names and name not in names:
            continue
        frames = [f for f, _ in open_source(path, max_frames=max_frames)]
        scene = SceneChange(SwitchRule())
        fires = [k for k, f in enumerate(frames) if scene.update(f)[0]]
        for t0 in range(0, len(frames) - K, stride):
            for box in boxes_at(detector, frames[t0], False):
                rows.append({"run": name, "t0": t0, "scene": any(t0 < k <= t0 + K for k in fires),
                             "values": span_values(frames, t0, box)})
        print(f"{name}: {len(frames)} frames, scene fires {fires[:8]}, {len(rows)} spans so far", flush=True)
    return rows


def fires(row, scale, floor, ceiling) -> bool:
    v = row["values"].get(str(scale))
    return v is not None and v[0] >= floor and v[1] <= ceiling and v[2]


def dissolves_caught(rows, scale, floor, ceiling) -> tuple[int, int]:
    """(dissolves with a fired span, dissolves): a dissolve is a run of consecutive spans (t0 every
    2nd frame) whose owner changes inside them."""
    caught = total = 0
    for run in sorted({r["run"] for r in rows}):
        group: list = []
        for r in sorted((r for r in rows if r["run"] == run), key=lambda r: r["t0"]) + [None]:
            if r is not None and not r["same"]:
                group.append(r)
                continue
            if group:
                total += 1
                caught += any(fires(g, scale, floor, ceiling) for g in group)
            group = []
    return caught, total


def table() -> None:
    joins = json.loads((OUT / "joins.json").read_text())
    variants = json.loads((OUT / "variants.json").read_text()) if (OUT / "variants.json").exists() else []
    shared = json.loads((OUT / "shared.json").read_text()) if (OUT / "shared.json").exists() else []
    genuine = [r for r in variants if r["same"]]
    changed = [r for r in variants if not r["same"]]
    print(f"spans: joins {len(joins)}, variants genuine {len(genuine)}, changed {len(changed)}, shared {len(shared)}")
    print("| scale | C | B | joins caught (LP d18->d19 of 3, signers bird->eat) | variants' spans across a change fired | genuine spans fired | shared videos with a fire (spans, of which today's cue fires too) | separates |")
    print("|---|---|---|---|---|---|---|---|")
    for scale in SCALES:
        for floor in FLOORS:
            for ceiling in CEILINGS:
                caught = {}
                for r in joins:
                    caught[r["run"]] = caught.get(r["run"], False) or fires(r, scale, floor, ceiling)
                lp = sum(v for k, v in caught.items() if k.startswith("liveportrait"))
                sg = sum(v for k, v in caught.items() if k.startswith("signers"))
                g = sum(fires(r, scale, floor, ceiling) for r in genuine)
                c = sum(fires(r, scale, floor, ceiling) for r in changed)
                sh = [r for r in shared if fires(r, scale, floor, ceiling)]
                false_sh = sorted({r["run"] for r in sh if not r["scene"]})
                ok = lp >= 2 and sg == 1 and g <= 0.005 * max(1, len(genuine)) and not false_sh
                print(f"| {scale} | {floor:g} | {ceiling:g} | {lp} / 3, {sg} / 1 | {c} / {len(changed)} | "
                      f"{g} / {len(genuine)} ({100 * g / max(1, len(genuine)):.1f} %) | "
                      f"{len(false_sh)} ({len(sh)} spans, {sum(r['scene'] for r in sh)}) | {'yes' if ok else 'no'} |")
    print("\nper join, the span with the smallest residual among those with change >= 4 (scale: change, residual, monotone, t0):")
    for run in sorted({r["run"] for r in joins}):
        for scale in SCALES:
            rs = [r for r in joins if r["run"] == run and str(scale) in r["values"]]
            best = sorted(rs, key=lambda r: (r["values"][str(scale)][0] < 4, r["values"][str(scale)][1]))[:1]
            top = max(rs, key=lambda r: r["values"][str(scale)][0]) if rs else None
            print(f"  {run} scale {scale}: best {[(r['values'][str(scale)], r['t0']) for r in best]}; "
                  f"largest change {top['values'][str(scale)] if top else None} at {top['t0'] if top else None}")
    if (OUT / "shared600.json").exists():
        for run in sorted({r["run"] for r in json.loads((OUT / "shared600.json").read_text())}):
            rs = [r for r in json.loads((OUT / "shared600.json").read_text()) if r["run"] == run]
            hit = [(r["t0"], r["values"]["2.0"]) for r in rs if fires(r, 2.0, 8.0, 0.3)]
            print(f"{run}, 600 frames, scale 2.0 C 8 B 0.3: {len(rs)} spans, fired at {hit}")
    others = json.loads((OUT / "others.json").read_text()) if (OUT / "others.json").exists() else []
    for name, rows in (("signers and LivePortrait", variants), ("retalking and other (beyond the registration)", others)):
        for fam in sorted({r["family"] for r in rows}):
            fr = [r for r in rows if r["family"] == fam]
            g = [r for r in fr if r["same"]]
            for scale, floor, ceiling in ((2.0, 8.0, 0.3), (1.5, 8.0, 0.3), (2.0, 6.0, 0.3)):
                c, t = dissolves_caught(fr, scale, floor, ceiling)
                print(f"{name}: {fam} ({len({r['run'] for r in fr})} runs) scale {scale} C {floor:g} B {ceiling:g}: "
                      f"dissolves caught {c} / {t}, genuine spans fired "
                      f"{sum(fires(r, scale, floor, ceiling) for r in g)} / {len(g)}")
    for scale in SCALES:
        lows = sorted((r["values"][str(scale)][1], r["values"][str(scale)][0], r["run"], r["t0"]) for r in genuine
                      if str(scale) in r["values"] and r["values"][str(scale)][0] >= 4 and r["values"][str(scale)][2])
        print(f"genuine variant spans, scale {scale}, change >= 4 and monotone, lowest residuals: {lows[:5]}")
        lows = sorted((r["values"][str(scale)][1], r["values"][str(scale)][0], r["run"], r["t0"]) for r in shared
                      if str(scale) in r["values"] and r["values"][str(scale)][0] >= 4 and r["values"][str(scale)][2]
                      and not r["scene"])
        print(f"shared spans, scale {scale}, change >= 4 and monotone, no scene fire, lowest residuals: {lows[:8]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("collect", "table"))
    parser.add_argument("--videos", nargs="+", default=None,
                        help="with --only shared: these shared videos only, 600 frames, to shared600.json")
    parser.add_argument("--only", nargs="+", default=["joins", "variants", "shared"],
                        choices=("joins", "variants", "shared", "others"))
    args = parser.parse_args(argv)
    if args.what == "table":
        table()
        return 0
    import cv2

    from facesel.config import PipelineConfig
    from facesel.selector import default_detector

    cv2.setNumThreads(1)
    detector = default_detector(PipelineConfig())
    OUT.mkdir(exist_ok=True)
    if args.videos:
        rows = collect_shared(detector, max_frames=600, names=args.videos)
        (OUT / "shared600.json").write_text(json.dumps(rows))
        return 0
    for name in args.only:
        rows = {"joins": lambda: collect_variants(detector, True), "variants": lambda: collect_variants(detector, False),
                "shared": lambda: collect_shared(detector),
                "others": lambda: collect_variants(detector, False, others=True)}[name]()
        (OUT / f"{name}.json").write_text(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
