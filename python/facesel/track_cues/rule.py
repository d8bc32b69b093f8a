"""The switch cues' settings (:class:`SwitchRule`) and the measured grey-level thresholds of the
still-picture cue (a pasted logo or photograph: :mod:`facesel.track`, :mod:`facesel.select.evidence`).
"""

from __future__ import annotations

from dataclasses import dataclass

from facesel.setting_checks import check_at_least, check_count_at_least

STILL_GREY = 2.0
"""Mean absolute grey difference (0-255) of the pixels under a box between two frames below
which they did not change: compression noise on a pasted logo (measured: docs/persons.md);
a living face blinks, talks and sways."""
LIVE_GREY = 1.0
"""Mean absolute grey difference (0-255) of the pixels under a box between two observations at
which what it shows moved: a face pasted into a video changed by at most 1.93 on any step, and on
at most 2.9 % of its steps by 1 or more (still scenes, docs/persons.md); a person sitting still
before a webcam or a plain wall changed by 1 or more on 26-85 % of them (blinks, lips, breath)."""
SCENE_MOVES = 1.0
"""... counted only on frames whose thumbnail changed by at least this (mean absolute grey
difference) and by 4 times the box's change: a still box in a still scene (a calm speaker before
a plain wall: box 0.5-1.1, frame 0.2-0.7 on LivePortrait's clips) says nothing."""


