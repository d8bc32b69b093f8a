"""The shot-return link: a track a scene cut ended is continued when the cut comes back to its shot.

TV footage cuts between shots of two people (shot / reverse shot): A | B | A | B ... Every cut ends
the track under it (a cut is never continued by the ordinary re-link: what follows at its place
is usually someone else), so each return of A's shot would give A another snapshot. This link
remembers, for the last few cuts, the whole frame's 48x27 grey thumbnail just **before** the cut
(the shot that was left; :func:`facesel.track_cues.thumbnail`, already computed by the cut cue)
and the time of the cut. When a later cut shows a frame whose thumbnail is close to a remembered
one (the camera on A again), a track that starts soon after that cut continues a track that ended
at the cut away from that shot when its first box lies at the place and size of the other's last
box and the colours of the box and the band below it (:func:`facesel.track_cues.appearance`) are
close.

Why it is not recognition: the thumbnail is the whole picture at 48x27 grey (it says "this
framing again", not who is in it); the box's place and size are geometry; the colours are the
coarse 64-bin histograms the short link already compares. A different person sitting in the same
framing (the webcam signers share one office) passes the thumbnail and the place: only the colours
(clothes, hair) keep the two apart, and where colours are missing the link is never made.

Memory: ``shots`` cuts (two 48x27 float32 thumbnails each, about 10 KB); a result a cut ended is
held up to ``max_seconds`` (the finaliser's grace period otherwise).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from facesel.select.link_ends import _ends, _measured, _small_without_colours, _typical
from facesel.setting_checks import check_at_least, check_count_at_least, check_flag
from facesel.track_cues import distance as colour_distance
from facesel.track_cues import moved_difference

STARTS_KEPT = 256
"""Frames with a track's first sight whose thumbnails are kept (about 1.3 MB at most; only frames
soon after a cut are kept, so a camera without cuts keeps none)."""

SHOT_RETURN_OFFSET = 200.0
"""Added to a shot-return link's cost (box sides): any ordinary link is preferred to it."""

EARLIEST_WEIGHT = 100.0
"""With ``ShotReturnRule.prefer_earliest``: cost per second of gap, so that 0.01 s outweighs the
0.5 box sides the place gate allows (the nearest return in time wins over a later one)."""


