"""Detectors by name, for configuration files and the command line."""

from __future__ import annotations

import inspect

DETECTOR_NAMES = ("yunet", "mtcnn", "haar")
"""Names accepted by :func:`make_detector`."""

DEFAULT_DETECTOR = "yunet"
"""The detector chosen by measurement (docs/detectors.md)."""


def make_detector(name: str = DEFAULT_DETECTOR, **settings):
    """Build a detector by name.

    Parameters
    ----------
    name : {"yunet", "mtcnn", "haar"}
        Case-insensitive.
    **settings
        Passed to the detector's constructor (see :class:`YuNetDetector`, :class:`MTCNNDetector`,
        :class:`HaarDetector`); an unknown setting raises TypeError naming it.

    Returns
    -------
    Detector
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a detector name string, got {name!r}")
    key = name.strip().lower()
    if key == "yunet":
        from facesel.detect.yunet import YuNetDetector as cls
    elif key == "mtcnn":
        from facesel.detect.mtcnn import MTCNNDetector as cls
    elif key == "haar":
        from facesel.detect.haar import HaarDetector as cls
    else:
        raise ValueError(f"name must be one of {', '.join(DETECTOR_NAMES)}; got {name!r}")
    accepted = [p for p in inspect.signature(cls).parameters if p != "self"]
    unknown = sorted(set(settings) - set(accepted))
    if unknown:
        raise TypeError(f"detector {key!r} has no setting {', '.join(unknown)}; its settings are {', '.join(accepted)}")
    return cls(**settings)
