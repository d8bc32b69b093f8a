"""Re-linking of track fragments by position, time, size and coarse colours (StrongSORT's AFLink in spirit).

A person's track splits when the detector misses them for longer than the tracker waits, or when
the head turns. The fragment that starts soon after, near where the closed one was heading and
with a compatible size and colours of the box and the band below it that are not far apart, is
taken as its continuation. No recognition embedding: the boxes, their times and a 64-bin colour
histogram (:class:`facesel.select.evidence.TrackEvidence`, :mod:`facesel.track_cues`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from facesel.select.face_growth import grown
from facesel.select.gap_motion import motion_kept
from facesel.select.link_ambiguity import AMBIGUITY_SIDES, ambiguous
from facesel.select.moving_limit import moving_allowance
from facesel.select.link_colours import SEEN_WINDOW, seen_colours
from facesel.select.link_turns import turn_cost
from facesel.select.motion_reach import reach
from facesel.select.short_gates import at_edge, behind
from facesel.setting_checks import check_at_least
from facesel.track_cues import distance as colour_distance

# The ends' measurements and the edges' geometry live in link_ends.py and link_edges.py; their
# names are importable from here as before.
from facesel.select.link_edges import (EDGES, along_edge, edges_crossed, edges_touched, entered_by_edge, head_velocity,
                                       left_by_edge, reversed_direction)
from facesel.select.link_ends import (SMALL_FACE_SIDE, _centre, _ends, _measured, _side, _small_without_colours,
                                      _typical, crowding)

COLOUR_SAMPLES = ("either", "fresh", "recent", "seen", "ends")
"""The values of :attr:`LinkRule.colour_sample`."""

CHAIN_THROUGH = (None, "later", "both", "place")
"""The values of :attr:`LinkRule.chain_through`."""

EDGE_REGIONS = ("both", "face")
"""The values of :attr:`LinkRule.edge_region`."""

VETOES = ("edge", "entered", "reversed", "cover_other", "cover_none")
"""The names :attr:`LinkRule.veto` may hold."""


@dataclass(frozen=True)
class LinkRule:
    """When a later track continues an earlier one.

    Attributes
    ----------
    max_gap_seconds : float
        Longest time from the earlier track's last observation to the later one's first.
    max_overlap_seconds : float
        The later track may start this much before the earlier one's last observation (a new
        track opened on a turned head while the old one still coasted on a stray box).
    max_distance : float
        Largest distance of the later track's first box centre from the earlier track's
        predicted centre or from its last seen centre (whichever is nearer: a person hidden
        behind another may have stopped or turned), in box sides, at a gap of 0 ...
    distance_per_second : float
        ... growing by this many box sides per second of gap (the prediction's uncertainty).
    max_size_ratio : float
        Largest ratio of the two box sides (larger over smaller).
    max_colour_distance : float
        Largest colour distance (:func:`facesel.track_cues.distance`, gain-normalised histograms
        of the box and the band below it) from the earlier track's last colours to the later
        one's first, when both have them: someone else stepping into the place (a turnstile, a
        doorway) wears other clothes. 1 turns the check off. 0.5 for the typical colours of
        each end (``window`` > 1; 0.6 was the single-observation threshold), chosen
        leave-one-source-out on tiled crowds and same-place replacements
        (``experiments/crowds_loso.py``, docs/persons.md).
    window : int >= 1
        Observations compared at each end of the two fragments (1: the last of the earlier and
        the first of the later only, the rule before issue 23's crowd work).
    rejoin_colour_distance : float or None
        A fragment that a switch cue other than a scene cut ended (its box jumped in size,
        aspect or colours: also what a passer-by covering the face does) is continued only by a
        fragment whose colours are at most this far from its own; None: never (a scene cut
        never is).
    long_gap_seconds : float or None
        Longest gap of a **long link** (issue 23, re-link over longer gaps): beyond
        ``max_gap_seconds`` a fragment may still continue one that no cue ended when the person
        came back where they were last seen (within ``still_distance`` box sides of the earlier
        fragment's last centre: no prediction, no allowance growing with the gap, so only a
        person who stayed put qualifies) and nobody else was near that place meanwhile. The
        allowance beyond ``max_gap_seconds`` shrinks with the other tracks seen near the place
        during the gap (within ``crowd_radius`` box sides): divided by 1 + their number. None:
        no long links (the rule before this work, kept as a setting).
    still_distance : float
        Box sides (see ``long_gap_seconds``).
    long_colour_distance : float
        Largest colour distance (typical colours of the two ends) of a long link; both fragments
        must have colours (faces under 40 px have none: no long link). Tighter than
        ``max_colour_distance``: after a pause, the next person at the same place (a turnstile)
        is told apart from the same person come back by these colours only, and on the shared
        clips they are 0.17-0.26 apart for different people in similar clothes against up to
        0.45 for one person. Chosen leave-one-source-out (``experiments/relink_loso.py``).
    crowd_radius : float
        Box sides around the earlier fragment's last centre and the later one's first within
        which another track's path (its centre's extent) counts as near during the gap.
    colour_sample : "either", "fresh", "recent", "seen" or "ends"
        Which colours of each end a short link (and the re-join after a cue) compares (issue 23,
        occluded crowds; :mod:`facesel.select.link_colours`, docs/persons.md "Occluded crowds").
        ``"fresh"``: the median of the colours measured on the ``window`` end observations (none
        measured there: not compared). ``"recent"``: the median of the better-seen half, by
        detector confidence, of the colours measured on the last / first 16 observations (a face
        partly covered by an occluder is detected with less confidence, and its colours there are
        partly the occluder's; none measured there: not compared). ``"either"`` (default): the
        smaller of those two distances (not compared when neither has colours). Not comparing
        colours measured long before an end is the point: in a crowd no colours are taken where
        the band below a face overlaps another face, and the colours of seconds before say little
        about the end; a fragment a cue ended is still re-joined only on colours (then the
        better-seen half of the last 16 measured, however old). ``"seen"``: that sample always.
        ``"ends"``: the median of the ``window`` end observations' colours, or the last / first
        colours measured however old (the rule before, kept as a setting). Chosen
        leave-one-source-out (``experiments/crowds_occlusion_loso.py``). Long links keep ``"ends"``.
    chain_through : None, "later", "both" or "place"
        A short fragment skipped by a link (issue 23, occluded crowds: "7 was continued by 13,
        skipping 12"): when a fragment is continued by a later one and a closed fragment lies
        wholly **between** the two in time (it starts after the earlier one's last observation and
        ends before the later one's first), the finaliser absorbs it into the chain when it passes
        the gates of this rule as the later one's predecessor (``"later"``: ``cost(skipped,
        later)``), or as that and as the earlier one's successor (``"both"``: ``cost(earlier,
        skipped)`` too), or the later one's position and size gates only (``"place"``: the
        colours are not compared, the chain's own colours having passed; default). The skipped
        fragment is seen exactly while the person of the chain is not, where the chain's person
        reappears. None: a skipped fragment stays alone (the rule before, kept as a setting).
        Measured (docs/persons.md "Occluded crowds"): no change on the tiled crowds, splices and
        pause material under the default colour sample; the sam2 juggler 2 -> 1 snapshot
        (``"place"`` only: the skipped fragment's colours are the ball's); no wrong join anywhere.
    lone_colour_distance : float or None
        A looser long-link colour gate for a person **alone** (issue 23, the selfie): when nobody
        else was near the place during the gap (:func:`crowding` 0) and the later fragment starts
        within ``lone_still_distance`` box sides of where the earlier was last seen, the typical
        colours may be this far apart instead of ``long_colour_distance``. None: no such gate (the
        default; docs/persons.md "Why the selfie, OTB Girl and the bed keep extra snapshots":
        measured, not safe against the next person after a pause).
    lone_still_distance : float
        Box sides (see ``lone_colour_distance``).
    small_position_scale : float >= 1
        The short link's position allowance is multiplied by this when **neither** fragment's end
        has colours and both end boxes are smaller than :data:`SMALL_FACE_SIDE` (faces under the
        colour floor, e.g. OTB Girl's 14-30 px face, whose box centre moves by a large share of its
        side as the head turns). 1: as for any face (default).
    small_long : bool
        A long link between two such small faces without colours (no colour gate: they have none)
        when the later one is back within ``still_distance`` times ``small_position_scale`` box
        sides of where the earlier was last seen and nobody else was near. False (default): a
        long link needs colours. (Measured at the pair level only: the finaliser holds a track past
        its grace period for a long link only when it has colours, ``Finaliser._may_wait_long``.)
    edge_colour_distance : float or None
        A looser long-link colour gate for an **edge return** (issue 23, the selfie: a person who
        left the frame by its edge and came back there): when the earlier fragment's last box
        touches or crosses an edge of the frame (within ``edge_margin`` of its side), the later
        fragment's first box touches the **same** edge, nobody else was near the place during the
        gap (:func:`crowding` 0) and the position and size gates of a long link pass, the typical
        colours (of ``edge_region``) may be this far apart instead of ``long_colour_distance``
        (at the edge the box and the band below it are cut by the frame, and what is left of
        them changes as the person crosses it). Needs the frame's size
        (:attr:`facesel.select.evidence.TrackEvidence.frame_shape`); None: no such gate (the
        default; docs/persons.md "Leaving by the frame's edge and coming back").
    edge_margin : float
        Box sides (see ``edge_colour_distance``): a box whose side lies within this share of its
        own side of the frame's border (or beyond it) touches that edge.
    edge_region : "both" or "face"
        Which colours the edge return compares: the face region and the band below it (the
        larger distance, as every other link) or the face region only (the band is what the frame
        cuts most).
    covered_gap_seconds : float or None
        A **covered link** (issue 23, crossing crowds: a nearer person passes in front of a
        farther one, whose track ends under them and comes back on the other side): beyond
        ``max_gap_seconds`` and up to this gap, a fragment continues one when the **same other
        track** was the nearest larger box near the earlier fragment on one of its last
        observations and near the later one on one of its first (who was in front:
        :attr:`facesel.select.evidence.TrackEvidence.cover_tail` / ``cover_head``), at least
        ``cover_size_ratio`` times larger and within ``cover_reach`` of its own sides, and the
        short link's other gates pass with the gap allowed (colours within
        ``max_colour_distance`` when both ends have them, the re-join's after a cue, size, and the
        position where the earlier fragment was heading, whose allowance grows with the gap). It
        costs :data:`COVERED_LINK_OFFSET` more than a short link. None: no covered link (the
        rule before, kept as a setting).
    cover_reach : float
        The cover's centre within this many of its own box sides of the face's centre.
    cover_size_ratio : float >= 1
        The cover's side over the face's side (a nearer person's face is larger).
    cover_same : bool
        True: the cover at both ends must be the same track. False: any larger track near at
        each end (the track in front is itself often broken while it passes, its fragment ids
        then differ).
    veto : tuple of str
        Facts that refuse any link (short, covered or long) whatever its cost (issue 23, crossing
        crowds: the short link joined two walkers 12 times in 124; docs/persons.md "The link
        veto"). Each from where boxes are, never who is in them (:data:`VETOES`):
        ``"edge"``: the earlier fragment **left the frame**: its last box touches a border of the
        frame (within ``edge_margin`` of the frame's width or height, at least 1 px) and its
        velocity points out through that border, and none of the later fragment's first
        ``window`` boxes touches that border (whoever appears elsewhere is someone else).
        ``"entered"``: the later fragment **came in by the frame's edge**: its first box touches
        a border, its first ``window`` boxes move into the frame, and none of the earlier
        fragment's last ``window`` boxes touched that border (whoever went out of sight inside
        the frame does not walk in from outside it).
        ``"reversed"``: both fragments move (at least ``reverse_speed`` of their box sides per
        second: the earlier over its last observations, the later over its first ``window``) and
        in opposite directions (their velocities' dot product negative).
        ``"cover_other"``: the earlier fragment ended behind a larger track A
        (:meth:`facesel.select.evidence.TrackEvidence.covered_at_end`, within ``cover_reach`` and
        at least ``cover_size_ratio``) and the later one starts with no larger track in front
        or with another one (:attr:`~facesel.select.evidence.TrackEvidence.cover_head`).
        ``"cover_none"``: the same, but only a later fragment with no larger track in front at
        its start is refused. Empty: no veto (the rule before).
    veto_edge_margin : float
        Share of the frame's width (left, right) or height (top, bottom) within which a box
        touches a border (see ``veto``; the edge return's own margin is ``edge_margin``).
    reverse_speed : float
        Box sides per second (see ``veto`` ``"reversed"``; also the least speed of
        ``behind_distance``).
    behind_distance : float or None
        A short link is refused when the earlier fragment was moving (at least ``reverse_speed``
        of its box sides a second) and the later one's first box centre lies more than this many
        box sides **behind** the earlier one's last centre along that motion
        (:func:`facesel.select.short_gates.behind`; issue 23, crossing crowds). None: no such
        gate (the default; docs/persons.md "The short link's wrong joins").
    edge_short_colour_distance : float or None
        A short link whose earlier fragment left the frame by an edge, or whose later one came in
        by one (:func:`facesel.select.short_gates.at_edge`, ``edge_margin``), needs colours at
        most this far apart when both ends have them, instead of ``max_colour_distance`` (issue
        23: the next person entering where the last one left). None: no such gate (the default).
    motion_keep : float or None
        **Motion through the gap** (issue 23, crossing crowds): a short link is refused when the
        earlier fragment was walking (at least ``motion_speed`` of its box sides a second over
        its last observations) and the later one, over its first ``window`` observations (at
        least :data:`facesel.select.gap_motion.MIN_HEAD_OBSERVATIONS`), keeps less than this
        share of that motion along its direction (:func:`facesel.select.gap_motion.motion_kept`:
        0 refuses only a later face going back the way the earlier came). None: no
        such gate (the default; docs/persons.md "Motion through the gap").
    motion_speed : float
        Box sides per second (see ``motion_keep``): a slower earlier fragment is not judged.
    motion_most : float or None
        With ``motion_keep``, a later fragment keeping more than this share (much faster the same
        way) is refused too. None: no upper bound.
    motion_at_edge : bool
        Whether the motion gate also judges a link whose earlier fragment left the frame by an
        edge or whose later one came in by one (:func:`facesel.select.short_gates.at_edge`,
        ``edge_margin``). False (the gate's setting): a person turning back at the edge reverses.
    reach_per_speed : float or None
        **A bouncing child's reach** (issue 23, the children on the bed): the short link's
        position allowance grows by this many box sides per box side a second of the earlier
        fragment's own **path speed** (:func:`facesel.select.motion_reach.path_speed`: the length
        of its centre's path over its last ``window`` observations, in its box sides a second)
        per second of gap; a face that moved that fast may be that much further away, any way.
        None: no such growth (the default; docs/persons.md "A bouncing child's reach").
    reach_speed : float
        Box sides a second (see ``reach_per_speed``): a slower earlier fragment (a walker, a
        swaying head) gets no extra reach.
    reach_most : float or None
        Box sides (see ``reach_per_speed``): the most the reach may add. None: no cap.
    turn_distance : float or None
        **A head turned away and back** (issue 23, session 18; OTB Girl turning round on her chair):
        a pair the other gates refuse, up to ``long_gap_seconds`` (or ``max_gap_seconds``) apart, is
        still linked when the earlier fragment ends in one profile and the later one starts in the
        other (:func:`facesel.select.facing.end_facing`, ``turn_count`` observations each), their
        heads' centres (:func:`facesel.select.facing.head_centre`: behind the profile face box) lie
        within this many box sides of each other, sizes within ``max_size_ratio``, colours (when
        both ends have them) within ``max_colour_distance``, nobody else near the place
        (:func:`crowding`), and no switch cue ended the earlier one. Costed as a long link. None:
        off (the default; docs/persons.md "A head turned away and back": on splices of two real
        people in opposite profiles at one place it joins 5-10 of 180, so it stays off).
    turn_count : int
        Profile observations, among an end's ``window``, that make that end's profile (see
        ``turn_distance``); none of that end may look the other way.
    growth_size_ratio : float or None
        **A face growing as its person walks at the camera** (issue 23, session 19): when set,
        the short link's size gate compares the later fragment's sides with the earlier one's
        **grown at its own rate** to the later one's time (:func:`facesel.select.face_growth.grown`:
        the slope of log side over the earlier fragment's end observations, at most
        :data:`facesel.select.face_growth.MOST_GROWTH` a second either way), within this ratio,
        instead of ``max_size_ratio`` unpredicted. None: off (the default; docs/persons.md "A crowd
        walking at the camera").
    ambiguity_ratio : float or None
        **The short link's ambiguity test** (issue 23, session 23; a ratio test as in feature
        matching, :mod:`facesel.select.link_ambiguity`): a short link of position cost ``d1``
        (box sides) is not made when another track the finaliser knows of (``others``) passes
        the short link's gates as the later fragment's predecessor (with ``ambiguity_sides``
        ``"both"`` also as the earlier fragment's successor) at a cost ``d2`` with
        ``d1 >= ambiguity_ratio * d2``: the fragments are kept apart. Long, covered and
        shot-return links are not tested. In (0, 1]; None: off (the default; docs/persons.md
        "The short link's ambiguity test").
    ambiguity_sides : str
        ``"later"``: competitors for the later fragment only (other fragments it could continue);
        ``"both"``: also other fragments that could continue the earlier one (see
        ``ambiguity_ratio``).
    ambiguity_exclusive : bool
        Count only competitors seen during the partner they would replace (two people at once;
        see ``ambiguity_ratio``): one that ended before the earlier fragment began, or starts
        after the later one ended, may be the same person's other piece (session 23's second
        registration). False: every competitor counts.
    moving_distance : float or None
        **The short link's reach for moving faces** (issue 23, session 23b;
        :mod:`facesel.select.moving_limit`): when the earlier fragment moved at least
        ``moving_speed`` of its box sides a second, the short link's position allowance is at most
        this many box sides plus ``moving_per_second`` per second of gap (its motion is already
        predicted through the gap). None: off (the default; docs/persons.md "The short link's
        reach for moving faces").
    moving_per_second : float
        Box sides per second of gap added to ``moving_distance``.
    moving_speed : float
        Box sides a second (:func:`facesel.select.gap_motion.tail_motion`): a slower earlier
        fragment keeps the default's allowance (see ``moving_distance``).
    """

    max_gap_seconds: float = 1.0
    max_overlap_seconds: float = 0.2
    max_distance: float = 0.75
    distance_per_second: float = 1.0
    max_size_ratio: float = 1.5
    max_colour_distance: float = 0.5
    window: int = 8
    rejoin_colour_distance: float | None = 0.4
    long_gap_seconds: float | None = 3.0
    still_distance: float = 0.75
    long_colour_distance: float = 0.15
    crowd_radius: float = 2.0
    colour_sample: str = "either"
    chain_through: str | None = "place"
    lone_colour_distance: float | None = None
    lone_still_distance: float = 0.25
    small_position_scale: float = 1.0
    small_long: bool = False
    edge_colour_distance: float | None = None
    edge_margin: float = 0.05
    edge_region: str = "both"
    covered_gap_seconds: float | None = None
    cover_reach: float = 2.0
    cover_size_ratio: float = 1.2
    cover_same: bool = True
    veto: tuple = ()
    veto_edge_margin: float = 0.02
    reverse_speed: float = 0.5
    behind_distance: float | None = None
    edge_short_colour_distance: float | None = None
    motion_keep: float | None = None
    motion_speed: float = 1.0
    motion_most: float | None = None
    motion_at_edge: bool = False
    reach_per_speed: float | None = None
    reach_speed: float = 3.0
    reach_most: float | None = None
    turn_distance: float | None = None
    turn_count: int = 3
    growth_size_ratio: float | None = None
    ambiguity_ratio: float | None = None
    ambiguity_sides: str = "later"
    ambiguity_exclusive: bool = False
    moving_distance: float | None = None
    moving_per_second: float = 0.0
    moving_speed: float = 0.5

    def __post_init__(self) -> None:
        check_at_least(self, ("moving_distance",), 0, or_none=True)
        check_at_least(self, ("moving_per_second", "moving_speed"), 0)
        r = self.ambiguity_ratio
        if r is not None and (isinstance(r, bool) or not isinstance(r, (int, float)) or not np.isfinite(r)
                              or not 0 < r <= 1):
            raise ValueError(f"ambiguity_ratio must be a number in (0, 1] or None, got {r!r}")
        if self.ambiguity_sides not in AMBIGUITY_SIDES:
            raise ValueError(f"ambiguity_sides must be one of {AMBIGUITY_SIDES}, got {self.ambiguity_sides!r}")
        if not isinstance(self.ambiguity_exclusive, bool):
            raise ValueError(f"ambiguity_exclusive must be True or False, got {self.ambiguity_exclusive!r}")
        check_at_least(self, ("turn_distance",), 0, or_none=True)
        if isinstance(self.turn_count, bool) or not isinstance(self.turn_count, int) or self.turn_count < 1:
            raise ValueError(f"turn_count must be an integer >= 1, got {self.turn_count!r}")
        check_at_least(self, ("reach_per_speed", "reach_most"), 0, or_none=True)
        check_at_least(self, ("growth_size_ratio",), 1, or_none=True)
        check_at_least(self, ("reach_speed",), 0)
        for name in ("motion_keep", "motion_most"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not np.isfinite(value)):
                raise ValueError(f"{name} must be a finite number or None, got {value!r}")
        v = self.motion_speed
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise ValueError(f"motion_speed must be a finite number > 0, got {v!r}")
        if not isinstance(self.motion_at_edge, bool):
            raise ValueError(f"motion_at_edge must be True or False, got {self.motion_at_edge!r}")
        check_at_least(self, ("behind_distance", "edge_short_colour_distance"), 0, or_none=True)
        if not isinstance(self.veto, tuple) or any(v not in VETOES for v in self.veto):
            raise ValueError(f"veto must be a tuple of names from {VETOES}, got {self.veto!r}")
        m = self.veto_edge_margin
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not np.isfinite(m) or not 0 <= m < 0.5:
            raise ValueError(f"veto_edge_margin must be a finite number in [0, 0.5), got {m!r}")
        check_at_least(self, ("reverse_speed",), 0)
        if self.chain_through not in CHAIN_THROUGH:
            raise ValueError(f"chain_through must be one of {CHAIN_THROUGH}, got {self.chain_through!r}")
        if self.edge_region not in EDGE_REGIONS:
            raise ValueError(f"edge_region must be one of {EDGE_REGIONS}, got {self.edge_region!r}")
        if self.colour_sample not in COLOUR_SAMPLES:
            raise ValueError(f"colour_sample must be one of {COLOUR_SAMPLES}, got {self.colour_sample!r}")
        check_at_least(self, ("max_gap_seconds", "max_overlap_seconds", "max_distance", "distance_per_second",
                              "max_colour_distance", "still_distance", "long_colour_distance", "crowd_radius",
                              "lone_still_distance", "edge_margin"), 0)
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
            raise ValueError(f"window must be an integer >= 1, got {self.window!r}")
        check_at_least(self, ("rejoin_colour_distance", "long_gap_seconds", "lone_colour_distance",
                              "edge_colour_distance"), 0, or_none=True)
        check_at_least(self, ("small_position_scale",), 1)
        if not isinstance(self.small_long, bool):
            raise ValueError(f"small_long must be True or False, got {self.small_long!r}")
        check_at_least(self, ("max_size_ratio",), 1, finite=False)
        check_at_least(self, ("covered_gap_seconds",), 0, or_none=True)
        check_at_least(self, ("cover_reach",), 0)
        check_at_least(self, ("cover_size_ratio",), 1)
        if not isinstance(self.cover_same, bool):
            raise ValueError(f"cover_same must be True or False, got {self.cover_same!r}")

    @property
    def longest_gap(self) -> float:
        """The longest gap any link of this rule may bridge (seconds): a closed fragment must be
        held at least this long, so that every fragment that may continue it has started."""
        return max(self.max_gap_seconds, self.long_gap_seconds or 0.0, self.covered_gap_seconds or 0.0)

    def cover_of(self, earlier, later) -> int | None:
        """The track that was in front of ``earlier`` as it ended (and, with ``cover_same``, of
        ``later`` as it began; without, a track was in front of ``later`` too) (see
        :attr:`covered_gap_seconds`), or None."""
        tail, head = self._close_cover_at_end(earlier), self._close_cover_at_head(later)
        if tail is None or head is None or (self.cover_same and tail[0] != head[0]):
            return None
        return int(tail[0])

    def _close_cover(self, cover):
        """``cover`` (a fragment end's (track in front, reach, size ratio, ...) or None) when that
        track was close and large enough to hide the face (``cover_reach``, ``cover_size_ratio``),
        else None."""
        if cover is None or cover[1] > self.cover_reach or cover[2] < self.cover_size_ratio:
            return None
        return cover

    def _close_cover_at_end(self, earlier):
        """:meth:`_close_cover` of the track in front of ``earlier`` as it ended."""
        return self._close_cover(earlier.covered_at_end() if hasattr(earlier, "covered_at_end") else None)

    def _close_cover_at_head(self, later):
        """:meth:`_close_cover` of the track in front of ``later`` as it began."""
        return self._close_cover(getattr(later, "cover_head", None))

    @property
    def reads_covers(self) -> bool:
        """Whether this rule reads who was in front (covered links or a cover veto)."""
        return self.covered_gap_seconds is not None or any(v.startswith("cover") for v in self.veto)

    def vetoed(self, earlier, later) -> str | None:
        """The first name of :attr:`veto` whose fact refuses ``later`` as ``earlier``'s
        continuation, or None (no veto, or none applies)."""
        for name in self.veto:
            if name == "edge":
                if left_by_edge(earlier, later, self.veto_edge_margin, self.window):
                    return name
            elif name == "entered":
                if entered_by_edge(earlier, later, self.veto_edge_margin, self.window):
                    return name
            elif name == "reversed":
                if reversed_direction(earlier, later, self.reverse_speed, self.window):
                    return name
            else:
                tail = self._close_cover_at_end(earlier)
                if tail is None:
                    continue
                head = self._close_cover_at_head(later)
                if head is None or (name == "cover_other" and head[0] != tail[0]):
                    return name
        return None

    def cost(self, earlier, later, others=()) -> float | None:
        """How well ``later`` continues ``earlier`` (lower is better), or None when it cannot:
        the gates of :meth:`_gated_cost`, then, where they refuse and ``turn_distance`` is set, a
        head turned away and back (:func:`facesel.select.link_turns.turn_cost`). With
        ``ambiguity_ratio`` a short link that another of ``others`` could make about as well is
        refused (:func:`facesel.select.link_ambiguity.ambiguous`)."""
        cost = self._gated_cost(earlier, later, others)
        if cost is not None and self.ambiguity_ratio is not None and cost < COVERED_LINK_OFFSET \
                and ambiguous(self, earlier, later, cost, others):
            return None  # kept apart: one more snapshot, never a wrong join
        if cost is None and self.turn_distance is not None:
            apart = turn_cost(self, earlier, later, others)
            if apart is not None:
                cost = LONG_LINK_OFFSET + apart
        return cost

    def _gated_cost(self, earlier, later, others=()) -> float | None:
        """How well ``later`` continues ``earlier`` (lower is better), or None when it cannot.

        The two fragments' ends are compared over up to ``window`` observations each
        (:attr:`TrackEvidence.tail` of ``earlier``, :attr:`TrackEvidence.head` of ``later``):
        the size and position gates pass when some pair of an end observation of each passes
        them (the position of the earlier one moved on by the earlier track's velocity to the
        later one's time, or the last one left where it was), and the colours are the closest pair's. A face
        that a passer-by covers is seen partly covered on its last frames (the box shrinks to
        the visible part, the colours are the passer-by's); the observations a few frames
        before show it whole.

        Beyond ``max_gap_seconds`` (up to ``long_gap_seconds``) the link is a **long link**: see
        :attr:`long_gap_seconds`; its cost is offset by :data:`LONG_LINK_OFFSET`, so that any
        link within ``max_gap_seconds`` is preferred to it.

        Parameters
        ----------
        earlier, later : TrackEvidence
        others : iterable of TrackEvidence, optional
            Every other track the finaliser knows of (open, held, or released within the
            longest gap): consulted only for a long link, for who else was near the place.

        Returns
        -------
        float or None
            Distance from the predicted (or last seen) position in box sides, at the best pair
            (None outside the gates).
        """
        if earlier.count == 0 or later.count == 0:
            return None
        ended_by = getattr(earlier, "ended_by", None)
        if ended_by == "cut" or (ended_by is not None and self.rejoin_colour_distance is None):
            return None  # a cut: what follows at its place is someone else
        gap = later.first_time - earlier.last_time
        if gap < -self.max_overlap_seconds:
            return None
        if self.veto and gap <= self.longest_gap and self.vetoed(earlier, later) is not None:
            return None
        if gap > self.max_gap_seconds:
            if self.covered_gap_seconds is not None and gap <= self.covered_gap_seconds \
                    and self.cover_of(earlier, later) is not None:
                # the short link's gates with the longer gap (the allowance grows with it)
                short = replace(self, max_gap_seconds=self.covered_gap_seconds, covered_gap_seconds=None,
                                long_gap_seconds=None)
                cost = short._gated_cost(earlier, later, others)
                if cost is not None:
                    return COVERED_LINK_OFFSET + cost
            return self._long_cost(earlier, later, gap, others)
        if later.first_frame <= earlier.first_frame:
            return None  # not later at all
        tail = _ends(earlier, "tail", self.window, earlier.last_time, earlier.last_box, earlier.last_colours)
        head = _ends(later, "head", self.window, later.first_time, later.first_box, later.first_colours)
        closest = None
        if tail[2] and head[2]:
            closest = self._colours_apart(earlier, later, tail[2], head[2])
        if closest is not None and closest > self.max_colour_distance:
            return None
        if self.edge_short_colour_distance is not None and closest is not None \
                and closest > self.edge_short_colour_distance and at_edge(earlier, later, self.window, self.edge_margin):
            return None
        if self.behind_distance is not None:
            back = behind(earlier, later, self.reverse_speed)
            if back is not None and back > self.behind_distance:
                return None
        if self.motion_keep is not None and not self._motion_continues(earlier, later):
            return None
        if ended_by is not None:
            # A switch cue ended it (ended_by: "size", "aspect", "appearance", "pending"): only
            # a fragment whose colours are close to those it had before the cue fired takes it
            # up (a face covered by a passer-by, then seen again); without colours, never.
            if closest is None and tail[2] and head[2]:
                closest = self._rejoin_colours_apart(earlier, later)
            if closest is None or closest > self.rejoin_colour_distance:
                return None
        (ta, ca, sa), (tb, cb, sb) = tail[:2] + (tail[3],), head[:2] + (head[3],)
        dt = np.maximum(tb[None, :] - ta[:, None], 0.0)  # (A, B) seconds between the pair
        if min(sa.min(), sb.min()) <= 0:
            return None
        if self.growth_size_ratio is None:
            ratio = np.maximum(sa[:, None], sb[None, :]) / np.minimum(sa[:, None], sb[None, :])
            size_ok = ratio <= self.max_size_ratio
        else:  # the earlier face grown at its own rate over each pair's time
            grown_sa = grown(ta, sa, dt)
            ratio = np.maximum(grown_sa, sb[None, :]) / np.minimum(grown_sa, sb[None, :])
            size_ok = ratio <= self.growth_size_ratio
        predicted = ca[:, None, :] + earlier.velocity()[None, None, :] * dt[..., None]
        moved = np.linalg.norm(cb[None, :, :] - predicted, axis=2)
        # "Stopped where last seen" holds for the last observation only: the earlier ones were
        # followed by the track moving on.
        stayed = np.broadcast_to(np.linalg.norm(cb - ca[-1], axis=1)[None, :], moved.shape)
        distance = np.minimum(moved, stayed) / ((sa[:, None] + sb[None, :]) / 2)
        # The allowance grows with the gap between the fragments only: pairs reaching further
        # into either fragment are predicted over their own time, not given more slack.
        allowance = self.short_allowance(earlier, gap, tail, head)
        ok = size_ok & (distance <= allowance)
        if not ok.any():
            return None
        return float(distance[ok].min())


    def short_allowance(self, earlier, gap: float, tail, head) -> float:
        """The short link's position allowance in box sides at ``gap`` seconds: ``max_distance``
        plus ``distance_per_second`` per second of gap, times ``small_position_scale`` for two
        small faces without colours, plus the earlier fragment's reach when ``reach_per_speed``
        is set (:func:`facesel.select.motion_reach.reach`), at most ``moving_distance`` plus
        ``moving_per_second`` per second of gap for a moving earlier fragment when that is set
        (:func:`facesel.select.moving_limit.moving_allowance`). ``tail`` and ``head``: the two
        ends as :func:`_ends` gives them."""
        allowance = self.max_distance + self.distance_per_second * max(gap, 0.0)
        if self.small_position_scale != 1.0 and _small_without_colours(tail, head):
            allowance *= self.small_position_scale
        if self.reach_per_speed is not None:
            allowance += reach(earlier, gap, self.reach_per_speed, self.reach_speed, self.reach_most, self.window)
        tighter = moving_allowance(earlier, gap, self.moving_distance, self.moving_per_second, self.moving_speed)
        return allowance if tighter is None else min(allowance, tighter)

    def _motion_continues(self, earlier, later) -> bool:
        """Whether the motion gate (``motion_keep``) lets ``later`` continue ``earlier``."""
        if not self.motion_at_edge and at_edge(earlier, later, self.window, self.edge_margin):
            return True
        kept = motion_kept(earlier, later, self.motion_speed, self.window)
        if kept is None:
            return True
        return kept >= self.motion_keep and (self.motion_most is None or kept <= self.motion_most)

    def absorbs(self, earlier, skipped, later, others=()) -> bool:
        """Whether a link from ``earlier`` to ``later`` takes ``skipped`` along (see
        :attr:`chain_through`): ``skipped`` lies wholly between the two in time and passes the
        gates as ``later``'s predecessor (for ``"both"`` also as ``earlier``'s successor; for
        ``"place"`` its position and size gates only).
        False when ``chain_through`` is None.

        Parameters
        ----------
        earlier, skipped, later : TrackEvidence
        others : iterable of TrackEvidence, optional (as for :meth:`cost`)
        """
        if self.chain_through is None or skipped.count == 0:
            return False
        if self.ambiguity_ratio is not None:
            # ``earlier`` itself competes with ``skipped`` for ``later``: the chain asks the gates only
            return replace(self, ambiguity_ratio=None).absorbs(earlier, skipped, later, others)
        if not earlier.last_frame < skipped.first_frame <= skipped.last_frame < later.first_frame:
            return False  # not wholly between: the same person cannot be in two places at once
        if self.chain_through == "place":
            return replace(self, max_colour_distance=1.0, rejoin_colour_distance=1.0).cost(skipped, later, others) is not None
        if self.cost(skipped, later, others) is None:
            return False
        return self.chain_through == "later" or self.cost(earlier, skipped, others) is not None

    def _colours_apart(self, earlier, later, tail_colours: list, head_colours: list) -> float | None:
        """Colour distance of the two ends (see ``colour_sample``), or None: not compared. The end
        observations' colours with older ones standing in (``tail_colours``, ``head_colours``,
        non-empty) are the ``"ends"`` sample, and stand in for ``"seen"`` where an end keeps no
        seen ones."""
        fresh = recent = None
        if self.colour_sample in ("either", "fresh"):
            a, b = _measured(earlier, "tail", self.window), _measured(later, "head", self.window)
            fresh = colour_distance(_typical(a), _typical(b)) if a and b else None
        if self.colour_sample in ("either", "recent"):
            a, b = seen_colours(earlier, "tail", reach=SEEN_WINDOW), seen_colours(later, "head", reach=SEEN_WINDOW)
            recent = colour_distance(a, b) if a is not None and b is not None else None
        if self.colour_sample in ("either", "fresh", "recent"):
            found = [d for d in (fresh, recent) if d is not None]
            return min(found) if found else None
        if self.colour_sample == "seen":
            a, b = seen_colours(earlier, "tail"), seen_colours(later, "head")
            if a is not None and b is not None:
                return colour_distance(a, b)
        return colour_distance(_typical(tail_colours), _typical(head_colours))

    def _rejoin_colours_apart(self, earlier, later) -> float | None:
        """The re-join's colour distance when ``colour_sample`` leaves old colours out and an end
        has no recent ones: the re-join asks for positive evidence (colours close to those the
        fragment had before its cue fired, however old), so it takes the ``"seen"`` sample of any
        age instead of passing on position alone."""
        if self.colour_sample not in ("either", "fresh", "recent"):
            return None
        a, b = seen_colours(earlier, "tail"), seen_colours(later, "head")
        return None if a is None or b is None else colour_distance(a, b)

    def _long_cost(self, earlier, later, gap: float, others) -> float | None:
        """The cost of a long link (``gap`` > ``max_gap_seconds``; see :attr:`long_gap_seconds`),
        or of an edge return (:attr:`edge_colour_distance`) when that is on and the long link
        refuses."""
        cost = self._still_cost(earlier, later, gap, others)
        if cost is None and self.edge_colour_distance is not None:
            cost = self._edge_cost(earlier, later, gap, others)
        return cost

    def _still_cost(self, earlier, later, gap: float, others) -> float | None:
        """The cost of a long link of a person back where last seen. The cheap checks come first:
        most pairs a finaliser asks about fail on time or place."""
        if self.long_gap_seconds is None or gap > self.long_gap_seconds or getattr(earlier, "ended_by", None) is not None:
            return None  # a fragment a cue ended waits for no one over a long gap
        head = _ends(later, "head", self.window, later.first_time, later.first_box, later.first_colours)
        tail = _ends(earlier, "tail", self.window, earlier.last_time, earlier.last_box, earlier.last_colours)
        small = self.small_long and _small_without_colours(tail, head)
        if not small and (earlier.last_colours is None or later.first_colours is None):
            return None  # without colours nothing tells the same person from the next one at the place
        last, side_last = _centre(earlier.last_box), _side(earlier.last_box)
        if side_last <= 0 or head[3].min() <= 0:
            return None
        ratio = np.maximum(head[3], side_last) / np.minimum(head[3], side_last)
        distance = np.linalg.norm(head[1] - last, axis=1) / ((head[3] + side_last) / 2)
        still = self.still_distance * (self.small_position_scale if small else 1.0)
        ok = (ratio <= self.max_size_ratio) & (distance <= still)
        if not ok.any():
            return None
        near = None
        if not small:
            colours = colour_distance(_typical(tail[2]), _typical(head[2]))
            if colours > self.long_colour_distance:
                # the looser limit of a person alone (off by default), asked after the cheap checks
                if self.lone_colour_distance is None or colours > self.lone_colour_distance \
                        or float(distance[ok].min()) > self.lone_still_distance:
                    return None
                near = crowding(earlier, later, others, self.crowd_radius)
                if near:
                    return None
        if near is None:
            near = crowding(earlier, later, others, self.crowd_radius)
        if small and near:
            return None  # no colours: only a person alone at the place
        if gap > self.max_gap_seconds + (self.long_gap_seconds - self.max_gap_seconds) / (1 + near):
            return None
        return LONG_LINK_OFFSET + float(distance[ok].min())

    def _edge_cost(self, earlier, later, gap: float, others) -> float | None:
        """The cost of an edge return (see :attr:`edge_colour_distance`), or None. At the edge the
        frame cuts the box across it, so the size and place are compared **along** the edge the
        person left and came back by (the box's height and its centre's height for the left and
        right edges; width and horizontal centre for the top and bottom)."""
        if self.long_gap_seconds is None or gap > self.long_gap_seconds or getattr(earlier, "ended_by", None) is not None:
            return None
        common = edges_crossed(earlier, "tail", self.window, self.edge_margin) & \
            edges_crossed(later, "head", self.window, self.edge_margin)
        if not common:
            return None
        best = None
        for edge in common:
            along = along_edge(earlier, later, edge, self.window)
            ok = (along[0] <= self.max_size_ratio) & (along[1] <= self.still_distance)
            if ok.any() and (best is None or along[1][ok].min() < best):
                best = float(along[1][ok].min())
        if best is None:
            return None
        tail = _measured(earlier, "tail", self.window) or ([earlier.last_colours] if earlier.last_colours is not None else [])
        head = _measured(later, "head", self.window) or ([later.first_colours] if later.first_colours is not None else [])
        if not tail or not head:
            return None  # without colours nothing tells the same person from the next one at the edge
        ca, cb = _typical(tail), _typical(head)
        if self.edge_region == "face":
            ca, cb = ca[:1], cb[:1]
        if colour_distance(ca, cb) > self.edge_colour_distance:
            return None
        if crowding(earlier, later, others, self.crowd_radius):
            return None  # only a person alone at the edge
        return LONG_LINK_OFFSET + float(best)


LONG_LINK_OFFSET = 1000.0
"""Added to a long link's cost: any link within ``max_gap_seconds`` is preferred to one over a
longer gap (a fragment is continued by the nearest in time first)."""

COVERED_LINK_OFFSET = 500.0
"""Added to a covered link's cost (:attr:`LinkRule.covered_gap_seconds`): after any short link,
before any long link (the track in front was seen at both ends)."""