@dataclass(frozen=True)
class ShotReturnRule:
    """When a track a cut ended is continued after the cut back to its shot.

    The defaults are the choice of three of the four leave-one-family-out folds on intercut
    shared clips (``experiments/intercut_shot_return_loso.py``, pre-registered; the fourth chose
    ``colour_distance`` 0.3); ``prefer_earliest`` and ``small_without_colours`` the all-family
    choice of persons26's registration (``experiments/intercut_account26.py loso``); the other
    fields were fixed before (not chosen on data).

    Parameters
    ----------
    thumb_distance : float
        Largest mean absolute grey difference (0-255, camera shifts of +-3 cells taken out) between
        the thumbnail just before the cut away and the one just after the cut back: "the same shot".
        For scale, the cut cue fires above 15 (and 3x the recent frame-to-frame difference).
    max_distance : float
        Largest distance, in box sides (the mean of the two), from the earlier track's last box
        centre to the later one's first box centre.
    max_size_ratio : float
        Largest ratio of the two box sides.
    colour_distance : float
        Largest distance of the typical colours (box and band below; 1 - histogram intersection)
        of the earlier track's last and the later one's first ``window`` observations; a track
        without colours is never continued by this link.
    max_seconds : float
        Longest time from the cut away to the cut back (and how long a result a cut ended is held).
    end_seconds : float
        A track "ended at a cut" when its last observation is at most this before the cut.
    start_seconds : float
        The later track starts at most this after the cut back (the detector may need a frame or
        a few to find the face), with no other cut in between.
    shots : int
        Cuts remembered.
    window : int
        Observations of each end whose colours are compared.
    prefer_earliest : bool
        Among the partners that pass every gate, take the one nearest in time (the cost adds
        ``EARLIEST_WEIGHT`` x the gap in seconds): the first return to the shot, not a later one.
        Without it the partner nearest in place wins, and when the earlier track is asked after two
        returns are held it can skip the first, which then keeps a snapshot of its own (issue 23,
        persons26: 5 of the 10 extra intercut snapshots). On by default since persons26
        (docs/prereg_intercut26.md, docs/persons.md "The intercut's remaining extras").
    scales : tuple of float
        Zoom factors (each >= 1) of the "same shot" test: the cut back's thumbnail is compared with
        the one before the cut away also after a centred rescale of either by each factor (the
        camera zoomed in or out on the same framing; :func:`zoom_thumb`), the best counting.
        ``(1.0,)``: no rescale (before tv27). ``(1.0, 1.15, 1.3, 1.5)`` by default since tv27
        (issue 23, docs/prereg_tv27.md). Only this link's test; the shot-change cut veto keeps the
        plain one.
    zoom_place : bool
        When the "same shot" test passes only after a rescale (a factor of :attr:`scales`), the
        earlier track's last box is mapped by that rescale about the frame's centre before the
        size and place gates (the later shot zoomed in by f: centre c -> frame centre + f (c -
        frame centre), sides x f; zoomed out: by 1 / f), since a 1.3x zoom about the centre moves
        an off-centre face by 0.3 of its distance from the centre. Geometry only. Off (the
        default): the gates compare the boxes as they are (docs/prereg_dissolve28.md, issue 23).
    small_without_colours : bool
        Make the link without colours when neither end has any and every one of both ends'
        ``window`` observations is a small face (shorter box side under
        :data:`facesel.select.link_ends.SMALL_FACE_SIDE`, where the colour cue measures nothing):
        on the thumbnail, time, size and place gates alone (the juggler's 31-36 px face: 4 of the 10
        extra intercut snapshots). Off: never without colours. On by default since persons26 (its
        gain is measured only in sample: only one family has faces that small).
    """

    thumb_distance: float = 6.0
    max_distance: float = 0.5
    max_size_ratio: float = 1.5
    colour_distance: float = 0.5
    max_seconds: float = 10.0
    end_seconds: float = 0.2
    start_seconds: float = 0.5
    shots: int = 8
    window: int = 8
    # persons26 (docs/prereg_intercut26.md): chosen leave one family out on intercut material and six
    # TV-like variants, held out 419 -> 405 interview snapshots for 285 persons, no wrong join added
    prefer_earliest: bool = True
    small_without_colours: bool = True
    # tv27 (docs/prereg_tv27.md): held out by family on the intercut `zoom` variant 60 -> 57 interview
    # snapshots for 38 persons, no wrong join or person without added; `default` and OTB Girl unchanged
    scales: tuple = (1.0, 1.15, 1.3, 1.5)
    zoom_place: bool = False

    def __post_init__(self) -> None:
        check_at_least(self, ("thumb_distance", "max_distance", "colour_distance", "max_seconds", "end_seconds",
                              "start_seconds"), 0)
        check_at_least(self, ("max_size_ratio",), 1)
        check_count_at_least(self, ("shots", "window"), 1)
        for name in ("prefer_earliest", "small_without_colours", "zoom_place"):
            check_flag(getattr(self, name), name)
        scales = tuple(self.scales) if isinstance(self.scales, (tuple, list)) else None
        if not scales or any(isinstance(f, bool) or not isinstance(f, (int, float)) or not math.isfinite(f) or f < 1
                             for f in scales):
            raise ValueError(f"scales must be a non-empty tuple of finite numbers >= 1, got {self.scales!r}")
        object.__setattr__(self, "scales", tuple(float(f) for f in scales))

    def same_shot(self, after: np.ndarray, before: np.ndarray) -> float:
        """The "same shot" distance (grey levels, camera shifts taken out) of two (27, 48) float32
        thumbnails: the smallest over :attr:`scales` of either rescaled against the other."""
        return self.same_shot_zoom(after, before)[0]

    def same_shot_zoom(self, after: np.ndarray, before: np.ndarray) -> tuple[float, float]:
        """(:meth:`same_shot`, the zoom that gave it): the zoom is f > 1 when ``before`` zoomed in
        by f matched best (the later shot is closer), 1 / f when ``after`` zoomed in did (the later
        shot is wider), 1.0 when no rescale did better than none."""
        best, zoom = moved_difference(after, before), 1.0
        for factor in self.scales:
            if factor > 1.0:
                for value, found in ((moved_difference(after, zoom_thumb(before, factor)), factor),
                                     (moved_difference(zoom_thumb(after, factor), before), 1.0 / factor)):
                    if value < best:
                        best, zoom = value, found
        return best, zoom


@dataclass
class Cut:
    """One scene cut: its frame index and time, and the thumbnails ((27, 48) float32) of the
    frame before it and of its own frame."""

    frame: int
    time: float
    before: np.ndarray
    after: np.ndarray


