"""Which compute path this process is on.

``cuda_compiled``: the optional ``facesel._cuda`` module was built (nvcc was present at build time).
``HAS_CUDA``: it was built *and* a CUDA device is usable now. Everything falls back to the CPU
core when ``HAS_CUDA`` is false, so a CPU-only machine imports and runs facesel unchanged.
"""

from __future__ import annotations

from pathlib import Path

try:
    from facesel import _cuda
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


def cmake_dir() -> Path:
    """The installed CMake package of facesel's C++ core (``lib/cmake/facesel``).

    Pass it as ``-Dfacesel_DIR=...`` (or its grand-grandparent, the package folder, in
    ``CMAKE_PREFIX_PATH``) so that a C++ program can ``find_package(facesel)`` and link
    ``facesel::core``.

    Raises
    ------
    FileNotFoundError
        When this installation has no CMake package (e.g. running from a source tree).
    """
    import facesel

    # An editable install spreads the package over the source tree and site-packages.
    for root in facesel.__path__:
        candidate = Path(root) / "lib" / "cmake" / "facesel"
        if (candidate / "facesel-config.cmake").is_file():
            return candidate
    raise FileNotFoundError(f"no lib/cmake/facesel/facesel-config.cmake under {list(facesel.__path__)}")
