"""The colour sample of a fragment's end for the re-link, taken where the face was seen best.

Issue 23, occluded crowds. The re-link compares the typical colours (box and band below it) at the
end of one fragment with those at the start of the next. A face hidden behind a passer-by is seen
partly covered on exactly those frames: the colours there are partly the occluder's. Measured on
the occluded tiled crowds (``experiments/crowds_refusals.py``), the colour gate was the gate that
refused most of one person's fragments (same person 0.42-0.74 apart at the ends).

The detector says how much of a face it sees: YuNet's confidence drops when part of the face is
covered. So the sample here is the element-wise median of the histograms of the **better-seen
half** (by detector confidence) of the fragment's first or last :data:`SEEN_WINDOW` observations
that had colours (:attr:`TrackEvidence.seen_head` / ``seen_tail``), instead of the last / first 8
observations whatever the detector made of them. Nothing about who the person is: the same 2 x 64
coarse histogram bins as before, chosen by the detector's confidence.

The default rule (:attr:`facesel.select.linking.LinkRule.colour_sample` ``"either"``) takes the
smaller of this sample's distance (over colours measured on the last / first 16 observations only:
``reach``) and that of the colours measured on the 8 end observations: a ball passing in front of
the juggler's collar does not lower the detector's confidence, and there the 8 nearest observations
agree better (docs/persons.md, "Occluded crowds").
"""

from __future__ import annotations

import numpy as np

SEEN_WINDOW = 16
"""Colour observations at each end among which the better-seen half is taken (the evidence keeps
this many: :data:`facesel.select.evidence._SEEN_WINDOW`)."""


def seen_colours(evidence, which: str, window: int = SEEN_WINDOW, reach: int | None = None) -> np.ndarray | None:
    """(2, 64) float32 typical colours of the better-seen half of an end of ``evidence``, or None.

    Parameters
    ----------
    evidence : TrackEvidence
    which : "head" or "tail"
        The fragment's first (``seen_head``) or last (``seen_tail``) observations with colours.
    window : int >= 1
        How many of them (the first or last ``window``).
    reach : int >= 1 or None
        Only observations among the fragment's first / last ``reach`` observations (with colours
        or not) count: a fragment whose colours were last measured long before its end (in a
        crowd the band below a face overlaps another face's box on most frames, and no colours
        are taken there) has no colour sample of its end. None: any age.

    Returns
    -------
    (2, 64) float32 or None
        The element-wise median of the histograms of the ``ceil(n / 2)`` observations with the
        highest detector confidence among the ``n`` taken (ties: the nearer to the end first),
        each region renormalised; None when the end has no colours.
    """
    seen = list(getattr(evidence, "seen_head" if which == "head" else "seen_tail", ()) or ())
    seen = seen[:window] if which == "head" else seen[-window:]
    if reach is not None:
        count = int(getattr(evidence, "count", 0))
        seen = [o for o in seen if (o[2] <= reach if which == "head" else o[2] > count - reach)]
    if not seen:
        return None
    if which == "tail":
        seen = seen[::-1]  # nearest to the end first: the stable sort keeps it first among equal confidences
    scores = np.array([o[0] for o in seen], np.float64)
    keep = np.argsort(-scores, kind="stable")[: (len(seen) + 1) // 2]
    median = np.median(np.stack([np.asarray(seen[i][1], np.float32) for i in keep]), axis=0)
    total = median.sum(axis=-1, keepdims=True)
    return np.where(total > 0, median / np.maximum(total, 1e-12), 0.0).astype(np.float32)