class ShotMemory:
    """The last ``rule.shots`` cuts of a stream, and the shot-return link between two tracks'
    evidence (:class:`facesel.select.evidence.TrackEvidence`)."""

    def __init__(self, rule: ShotReturnRule) -> None:
        if not isinstance(rule, ShotReturnRule):
            raise TypeError(f"rule must be a ShotReturnRule, got {type(rule).__name__}")
        self.rule = rule
        self.cuts: deque = deque(maxlen=rule.shots)
        self.recorded = 0  # cuts recorded over the memory's life (the evaluations report it)
        # (frame, (27, 48) float32 thumbnail) of frames where a track was first seen within
        # max_seconds after a remembered cut (the shot-change cut veto's "shot the later starts on")
        self.starts: deque = deque(maxlen=STARTS_KEPT)
        self._settle_at: int | None = None  # the frame whose thumbnail replaces the last cut's "after"
        self.frame_shape: tuple | None = None  # (height, width) of the stream's frames (zoom_place), set by the finaliser

    def record(self, frame: int, time: float, before: np.ndarray, after: np.ndarray, settle: int = 0) -> None:
        """A cut on frame ``frame`` at ``time``: ``before`` and ``after`` are the thumbnails of the
        frame before and of this one ((27, 48) float32). ``settle`` > 0 (a cross-fade recorded as a
        cut, ``SwitchRule.fade_settle``): ``after`` is replaced by the thumbnail :meth:`settle` is
        given ``settle`` frames later, when the dissolve is over."""
        if self.cuts and frame <= self.cuts[-1].frame:
            self.cuts.clear()  # a new stream (frame numbers start again)
            self.starts.clear()
        self.cuts.append(Cut(int(frame), float(time), before, after))
        self.recorded += 1
        self._settle_at = int(frame) + int(settle) if settle > 0 else None

    def settle(self, frame: int, thumb: np.ndarray) -> None:
        """Every frame's thumbnail ((27, 48) float32): the last cut's ``after`` becomes ``thumb`` on
        the frame its ``settle`` asked for (or the first after it)."""
        at = self._settle_at
        if at is not None and frame >= at and self.cuts:
            self.cuts[-1].after = thumb
            self._settle_at = None

    def cut_after(self, evidence) -> Cut | None:
        """The cut that ended ``evidence``'s track: the first after its last observation, at most
        ``end_seconds`` after it; None when none is remembered."""
        for cut in self.cuts:
            if cut.frame > evidence.last_frame:
                return cut if cut.time - evidence.last_time <= self.rule.end_seconds else None
        return None

    def cut_between(self, earlier, later) -> bool:
        """Whether a remembered cut lies after ``earlier``'s last observation and no later than
        ``later``'s first: the two are on two sides of a cut (the cut veto, :class:`facesel.select.finalise.Finaliser`)."""
        return any(earlier.last_frame < cut.frame <= later.first_frame for cut in self.cuts)

    def saw_start(self, frame: int, time: float, thumb: np.ndarray) -> None:
        """A track was first seen on frame ``frame`` at ``time``, whose thumbnail is ``thumb``
        ((27, 48) float32): kept when it comes at most ``max_seconds`` after a remembered cut."""
        if self.cuts and frame > self.cuts[-1].frame and time - self.cuts[-1].time <= self.rule.max_seconds:
            if not self.starts or frame > self.starts[-1][0]:
                self.starts.append((int(frame), thumb))

    def _start_thumb(self, frame: int) -> np.ndarray | None:
        for seen, thumb in reversed(self.starts):
            if seen == frame:
                return thumb
            if seen < frame:
                return None
        return None

    def shot_changed(self, earlier, later, at_start: bool = False) -> bool:
        """Whether ``later`` starts on another shot than the one ``earlier`` ended on: a remembered
        cut lies between them (:meth:`cut_between`) and the shot ``later`` starts on is more than
        ``thumb_distance`` grey levels (camera shifts taken out) from the thumbnail just before the
        first such cut (the shot ``earlier`` ended on). The shot ``later`` starts on: the
        thumbnail just after the last such cut, or with ``at_start`` the thumbnail of ``later``'s
        first frame where :meth:`saw_start` kept it (the cut cue may miss an occluder's leaving:
        it is quiet for a few frames after firing, and frames that repeat the last are not
        counted). A sudden occluder that comes and goes returns to the shot it left; a cut to
        another camera does not (the shot-change cut veto, session 21)."""
        between = [cut for cut in self.cuts if earlier.last_frame < cut.frame <= later.first_frame]
        if not between:
            return False
        now = self._start_thumb(later.first_frame) if at_start else None
        now = between[-1].after if now is None else now
        return moved_difference(now, between[0].before) > self.rule.thumb_distance

    def holds(self, evidence) -> bool:
        """Whether a cut ended ``evidence``'s track (the finaliser then holds it for a return)."""
        return evidence.count > 0 and self.cut_after(evidence) is not None

    def _return_cut(self, away: Cut, later) -> Cut | None:
        """The cut back to ``away``'s shot at which ``later`` starts, or None."""
        found = self._return_zoom(away, later)
        return None if found is None else found[0]

    def _return_zoom(self, away: Cut, later) -> tuple[Cut, float] | None:
        """(:meth:`_return_cut`, the zoom of its "same shot" test: :meth:`ShotReturnRule.same_shot_zoom`), or None."""
        rule = self.rule
        cuts = list(self.cuts)
        for k, cut in enumerate(cuts):
            if cut.frame <= away.frame or cut.time - away.time > rule.max_seconds:
                continue
            if not (cut.frame <= later.first_frame and later.first_time - cut.time <= rule.start_seconds):
                continue
            if k + 1 < len(cuts) and cuts[k + 1].frame <= later.first_frame:
                continue  # another cut came before the track started
            distance, zoom = rule.same_shot_zoom(cut.after, away.before)
            if distance <= rule.thumb_distance:
                return cut, zoom
        return None

    def cost(self, earlier, later) -> float | None:
        """The shot-return link's cost of ``later`` continuing ``earlier`` (SHOT_RETURN_OFFSET plus
        the distance in box sides), None when a gate refuses (see the module docstring)."""
        rule = self.rule
        if earlier.count == 0 or later.count == 0 or later.first_frame <= earlier.last_frame:
            return None
        away = self.cut_after(earlier)
        found = None if away is None else self._return_zoom(away, later)
        if found is None:
            return None
        a, b = earlier.last_box, later.first_box
        if rule.zoom_place and found[1] != 1.0 and self.frame_shape is not None:
            a = zoom_box(a, found[1], self.frame_shape)  # where the earlier face sits in the zoomed shot
        side_a = math.sqrt(max(a[2] - a[0], 0.0) * max(a[3] - a[1], 0.0))
        side_b = math.sqrt(max(b[2] - b[0], 0.0) * max(b[3] - b[1], 0.0))
        if min(side_a, side_b) <= 0 or max(side_a, side_b) / min(side_a, side_b) > rule.max_size_ratio:
            return None
        centre = np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2)
        distance = float(centre) / ((side_a + side_b) / 2)
        if distance > rule.max_distance:
            return None
        tail, head = _measured(earlier, "tail", rule.window), _measured(later, "head", rule.window)
        if not tail or not head:
            if not (rule.small_without_colours and self._small_ends(earlier, later)):
                return None  # no colours: no positive evidence that it is the same person
        elif colour_distance(_typical(tail), _typical(head)) > rule.colour_distance:
            return None
        gap = EARLIEST_WEIGHT * max(later.first_time - earlier.last_time, 0.0) if rule.prefer_earliest else 0.0
        return SHOT_RETURN_OFFSET + gap + distance

    def _small_ends(self, earlier, later) -> bool:
        """Whether both ends are small faces without any colours (``small_without_colours``)."""
        window = self.rule.window
        tail = _ends(earlier, "tail", window, earlier.last_time, earlier.last_box, earlier.last_colours)
        head = _ends(later, "head", window, later.first_time, later.first_box, later.first_colours)
        return _small_without_colours(tail, head)


