"""The one real clip shipped inside the package, so that ``facesel demo`` works on a fresh install.

``intel_face_demographics_walking.gif``: people walking towards a camera in a corridor (35
frames, 12.5 frames/s, 480x270), from Intel's IoT DevKit sample videos
(``intel-iot-devkit/sample-videos``, ``preview/face-demographics-walking.gif``), licensed under
CC BY 4.0: see ``LICENSE-intel-sample-videos-CC-BY-4.0.txt`` beside it and the NOTICE file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEMO_CLIP = "intel_face_demographics_walking.gif"
ATTRIBUTION = ("Demo clip: 'face-demographics-walking' from Intel IoT DevKit sample-videos, "
               "licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)")


def demo_clip() -> Path:
    """Path of the shipped demo clip (a real file inside the installed package)."""
    return Path(str(resources.files(__name__) / DEMO_CLIP))
