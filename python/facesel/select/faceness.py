"""Is a closed track a face? A verdict from what the pipeline already knows, no recognition.

Signals, each summarised over the whole track by :class:`facesel.select.evidence.TrackEvidence`:

- the detector's confidence (its best over the track: a person who walks past a camera shows
  at least one frame the detector is sure of; a poster or a logo stays doubtful),
- the quality model's verdict on the track's best crop (the shipped VAE's ``dose`` rule separates
  faces from background crops with AUROC 0.993, ``docs/model_card.md``),
- the landmark geometry (how far the five landmarks are from a face's layout),
- motion (a track whose box never moves and whose pixels never change: posters, screens,
  pictures; a person sitting still blinks, talks and breathes, and is kept),
- a second box on one head (a track that spends most of its frames overlapping a detection of a
  track the detector is surer of on average: the hair above a face, a shoulder below it).

"A poor face" (a weak signal somewhere) is kept: every person gets a snapshot, however poor
(Baert et al., AAAI-21). "Not a face" needs the detector AND the quality model to agree, so
that one weak signal alone never drops a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facesel.align import TEMPLATE
from facesel.setting_checks import check_at_least

KEPT = "face"
POOR = "poor_face"
NOT_FACE = "not_face"
STATIC = "static"
DUPLICATE = "duplicate"
DROP_REASONS = (NOT_FACE, STATIC, DUPLICATE)


def landmark_residual(landmarks) -> float:
    """How far five landmarks are from a face's layout, in units of the face's scale.

    The landmarks are mapped onto :data:`facesel.align.TEMPLATE` by the least-squares similarity
    transform; the result is the RMS residual over the template's eye distance (0 = exactly the
    template's layout; frontal faces measure about 0.05-0.15, profiles more).

    Parameters
    ----------
    landmarks : (5, 2) float
        Left eye, right eye, nose, left and right mouth corner, in pixels.

    Returns
    -------
    float (inf when the landmarks are degenerate or not finite)
    """
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    if not np.isfinite(points).all():
        return float("inf")
    src = points - points.mean(0)
    dst = TEMPLATE.astype(np.float64) - TEMPLATE.mean(0)
    norm = float((src * src).sum())
    if norm <= 1e-9:
        return float("inf")
    # Closed-form similarity (Umeyama without reflection) as a complex ratio: dst ~ a * src.
    zs, zd = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    a = (np.conj(zs) * zd).sum() / norm
    residual = zd - a * zs
    eye_distance = float(np.linalg.norm(dst[1] - dst[0]))
    return float(np.sqrt((np.abs(residual) ** 2).mean()) / eye_distance)


@dataclass(frozen=True)
class FacenessRule:
    """Thresholds of the verdict (see ``docs/persons.md`` for how each was measured).

    Attributes
    ----------
    min_det_score : float
        A track whose best detector confidence is below this is doubtful to the detector.
    min_quality : float or None
        A track whose best quality is below this is doubtful to the quality model. None when the
        scorer's scale is unknown (another scorer than the shipped VAE): then the quality model
        has no vote, and the landmark geometry takes its place.
    max_landmark_residual : float
        With no quality vote: a track whose best landmark layout is further than this from a
        face's is doubtful to the geometry.
    suppress_static : bool
        Drop tracks that never move (on by default).
    static_travel : float
        Largest travel of the box centre, in box sides, of a static track.
    static_size_change : float
        Largest ratio of its biggest to smallest box side, of a static track whose pixels were
        not measured (with them, lifelessness decides: a detector's box on a logo jitters by
        18-31 % in size).
    min_static_seconds : float
        A track must last this long to be judged static (short tracks of people move little).
    live_fraction : float
        A track whose pixels under the box changed (``TrackEvidence.lively_fraction``, measured on
        at least ``min_pinned_count`` steps) on at least this fraction of its steps lives, and is
        never static by its box's stillness alone: a person sitting still before a webcam
        (before: 4 of the 13 signer clips gave no snapshot). Measured in docs/persons.md.
    min_pinned_count : int
        A track of at least this many observations ...
    pinned_fraction : float
        ... whose box stayed on the same pixels (``TrackEvidence.still_fraction``) at least this
        often is static too, however short: a logo or watermark in a moving scene (its box is
        detected on the same pixels every frame) where no head holds still to the pixel.
    max_shadowed : float
        A track whose frames overlap a surer track's detection more often than this fraction is a second
        box on one head (a majority rule).
    """

    min_det_score: float = 0.8
    min_quality: float | None = None
    max_landmark_residual: float = 0.5
    suppress_static: bool = True
    static_travel: float = 0.25
    static_size_change: float = 1.1
    min_static_seconds: float = 2.0
    live_fraction: float = 0.2
    max_shadowed: float = 0.5
    min_pinned_count: int = 8
    pinned_fraction: float = 0.6

    def __post_init__(self) -> None:
        check_at_least(self, ("min_det_score", "max_landmark_residual", "static_travel", "min_static_seconds",
                              "max_shadowed"), 0)
        if self.min_quality is not None and (isinstance(self.min_quality, bool) or not np.isfinite(self.min_quality)):
            raise ValueError(f"min_quality must be a finite number or None, got {self.min_quality!r}")
        if not isinstance(self.static_size_change, (int, float)) or not self.static_size_change >= 1:
            raise ValueError(f"static_size_change must be a number >= 1, got {self.static_size_change!r}")
        if isinstance(self.min_pinned_count, bool) or not isinstance(self.min_pinned_count, int) or self.min_pinned_count < 2:
            raise ValueError(f"min_pinned_count must be an int >= 2, got {self.min_pinned_count!r}")
        if isinstance(self.live_fraction, bool) or not isinstance(self.live_fraction, (int, float)) or not 0 <= self.live_fraction <= 1:
            raise ValueError(f"live_fraction must be in [0, 1], got {self.live_fraction!r}")
        if isinstance(self.pinned_fraction, bool) or not isinstance(self.pinned_fraction, (int, float)) or not 0 < self.pinned_fraction <= 1:
            raise ValueError(f"pinned_fraction must be in (0, 1], got {self.pinned_fraction!r}")
        if not isinstance(self.suppress_static, bool):
            raise TypeError(f"suppress_static must be a bool, got {type(self.suppress_static).__name__}")

    def judge(self, evidence, best_quality: float) -> str:
        """The verdict on one track: ``KEPT``, ``POOR`` (kept), or a drop reason.

        Parameters
        ----------
        evidence : TrackEvidence
            What was seen of the track.
        best_quality : float or callable () -> float
            Quality of the track's best crop (the scorer's scale); a callable is asked only when
            the verdict depends on it (the face vote costs a VAE pass per crop, and a track
            dropped as static or duplicate, or one the detector is sure of, needs none).
        """
        if self.suppress_static and self.is_static(evidence):
            return STATIC
        if evidence.shadowed_fraction > self.max_shadowed:
            return DUPLICATE
        detector_doubts = self.detector_doubts(evidence)
        if self.min_quality is not None:
            if callable(best_quality):
                best_quality = best_quality() if detector_doubts else np.inf
            second_doubts = best_quality < self.min_quality
        else:
            second_doubts = evidence.best_landmark_residual > self.max_landmark_residual
        if detector_doubts and second_doubts:
            return NOT_FACE
        return POOR if (detector_doubts or second_doubts) else KEPT

    def asks_quality(self, evidence) -> bool:
        """Whether :meth:`judge` asks a callable ``best_quality`` for its value on this track: it
        is neither static nor a second box, the detector doubts it, and the rule has a quality vote.
        The finaliser scores the votes of the tracks it judges together in one batch with it
        (:meth:`facesel.select.face_vote.DoseFaceVote.vote_many`)."""
        return (self.min_quality is not None and not (self.suppress_static and self.is_static(evidence))
                and not evidence.shadowed_fraction > self.max_shadowed and self.detector_doubts(evidence))

    def detector_doubts(self, evidence) -> bool:
        """Whether the track's best detector confidence is below ``min_det_score``: only then can
        the second opinion (quality or landmarks) make it a non-face."""
        return evidence.det_max < self.min_det_score

    def is_static(self, evidence) -> bool:
        """Whether the track's box stayed pinned to the same pixels while the scene moved
        (``pinned_fraction`` of at least ``min_pinned_count`` steps), or it lasted
        ``min_static_seconds`` with its box (nearly) still and what it shows never lived.

        Lifeless: the pixels under the box changed on fewer than ``live_fraction`` of the steps
        they were measured on (then the box's size jitter does not matter); with fewer than
        ``min_pinned_count`` measured steps (the switch cues off), the box alone decides: it kept
        its size within ``static_size_change``."""
        if evidence.count >= self.min_pinned_count and getattr(evidence, "still_fraction", 0.0) >= self.pinned_fraction:
            return True
        if evidence.duration < self.min_static_seconds or evidence.count < 2:
            return False
        side = max(evidence.side_min, 1e-9)
        if evidence.travel > self.static_travel * side:
            return False
        if getattr(evidence, "measured", 0) >= self.min_pinned_count:
            return evidence.lively_fraction < self.live_fraction
        return evidence.side_max / side <= self.static_size_change
