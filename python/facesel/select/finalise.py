"""The track finaliser: the stage between a track's close and the sinks (vault, files, report).

A closed track's result is held for a grace period (seconds of stream time, not frames), so that a
fragment of the same person that starts soon after can still be re-linked to it
(:mod:`facesel.select.linking`); merged fragments keep the best crop of both
(:mod:`facesel.select.merging`). When a result is released it is judged (:mod:`facesel.select.faceness`):
faces, also poor ones, go on; static tracks, second boxes on one head and non-faces are dropped,
each drop counted in :attr:`Finaliser.stats` and logged (never silently).

The :class:`facesel.Selector` runs it as a post-close stage (``observe(packet)`` then
``process(closed, now)`` every frame, ``flush()`` at the end). By hand::

    finaliser.evidence.observe_frame(track_ids, detections, now, frame_index)   # every frame
    finaliser.evidence.discard(track_id)                                        # tentative track died
    finaliser.add(result, now)                                                  # a track closed
    ready = finaliser.poll(now)                                                 # every frame
    ready = finaliser.flush()                                                   # end of stream

Memory: one result per track closed within the grace period (plus those waiting for a
successor that is still open), and one constant-size summary per open track.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field

from facesel.select.evidence import EvidenceBook, TrackEvidence
from facesel.select.face_vote import VOTE_METHOD, DoseFaceVote, shipped_vote_model
from facesel.select.faceness import DROP_REASONS, KEPT, POOR, FacenessRule
from facesel.select.hedging import HedgeRule, joined_parts
from facesel.select.interleave import InterleaveRule, merged_evidence
from facesel.select.link_turns import may_turn
from facesel.select.linking import LinkRule
from facesel.select.merging import merge_results
from facesel.select.shot_return import ShotMemory, ShotReturnRule
from facesel.track_cues.bridge import BridgeRule

logger = logging.getLogger("facesel")

DOSE_FACE_FLOOR = -68.0
"""Score of the shipped VAE's ``dose`` rule below which its vote is "not a face": the equal-error
point between held-out faces (lfw/eval + orl, degraded up to severity 2/3: poor faces) and 168
background crops (-67.6, both 27 % misjudged; ``docs/persons.md``). Not chosen on the videos'
tracks."""


@dataclass
class FinaliserStats:
    """Counters of everything the finaliser did (all results in = released + merged + dropped)."""

    closed: int = 0
    merged: int = 0
    released: int = 0
    released_poor: int = 0
    dropped: dict = field(default_factory=lambda: {reason: 0 for reason in DROP_REASONS})
    hedged: int = 0  # snapshots released besides their chain's, one per side of a hedged link (Finaliser.hedge)

    def as_dict(self) -> dict:
        """The counters as a JSON-ready dict (``dropped`` by reason)."""
        return {"closed": self.closed, "merged": self.merged, "released": self.released,
                "released_poor": self.released_poor, "dropped": dict(self.dropped), "hedged": self.hedged}

    def summary(self) -> str:
        """One line for ``facesel run``'s report: closed, merged, kept (poor faces) and dropped by reason."""
        drops = ", ".join(f"{n} {reason}" for reason, n in self.dropped.items())
        return (f"{self.closed} tracks closed: {self.merged} merged into an earlier fragment, "
                f"{self.released} kept ({self.released_poor} poor face{'' if self.released_poor == 1 else 's'}), "
                f"dropped {drops}")


@dataclass
class _Held:
    result: object
    evidence: TrackEvidence
    closed_at: float
    long_wait: bool = False  # held on after the grace period for a long link (linking.LinkRule.long_gap_seconds)
    vote: float | None = None  # its not-a-face vote, once scored with the others judged at once (Finaliser._judge_all)
    awaits_until: float | None = None  # held on for a predecessor not yet asked (Finaliser.await_predecessor)
    # The chain's parts between hedged links (Finaliser.hedge), each delivered as its own snapshot;
    # None: one part, ``result`` itself. ``hedge_next``: the link to the open successor it waits
    # for is hedged.
    pieces: list | None = None
    hedge_next: bool = False

    @property
    def parts(self) -> list:
        """The results this chain delivers when kept (one without hedged links)."""
        return [self.result] if self.pieces is None else self.pieces

    @property
    def tip_id(self) -> int:
        """The id of the chain's latest part (a link from the chain is recorded from it)."""
        return int(self.parts[-1].track_id)


def _pieces(first: _Held, second: _Held, hedged: bool) -> list | None:
    """The parts of ``first`` continued by ``second`` (None: one part)."""
    if not hedged and first.pieces is None and second.pieces is None:
        return None
    return joined_parts(first.parts, second.parts, hedged, merge_results)


