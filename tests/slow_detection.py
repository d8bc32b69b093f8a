"""A full-frame detection that costs at least a floor of wall time, on any machine.

Tests of a camera that "cannot keep up" used to rely on full-frame YuNet on every 1080p frame
costing more than the 40 ms between two frames of a 25 frames/s camera: true on a loaded 2-core
box, not promised on a quiet or faster one (a whole session's work was once lost to such a test).
With :func:`slow_full_detection` each full-frame ``detect`` (fine or coarse tier) takes at least
``floor`` seconds more than its real cost, so a camera detecting every frame is behind whatever
the machine, and one that detects every second frame or less often spends at most half of that.
The region search (``detect_squares``) is left as it is.
"""

from __future__ import annotations

import time

from facesel.detect.yunet import YuNetDetector

BEHIND_FLOOR = 0.06
"""Seconds added to each full-frame detection: 1.5 frame intervals at 25 frames/s."""


def slow_full_detection(monkeypatch, floor: float = BEHIND_FLOOR) -> None:
    """Every :class:`YuNetDetector`'s ``detect`` (this process, until the test ends) sleeps
    ``floor`` seconds before it detects. A sleep, not a busy loop: it costs the detection thread
    time without taking a core from the decoders and the other cameras."""
    detect = YuNetDetector.detect

    def slowed(self, frame):
        time.sleep(floor)
        return detect(self, frame)

    monkeypatch.setattr(YuNetDetector, "detect", slowed)
