"""Which compute path this process is on, decided lazily.

``cuda_compiled``: the optional ``facesel._cuda`` module was built (nvcc was present at build time).
``HAS_CUDA``: it was built *and* CUDA device 0 passed the probe (a context, a tiny kernel launch).

Nothing here touches CUDA at import: the probe runs at the first question about the GPU (reading
``HAS_CUDA``, or a call with ``device="auto"`` / ``"cuda"``), so a process can import facesel and
then fork workers. A forked child forgets the parent's probe results and probes again.

Outcomes of the probe, per device:

- usable: the GPU is used;
- unavailable (not compiled, no driver, no device, or ``FACESEL_DISABLE_CUDA=1``): the CPU is used
  silently, which is the normal state of a CPU machine;
- failed (a device is there but refuses a context, has no kernel image for this build, the driver
  is too old, a kernel faulted, ...): ``device="auto"`` falls back to the CPU with one
  :class:`CudaFallbackWarning` per process and device; ``device="cuda"`` raises RuntimeError.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

try:
    from facesel import _cuda
except ImportError:
    _cuda = None

cuda_compiled: bool = _cuda is not None

DISABLE_ENV = "FACESEL_DISABLE_CUDA"
"""Set to 1 to keep this process off the GPU (the probe then reports "unavailable")."""


class CudaFallbackWarning(RuntimeWarning):
    """A CUDA device was expected to work and did not; facesel carries on on the CPU."""


@dataclass
class CudaState:
    """The probe's verdict on one device: status is "usable", "unavailable" or "failed"."""

    status: str
    reason: str
    warned: bool = False


_lock = threading.Lock()
_states: dict[int, CudaState] = {}
_PROBE_STATUS = {0: "usable", 1: "unavailable", 2: "failed"}


def _forget_probes() -> None:
    # A CUDA context does not survive fork: the child must probe for itself.
    global _lock
    _lock = threading.Lock()
    _states.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_probes)


def _probe(device: int) -> CudaState:
    if _cuda is None:
        return CudaState("unavailable", "facesel was built without CUDA (facesel._cuda is absent)")
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return CudaState("unavailable", f"disabled by {DISABLE_ENV}={os.environ[DISABLE_ENV]}")
    try:
        code, message = _cuda.probe(device)
    except Exception as err:  # a broken module must not take the CPU path down with it
        return CudaState("failed", f"the CUDA probe raised {type(err).__name__}: {err}")
    return CudaState(_PROBE_STATUS.get(int(code), "failed"), str(message))


def cuda_state(device: int = 0) -> CudaState:
    """The (cached) probe verdict for ``device``; probes on the first call."""
    with _lock:
        state = _states.get(device)
        if state is None:
            state = _states[device] = _probe(device)
        return state


def cuda_usable(device: int = 0) -> bool:
    """True when ``device`` passed the probe and has not failed since."""
    return cuda_state(device).status == "usable"


def require_cuda(device: int = 0) -> None:
    """For an explicit ``device="cuda"``: RuntimeError with the probe's reason unless usable."""
    state = cuda_state(device)
    if state.status != "usable":
        raise RuntimeError(f"device='cuda:{device}' was asked for but CUDA is {state.status}: {state.reason}")


def mark_failed(device: int, reason: str) -> None:
    """Record a CUDA failure at run time: "auto" stays on the CPU for this device from now on."""
    with _lock:
        previous = _states.get(device)
        _states[device] = CudaState("failed", reason, warned=previous.warned if previous else False)


def warn_fallback_once(device: int) -> None:
    """One CudaFallbackWarning per process and device, when "auto" leaves a failed device."""
    with _lock:
        state = _states.get(device)
        if state is None or state.status != "failed" or state.warned:
            return
        state.warned = True
        reason = state.reason
    warnings.warn(
        f"facesel: CUDA device {device} failed ({reason}); using the CPU from now on", CudaFallbackWarning, stacklevel=3
    )


def parse_device(device: object) -> tuple[str, int]:
    """"auto", "cpu", "cuda" or "cuda:N" -> (kind, index); ValueError naming the value otherwise."""
    if isinstance(device, str):
        if device in ("auto", "cpu", "cuda"):
            return device, 0
        head, _, index = device.partition(":")
        if head == "cuda" and index.isdigit() and index.isascii():
            return "cuda", int(index)
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")


def _device_count() -> int:
    """CUDA devices seen by the driver (initialises the driver: only for `facesel info`)."""
    if _cuda is None:
        return 0
    try:
        return int(_cuda.device_count())
    except RuntimeError:  # driver missing or too old: treat as no device
        return 0


def __getattr__(name: str):
    # HAS_CUDA is computed at the first read, not at import (PEP 562).
    if name == "HAS_CUDA":
        return cuda_usable(0)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    # The README's `-Dfacesel_DIR=$(facesel info --cmake-dir)` from a source tree (PYTHONPATH) said only
    # this first sentence (ux16): the package is made by the wheel's build, so say where to get it.
    raise FileNotFoundError(f"no lib/cmake/facesel/facesel-config.cmake under {list(facesel.__path__)}: "
                            "the C++ core's CMake package comes with an installed facesel ('pip install .' "
                            "builds and installs it), not with a source tree on PYTHONPATH")
