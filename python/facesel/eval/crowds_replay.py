"""Record a crowd's run once, then replay what the finaliser sees under any re-link rule.

The finaliser is a post-close stage: detection, tracking and scoring never depend on it. So one run
of the Selector (with a :class:`Recorder` as its only post-close stage) gives every frame's
tracked detections and closed results, and any :class:`facesel.select.finalise.Finaliser` can be
fed the same sequence afterwards (:func:`replay`) and delivers exactly what it would have in the
run (checked by ``tests/test_crowds_relink.py``). A leave-one-source-out choice among re-link rules
then costs one detection run per crowd instead of one per crowd and rule.

Everything stays in memory (the results hold face crops: never written). A recorded frame keeps
no image: only the fields :meth:`Finaliser.observe` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np


@dataclass
class Recording:
    """What a finaliser would have seen of one run.

    Attributes
    ----------
    steps : list of (packet or None, closed results, now)
        Per frame the packet's finaliser fields (:class:`types.SimpleNamespace`: ``update``,
        ``detections``, ``stamp``, ``index``, ``appearances``, ``still``, ``change``,
        ``switches``, ``bridges``, ``following``) and the results closed on it; the last step (packet None) is the end of
        stream's closed results.
    tiles_of : dict int -> set of int
        Per track id, the tiles its confirmed boxes lay wholly in (crowds only; else empty).
    """

    steps: list = field(default_factory=list)
    tiles_of: dict = field(default_factory=dict)


class Recorder:
    """A post-close stage that passes every result on at once and records the finaliser's inputs."""

    def __init__(self) -> None:
        self.recording = Recording()
        self._packet = None

    def observe(self, packet) -> None:
        """Keep the fields of this frame's packet that the finaliser reads (no image but the 48x27
        grey whole-frame thumbnails: on a scene cut those of the frame before and of this one, which
        the shot-return link compares, and every frame's own, which the shot-change cut veto reads
        where a track starts: without them a replay would run with both silently off)."""
        self._packet = SimpleNamespace(cut_thumbs=getattr(packet, "cut_thumbs", None), thumb=getattr(packet, "thumb", None),
            update=packet.update, detections=packet.detections, stamp=packet.stamp, index=packet.index,
            appearances=list(getattr(packet, "appearances", []) or []), still=list(getattr(packet, "still", []) or []),
            change=list(getattr(packet, "change", []) or []), switches=dict(getattr(packet, "switches", {}) or {}),
            frame_shape=None if getattr(packet, "frame", None) is None else tuple(packet.frame.shape[:2]),
            bridges=dict(getattr(packet, "bridges", {}) or {}), following=frozenset(getattr(packet, "following", ()) or ()))

    def process(self, closed: list, now: float) -> list:
        """Record the frame's packet with the results closed on it; pass the results on at once."""
        self.recording.steps.append((self._packet, list(closed), float(now)))
        self._packet = None  # the Selector's flush calls process without observe
        return list(closed)

    def flush(self) -> list:
        """Nothing held back: every result was passed on by :meth:`process`."""
        return []


def record(frames, detector, scorer, fps: float, tile_of=None, locate=None, **settings) -> Recording:
    """Run a Selector (``settings``: PipelineConfig changes) over ``frames`` with a
    :class:`Recorder` as its only post-close stage. ``tile_of(box) -> int or None`` labels each
    confirmed track box (crowds: the tile wholly holding it); ``locate(box, frame) -> int or
    None`` instead, where people move (crossing crowds: :meth:`facesel.eval.crowds_crossing.Truth.person_at`)."""
    from facesel import Selector

    recorder = Recorder()
    selector = Selector(detector, scorer, threads=1, fps=fps, post_close=[recorder], **settings)
    tiles = recorder.recording.tiles_of
    if locate is None and tile_of is not None:
        def locate(box, t):
            return tile_of(box)
    for t, frame in enumerate(frames):
        view = selector.feed(frame)
        if locate is not None:
            for tv in view.tracks:
                k = locate(tv.box, t) if tv.confirmed else None
                if k is not None:
                    tiles.setdefault(int(tv.track_id), set()).add(k)
    selector.flush()
    return recorder.recording


def replay(recording: Recording, finaliser) -> list:
    """Feed ``recording`` to ``finaliser`` as the Selector would have; the results it delivers."""
    out = []
    for packet, closed, now in recording.steps:
        if packet is not None:
            finaliser.observe(packet)
            out += list(finaliser.process(closed, now))
        else:  # end of stream (Selector.flush)
            out += list(finaliser.process(closed, now)) + list(finaliser.flush())
    return out


def keep_fragments(finaliser) -> dict:
    """{fragment id: its own evidence}, filled as ``finaliser`` pops each closed fragment's
    evidence (:class:`facesel.select.evidence.TrackEvidence`, taken before any merge adds another
    fragment's to it): the experiments that explain a refusal or a wrong join read it after
    :func:`replay`. Wraps ``finaliser.evidence.pop``; the finaliser decides as before."""
    fragments: dict = {}
    pop = finaliser.evidence.pop

    def keep(track_id):
        evidence = pop(track_id)
        fragments[int(track_id)] = evidence
        return evidence

    finaliser.evidence.pop = keep
    return fragments


def crowd_figures(recording: Recording, delivered: list, links: list, tile_of, truth=None) -> dict:
    """Snapshots per tile and wrong joins of a replayed crowd, as :func:`facesel.eval.crowds.run_crowd`
    counts them: a delivered snapshot whose fragments (re-linked or not) lay in two tiles is a
    wrong join; a snapshot counts for the tile of its best box (``truth``: the walker there at
    the best box's frame, crossing crowds)."""
    from facesel.eval.crowds import _chains

    chains = _chains(links)
    per_tile: dict[int, int] = {}
    wrong = 0
    for result in delivered:
        track_id = int(result.track_id)
        members = chains.get(track_id, {track_id})
        touched = set().union(*(recording.tiles_of.get(m, set()) for m in members))
        wrong += len(touched) > 1
        if truth is not None:
            k = truth.person_at(result.best.box, result.best.frame_index, strict=False)
            k = -1 if k is None else k
        else:
            k = tile_of(result.best.box)
        per_tile[k] = per_tile.get(k, 0) + 1
    tracked = {k for s in recording.tiles_of.values() for k in s}
    return {"per_tile": per_tile, "wrong_joins": int(wrong), "snapshots": len(delivered), "tracked_tiles": tracked,
            "links": len(links)}


def spans(delivered: list, boundary: int) -> int:
    """Results whose frames lie on both sides of frame ``boundary`` (a same-place replacement: two people joined)."""
    return sum(1 for r in delivered if np.min(r.frame_indices) < boundary <= np.max(r.frame_indices))