class Finaliser:
    """Holds, re-links, judges and releases closed tracks.

    Parameters
    ----------
    grace_seconds : float >= 0
        How long a closed track is held before release. It should be at least
        ``link.max_gap_seconds``, so that every fragment that may continue it has started. A
        track that found no successor then and may still be continued by a **long link** (no cue
        ended it, it has colours, and ``link.long_gap_seconds`` is set) is held on until
        ``link.longest_gap`` seconds after its close and asked again; every other track is
        released after the grace period (a longer grace for all changed which links were made:
        a successor asked later has usually closed, and its colours are known).
    link : LinkRule or None
        Re-linking rule; None turns re-linking off.
    faceness : FacenessRule or None
        Verdict rule; None keeps every track (the behaviour before this stage).
    face_vote : callable ``(result) -> float``, optional
        The quality model's face score of a result (on the scale of ``faceness.min_quality``);
        None takes ``result.best.quality`` (right when the pipeline's scorer is that model).
    interleave : InterleaveRule or None
        Two held fragments alive at the same time and never seen on the same frame, handing over
        to each other close by (two tracks the tracker ran on one person at once) are merged
        into one result (:mod:`facesel.select.interleave`); None: never (the behaviour before,
        kept as a setting). Only with re-linking on.
    interleave_waiting : bool
        Also merge a held result into a chain that waits for an open successor (linked to a track
        still alive) when the two are interleaved by :attr:`interleave`, tested on the chain's
        closed fragments; only when the held result ended before that successor started (its
        frames are not kept, so a shared frame with it could not be ruled out). Off by default
        (docs/persons.md, "Two tracks on one person at once": the chain-level merge).
    await_predecessor : bool
        A held result whose grace period is over and that no fragment continues is not released
        while another held result that it would continue (the re-link's gates pass between the
        two) has not yet been asked for its successor: it is held on, once, until that one is
        asked (issue 23, session 16: on the bed a fragment ended by a switch cue closed at once
        and was released before the chain it continues, whose last track coasted, was asked).
        No gate is loosened; a result waits at most the predecessor's remaining hold. Off by
        default here; on in :meth:`for_scorer`, the pipeline's finaliser (docs/persons.md, "A
        bouncing child's reach": the order of release, pre-registered and measured).
    hedge : HedgeRule or None
        **Hedged links** (issue 23, session 17): a short link is made as without it, but when
        it is doubtful (:meth:`HedgeRule.doubt`: a gate's value close to its limit, no colours,
        a switch cue, a crowd) the chain delivers the best crop of each side of that link as
        its own result (each part's, in time order, under the id of its first fragment; a chain
        kept by the verdict delivers every part, one dropped none). A wrong join then costs
        nobody their snapshot and a right one a duplicate; no link is refused, so no other
        link changes. Hedged links are listed in :attr:`hedges`, not in :attr:`links` (which
        holds the links whose two sides are delivered as one). None (the default): never
        (docs/persons.md "Hedged links").
    shot_return : ShotReturnRule or None
        **Shot-return link** (issue 23, session 20: TV footage cutting between shots, A | B | A):
        a result whose track a scene cut ended is held up to ``shot_return.max_seconds`` and is
        continued by a track that starts just after a later cut back to the same shot (whole-frame
        thumbnail), at its place and size, with close colours (:mod:`facesel.select.shot_return`).
        Made links are listed in :attr:`shot_returns` (and in :attr:`links`). None: never (the
        default here; :meth:`for_scorer`, the pipeline's finaliser, sets ``ShotReturnRule()``:
        docs/persons.md, "Cuts back to a shot").
    cut_veto : bool, "start" or "shot"
        No ordinary link (nor a fragment absorbed into a chain) across a scene cut: a track lost
        at a cut (the detector missed the face on the new shot's first frames, so no cue marked
        it) is not continued by a track that starts after the cut, which the short link would
        otherwise join by place (issue 23, session 20: the intercut signers). The shot-return
        link is not vetoed. ``True`` (at every cut; off): intercut wrong joins 7 -> 4 and splices
        end to end 12 -> 6 spanning two people, but a sudden occluder that fires the cut cue (a
        face blanked for 15 frames, ``tests/test_crowds.py``) is then split in two.
        ``"start"`` (on in :meth:`for_scorer`, session 21): only where the later track starts on
        another shot than the one the earlier ended on (:meth:`ShotMemory.shot_changed`: the
        thumbnail of the later track's first frame against the one just before the first cut
        between them, the shot-return link's ``thumb_distance``): an occluder that comes and goes
        returns to the shot it left; the same wrong joins removed, the blanked face kept whole.
        ``"shot"``: the same with the later track's shot read from the thumbnail just after the
        last cut (registered first; it splits the blanked face: the cut cue can miss the
        occluder's leaving). ``False``: no veto (docs/persons.md, "Cuts back to a shot" and
        "Across a cut to another shot").
    bridge : BridgeRule or None
        **The continuity bridge** (issue 23, session 23, persons25; off by default): the track
        stage's hints (:attr:`facesel.track.TrackStage.bridges`, in the packets) that a patch was
        followed frame by frame from a fragment's last detection to where a new track started;
        a hint whose smallest match is at least ``bridge.floor`` and whose gap is at most
        ``bridge.max_gap_seconds`` is taken as that fragment's link before any summary-based
        link, still under the cut veto; a fragment is held while its follower lives. Links made
        so are listed in :attr:`bridged` (and in :attr:`links`). docs/persons.md, "A patch
        followed through the gap".
    """

    def __init__(self, grace_seconds: float = 1.0, link: LinkRule | None = None,
                 faceness: FacenessRule | None = None, face_vote=None, interleave: InterleaveRule | None = None,
                 interleave_waiting: bool = False, await_predecessor: bool = False, hedge: HedgeRule | None = None,
                 shot_return: ShotReturnRule | None = None, cut_veto: bool | str = False,
                 bridge: BridgeRule | None = None):
        if face_vote is not None and not callable(face_vote):
            raise TypeError(f"face_vote must be callable or None, got {type(face_vote).__name__}")
        self.face_vote = face_vote
        if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, (int, float)) or not math.isfinite(grace_seconds) or grace_seconds < 0:
            raise ValueError(f"grace_seconds must be a finite number >= 0, got {grace_seconds!r}")
        if link is not None and not isinstance(link, LinkRule):
            raise TypeError(f"link must be a LinkRule or None, got {type(link).__name__}")
        if faceness is not None and not isinstance(faceness, FacenessRule):
            raise TypeError(f"faceness must be a FacenessRule or None, got {type(faceness).__name__}")
        if interleave is not None and not isinstance(interleave, InterleaveRule):
            raise TypeError(f"interleave must be an InterleaveRule or None, got {type(interleave).__name__}")
        if not isinstance(interleave_waiting, bool):
            raise TypeError(f"interleave_waiting must be a bool, got {type(interleave_waiting).__name__}")
        self.grace_seconds = float(grace_seconds)
        self.link = link
        self.interleave = interleave
        self.interleave_waiting = interleave_waiting
        if not isinstance(await_predecessor, bool):
            raise TypeError(f"await_predecessor must be a bool, got {type(await_predecessor).__name__}")
        self.await_predecessor = await_predecessor
        if hedge is not None and not isinstance(hedge, HedgeRule):
            raise TypeError(f"hedge must be a HedgeRule or None, got {type(hedge).__name__}")
        self.hedge = hedge
        if shot_return is not None and not isinstance(shot_return, ShotReturnRule):
            raise TypeError(f"shot_return must be a ShotReturnRule or None, got {type(shot_return).__name__}")
        if not (isinstance(cut_veto, bool) or cut_veto in ("shot", "start")):
            raise ValueError(f"cut_veto must be a bool, 'shot' or 'start', got {cut_veto!r}")
        self.shot_return = shot_return is not None and link is not None
        self.cut_veto = cut_veto
        # the cuts seen lately (for the shot-return link and the cut veto)
        self.shots = (ShotMemory(shot_return or ShotReturnRule())
                      if (shot_return is not None or cut_veto) and link is not None else None)
        self.shot_returns: list[tuple[int, int]] = []  # (earlier id, later id) of the last shot-return links
        if bridge is not None and not isinstance(bridge, BridgeRule):
            raise TypeError(f"bridge must be a BridgeRule or None, got {type(bridge).__name__}")
        # the continuity bridge (off by default): hints from the track stage, earlier segment id ->
        # (later segment id, smallest match on the way, gap in seconds), and the segments followed now
        self.bridge = bridge if link is not None else None
        self._bridges: dict[int, tuple[int, float, float]] = {}
        self._following: frozenset = frozenset()
        self.bridged: list[tuple[int, int]] = []  # (earlier id, later id) of the last links by a bridge hint
        self.faceness = faceness
        self._residuals = faceness is None or faceness.min_quality is None  # the landmark vote is used
        self.evidence = EvidenceBook(self._residuals)
        self.stats = FinaliserStats()
        self.drops: list[tuple[int, str]] = []  # (track id, reason) of the last drops, for reports
        self.links: list[tuple[int, int]] = []  # (earlier id, later id) of the last re-links, for reports
        self.hedges: list[tuple[int, int, str]] = []  # (earlier id, later id, why) of the last hedged links
        self._held: dict[int, _Held] = {}
        self._waiting: dict[int, _Held] = {}  # open successor's id -> the fragment it continues
        # Evidence of the results released lately (within the longest link gap): a long link asks
        # who else was near the place during its gap (linking.crowding).
        self._released: deque = deque()

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def for_scorer(cls, scorer, margin: float = 0.25, **settings) -> Finaliser:
        """The default finaliser of a pipeline with this scorer and crop margin: re-linking on (with
        the merge of interleaved fragments, :class:`InterleaveRule`, and ``await_predecessor``), and the faceness verdict
        with the shipped VAE's ``dose`` vote (the best crop's quality itself when the scorer is
        that rule; else scored once per closed track by :class:`DoseFaceVote`, which reads the
        scores the pick rule's dose term computed already)."""
        same_rule = getattr(scorer, "name", None) == f"vae-{VOTE_METHOD}"
        link = settings.setdefault("link", LinkRule())
        if link is not None:  # every fragment that may continue a result must have started before its release
            settings.setdefault("grace_seconds", max(1.0, link.max_gap_seconds))
            settings.setdefault("interleave", InterleaveRule())  # two tracks on one person at once
            # a fragment nothing continues waits for a predecessor not yet asked (session 16: no
            # wrong join added on any material, the bed's boy one snapshot fewer; docs/persons.md)
            settings.setdefault("await_predecessor", True)
            # the cut back to a shot continues the track the cut away ended (session 20: intercut
            # shared clips held out by family 2.61 -> 1.26 snapshots per person, no wrong join added)
            settings.setdefault("shot_return", ShotReturnRule())
            # no ordinary link across a cut to another shot (session 21: intercut wrong joins 7 -> 4,
            # splices end to end 12 -> 6 spanning two people, no genuine track split on any material
            # measured, the blanked face and the shared videos unchanged; docs/persons.md)
            settings.setdefault("cut_veto", "start")
        faceness = settings.setdefault("faceness", FacenessRule(min_quality=DOSE_FACE_FLOOR))
        enough = faceness.min_quality if faceness is not None else None
        if "face_vote" not in settings and not same_rule:
            # The model is loaded now, not at the first closed track: a live camera would stall
            # there for the load (about 0.2 s), and a missing model is better found at start.
            model = shipped_vote_model()
            # A scorer that computed this very rule on the same sessions (the pick rule's dose
            # term) hands its scores on: a finalist it scored is not scored again.
            known = getattr(scorer, "dose_memo", None)
            if getattr(scorer, "vae_runner", None) is not model.runner:
                known = None
            settings["face_vote"] = DoseFaceVote(margin, scorer=model, enough=enough, known=known)
        return cls(**settings)

    @classmethod
    def for_config(cls, config, scorer) -> Finaliser:
        """:meth:`for_scorer` with a :class:`facesel.config.PipelineConfig`'s crop margin and its
        ``keep_static`` setting (static tracks are dropped unless it is on) and its ``shot_return``
        and ``cut_veto`` / ``shot_cut_veto`` settings (the shot-return link, on by default; the cut
        veto at every cut, off; the veto only across a cut to another shot, on) and its
        ``link_ambiguity`` (the short link's ambiguity test, :attr:`LinkRule.ambiguity_ratio`, both
        sides, exclusive competitors; 0: off, the default)."""
        faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=not config.keep_static)
        extra = {} if getattr(config, "shot_return", True) else {"shot_return": None}
        extra["cut_veto"] = (True if getattr(config, "cut_veto", False)
                             else "start" if getattr(config, "shot_cut_veto", True) else False)
        floor = float(getattr(config, "continuity_bridge", 0.0) or 0.0)
        if floor > 0:  # the continuity bridge (off by default): the track stage's hints taken as links
            extra["bridge"] = BridgeRule(floor=floor, max_gap_seconds=float(config.continuity_bridge_gap),
                                         patch=config.continuity_bridge_patch)
        ratio = getattr(config, "link_ambiguity", 0.0)
        if ratio:  # the short link's ambiguity test, both sides, exclusive competitors (off by default)
            extra["link"] = LinkRule(ambiguity_ratio=ratio, ambiguity_sides="both", ambiguity_exclusive=True)
        return cls.for_scorer(scorer, config.margin, faceness=faceness, **extra)

    @classmethod
    def passthrough(cls) -> Finaliser:
        """Releases every result at once, unjudged (the pipeline before this stage; for comparisons)."""
        return cls(grace_seconds=0.0, link=None, faceness=None)

    # -- the stage -------------------------------------------------------------------------------
    @property
    def held(self) -> int:
        """Results held now (in the grace period or waiting for an open successor)."""
        return len(self._held) + len(self._waiting)

    def add(self, result, now: float) -> None:
        """A track closed: hold its result (merged with the fragment it continues, if any)."""
        self.stats.closed += 1
        evidence = self.evidence.pop(result.track_id)
        earlier = self._waiting.pop(int(result.track_id), None)
        pieces = None
        if earlier is not None:
            pieces = _pieces(earlier, _Held(result, evidence, float(now)), earlier.hedge_next)
            result = merge_results(earlier.result, result)
            evidence = earlier.evidence.absorb(evidence)
            self.stats.merged += 1
        self._held[int(result.track_id)] = _Held(result, evidence, float(now), pieces=pieces)

    def poll(self, now: float) -> list:
        """Results whose grace period is over, judged; the faces among them, in closing order."""
        judged = []
        while True:
            expired = [t for t, h in self._held.items() if now - h.closed_at >= self._hold(h)
                       and (h.awaits_until is None or now >= h.awaits_until)
                       and h.evidence.last_id not in self._following]  # a follower may still bridge it
            if not expired:
                break
            held = self._held.pop(min(expired, key=lambda t: self._held[t].evidence.last_time))
            if self._shot_predecessor(held):
                continue  # merged into the track it returns to (held again under that one's id)
            # Handed on: to an open track (waits for it) or merged with a held one (back in the
            # book under this id, with the successor's grace period).
            if self._continue(held):
                continue
            if self._may_wait_long(held):
                held.long_wait = True
                self._held[int(held.result.track_id)] = held
                continue
            if self._awaits_predecessor(held, now):
                self._held[int(held.result.track_id)] = held
                continue
            self._retire(held)
            judged.append(held)
        self._release_orphans()
        return self._judge_all(judged)

    def _hold(self, held: _Held) -> float:
        """Seconds after its close at which ``held`` is asked (again) for a successor."""
        hold = max(self.grace_seconds, self.link.longest_gap) if held.long_wait else self.grace_seconds
        if self.shot_return and self.shots.holds(held.evidence):
            # a cut ended it: the shot may come back (held from its last observation)
            hold = max(hold, held.evidence.last_time + self.shots.rule.max_seconds - held.closed_at)
        return hold

    def _may_wait_long(self, held: _Held) -> bool:
        """Whether a long link could still continue ``held`` (see ``grace_seconds``)."""
        rule = self.link
        if rule is None or held.long_wait or rule.longest_gap <= self.grace_seconds:
            return False
        if rule.covered_gap_seconds is not None and getattr(held.evidence, "ended_by", None) != "cut" \
                and held.evidence.covered_at_end() is not None:
            return True  # a nearer track was in front as it ended: a covered link may still come
        if may_turn(rule, held.evidence):
            return True  # it ended in profile: its face may come back in the other profile
        return (rule.long_gap_seconds is not None and getattr(held.evidence, "ended_by", None) is None
                and held.evidence.last_colours is not None)

    def _awaits_predecessor(self, held: _Held, now: float) -> bool:
        """Whether ``held`` is held on for a predecessor not yet asked (:attr:`await_predecessor`):
        another held result, still in its own hold, that ``held`` would continue. Once only: its
        ``awaits_until`` is set to the latest such predecessor's time of asking."""
        if not self.await_predecessor or self.link is None or held.awaits_until is not None:
            return False
        others = _Others(self)
        until = [h.closed_at + self._hold(h) for h in self._held.values()
                 if h.closed_at + self._hold(h) > now and self._link_cost(h.evidence, held.evidence, others) is not None]
        if not until:
            return False
        held.awaits_until = max(until)
        return True

    def flush(self) -> list:
        """End of stream: re-link what still can be, then judge and release everything held."""
        for held in self._waiting.values():
            self._held[int(held.result.track_id)] = held  # their successors will never close now
        self._waiting.clear()
        judged = []
        while self._held:
            held = self._held.pop(min(self._held, key=lambda t: self._held[t].evidence.last_time))
            if not self._continue(held, open_ok=False):
                self._retire(held)
                judged.append(held)
        self.evidence = EvidenceBook(self._residuals)  # every track has ended; tentative ones leave no evidence behind
        return self._judge_all(judged)

    @property
    def records_covers(self) -> bool:
        """Whether the evidence records who was in front of each detection (only a re-link with
        covered links, :attr:`LinkRule.covered_gap_seconds`, or a cover veto, :attr:`LinkRule.veto`, reads it)."""
        return self.link is not None and self.link.reads_covers

    # -- as a post-close stage of the Selector (facesel.select.post_close) -------------------------
    def observe(self, packet) -> None:
        """Every frame, before :meth:`process`: the frame's tracked detections (a
        :class:`facesel.select.stage.Packet`) go into the evidence book; tracks that died
        tentative leave it."""
        update = packet.update
        thumb = getattr(packet, "thumb", None)
        if self.cut_veto == "start" and thumb is not None and self.shots is not None and self.shots.cuts \
                and any(self.evidence.get(int(t)) is None for t in update.track_ids):
            self.shots.saw_start(packet.index, packet.stamp, thumb)  # a track first seen on this frame
        shape = getattr(packet, "frame_shape", None)
        if shape is None and getattr(packet, "frame", None) is not None:
            shape = packet.frame.shape[:2]
        if shape is not None:
            self.evidence.frame_shape = (int(shape[0]), int(shape[1]))
            if self.shots is not None:
                self.shots.frame_shape = self.evidence.frame_shape  # the zoom_place gate's frame centre
        self.evidence.covers = self.records_covers  # who was in front of whom: only for covered links
        self.evidence.observe_frame(update.track_ids, packet.detections, packet.stamp, packet.index,
                                    getattr(packet, "appearances", None), getattr(packet, "still", None),
                                    getattr(packet, "change", None))
        cut = getattr(packet, "cut_thumbs", None)
        if self.shots is not None and cut is not None:
            self.shots.record(packet.index, packet.stamp, *cut)
        elif self.shots is not None and thumb is not None:
            self.shots.settle(packet.index, thumb)  # a cross-fade's cut takes the picture after it
        for track_id, reason in getattr(packet, "switches", {}).items():
            evidence = self._evidence_of(track_id)
            if evidence is not None:
                evidence.ended_by = reason
        for track_id in update.dropped.tolist():
            self.evidence.discard(track_id)
        if self.bridge is not None:
            self._bridges.update(getattr(packet, "bridges", None) or {})
            self._following = frozenset(getattr(packet, "following", None) or ())
            while len(self._bridges) > 10000:  # bounded: a hint nobody asked for is dropped, oldest first
                del self._bridges[next(iter(self._bridges))]

    def process(self, closed: list, now: float) -> list:
        """This frame's closed results are held; those whose grace period is over are released."""
        for result in closed:
            self.add(result, now)
        return self.poll(now)

    # -- steps -----------------------------------------------------------------------------------
    def _continue(self, held: _Held, open_ok: bool = True) -> bool:
        """Hand ``held`` to the track that continues it, if any; True when it was handed on."""
        if self.link is None:
            return False
        if self._join_interleaved(held):
            return True
        best, best_cost, best_open = None, math.inf, False
        others = _Others(self)
        bridged = self._bridge_successor(held, open_ok)
        if bridged is not None:  # a bridge hint is taken before any summary-based link
            best, best_cost, best_open = bridged[0], -1.0, bridged[1]
        for track_id, other in self._held.items():
            cost = self._link_cost(held.evidence, other.evidence, others)
            if cost is not None and cost < best_cost:
                best, best_cost, best_open = track_id, cost, False
        if open_ok:
            for track_id, evidence in self.evidence.items():
                if track_id in self._waiting:
                    continue  # one predecessor per track
                cost = self._link_cost(held.evidence, evidence, others)
                if cost is not None and cost < best_cost:
                    best, best_cost, best_open = track_id, cost, True
        best, best_cost, best_open, shot = self._shot_successor(held, best, best_cost, best_open, open_ok)
        if best is None:
            return False
        later_evidence = self._held[best].evidence if not best_open else self.evidence.get(best)
        why = None if self.hedge is None else self.hedge.doubt(self.link, held.evidence, later_evidence, others)
        held = self._absorb_between(held, later_evidence, others)
        if shot:
            self.shot_returns = (self.shot_returns + [(held.tip_id, int(best))])[-1000:]
        if bridged is not None and best == bridged[0]:
            self.bridged = (self.bridged + [(held.tip_id, int(best))])[-1000:]
        if why is None:
            self.links = (self.links + [(held.tip_id, int(best))])[-1000:]
        else:
            self.hedges = (self.hedges + [(held.tip_id, int(best), why)])[-1000:]
        if best_open:
            held.hedge_next = why is not None
            self._waiting[best] = held
        else:
            # The successor closed already: the merged result lives on under the earlier id and
            # gets the successor's grace period (a third fragment may still continue it).
            later = self._held.pop(best)
            self._held[int(held.result.track_id)] = _Held(
                merge_results(held.result, later.result), held.evidence.absorb(later.evidence), later.closed_at,
                pieces=_pieces(held, later, why is not None))
            self.stats.merged += 1
        return True

    def _bridge_successor(self, held: _Held, open_ok: bool) -> tuple[int, bool] | None:
        """``(later id, whether it is open)`` when a bridge hint from ``held``'s last fragment is
        taken (:attr:`bridge`: its smallest match at the floor or above, its gap within the limit;
        the later fragment held or open and free, starting after ``held`` ended, not across a cut
        to another shot under the cut veto); None otherwise."""
        if self.bridge is None:
            return None
        hint = self._bridges.get(held.evidence.last_id)
        if hint is None:
            return None
        later_id, worst, gap = hint
        if worst < self.bridge.floor or gap > self.bridge.max_gap_seconds:
            return None
        is_open = False
        other = self._held.get(int(later_id))
        later = other.evidence if other is not None else None
        if later is None and open_ok and int(later_id) not in self._waiting:
            later, is_open = self.evidence.get(int(later_id)), True
        if later is None or later.first_id != int(later_id) or later.first_frame <= held.evidence.last_frame:
            return None
        if self._across_cut(held.evidence, later):
            return None
        del self._bridges[held.evidence.last_id]
        return int(later_id), is_open

    def _across_cut(self, earlier, later) -> bool:
        """Whether the cut veto (:attr:`cut_veto`) keeps ``later`` from continuing ``earlier``."""
        if not self.cut_veto or self.shots is None:
            return False
        if self.cut_veto in ("shot", "start"):
            return self.shots.shot_changed(earlier, later, at_start=self.cut_veto == "start")
        return self.shots.cut_between(earlier, later)

    def _link_cost(self, earlier, later, others) -> float | None:
        """The ordinary re-link's cost (:meth:`LinkRule.cost`), None across a cut under the cut veto."""
        if self._across_cut(earlier, later):
            return None
        return self.link.cost(earlier, later, others)

    def _shot_successor(self, held: _Held, best, best_cost: float, best_open: bool, open_ok: bool):
        """``(best, cost, open, by shot return)``: the ordinary link's best successor of ``held``
        unless a shot-return link (:attr:`shot_return`) costs less (it never does where an
        ordinary link is made: its cost is offset by SHOT_RETURN_OFFSET)."""
        if not self.shot_return or not self.shots.holds(held.evidence):
            return best, best_cost, best_open, False
        shot = False
        candidates = [(t, h.evidence, False) for t, h in self._held.items()]
        if open_ok:
            candidates += [(t, e, True) for t, e in self.evidence.items() if t not in self._waiting]
        for track_id, evidence, is_open in candidates:
            cost = self.shots.cost(held.evidence, evidence)
            if cost is not None and cost < best_cost:
                best, best_cost, best_open, shot = track_id, cost, is_open, True
        return best, best_cost, best_open, shot

    def _shot_predecessor(self, held: _Held) -> bool:
        """Merge ``held`` into the held result it continues by a shot-return link (the earlier one
        is still held for the shot's return when the later one's own hold is over); True when merged."""
        if not self.shot_return:
            return False
        best, best_cost = None, math.inf
        for track_id, other in self._held.items():
            cost = self.shots.cost(other.evidence, held.evidence)
            if cost is not None and cost < best_cost:
                best, best_cost = track_id, cost
        if best is None:
            return False
        earlier = self._held.pop(best)
        self.links = (self.links + [(earlier.tip_id, int(held.result.track_id))])[-1000:]
        self.shot_returns = (self.shot_returns + [(earlier.tip_id, int(held.result.track_id))])[-1000:]
        self._held[int(earlier.result.track_id)] = _Held(
            merge_results(earlier.result, held.result), earlier.evidence.absorb(held.evidence), held.closed_at,
            pieces=_pieces(earlier, held, False))
        self.stats.merged += 1
        return True

    def _join_interleaved(self, held: _Held) -> bool:
        """Merge ``held`` with a held fragment the tracker ran on the same person at the same time
        (:attr:`interleave`); the merged result is held again under the earlier-starting id, with
        the later close's grace period. True when merged."""
        if self.interleave is None:
            return False
        for track_id, other in self._held.items():
            if self.interleave.joins(held.result, other.result, held.evidence.last_colours, other.evidence.last_colours):
                break
        else:
            return self.interleave_waiting and self._join_waiting(held)
        other = self._held.pop(track_id)
        first, second = sorted((held, other), key=lambda h: h.evidence.first_frame)
        merged = _Held(merge_results(first.result, second.result), merged_evidence(held.evidence, other.evidence),
                       max(held.closed_at, other.closed_at), pieces=_pieces(first, second, False))
        self._held[int(first.result.track_id)] = merged
        self.links = (self.links + [(first.tip_id, int(second.result.track_id))])[-1000:]
        self.stats.merged += 1
        return True

    def _join_waiting(self, held: _Held) -> bool:
        """Fold ``held`` into a chain waiting for an open successor when the two are interleaved
        (:attr:`interleave_waiting`); the chain keeps waiting, under the earlier-starting id.
        True when folded."""
        for open_id, chain in self._waiting.items():
            successor = self.evidence.get(open_id)
            if successor is not None and held.evidence.last_frame >= successor.first_frame:
                continue  # alive together with the open successor, whose frames are not kept
            if self.interleave.joins(held.result, chain.result, held.evidence.last_colours, chain.evidence.last_colours):
                break
        else:
            return False
        first, second = sorted((held, chain), key=lambda h: h.evidence.first_frame)
        self._waiting[open_id] = _Held(merge_results(first.result, second.result),
                                       merged_evidence(held.evidence, chain.evidence), chain.closed_at,
                                       pieces=_pieces(first, second, False), hedge_next=chain.hedge_next)
        self.links = (self.links + [(first.tip_id, int(second.result.track_id))])[-1000:]
        self.stats.merged += 1
        return True

    def _absorb_between(self, held: _Held, later, others) -> _Held:
        """``held`` with every held fragment that lies between it and its successor ``later`` and
        that the rule lets the chain take along (:meth:`LinkRule.absorbs`, ``chain_through``)
        merged in, in time order; ``held`` itself when there is none."""
        if self.link.chain_through is None:
            return held
        between = sorted((t for t, h in self._held.items() if h.evidence is not later
                          and self.link.absorbs(held.evidence, h.evidence, later, others)
                          and not self._across_cut(held.evidence, h.evidence)),
                         key=lambda t: self._held[t].evidence.first_frame)
        for track_id in between:
            skipped = self._held.pop(track_id)
            if not skipped.evidence.first_frame > held.evidence.last_frame:
                self._held[track_id] = skipped  # overlaps one absorbed just before: left alone
                continue
            self.links = (self.links + [(held.tip_id, int(track_id))])[-1000:]
            held = _Held(merge_results(held.result, skipped.result), held.evidence.absorb(skipped.evidence),
                         held.closed_at, held.long_wait, pieces=_pieces(held, skipped, False))
            self.stats.merged += 1
        return held

    def others(self):
        """Every track's evidence the finaliser holds: open, held, waiting and lately released."""
        yield from (evidence for _, evidence in self.evidence.items())
        yield from (h.evidence for h in self._held.values())
        yield from (h.evidence for h in self._waiting.values())
        yield from self._released

    def _evidence_of(self, track_id: int):
        """The evidence of a track, open or closed and held (None when it has none)."""
        evidence = self.evidence.get(track_id)
        if evidence is None and int(track_id) in self._held:
            evidence = self._held[int(track_id)].evidence
        if evidence is None:
            evidence = next((h.evidence for h in self._waiting.values() if int(h.result.track_id) == int(track_id)), None)
        return evidence

    def _release_orphans(self) -> None:
        """A successor that died tentative never closes: hold its predecessor again, to release."""
        for track_id in [t for t in self._waiting if self.evidence.get(t) is None]:
            held = self._waiting.pop(track_id)
            self._held[int(held.result.track_id)] = held

    def _retire(self, held: _Held) -> None:
        """``held`` leaves the book for good (judged next): a long link may still ask who was
        near its place (:meth:`others`), so its evidence is remembered for a while."""
        if self.link is not None and self.link.long_gap_seconds is not None:
            self._released.append(held.evidence)
            horizon = held.evidence.last_time - 2 * self.link.longest_gap
            while self._released and self._released[0].last_time < horizon:
                self._released.popleft()

    def _judge_all(self, judged: list) -> list:
        """The verdicts on the results retired together (one frame's, or the end of the stream's),
        in order; the faces among them. The not-a-face votes the rule will ask for are scored
        together first (:meth:`DoseFaceVote.vote_many`: two VAE calls at most, whatever the number
        of tracks); any other vote the rule asks for is computed when asked."""
        votes = {}
        vote_many = getattr(self.face_vote, "vote_many", None)
        if self.faceness is not None and vote_many is not None:
            asked = [h for h in judged if self.faceness.asks_quality(h.evidence)]
            votes = dict(zip(map(id, asked), vote_many([h.result for h in asked]))) if asked else {}
        out = []
        for held in judged:
            held.vote = votes.get(id(held))
            out += self._judge(held)
        return out

    def _judge(self, held: _Held) -> list:
        """The verdict on one retired result (``held.vote``: its not-a-face vote if scored already)."""
        if self.faceness is None:
            self.stats.released += 1
            self.stats.hedged += len(held.parts) - 1
            return list(held.parts)
        voted = [] if held.vote is None else [float(held.vote)]
        asked = []

        def quality() -> float:
            # Asked by the rule only when it can decide: a track the detector is sure of is never a
            # non-face (both opinions must doubt; such tracks count as faces, not poor faces), and
            # one dropped as static or duplicate needs no vote. The vote (the VAE, L = 10 then about
            # 30 ms a crop) was a fifth of the whole run's CPU time on the arcade video when asked
            # of every track.
            asked.append(True)
            if not voted:
                voted.append(float(held.result.best.quality) if self.face_vote is None else float(self.face_vote(held.result)))
            return voted[0]

        verdict = self.faceness.judge(held.evidence, quality if self.face_vote is not None else quality())
        quality = voted[0] if asked else math.nan
        if verdict in (KEPT, POOR):
            self.stats.released += 1
            self.stats.released_poor += verdict == POOR
            self.stats.hedged += len(held.parts) - 1  # a hedged chain delivers each part's best crop
            return list(held.parts)
        self.stats.dropped[verdict] += 1
        self.drops = (self.drops + [(int(held.result.track_id), verdict)])[-1000:]
        logger.info("track %d dropped as %s (best detector confidence %.2f, face vote %.3g, %d observations)",
                    held.result.track_id, verdict, held.evidence.det_max, quality, held.evidence.count)
        return []


class _Others:
    """:meth:`Finaliser.others` as an iterable that can be walked more than once (it is walked
    only by a long link, rarely)."""

    def __init__(self, finaliser: Finaliser) -> None:
        self._finaliser = finaliser

    def __iter__(self):
        return self._finaliser.others()
