"""Old name of :mod:`facesel.detect`, kept so that ``facesel.detectors`` and its submodules
(``facesel.detectors.yunet`` ...) still import: each is the very module object of ``facesel.detect``."""

import importlib
import sys

from facesel.detect import *  # noqa: F401,F403  (the same public names)
from facesel.detect import __all__  # noqa: F401

for _name in ("base", "factory", "haar", "mtcnn", "mtcnn_graphs", "mtcnn_steps", "yunet"):
    sys.modules[f"{__name__}.{_name}"] = globals()[_name] = importlib.import_module(f"facesel.detect.{_name}")
