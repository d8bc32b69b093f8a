"""The three MTCNN networks (Zhang et al., 2016) as ONNX graphs, built in memory from the weights
that the PyPI package ``mtcnn`` 1.0.0 ships (MIT licence).

The package stores each network as a list of Keras-layout float32 arrays (``joblib`` + lz4),
in the order of its Keras layers. Nothing is downloaded and neither TensorFlow nor torch is
needed: the layers are rebuilt with ``onnx.helper`` and run by ONNX Runtime. Layout changes:

* Conv2D kernels are HWIO in Keras, OIHW in ONNX.
* PReLU slopes are (1, 1, C) with shared spatial axes in Keras (NHWC); ONNX broadcasts (C, 1, 1)
  against NCHW.
* Keras pools with ``padding="same"`` pad at the end first (TensorFlow's SAME); ONNX's
  ``auto_pad="SAME_UPPER"`` does the same.
* R-Net and O-Net permute their last feature map to (W, H, C) before flattening (a leftover of
  the original MATLAB/Caffe models), so the ONNX graph transposes NCHW to NWHC before Flatten.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

OPSET = 17
IR_VERSION = 8  # readable by every ONNX Runtime since 1.10

# Per network: the layer sequence; "conv" (channels, kernel) and "dense" (units) consume a weight
# and a bias, "prelu" a slope, and "head" names a final dense/conv output.
_PNET = [
    ("conv", 10, 3), ("prelu",), ("pool", 2, 2, "SAME_UPPER"),
    ("conv", 16, 3), ("prelu",),
    ("conv", 32, 3), ("prelu",),
]
_RNET = [
    ("conv", 28, 3), ("prelu",), ("pool", 3, 2, "SAME_UPPER"),
    ("conv", 48, 3), ("prelu",), ("pool", 3, 2, "VALID"),
    ("conv", 64, 2), ("prelu",),
    ("flatten_whc",),
    ("dense", 128), ("prelu",),
]
_ONET = [
    ("conv", 32, 3), ("prelu",), ("pool", 3, 2, "SAME_UPPER"),
    ("conv", 64, 3), ("prelu",), ("pool", 3, 2, "VALID"),
    ("conv", 64, 3), ("prelu",), ("pool", 2, 2, "SAME_UPPER"),
    ("conv", 128, 2), ("prelu",),
    ("flatten_whc",),
    ("dense", 256), ("prelu",),
]
# Output heads in the order of the weight list: (name, units, softmax?).
_HEADS = {
    "pnet": [("regression", 4, False), ("probability", 2, True)],
    "rnet": [("regression", 4, False), ("probability", 2, True)],
    "onet": [("regression", 4, False), ("landmarks", 10, False), ("probability", 2, True)],
}
_BODIES = {"pnet": _PNET, "rnet": _RNET, "onet": _ONET}
INPUT_SIZES = {"pnet": None, "rnet": 24, "onet": 48}
"""Input side of each network (None: any size, P-Net is fully convolutional)."""

_cache: dict[str, bytes] = {}
_lock = threading.Lock()


def weights_folder() -> Path:
    """Folder of the ``mtcnn`` package's weight files; FileNotFoundError naming the package when
    it is not installed (the package is only needed for its weights, not its TensorFlow code)."""
    spec = importlib.util.find_spec("mtcnn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the MTCNN weights come from the PyPI package mtcnn==1.0.0: pip install mtcnn==1.0.0")
    folder = Path(list(spec.submodule_search_locations)[0]) / "assets" / "weights"
    if not folder.is_dir():
        raise FileNotFoundError(f"the mtcnn package has no weights folder at {folder} (expected mtcnn==1.0.0)")
    return folder


def load_weights(name: str) -> list[np.ndarray]:
    """The Keras-layout arrays of one network ("pnet", "rnet" or "onet"), float32."""
    if name not in _BODIES:
        raise ValueError(f"name must be one of pnet, rnet, onet; got {name!r}")
    import joblib  # a dependency of mtcnn; imported here so facesel imports without it

    path = weights_folder() / f"{name}.lz4"
    if not path.is_file():
        raise FileNotFoundError(f"MTCNN weight file not found: {path}")
    return [np.asarray(w, dtype=np.float32) for w in joblib.load(path)]


def build_graph(name: str, weights: list[np.ndarray]):
    """The ONNX ModelProto of one network from its Keras-layout weights.

    Inputs and outputs (NCHW, float32, RGB normalised as (x - 127.5) / 128):

    * pnet: ``image`` (1, 3, H, W) -> ``regression`` (1, 4, h, w), ``probability`` (1, 2, h, w)
    * rnet: ``image`` (N, 3, 24, 24) -> ``regression`` (N, 4), ``probability`` (N, 2)
    * onet: ``image`` (N, 3, 48, 48) -> ``regression`` (N, 4), ``landmarks`` (N, 10),
      ``probability`` (N, 2)
    """
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    queue = list(weights)
    counter = iter(range(10_000))

    def constant(array: np.ndarray) -> str:
        key = f"w{next(counter)}"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), key))
        return key

    def take(shape_check: tuple | None = None) -> np.ndarray:
        if not queue:
            raise ValueError(f"{name}: weight list too short for the network")
        array = queue.pop(0)
        if shape_check is not None and array.ndim != len(shape_check):
            raise ValueError(f"{name}: expected a weight of rank {len(shape_check)}, got shape {array.shape}")
        return array

    def conv(x: str, out_channels: int, kernel_size: int) -> str:
        kernel, bias = take((0, 0, 0, 0)), take((0,))
        if kernel.shape[:2] != (kernel_size, kernel_size) or kernel.shape[3] != out_channels:
            raise ValueError(f"{name}: conv kernel shape {kernel.shape} is not {kernel_size}x{kernel_size}x?x{out_channels}")
        y = f"t{next(counter)}"
        nodes.append(helper.make_node("Conv", [x, constant(kernel.transpose(3, 2, 0, 1)), constant(bias)], [y]))
        return y

    def dense(x: str, units: int) -> str:
        kernel, bias = take((0, 0)), take((0,))
        if kernel.shape[1] != units:
            raise ValueError(f"{name}: dense kernel shape {kernel.shape} does not give {units} units")
        y = f"t{next(counter)}"
        nodes.append(helper.make_node("Gemm", [x, constant(kernel), constant(bias)], [y]))
        return y

    x, spatial = "image", True
    for layer in _BODIES[name]:
        kind = layer[0]
        if kind == "conv":
            x = conv(x, layer[1], layer[2])
        elif kind == "dense":
            x = dense(x, layer[1])
        elif kind == "prelu":
            alpha = take()
            slope = alpha.reshape(-1, 1, 1) if spatial else alpha.reshape(-1)
            y = f"t{next(counter)}"
            nodes.append(helper.make_node("PRelu", [x, constant(slope)], [y]))
            x = y
        elif kind == "pool":
            y = f"t{next(counter)}"
            nodes.append(
                helper.make_node(
                    "MaxPool", [x], [y], kernel_shape=[layer[1]] * 2, strides=[layer[2]] * 2, auto_pad=layer[3]
                )
            )
            x = y
        elif kind == "flatten_whc":
            t, y = f"t{next(counter)}", f"t{next(counter)}"
            nodes.append(helper.make_node("Transpose", [x], [t], perm=[0, 3, 2, 1]))
            nodes.append(helper.make_node("Flatten", [t], [y], axis=1))
            x, spatial = y, False

    outputs = []
    for head, units, softmax in _HEADS[name]:
        y = conv(x, units, 1) if spatial else dense(x, units)
        if softmax:
            nodes.append(helper.make_node("Softmax", [y], [head], axis=1))
        else:
            nodes.append(helper.make_node("Identity", [y], [head]))
        out_shape = ["n", units, "h", "w"] if spatial else ["n", units]
        outputs.append(helper.make_tensor_value_info(head, TensorProto.FLOAT, out_shape))
    if queue:
        raise ValueError(f"{name}: {len(queue)} weights left over; the layer list does not match the file")

    side = INPUT_SIZES[name]
    in_shape = ["n", 3, "H", "W"] if side is None else ["n", 3, side, side]
    graph = helper.make_graph(
        nodes, f"mtcnn_{name}", [helper.make_tensor_value_info("image", TensorProto.FLOAT, in_shape)], outputs, inits
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="facesel")
    model.ir_version = IR_VERSION
    return model


def graph_bytes(name: str) -> bytes:
    """Serialized ONNX model of one network, built on first use and kept in memory (never on disk)."""
    with _lock:
        if name not in _cache:
            import onnx

            model = build_graph(name, load_weights(name))
            onnx.checker.check_model(model)
            _cache[name] = model.SerializeToString()
        return _cache[name]
