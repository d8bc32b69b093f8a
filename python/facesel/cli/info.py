"""``facesel info``: which build and which compute path this installation uses."""

from __future__ import annotations

import argparse
import json
import platform


def collect() -> dict:
    """What ``facesel info`` prints, as a dict: facesel's, Python's and numpy's versions, the CUDA build
    and device, the CMake folder, ONNX Runtime's version and providers.
    """
    import numpy as np

    import facesel
    from facesel import _backend

    info = {
        "facesel": facesel.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cuda_compiled": _backend.cuda_compiled,
        "cuda_device_usable": _backend.HAS_CUDA,
        "cuda_device_count": _backend._device_count(),
        "cuda_probe": f"{_backend.cuda_state(0).status}: {_backend.cuda_state(0).reason}".rstrip(": "),
    }
    try:
        info["cmake_dir"] = str(_backend.cmake_dir())
    except FileNotFoundError:
        info["cmake_dir"] = None
    try:
        import onnxruntime as ort

        info["onnxruntime"] = ort.__version__
        info["onnxruntime_providers"] = ort.get_available_providers()
    except ImportError:
        info["onnxruntime"] = None
        info["onnxruntime_providers"] = []
    return info


def _run(args: argparse.Namespace) -> int:
    if args.cmake_dir:
        from facesel._backend import cmake_dir

        print(cmake_dir())  # for scripts: cmake -Dfacesel_DIR="$(facesel info --cmake-dir)"
        return 0
    info = collect()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            if isinstance(value, list):
                value = ", ".join(value) or "-"
            print(f"{key:<{width}}  {value}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facesel info`` to ``subparsers``."""
    p = subparsers.add_parser("info", help="show version, CUDA availability and ONNX Runtime providers")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--cmake-dir",
        action="store_true",
        help="print only the folder of facesel's CMake package (for find_package(facesel) via -Dfacesel_DIR)",
    )
    p.set_defaults(func=_run)
