"""The tracking stage: the C++ tracker, the switch cues, and where each open track is expected next.

The C++ :class:`facesel.Tracker` associates boxes and runs the track life cycle by position and
size alone. This stage splits its tracks into **segments**, the tracks the rest of the pipeline
sees: a segment ends when a switch cue (:mod:`facesel.track_cues`) says that the box has moved
from one person onto another (a scene cut under the track, a jump in the box's size or aspect, a
jump in the colours of the box and the band below it), and the same C++ track goes on under a
new segment id that must be confirmed again (``min_hits``). With no split, segment ids are the
tracker's own ids. Each ended segment's reason is in :attr:`TrackStage.switches` for that frame
(the finaliser never re-links a segment to the one that split it off).

It also keeps what the sparse detection needs from the Python side: the last box of every open
track and its velocity, so that the next frame's search regions are placed where the face will be.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from facesel.core import Tracker, TrackerUpdate
from facesel.track_cues.bridge import BridgeRule, Followers
from facesel.track_cues import (GRID, SCENE_MOVES, STILL_GREY, SceneChange, SwitchRule, appearances, aspect_jump, box_jumps,
                                crowded, distance_whole, pinned_patches, size_jump)
from facesel.types import Detections


class _Segment:
    """One segment of a C++ track: its public id, detections so far, its recent colours, and
    the split it is verifying (when it began at one)."""

    __slots__ = ("id", "hits", "box", "history", "cut", "parent", "reference", "trial", "patch")

    def __init__(self, segment_id: int, history: int):
        self.id = segment_id
        self.hits = 0
        self.box = None
        self.history = deque(maxlen=history)  # the last observations' (2, BINS**3) histograms
        self.cut = None  # "cut" / "fade": the scene changed since the last detection
        self.parent = None  # id of the segment this one split off, while the split is verified
        self.reference = None  # that segment's colours before the split
        self.trial: list[float] = []  # distances of this segment's observations to them
        self.patch = None  # grey samples under the last box, on the frame it was seen

class TrackStage:
    """One stream's tracker, its segments and the last seen box of each open track.

    Parameters
    ----------
    config : facesel.config.PipelineConfig
        Uses min_hits, max_age, metric, max_distance, min_iou, predict_motion, switch_cues,
        second_pass, start_confidence.
    rule : SwitchRule, optional
        Thresholds of the cues (default :class:`SwitchRule`); unused when ``config.switch_cues``
        is off (then segments are the C++ tracks, and no frame pixel is looked at).
    record : bool
        Keep, per detection, the cue values in :attr:`records` (for measurements; unbounded).
    bridge : BridgeRule, optional
        Follow each unmatched confirmed track's patch through its gap
        (:mod:`facesel.track_cues.bridge`) and report bridge hints in :attr:`bridges`; default:
        from ``config.continuity_bridge`` (its NCC floor; 0, the default, is off: no follower).
        Needs the frame and the switch cues on.
    """

    def __init__(self, config, rule: SwitchRule | None = None, record: bool = False, bridge: BridgeRule | None = None):
        # With the second pass, boxes under start_confidence only continue tracks (ByteTrack);
        # without it every box the detector gives may start one (it was made to drop the low ones).
        self.second_pass = bool(getattr(config, "second_pass", False))
        self._start_score = float(config.start_confidence) if self.second_pass else 0.0
        self.tracker = Tracker(
            metric=config.metric, max_distance=config.max_distance, min_iou=config.min_iou,
            min_hits=config.min_hits, max_age=config.max_age, predict_motion=config.predict_motion,
            start_score=self._start_score, second_pass=self.second_pass,
        )
        if rule is not None and not isinstance(rule, SwitchRule):
            raise TypeError(f"rule must be a SwitchRule or None, got {type(rule).__name__}")
        self.min_hits = int(config.min_hits)
        self.cues = bool(getattr(config, "switch_cues", True))
        self.rule = SwitchRule() if rule is None else rule
        # segment id -> why it ended, on the last update: a cue's name (a switch), "pending" (split,
        # being verified), None (the split was withdrawn: the segment continues in the next one)
        self.switches: dict[int, str | None] = {}
        self.counts: dict[str, int] = {"cut": 0, "fade": 0, "size": 0, "aspect": 0, "appearance": 0, "withdrawn": 0}
        self.rejoins: dict[int, int] = {}  # withdrawn splits of the last update: old segment -> new
        self.appearances: list = []  # the colours of each detection of the last update, or None
        # per detection of the last update: the pixels under its track's previous box did not
        # change (a logo pinned to the frame; no living head holds its pixels that still)
        self.still: list = []
        # per detection of the last update: how much the pixels under the middle of its track's
        # previous box changed since that observation, whatever the rest of the frame did (mean
        # absolute grey difference, 0-255; nan on a track's first observation or without the
        # frame). A living head blinks, talks and breathes; a poster or a logo does not.
        self.change: list = []
        self.records: list | None = [] if record else None
        self.raw_ids = np.zeros(0, np.int64)  # the C++ track of each detection of the last update
        # the last update's detections that have a track: all of them but the low boxes (below
        # start_confidence) that no track took; the update's arrays are aligned with these
        self.detections = Detections.empty()
        self.kept = np.zeros(0, np.int64)  # (N,) int64: which of the last update's input detections these are
        self._segments: dict[int, _Segment] = {}  # C++ track id -> its current segment
        self._reasons: dict[int, str] = {}  # segment id -> the cue that split it, while verified
        self._next_id = 1
        self._scene = SceneChange(self.rule)
        self.frame_change = 0.0  # mean absolute grey difference of the last frame's thumbnail to the one before
        self.cut_thumbs = None  # on a cut: (thumbnail before, thumbnail of this frame), SceneChange.cut_thumbs
        self.thumb = None  # this frame's thumbnail (SceneChange.thumb), None with the cues off
        # id -> (frame, box, velocity, whether the velocity was measured: seen twice)
        self._last: dict[int, tuple[int, np.ndarray, np.ndarray, bool]] = {}
        self._frame = 0
        # the continuity bridge (off by default): followers of unmatched tracks, and this frame's hints
        if bridge is None and float(getattr(config, "continuity_bridge", 0.0) or 0.0) > 0:
            bridge = BridgeRule(floor=float(config.continuity_bridge),
                                max_gap_seconds=float(getattr(config, "continuity_bridge_gap", 2.0)),
                                patch=str(getattr(config, "continuity_bridge_patch", "band")))
        if bridge is not None and not isinstance(bridge, BridgeRule):
            raise TypeError(f"bridge must be a BridgeRule or None, got {type(bridge).__name__}")
        self.followers = Followers(bridge, float(getattr(config, "fps", 0.0) or 0.0)) if bridge is not None else None
        # earlier segment id -> (later segment id, smallest match on the way, gap in seconds): the
        # hints of the last update (a new track first seen where a follower of the earlier was)
        self.bridges: dict[int, tuple[int, float, float]] = {}
        self.following: frozenset = frozenset()  # segment ids followed after the last update
        self._seen_before: dict[int, np.ndarray] = {}  # confirmed segments detected on the last frame: id -> box
        self._frame_before = None  # that frame (a reference, not a copy: read only to cut a template)

    def update(self, detections: Detections, frame: np.ndarray | None = None) -> TrackerUpdate:
        """Advance by one frame with this frame's detections (possibly none).

        With ``config.second_pass``, a detection below ``start_confidence`` only continues a track
        that no confident one took; one that none took is left out: the update's arrays are aligned
        with :attr:`detections`, not with ``detections`` (the same when nothing is left out).

        ``frame`` ((H, W, 3) uint8 BGR, the frame the detections are in) feeds the cut and
        appearance cues; without it only the size and aspect cues run."""
        boxes = np.ascontiguousarray(detections.boxes, dtype=np.float32)
        scores = np.ascontiguousarray(detections.scores, dtype=np.float32) if self.second_pass else None
        raw = self.tracker.update(boxes, scores)
        self.switches, self.rejoins = {}, {}
        raw_ids = np.asarray(raw.track_ids, np.int64)
        self.kept = np.flatnonzero(raw_ids >= 0)
        if len(self.kept) < len(raw_ids):  # low boxes that no track took: nobody's, not even a new track's
            detections, raw_ids = detections[self.kept], raw_ids[self.kept]
        self.detections = detections
        self.raw_ids = raw_ids
        new_tracks = set(raw_ids.tolist()) - self._segments.keys()
        for c in sorted(new_tracks):
            self._segments[c] = self._new_segment()
        closed, dropped = [], []
        scene, cut_diff = self._cut(frame)
        if scene is not None:
            for segment in self._segments.values():
                segment.cut = scene if segment.hits > 0 else None
        ids = np.empty(len(raw_ids), np.int64)
        confirmed = np.empty(len(raw_ids), bool)
        self.appearances = [None] * len(raw_ids)
        self.still = [False] * len(raw_ids)
        self.change = [float("nan")] * len(raw_ids)
        busy = crowded(detections.boxes) if self.cues and frame is not None else None
        if busy is not None and self.second_pass:
            # A box the second pass gave a track is a face the detector doubts, mostly one partly
            # covered: its colours are the cover's, so like a crowded box it feeds no colour cue
            # (else the cue splits the track the second pass kept, on the cover and again after).
            busy = busy | (detections.scores < self._start_score)
        # One copy of the boxes (row i is detection i's box); the colours of every box that
        # feeds a colour cue in one gather and one count for the frame (not one per box)
        boxes = detections.boxes.astype(np.float32).reshape(-1, 4)
        hists = [None] * len(raw_ids)
        if busy is not None and len(raw_ids):
            sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
            seen = np.flatnonzero(~busy & (sides >= self.rule.min_side))
            if len(seen):
                for i, hist in zip(seen.tolist(), appearances(frame, boxes[seen])):
                    hists[i] = hist
        jumps = self._jumps(raw_ids, boxes) if self.cues else {}
        segments = []
        for i, c in enumerate(raw_ids.tolist()):
            box = boxes[i]
            segment = self._segments[c]
            if self.cues:
                hist = self.appearances[i] = hists[i]
                segment = self._check(c, segment, box, hist, cut_diff, closed, dropped, jumps.get(i))
            segment.hits += 1
            segment.box = box
            segments.append(segment)
            ids[i], confirmed[i] = segment.id, segment.hits >= self.min_hits
        if self.cues and frame is not None and segments:
            self._pinned(segments, boxes, frame)
        ended = {}  # C++ id -> the id of its last segment
        for c in np.concatenate([raw.closed, raw.dropped]).astype(np.int64).tolist():
            segment = self._segments.pop(c)
            self._decide(segment)
            ended[c] = segment.id
            (closed if segment.hits >= self.min_hits else dropped).append(segment.id)
        evicted = [ended[c] for c in np.asarray(raw.evicted, np.int64).tolist() if c in ended]
        update = TrackerUpdate(ids, confirmed, np.array(closed, np.int64), np.array(dropped, np.int64),
                               np.array(evicted, np.int64))
        if self.followers is not None:
            self._bridge(frame, raw_ids, ids, confirmed, boxes, new_tracks)
        self._move(update, boxes)
        self._frame += 1
        return update

    def flush(self) -> TrackerUpdate:
        """Close every open segment at the end of a source: confirmed ones (at least ``min_hits``
        observations) in ``closed``, the others in ``dropped``; forgets the segments, the last boxes
        and the scene-change baseline (a next source starts afresh).
        """
        self.tracker.flush()
        self.switches, self.rejoins = {}, {}
        for segment in self._segments.values():
            self._decide(segment)
        closed = [s.id for s in self._segments.values() if s.hits >= self.min_hits]
        dropped = [s.id for s in self._segments.values() if s.hits < self.min_hits]
        self._segments.clear()
        self._last.clear()
        self._scene.reset()
        self.bridges, self.following = {}, frozenset()
        if self.followers is not None:
            self.followers.clear()
        self._seen_before, self._frame_before = {}, None
        return TrackerUpdate(np.zeros(0, np.int64), np.zeros(0, bool), np.array(closed, np.int64),
                             np.array(dropped, np.int64), np.zeros(0, np.int64))

    def expected_boxes(self) -> np.ndarray:
        """(T, 4) float32: where each open track's face is expected on the next frame (its last
        box moved on by its velocity for the frames since it was seen)."""
        if not self._last:
            return np.zeros((0, 4), np.float32)
        out = [box + velocity * (self._frame - seen) for seen, box, velocity, _ in self._last.values()]
        return np.stack(out).astype(np.float32)

    def expected_unseen(self) -> np.ndarray:
        """(T,) int64, in :meth:`expected_boxes`' order: frames from each track's last detection to
        the next frame (1 for a track detected on the last frame, k + 1 after k frames missed)."""
        return np.array([self._frame - seen for seen, _, _, _ in self._last.values()], np.int64)

    def expected_still(self, fraction: float) -> np.ndarray:
        """(T,) bool, in :meth:`expected_boxes`' order: the centre of the track's box moved at most
        ``fraction`` of its side a frame between its last two detections (a track seen once is not
        still). The centre, not the corners: a region-search box's top edge sits a few pixels off
        the full-frame detection's on a face that does not move."""
        out = []
        for _, box, velocity, measured in self._last.values():
            side = float(max(box[2] - box[0], box[3] - box[1]))
            speed = float(np.hypot(velocity[0] + velocity[2], velocity[1] + velocity[3])) / 2.0
            out.append(measured and np.isfinite(speed) and speed <= fraction * side)
        return np.array(out, bool)

    # -- steps -----------------------------------------------------------------------------------
    def _new_segment(self) -> _Segment:
        # colours kept as far back as a fade spans: a fade is judged against the colours before it
        segment = _Segment(self._next_id, max(self.rule.history, self.rule.fade_span))
        self._next_id += 1
        return segment

    def _cut(self, frame) -> tuple[str | None, float]:
        """("cut" | "fade" | None, the difference that fired) for this frame (:class:`SceneChange`);
        (None, 0) with the cues off or without a frame."""
        self.cut_thumbs = self.thumb = None
        if not self.cues or frame is None:
            return None, 0.0
        kind, value = self._scene.update(frame)
        self.frame_change = self._scene.frame_change
        self.cut_thumbs = self._scene.cut_thumbs
        self.thumb = self._scene.thumb
        return kind, value

    def _back(self, segment: _Segment, k: int):
        """The segment's colours ``k`` observations back (its oldest kept, if fewer)."""
        h = segment.history
        return h[max(0, len(h) - k)]

    def _jumps(self, raw_ids: np.ndarray, boxes: np.ndarray) -> dict:
        """{detection index: (size jump, aspect jump) from its segment's last box} for the
        detections whose segment was seen before, computed together (:func:`box_jumps`)."""
        seen = [(i, s.box) for i, s in enumerate(self._segments[c] for c in raw_ids.tolist()) if s.hits > 0]
        if not seen:
            return {}
        rows = [i for i, _ in seen]
        size, aspect = box_jumps(np.concatenate([b for _, b in seen]).reshape(-1, 4), boxes[rows])
        return dict(zip(rows, zip(size, aspect)))

    def _check(self, c: int, segment: _Segment, box, hist, cut_diff: float, closed: list, dropped: list,
               jumps: tuple[float, float] | None = None) -> _Segment:
        """Split ``segment`` (of C++ track ``c``) when a cue says ``box`` is someone else's;
        ``hist``: the box's colours (None in a crowd or without the frame); ``jumps``: the size
        and aspect jumps from the segment's last box when computed already (:meth:`_jumps`)."""
        rule = self.rule
        reason, values = None, (cut_diff, 1.0, 1.0, 0.0)
        if segment.hits > 0:
            sj, aj = jumps if jumps is not None else (size_jump(segment.box, box), aspect_jump(segment.box, box))
            far = distance_whole(self._back(segment, rule.history), hist) if hist is not None and segment.history else 0.0
            # after a fade, the colours before it began
            before = far
            if segment.cut == "fade" and hist is not None and segment.history:
                before = distance_whole(self._back(segment, rule.fade_span), hist)
            values = (cut_diff, sj, aj, far)
            if segment.cut and hist is not None and segment.history and before >= rule.cut_appearance:
                reason = segment.cut
            elif sj > rule.max_size_jump:
                reason = "size"
            elif aj > rule.max_aspect_jump:
                reason = "aspect"
            elif far > rule.appearance:
                reason = "appearance"
        segment.cut = None
        if self.records is not None:
            self.records.append((self._frame, c, segment.id, segment.hits, *values, reason))
        if reason is not None:
            self._decide(segment)
            (closed if segment.hits >= self.min_hits else dropped).append(segment.id)
            self.counts[reason] += 1
            self._last.pop(segment.id, None)
            new = self._segments[c] = self._new_segment()
            if reason in ("cut", "fade") or not segment.history:
                self.switches[segment.id] = reason  # a cut is not verified: the scene changed
            else:
                self.switches[segment.id] = "pending"
                new.parent, new.reference, new.trial = segment.id, self._back(segment, rule.history), []
                self._reasons[segment.id] = reason
            segment = new
        if hist is not None:
            if segment.parent is not None:
                segment.trial.append(distance_whole(segment.reference, hist))
                if len(segment.trial) >= rule.confirm:
                    self._decide(segment)
            segment.history.append(hist)
        return segment

    def _pinned(self, segments: list, boxes: np.ndarray, frame: np.ndarray) -> None:
        """Per detection (``segments[i]`` the segment of ``boxes[i]``, (N, 4) float32): whether the
        pixels under the middle of its segment's previous box are the same on this frame while the
        scene moved (mean absolute difference of GRID x GRID grey samples under ``STILL_GREY``)
        into :attr:`still`, that difference (nan on the segment's first observation) into
        :attr:`change`; remembers each box's samples. One gather for the frame."""
        # The box's middle (a fifth in from each side): a box larger than the logo it sits on
        # shows the moving scene at its edges (track_cues.pinned_patches: one pass for the frame).
        before = [i for i, segment in enumerate(segments) if segment.patch is not None]
        if before:
            previous_regions = np.concatenate([segments[i].patch[0] for i in before]).reshape(-1, 4)
            previous = np.concatenate([segments[i].patch[1] for i in before]).reshape(len(before), -1)
        else:
            previous_regions, previous = np.zeros((0, 4), np.intp), np.zeros((0, GRID * GRID), np.float32)
        regions, patches, under = pinned_patches(frame, boxes, previous_regions, previous)
        stills = []
        for i, value in zip(before, under.tolist() if len(before) else ()):
            # unchanged while the frame around it changed (4 times less than the frame, at most)
            self.still[i] = value < STILL_GREY and self.frame_change >= SCENE_MOVES and value < 0.25 * self.frame_change
            self.change[i] = value
            stills.append((i, ("still", self._frame, segments[i].id, value, self.frame_change)))
        for segment, region, patch in zip(segments, regions, patches):
            segment.patch = (region, patch)
        if self.records is not None and stills:
            # each detection's still record right after its split-check record, as they were made
            # one detection at a time
            checks = self.records[-len(segments):]
            del self.records[-len(segments):]
            extra = dict(stills)
            for i, record in enumerate(checks):
                self.records.append(record)
                if i in extra:
                    self.records.append(extra[i])

    def _decide(self, segment: _Segment) -> None:
        """Verify the split ``segment`` began at, on the observations it has: it stands (the old
        segment's reason is reported) or is withdrawn (None: the finaliser may re-link them)."""
        if segment.parent is None:
            return
        reason = self._reasons.pop(segment.parent, "appearance")
        if segment.trial and float(np.median(segment.trial)) <= self.rule.confirm_appearance:
            self.switches[segment.parent] = None
            self.rejoins[segment.parent] = segment.id
            self.counts["withdrawn"] += 1
        else:
            self.switches[segment.parent] = reason
        segment.parent, segment.reference, segment.trial = None, None, []

    def _bridge(self, frame, raw_ids: np.ndarray, ids: np.ndarray, confirmed: np.ndarray, boxes: np.ndarray,
                new_tracks: set) -> None:
        """The continuity bridge's step for this frame (``ids``, ``confirmed``: (N,) per detection,
        ``boxes`` (N, 4) float32, ``new_tracks``: C++ ids first seen now): stop the followers of
        tracks detected again or ended by a cue, start one for each confirmed segment seen on the
        last frame and not now, advance them all on ``frame``, and turn each new track that starts
        where a follower is into a hint in :attr:`bridges`. Without a frame nothing is followed."""
        self.bridges = {}
        followers = self.followers
        if frame is None:
            followers.clear()
            self.following, self._seen_before, self._frame_before = frozenset(), {}, None
            return
        seen = set(ids.tolist())
        for segment_id in list(followers.following):
            if segment_id in seen or segment_id in self.switches:
                followers.stop(segment_id)
        if self._frame_before is not None:
            for segment_id, box in self._seen_before.items():
                # a segment a cue ended (or split, pending) is someone else's from here: not followed
                if segment_id not in seen and segment_id not in self.switches:
                    followers.start(segment_id, box, self._frame_before, self._frame - 1)
        if followers.following:
            followers.advance(frame, self._frame)
            for i, c in enumerate(raw_ids.tolist()):
                if c in new_tracks and followers.following:
                    hint = followers.arrive(boxes[i], self._frame)
                    if hint is not None:
                        self.bridges[hint[0]] = (int(ids[i]), hint[1], hint[2])
        self.following = followers.following
        self._seen_before = {int(ids[i]): boxes[i] for i in np.flatnonzero(confirmed).tolist()}
        self._frame_before = frame

    def _move(self, update: TrackerUpdate, boxes: np.ndarray) -> None:
        """Remember each detected track's box ((N, 4) float32, in the update's order) and velocity
        (pixels a frame since its last detection; zeros on its first)."""
        ids = np.asarray(update.track_ids).tolist()
        previous = [self._last.get(track_id) for track_id in ids]
        velocities = np.zeros((len(ids), 4), np.float32)
        known = [i for i, p in enumerate(previous) if p is not None]
        if known:
            before = np.concatenate([previous[i][1] for i in known]).reshape(-1, 4)
            frames = np.array([max(1, self._frame - previous[i][0]) for i in known], np.float32)  # exact small integers
            velocities[known] = (boxes[known] - before) / frames[:, None]
        for i, track_id in enumerate(ids):
            self._last[track_id] = (self._frame, boxes[i], velocities[i], previous[i] is not None)
        for track_id in np.concatenate([update.closed, update.dropped]).tolist():
            self._last.pop(int(track_id), None)
