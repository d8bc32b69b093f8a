"""Reading CUDA device arrays through the ``__cuda_array_interface__`` protocol (CuPy, PyTorch CUDA
tensors, Numba), so that :func:`facesel.gaussian_log_rp` can reduce a decoder's output where it
already is, without a copy to the host and back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceArray:
    """What facesel needs from a device array: its pointer and shape (float32, C-contiguous)."""

    pointer: int
    shape: tuple[int, ...]


def is_device_array(obj: object) -> bool:
    return hasattr(obj, "__cuda_array_interface__")


def read_device_array(obj: object, name: str, ndim: int) -> DeviceArray:
    """The device pointer and shape of ``obj`` (``__cuda_array_interface__`` version 2 or 3).

    Raises TypeError or ValueError naming ``name`` unless it is a C-contiguous float32 array of
    rank ``ndim``; masked arrays are refused.
    """
    try:
        iface = obj.__cuda_array_interface__
    except Exception as err:  # a property that raises is a broken array, not a facesel error
        raise TypeError(f"{name}: reading __cuda_array_interface__ raised {type(err).__name__}: {err}") from err
    if not isinstance(iface, dict):
        raise TypeError(f"{name}: __cuda_array_interface__ must be a dict, got {type(iface).__name__}")
    shape, typestr, data = iface.get("shape"), iface.get("typestr"), iface.get("data")
    if typestr != "<f4":
        raise TypeError(f"{name} must be a float32 device array (typestr '<f4'), got typestr {typestr!r}")
    if not (isinstance(shape, tuple) and len(shape) == ndim and all(isinstance(s, int) and s >= 0 for s in shape)):
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {shape!r}")
    if not (isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], int)):
        raise ValueError(f"{name}: __cuda_array_interface__ 'data' must be (pointer, read_only), got {data!r}")
    if iface.get("mask") is not None:
        raise ValueError(f"{name}: masked device arrays are not supported")
    strides = iface.get("strides")
    contiguous = tuple(4 * _prod(shape[k + 1 :]) for k in range(ndim))
    if strides is not None and tuple(strides) != contiguous and _prod(shape) > 1:
        raise ValueError(f"{name} must be C-contiguous, got strides {strides!r} for shape {shape!r}")
    return DeviceArray(pointer=data[0], shape=shape)


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= v
    return out
