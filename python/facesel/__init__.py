"""facesel: keep one high-quality, encrypted face snapshot per passer-by; recognise nobody.

The privacy-friendlier alternative to face recognition of Baert, Leroux and Simoens,
*Intelligent Frame Selection as a Privacy-Friendlier Alternative to Face Recognition* (AAAI-21).

Public names are re-exported here; the compiled modules (``facesel._core``, ``facesel._cuda``)
are private.
"""

from facesel._backend import CudaFallbackWarning, cmake_dir, cuda_compiled
from facesel._version import __version__
from facesel.core import (
    BestCropStore,
    ClosedTrack,
    Observation,
    Tracker,
    TrackerUpdate,
    gaussian_log_rp,
)
from facesel.scoring.vae import VAEScorer
from facesel.selector import Selector

__all__ = [
    "HAS_CUDA",
    "BestCropStore",
    "ClosedTrack",
    "CudaFallbackWarning",
    "Observation",
    "Selector",
    "Tracker",
    "TrackerUpdate",
    "VAEScorer",
    "__version__",
    "cmake_dir",
    "cuda_compiled",
    "gaussian_log_rp",
]


def __getattr__(name: str):
    # HAS_CUDA probes the GPU at the first read, not at import (see facesel._backend).
    if name == "HAS_CUDA":
        from facesel import _backend

        return _backend.cuda_usable(0)
    raise AttributeError(f"module 'facesel' has no attribute {name!r}")