def zoom_box(box, zoom: float, frame_shape: tuple) -> tuple:
    """``box`` (x1, y1, x2, y2) as a camera zoomed by ``zoom`` about the centre of a frame of
    ``frame_shape`` (height, width) sees it: every corner at frame centre + zoom (corner - frame
    centre) (zoom > 1 closer, < 1 wider; :func:`zoom_thumb`'s geometry)."""
    cy, cx = frame_shape[0] / 2.0, frame_shape[1] / 2.0
    return (cx + zoom * (float(box[0]) - cx), cy + zoom * (float(box[1]) - cy),
            cx + zoom * (float(box[2]) - cx), cy + zoom * (float(box[3]) - cy))


def zoom_thumb(thumb: np.ndarray, factor: float) -> np.ndarray:
    """``thumb`` ((H, W) float32) zoomed in by ``factor`` (>= 1) about its centre: its central
    1 / ``factor`` cropped and resized back to (H, W) (bilinear), as a camera zooming in sees it."""
    import cv2

    h, w = thumb.shape
    ch, cw = max(1, round(h / factor)), max(1, round(w / factor))
    y, x = (h - ch) // 2, (w - cw) // 2
    return cv2.resize(np.ascontiguousarray(thumb[y:y + ch, x:x + cw]), (w, h), interpolation=cv2.INTER_LINEAR)
