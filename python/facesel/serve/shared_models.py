"""The models of ``facesel serve``, built once per process and shared by every camera.

One pipeline per camera used to build its own detector and scorer: two cameras took about
630 MB, one 370-530 MB (issue 27). A camera's pipeline now gets its detector and scorer from
:class:`SharedModels`: cameras whose settings ask for the same detector (``detector``,
``yunet_engine``, ``max_side``) share one object, and those that ask for the same scorer
(``scorer``, ``onnx_threads``) share one. Below that, the ONNX Runtime sessions are shared per
process whatever builds them (:func:`facesel.scoring.vae_runtime.shared_runner` for the VAE,
``facesel.detect.yunet._onnx_session`` for YuNet): a session may be run from several threads at once.

Only a detector that says so (``thread_safe = True``: YuNet, MTCNN) is shared; any other (Haar)
is built per camera, since its ``detect`` may not be called from two cameras' threads at once.
"""

from __future__ import annotations

import threading

from facesel.serve.pipeline_adapter import make_scorer, pipeline_config

DETECTOR_KEYS = ("detector", "yunet_engine", "max_side")
SCORER_KEYS = ("scorer", "onnx_threads")


class SharedModels:
    """Detectors and scorers by the settings that make them; thread-safe.

    Attributes
    ----------
    detectors_built, scorers_built : int
        Objects built so far (the rest were shared): what the tests count.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._detectors: dict[tuple, object] = {}
        self._scorers: dict[tuple, object] = {}
        self.detectors_built = 0
        self.scorers_built = 0

    def stages(self, settings: dict) -> tuple[object, object]:
        """``(detector, scorer)`` for a camera's checked pipeline settings
        (:func:`facesel.serve.pipeline_adapter.check_pipeline_settings`)."""
        from facesel.selector import default_detector

        config = pipeline_config(settings)
        detector_key = tuple(settings.get(k) for k in DETECTOR_KEYS)
        scorer_key = tuple(settings.get(k) for k in SCORER_KEYS)
        with self._lock:
            detector = self._detectors.get(detector_key)
            if detector is None:
                detector = default_detector(config)
                self.detectors_built += 1
                if getattr(detector, "thread_safe", False) is True:
                    self._detectors[detector_key] = detector
            scorer = self._scorers.get(scorer_key)
            if scorer is None:
                scorer = self._scorers[scorer_key] = make_scorer(settings.get("scorer", "default"), config)
                self.scorers_built += 1
        return detector, scorer
