"""Which compute path this process is on.

``cuda_compiled``: the optional ``facesel._cuda`` module was built (nvcc was present at build time).
``HAS_CUDA``: it was built *and* a CUDA device is usable now. Everything falls back to the CPU
core when ``HAS_CUDA`` is false, so a CPU-only machine imports and runs facesel unchanged.
"""

from __future__ import annotations

try:
    from facesel import _cuda  # noqa: F401  (optional module, built only when nvcc was found)
except ImportError:
    _cuda = None

cuda_compiled: bool = _cuda is not None


def _device_count() -> int:
    if _cuda is None:
        return 0
    try:
        return int(_cuda.device_count())
    except RuntimeError:  # driver missing or too old: treat as no device
        return 0


HAS_CUDA: bool = _device_count() > 0
