"""The one place the central package drives the frame-selection pipeline.

Kept to the public API of :class:`facesel.selector.Selector` (``Selector(sinks=[VaultSink(vault)])``,
``feed(frame, timestamp)``, ``flush()``), so that a change of the Selector needs a change here only.
Frames are fed one by one, in this process (no stage threads): a batch task is already one of
many running in parallel, and a sequential run and a Ray run must select the same records.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def select_into(vault, frames: Iterable[tuple[np.ndarray, float]]) -> int:
    """Run the default pipeline over ``frames``, sealing each closed track into ``vault``.

    Parameters
    ----------
    vault : object with ``seal(TrackResult)``
        Usually a :class:`facesel.vault.Vault`.
    frames : iterable of (frame, timestamp)
        ``frame`` an (h, w, 3) uint8 BGR image, ``timestamp`` in seconds (a
        :class:`facesel.video.FrameSource` yields these).

    Returns
    -------
    int
        The number of frames fed.
    """
    from facesel.selector import Selector
    from facesel.sinks import VaultSink

    selector = Selector(sinks=[VaultSink(vault)])
    fed = 0
    for frame, timestamp in frames:
        selector.feed(frame, timestamp)
        fed += 1
    selector.flush()  # the tracks still open at the end of the video close and are sealed
    return fed
