"""TV-style intercutting made from the shared clips: snapshots per person across shot/reverse-shot cuts.

Material (made in memory from the shared data, never written anywhere): an **interview** is
``shots`` shots of ``shot`` frames each, alternating between two people, A1 | B1 | A2 | B2 | ...,
joined by hard cuts. A2 continues A's own clip where A1 stopped (the same person, background and
framing: the camera on A came back); B is another clip of the same source family (another person).
Every frame is the clip's frame centre-cropped to 4:3 and resized to ``size`` (one frame size for
every shot; a clip shorter than the interview needs plays back and forth,
:func:`facesel.eval.crowds.read_tile`).

The **control** is A1 | B1 | C1: C is a third person of the same family. The webcam signers all sit
in one office in one framing, so there C is a *different* person at A's place in A's room: a rule
that re-links "because the shot came back" would join A and C, the failure the product must never
make. Families: signers (one clip per person of :data:`facesel.eval.switches.SIGNER_PEOPLE`),
LivePortrait, video-retalking, other (:func:`facesel.eval.crowds.families`).

Ground truth: the person of every frame is known from the construction. A delivered snapshot
belongs to the persons of the frames its track holds (``result.frame_indices``); it is a
**wrong join** when those are two persons. Reported per interview: persons shown, snapshots, snapshots
per person (the issue's bar: at most 1.2), wrong joins; per control the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

SIZE = (640, 480)
"""(width, height) of every intercut frame."""


@dataclass
class IntercutResult:
    """One interview's (or control's) run: family, ``kind`` ("interview" or "control"), the clips
    in shot order, persons shown, snapshots delivered, snapshots per person (by the person of each
    snapshot's frames), wrong joins (snapshots holding two persons' frames), the finaliser's links,
    CPU seconds."""

    family: str
    kind: str
    clips: list
    persons: int
    snapshots: int
    per_person: dict
    wrong_joins: int
    links: int
    seconds: float
    extra: dict = field(default_factory=dict)


def shots_of(clips: list[list[np.ndarray]], order: list[int], shot: int) -> tuple[list[np.ndarray], list[int]]:
    """(frames, person of each frame): shot ``k`` shows clip ``order[k]``, continuing that clip
    where its previous shot stopped. ``clips``: each person's frames (long enough for every shot
    of theirs)."""
    used = [0] * len(clips)
    frames, owner = [], []
    for person in order:
        start = used[person]
        frames += clips[person][start:start + shot]
        owner += [person] * shot
        used[person] += shot
    return frames, owner


def interview_order(shots: int) -> list[int]:
    """A B A B ...: ``shots`` shots alternating between persons 0 and 1."""
    return [k % 2 for k in range(shots)]


def read_person(path: Path, frames: int, size=SIZE) -> list[np.ndarray]:
    """``frames`` frames of ``path`` (from its 10th; back and forth if shorter), 4:3, resized to ``size``."""
    from facesel.eval.crowds import read_tile

    return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in read_tile(path, frames, skip=10)]


def selector_run(frames: list[np.ndarray], fps: float, detector, scorer, **settings) -> tuple:
    """``(selector, delivered, seconds)``: one :class:`facesel.Selector` (one thread, ``settings`` its
    keyword arguments) fed ``frames`` (HxWx3 uint8 BGR) then flushed; ``delivered`` the
    :class:`facesel.types.TrackResult` list in the order they closed, ``seconds`` the process CPU
    time it took (also used by ``experiments/intercut_account26.py``, which reads the selector after)."""
    from facesel import Selector

    selector = Selector(detector, scorer, threads=1, fps=fps, **settings)
    delivered = []
    start = time.process_time()
    for frame in frames:
        delivered += selector.feed(frame).closed
    delivered += selector.flush()
    return selector, delivered, time.process_time() - start


def run_intercut(frames: list[np.ndarray], owner: list[int], fps: float, detector, scorer, shot_return="default",
                 cut_veto="default", **settings) -> dict:
    """A default :class:`facesel.Selector` (``settings``: PipelineConfig changes) over ``frames``:
    snapshots per person and wrong joins (module docstring). ``shot_return``: ``"default"`` (the
    pipeline's), a :class:`facesel.select.shot_return.ShotReturnRule`, or None (the link off);
    ``cut_veto``: ``"default"`` (the pipeline's), a bool, ``"shot"`` or ``"start"`` (the finaliser's cut veto,
    :class:`facesel.select.finalise.Finaliser`)."""
    if not (_is_default(shot_return) and _is_default(cut_veto)):  # the finaliser built here
        from facesel.config import PipelineConfig
        from facesel.select.faceness import FacenessRule
        from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
        from facesel.select.shot_return import ShotReturnRule

        config = PipelineConfig(**settings)
        if _is_default(cut_veto):  # the pipeline's (Finaliser.for_config)
            cut_veto = True if config.cut_veto else "start" if config.shot_cut_veto else False
        faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=not config.keep_static)
        finaliser = Finaliser.for_scorer(scorer, config.margin, faceness=faceness,
                                         shot_return=ShotReturnRule() if _is_default(shot_return) else shot_return,
                                         cut_veto=cut_veto if cut_veto in ("shot", "start") else bool(cut_veto))
        settings = {**settings, "post_close": [finaliser]}
    selector, delivered, seconds = selector_run(frames, fps, detector, scorer, **settings)
    per_person: dict[int, int] = {}
    wrong = 0
    for result in delivered:
        persons = {owner[int(f)] for f in result.frame_indices}
        wrong += len(persons) > 1
        person = owner[int(result.best.frame_index)]
        per_person[person] = per_person.get(person, 0) + 1
    finaliser = selector.finaliser
    links = len(getattr(finaliser, "links", [])) if finaliser is not None else 0
    return {"snapshots": len(delivered), "per_person": per_person, "wrong_joins": wrong, "links": links,
            "seconds": seconds, "shot_returns": list(getattr(finaliser, "shot_returns", []))}


def clip_label(name: str) -> str:
    """A shared clip's name as a ``--verbose`` line shows it: the file name after the repository
    prefix (``video-retalking__examples_face_2.mp4`` -> ``examples_face_2``), without extension.

    The line cut each name to 28 characters, which left every clip of a family whose prefix is that
    long the same (``video-retalking__examples_fa`` three times in one control; ux22)."""
    stem = Path(name).stem
    return stem.split("__", 1)[1] if "__" in stem else stem


def _is_default(value) -> bool:
    return isinstance(value, str) and value == "default"


def material(root: Path, shot: int = 50, shots: int = 6, families_only=None):
    """Yield (family, kind, clip names, frames, owner) of every interview and control."""
    from facesel.eval.crowds import families

    fams = families(root)
    if families_only is not None:
        fams = {k: v for k, v in fams.items() if k in families_only}
    per_person_a = shot * ((shots + 1) // 2)
    for family, paths in fams.items():
        if len(paths) < 2:
            continue
        cache: dict[Path, list] = {}

        def person(path: Path) -> list:
            if path not in cache:
                cache[path] = read_person(path, per_person_a)
            return cache[path]

        for k, a in enumerate(paths):
            b = paths[(k + 1) % len(paths)]
            frames, owner = shots_of([person(a), person(b)], interview_order(shots), shot)
            yield family, "interview", [a.name, b.name], frames, owner
            if len(paths) >= 3:
                c = paths[(k + 2) % len(paths)]
                frames, owner = shots_of([person(a), person(b), person(c)], [0, 1, 2], shot)
                yield family, "control", [a.name, b.name, c.name], frames, owner
        cache.clear()


def planned_runs(root: Path, families_only=None) -> dict[str, int]:
    """How many interviews and controls :func:`material` yields: ``{"interview": n, "control": m}``
    (each family of at least 2 clips gives one interview per clip, and of at least 3 one control per
    clip), without reading a frame."""
    from facesel.eval.crowds import families

    counts = {"interview": 0, "control": 0}
    for family, paths in families(root).items():
        if families_only is not None and family not in families_only:
            continue
        if len(paths) >= 2:
            counts["interview"] += len(paths)
        if len(paths) >= 3:
            counts["control"] += len(paths)
    return counts


def evaluate(root: Path, *, shot: int = 50, shots: int = 6, fps: float = 25.0, settings: dict | None = None,
             detector=None, scorer=None, families_only=None, shot_return="default", cut_veto="default",
             log=print) -> list[IntercutResult]:
    """Every interview and control of :func:`material`, one default Selector each (``settings``:
    PipelineConfig changes; ``shot_return``, ``cut_veto``: :func:`run_intercut`)."""
    from facesel.config import PipelineConfig
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.selector import default_detector

    detector = default_detector(PipelineConfig(**(settings or {}))) if detector is None else detector
    # the pick is not what is measured: the cheap scorer (the finaliser's vote is the VAE's still)
    scorer = LaplacianVarianceScorer() if scorer is None else scorer
    out = []
    for family, kind, clips, frames, owner in material(root, shot, shots, families_only):
        run = run_intercut(frames, owner, fps, detector, scorer, shot_return, cut_veto, **(settings or {}))
        persons = len(set(owner))
        result = IntercutResult(family, kind, clips, persons, run["snapshots"], run["per_person"], run["wrong_joins"],
                                run["links"], run["seconds"], {"shot_returns": len(run["shot_returns"])})
        log(f"{family:12s} {kind:9s} {' | '.join(clip_label(c) for c in clips)}: persons {persons} snapshots "
            f"{result.snapshots} per person {dict(sorted(run['per_person'].items()))} wrong joins {result.wrong_joins} "
            f"links {result.links} shot returns {result.extra['shot_returns']} cpu {result.seconds:.1f}s")
        out.append(result)
    return out


def summary(results: list[IntercutResult]) -> dict:
    """Snapshots per person and wrong joins by family and kind, and over all."""
    out = {}
    keys = sorted({(r.family, r.kind) for r in results}) + sorted({("all", r.kind) for r in results})
    for family, kind in keys:
        rows = [r for r in results if (family == "all" or r.family == family) and r.kind == kind]
        persons = sum(r.persons for r in rows)
        snapshots = sum(r.snapshots for r in rows)
        out[f"{family}/{kind}"] = {"runs": len(rows), "persons": persons, "snapshots": snapshots,
                                   "per_person": snapshots / persons if persons else float("nan"),
                                   "wrong_joins": sum(r.wrong_joins for r in rows)}
    return out