@dataclass(frozen=True)
class SwitchRule:
    """Thresholds of the switch cues (``docs/persons.md`` gives how each was measured).

    A cue that fires splits the track at once (the new segment must be confirmed again); except at
    a scene cut, the split is then **verified** on the new segment's first ``confirm``
    observations: when their colours are back near the old segment's (a hand passed in front of
    the collar, a head turned for an instant) the split is withdrawn and the finaliser re-links
    the two segments; otherwise it stands.

    Attributes
    ----------
    cut : float
        Mean absolute grey difference (0-255) of two consecutive frames' thumbnails above which
        the frame is a scene cut, if it is also ``cut_ratio`` times the median difference of the
        last ``cut_window`` frames (a shaking hand-held camera changes every frame; a cut is a
        spike); 0 turns the cut cue off.
    cut_ratio : float
    cut_window : int
    cut_spread : float
        A cut also needs at least this fraction of the thumbnail's cells changed by more than
        2 grey levels (at the camera shift taken out): a cut replaces the whole picture, a patch,
        an arm or a ball close to the camera changes a part of it; 0 leaves it out.
    cut_colours : float
        A cut also needs the colour histograms of the two thumbnails' grids (64 bins) at least
        this far apart (half L1); 0 leaves it out.
    fade : float
        Mean absolute grey difference of the thumbnail to the one ``fade_span`` frames back above
        which the frame ends a **fade** (a cross-fade, a dissolve), if it is also ``fade_ratio``
        times the median of the last ``cut_window`` such differences; 0 turns the fade cue off.
        A track under a fade is split like one under a cut, its colours compared with those
        ``fade_span`` observations back (before the fade began). After a cut or a fade no other
        fires for ``fade_span`` frames (the same change seen again as the window slides).
    fade_span : int
    fade_ratio : float
    fade_reach : int
        Thumbnail cells (each way) of the camera shift searched when a fade candidate is checked
        against the thumbnail ``fade_span`` frames back: a pan moves the picture by up to this
        over the span without it counting as a fade. 9 (1.5 cells a frame over the 6-frame span)
        since session 22 (fade22, pre-registered, held out by family: genuine tracks split by a
        fade on the edge and pan material 77 -> 9, no cross-fade splice's fire lost;
        docs/persons.md "Camera pans and the fade cue"); 3 (the cut's reach) before.
    fade_spread : float
        A fade also needs at least this fraction of the thumbnail's cells changed by more than
        2 grey levels at that best shift (a cross-fade changes the whole picture); 0 leaves it out.
    fade_cut : bool
        A fade that fires is also **recorded as a cut** for the finaliser
        (:attr:`facesel.track_cues.scene.SceneChange.cut_thumbs` = the thumbnail ``fade_span``
        frames back, before the dissolve began, and this frame's), so its cut-aware rules (the
        shot-change cut veto, the hold for a return, the shot-return link) see a cross-fade as they
        see a hard cut. Off (before tv27): a fade ends tracks' segments but leaves no cut. On by
        default since tv27 (issue 23, docs/prereg_tv27.md, with ``fade_settle`` and ``fade_blend``
        0.5; docs/persons.md "Cross-fades and zoomed returns").
    fade_settle : bool
        With ``fade_cut``: the recorded cut's "after" thumbnail is the picture ``fade_span`` frames
        after the fire (the dissolve is over), not the blend at the fire, so a return by
        cross-fade is compared shot to shot (``cut_thumbs`` then carries that count as a third item;
        :meth:`facesel.select.shot_return.ShotMemory.settle`).
    fade_blend : float
        With ``fade_cut``: a fade is recorded as a cut only when each thumbnail inside its span is a
        mix of the span's two ends (the best alpha a + (1 - alpha) b leaves a mean absolute residual
        of at most this times the mean |a - b|): a cross-fade's frames are, a pan's shifted
        pictures are not (:func:`facesel.track_cues.scene.blend_residual`). 0: every fade
        (docs/prereg_tv27.md, amendment 2; 0.5 registered, not fitted; the default since tv27).
    fade_quiet : float
        A **quiet fade**: a fade also fires when the span difference is above this (grey levels,
        under ``fade``) and above ``fade_ratio`` times the median of the span differences seen
        before the span began (``fade_span`` frames earlier: a dissolve's own rising differences
        do not raise its baseline), the span difference ending where the span began is not above
        this (the picture was settled: not the tail of a dissolve a fire already ended tracks
        at), it stands once the camera's shift is taken out (``fade_reach``),
        and the thumbnails inside the span are mixes of its two ends (:func:`blend_residual` at
        most ``fade_blend``; with ``fade_blend`` 0 none fires). It fires on the first frame whose
        span difference is not above the last one's (the dissolve has peaked; its cut's
        thumbnails are the peak's), and is then a fade like any other. A dissolve between two similar framings (LivePortrait's d18 -> d19: 12 grey
        over the span) stays under ``fade``; a busy scene's hands and pans are not mixes of the
        span's ends. 0: off (the default; docs/prereg_dissolve28.md, issue 23, dissolve28).
    fade_steps : bool
        A fade also has to stand step by step: the sum over the span of each frame's difference
        to the one before, each with its own camera shift (up to 3 cells) taken out, must be above
        the same floor. A pan moves the picture a little each frame (each step explained by a
        shift); a cross-fade replaces it a little each frame (no shift explains a step).
    cut_appearance : float
        After a cut or a fade, a track whose next box's colours are at least this far from the track's
        (histogram distance) is split, unverified; one that still sees the same thing (a jump
        cut of a speaker) is kept whole, and so is a track with no colours (a face under
        ``min_side``, or in a crowd): nothing says that the scene changed under it.
    max_size_jump : float
        Largest ratio (larger over smaller) of the box size (sqrt(w * h)) to the track's last.
    max_aspect_jump : float
        Largest ratio of the box's width-to-height ratio to the track's last.
    appearance : float
        Histogram distance (1 - intersection, in [0, 1]; the larger of the face's and the band's)
        from the colours ``history`` observations back above which the track is split.
    history : int
        Observations back that the colours are compared with (a fade of a few frames is a jump
        over this span; one frame's difference is not).
    confirm : int
        Observations of the new segment on which a split is verified.
    confirm_appearance : float
        The split stands when the median distance of those observations to the old colours is
        above this.
    min_side : float
        Faces smaller than this (pixels, the box's shorter side) get no colour cues: a 12 x 12
        grid over a face of 32-35 pixels reads mostly compression blocks and hair, and OTB Girl's
        turning head moved its histograms by 0.64 (a genuine track split).
    """

    cut: float = 15.0
    cut_ratio: float = 3.0
    cut_window: int = 10
    cut_spread: float = 0.0
    cut_colours: float = 0.0
    fade: float = 15.0
    fade_span: int = 6
    fade_ratio: float = 3.0
    fade_reach: int = 9
    fade_spread: float = 0.0
    fade_steps: bool = False
    fade_quiet: float = 0.0
    # tv27 (docs/prereg_tv27.md, amendment 2's dissolve_blend): held out by family on the intercut `fade`
    # variant, wrong joins 9 -> 5, interview snapshots 108 -> 102, persons without 14 -> 8; the TV-like
    # pans 26 -> 26 snapshots; the fade cue's fires (and every track split) unchanged
    fade_cut: bool = True
    fade_settle: bool = True
    fade_blend: float = 0.5
    cut_appearance: float = 0.1
    max_size_jump: float = 2.0
    max_aspect_jump: float = 2.0
    appearance: float = 0.6
    history: int = 4
    confirm: int = 5
    confirm_appearance: float = 0.6
    min_side: float = 40.0

    def __post_init__(self) -> None:
        check_at_least(self, ("cut", "fade", "fade_quiet", "cut_spread", "cut_colours", "fade_spread", "fade_blend", "cut_appearance", "appearance", "confirm_appearance", "min_side"), 0)
        check_at_least(self, ("max_size_jump", "max_aspect_jump", "cut_ratio", "fade_ratio"), 1, finite=False)
        check_count_at_least(self, ("history", "confirm", "cut_window", "fade_span"), 1)
        check_count_at_least(self, ("fade_reach",), 0)
        for name in ("fade_steps", "fade_cut", "fade_settle"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
