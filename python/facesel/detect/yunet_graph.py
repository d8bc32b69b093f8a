"""YuNet as an ONNX graph, built in memory from the weights that the installed ``yuface`` wheel ships.

Why: the ``yuface`` wheel's libfacedetection is a portable build (SSE only, no AVX2/AVX-512), and
YuNet is nearly all of facesel's detection cost. The same network run by ONNX Runtime, whose
kernels use the CPU's widest vector units, costs about a quarter of the time (1280x720 on one
core of the dev machine: 114 ms through ``yuface``, 25 ms through ONNX Runtime).

Where the weights come from: libfacedetection exports its layer table ``param_pConvInfo`` (one
entry per convolution: input channels, filters, depthwise or pointwise, ReLU, and pointers to the
float32 weights and biases compiled into the library). Those are read through ``ctypes`` from the
library the installed ``yuface`` package loads; nothing is downloaded and nothing is copied into
facesel. The table is checked against the layer plan below before it is used, so a ``yuface``
build with another network fails with a clear error instead of detecting garbage.

The network (YuNet, Wu et al. 2023, libfacedetection's 2023 model), as the table lays it out:

* a 3x3 stride-2 convolution of the BGR pixels (0-255, no normalisation) to 16 channels, stored
  as a pointwise convolution over 32 channels of which the first 27 are the 3x3x3 patch in
  (row, column, colour) order; then pairs of "pointwise (no ReLU), depthwise 3x3 (ReLU)";
* backbone: [head + 1 pair] pool [2 pairs] [2 pairs] pool [2 pairs] = stride 8 | pool [2 pairs]
  = stride 16 | pool [2 pairs] = stride 32 (2x2 max pools);
* neck: one pair at stride 32, its nearest-neighbour 2x upsampling added to stride 16, one pair,
  the same again to stride 8;
* heads at each stride: one pair (no ReLU) each for class, box, objectness and 5 landmarks.
  Depthwise weights are stored (3, 3, channels); pointwise ones (filters, channels).

Decoding (:func:`decode`, in the C++ core; :func:`decode_numpy` is the reference): the score is sqrt(sigmoid(class) * sigmoid(objectness)); a box is
centred at ``(column + dx, row + dy) * stride`` with sides ``exp(dw) * stride``; landmarks are
``(column + lx, row + ly) * stride``. Checked against ``yuface.detect`` on the arcade video
(tests/test_yunet_graph.py): the same faces, boxes and landmarks within one pixel (``yuface``
truncates them to integers), scores within one percentage point (``yuface`` truncates those too).
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np

OPSET = 17
IR_VERSION = 8
STRIDES = (8, 16, 32)
PAD_TO = 32
"""Input sides are padded (bottom and right, with zeros) to a multiple of the coarsest stride."""


class _ConvInfo(ctypes.Structure):
    """libfacedetection's ``ConvInfoStruct`` (facedetectcnn.h)."""

    _fields_ = [("channels", ctypes.c_int), ("num_filters", ctypes.c_int), ("is_depthwise", ctypes.c_bool),
                ("is_pointwise", ctypes.c_bool), ("with_relu", ctypes.c_bool),
                ("weights", ctypes.POINTER(ctypes.c_float)), ("biases", ctypes.POINTER(ctypes.c_float))]


def _pair(cin: int, cout: int, relu: bool = True) -> list[tuple[int, int, bool, bool]]:
    """A pointwise convolution (no ReLU) then a depthwise one: (channels, filters, depthwise, relu)."""
    return [(cin, cout, False, False), (cout, cout, True, relu)]


_BACKBONE = ([(32, 16, False, True)] + _pair(16, 16) + _pair(16, 16) + _pair(16, 32) + _pair(32, 32)
             + _pair(32, 64) + _pair(64, 64) * 6)
_NECK = _pair(64, 64) * 3
_HEADS = {"cls": 1, "bbox": 4, "obj": 1, "kps": 10}
LAYER_PLAN = _BACKBONE + _NECK + [row for units in _HEADS.values() for _ in STRIDES for row in _pair(64, units, False)]
"""(channels, filters, depthwise, relu) of every entry of ``param_pConvInfo``, in table order."""


def library_path() -> Path:
    """The libfacedetection that the installed ``yuface`` package loads (FileNotFoundError if none)."""
    import yuface  # imported here so that facesel imports without it

    folder = Path(yuface.__file__).resolve().parent
    found = sorted(folder.glob("libfacedetection.so*"))
    if not found:
        raise FileNotFoundError(f"the yuface package at {folder} holds no libfacedetection.so: reinstall yuface")
    return found[-1]


def load_layers(path: Path | None = None) -> list[tuple[np.ndarray, np.ndarray, bool, bool]]:
    """YuNet's layers as ``(weights, biases, depthwise, relu)``, weights in ONNX layout (O, I/g, kH, kW).

    Raises RuntimeError when the library's layer table does not match :data:`LAYER_PLAN`.
    """
    lib = ctypes.CDLL(str(path or library_path()))
    try:
        table = (_ConvInfo * len(LAYER_PLAN)).in_dll(lib, "param_pConvInfo")
    except ValueError as error:
        raise RuntimeError(f"{path or library_path()} exports no YuNet layer table (param_pConvInfo)") from error
    layers = []
    for k, (entry, plan) in enumerate(zip(table, LAYER_PLAN)):
        found = (entry.channels, entry.num_filters, bool(entry.is_depthwise), bool(entry.with_relu))
        if found != plan or entry.is_pointwise == entry.is_depthwise:
            raise RuntimeError(f"yuface's YuNet layer {k} is {found}, expected {plan}: this yuface build holds "
                               "another network; use YuNetDetector(engine='yuface')")
        cin, cout, depthwise, relu = plan
        count = cin * 9 if depthwise else cin * cout
        weights = np.ctypeslib.as_array(entry.weights, shape=(count,)).copy()
        biases = np.ctypeslib.as_array(entry.biases, shape=(cout,)).copy()
        if depthwise:
            weights = weights.reshape(3, 3, cin).transpose(2, 0, 1).reshape(cin, 1, 3, 3)
        elif k == 0:  # the stride-2 3x3 convolution over (row, column, colour) patches, padded to 32
            weights = weights.reshape(cout, cin)[:, :27].reshape(cout, 3, 3, 3).transpose(0, 3, 1, 2)
        else:
            weights = weights.reshape(cout, cin, 1, 1)
        layers.append((np.ascontiguousarray(weights, np.float32), biases.astype(np.float32), depthwise, relu))
    return layers


class _GraphBuilder:
    """Accumulates ONNX nodes and initialisers with unique names."""

    def __init__(self):
        self.nodes, self.initialisers, self._count = [], [], 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def constant(self, value: np.ndarray, prefix: str = "k") -> str:
        from onnx import numpy_helper

        name = self.name(prefix)
        self.initialisers.append(numpy_helper.from_array(value, name))
        return name

    def op(self, kind: str, inputs: list[str], **attributes) -> str:
        from onnx import helper

        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attributes))
        return out

    def conv(self, x: str, layer, stride: int = 1) -> str:
        weights, biases, depthwise, relu = layer
        side = weights.shape[-1]
        attributes = {"kernel_shape": [side, side], "strides": [stride, stride], "pads": [side // 2] * 4}
        if depthwise:
            attributes["group"] = weights.shape[0]
        y = self.op("Conv", [x, self.constant(weights, "w"), self.constant(biases, "b")], **attributes)
        return self.op("Relu", [y]) if relu else y


INPUT_LAYOUTS = ("bgr_uint8", "planar_float32")
"""What the graph's input ``image`` holds (:func:`build_graph`'s ``input_layout``): ``"bgr_uint8"``
(N, H, W, 3) uint8 BGR pixels, cast to float32 and transposed to (N, 3, H, W) by the graph's
first two nodes; ``"planar_float32"`` (N, 3, H, W) float32, the same values already in the first
convolution's layout and type (written by the C++ core, ``_core.region_batches(..., planar=True)``),
so the graph has neither node. The convolution sees the same float32 numbers either way: the
outputs are the same bits (tests/test_yunet_planar.py)."""


def build_graph(layers, input_layout: str = "bgr_uint8") -> bytes:
    """The serialised ONNX model: input ``image`` (N, H, W, 3) uint8 BGR with H, W multiples of 32
    (or, with ``input_layout="planar_float32"``, (N, 3, H, W) float32 of the same pixel values:
    :data:`INPUT_LAYOUTS`); outputs ``score``/``box``/``marks`` per stride (``score8``, ``box8``,
    ``marks8``, ...), each (N, C, H / stride, W / stride) float32 with C = 1, 4, 10."""
    from onnx import TensorProto, helper

    if input_layout not in INPUT_LAYOUTS:
        raise ValueError(f"input_layout must be one of {INPUT_LAYOUTS}, got {input_layout!r}")
    g = _GraphBuilder()
    if input_layout == "bgr_uint8":
        x = g.op("Transpose", [g.op("Cast", ["image"], to=TensorProto.FLOAT)], perm=[0, 3, 1, 2])
        image_info = helper.make_tensor_value_info("image", TensorProto.UINT8, [None, None, None, 3])
    else:
        x = "image"
        image_info = helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 3, None, None])
    pool = {"kernel_shape": [2, 2], "strides": [2, 2]}
    layer = iter(layers)

    def pairs(x: str, n: int) -> str:
        for _ in range(2 * n):
            x = g.conv(x, next(layer))
        return x

    x = pairs(g.conv(x, next(layer), stride=2), 1)
    x = pairs(pairs(g.op("MaxPool", [x], **pool), 2), 2)
    stride8 = pairs(g.op("MaxPool", [x], **pool), 2)
    stride16 = pairs(g.op("MaxPool", [stride8], **pool), 2)
    stride32 = pairs(g.op("MaxPool", [stride16], **pool), 2)
    neck = [next(layer) for _ in range(6)]  # table order: strides 8, 16, 32
    scales = g.constant(np.array([1, 1, 2, 2], np.float32))

    def lateral(x: str, k: int) -> str:
        return g.conv(g.conv(x, neck[2 * k]), neck[2 * k + 1])

    top = lateral(stride32, 2)
    middle = lateral(g.op("Add", [g.op("Resize", [top, "", scales], mode="nearest"), stride16]), 1)
    bottom = lateral(g.op("Add", [g.op("Resize", [middle, "", scales], mode="nearest"), stride8]), 0)
    heads = {kind: [(next(layer), next(layer)) for _ in STRIDES] for kind in _HEADS}
    outputs = []
    for level, (stride, features) in enumerate(zip(STRIDES, (bottom, middle, top))):
        def head(kind: str) -> str:
            first, second = heads[kind][level]
            return g.conv(g.conv(features, first), second)

        probability = g.op("Mul", [g.op("Sigmoid", [head("cls")]), g.op("Sigmoid", [head("obj")])])
        for name, value in ((f"score{stride}", g.op("Sqrt", [probability])), (f"box{stride}", head("bbox")),
                            (f"marks{stride}", head("kps"))):
            g.nodes.append(helper.make_node("Identity", [value], [name]))
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    graph = helper.make_graph(g.nodes, "yunet", [image_info], outputs, g.initialisers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="facesel")
    model.ir_version = IR_VERSION
    return model.SerializeToString()


_graphs: dict[str, bytes] = {}
_lock = threading.Lock()


def graph_bytes(input_layout: str = "bgr_uint8") -> bytes:
    """:func:`build_graph` of the installed weights with that input (:data:`INPUT_LAYOUTS`), built
    once per process and layout."""
    with _lock:
        if input_layout not in _graphs:
            _graphs[input_layout] = build_graph(load_layers(), input_layout)
        return _graphs[input_layout]


DECODERS = ("core", "numpy")
"""Who decodes the graph's outputs: the C++ core (default, one call a batch with the GIL released)
or :func:`decode_numpy`, the reference it is tested against (tests/test_yunet_decode.py)."""


def decode_many(outputs: dict[str, np.ndarray], min_score: float, nms_iou: float = 0.45,
                decoder: str = "core") -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`decode_numpy` of every image of a batch.

    Parameters
    ----------
    outputs : dict of name -> array
        The graph's outputs (:func:`build_graph`) for N images: ``score{s}`` (N, 1, H/s, W/s),
        ``box{s}`` (N, 4, ...), ``marks{s}`` (N, 10, ...) float32, C-contiguous for ``"core"``.
    min_score, nms_iou : float
        As in :func:`decode_numpy`; ``min_score`` in [0, 1], ``nms_iou`` in (0, 1].
    decoder : str
        One of :data:`DECODERS`. ``"core"`` decodes the whole batch in one C++ call
        (``facesel._core.yunet_decode``) that releases the GIL; the results equal ``"numpy"``'s.

    Returns
    -------
    list of N tuples (boxes (K, 4), scores (K,), landmarks (K, 5, 2)), as :func:`decode_numpy`.
    """
    if decoder == "numpy":
        n = len(outputs[f"score{STRIDES[0]}"])
        return [decode_numpy({name: out[i : i + 1] for name, out in outputs.items()}, min_score, nms_iou) for i in range(n)]
    if decoder != "core":
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    from facesel import _core

    return _core.yunet_decode([outputs[name] for name in _SCORE_NAMES], [outputs[name] for name in _BOX_NAMES],
                              [outputs[name] for name in _MARK_NAMES], _STRIDE_LIST, min_score, nms_iou)


_SCORE_NAMES = tuple(f"score{s}" for s in STRIDES)
_BOX_NAMES = tuple(f"box{s}" for s in STRIDES)
_MARK_NAMES = tuple(f"marks{s}" for s in STRIDES)
_STRIDE_LIST = list(STRIDES)


def decode(outputs: dict[str, np.ndarray], min_score: float, nms_iou: float = 0.45, decoder: str = "core"):
    """Faces from the graph's outputs for one image (batch size 1): :func:`decode_many`'s first
    entry; the same results as :func:`decode_numpy`."""
    return decode_many(outputs, min_score, nms_iou, decoder)[0]


def decode_numpy(outputs: dict[str, np.ndarray], min_score: float, nms_iou: float = 0.45):
    """Faces from the graph's outputs, in numpy and ``cv2.dnn.NMSBoxes`` (the reference for the
    C++ core's ``yunet_decode``).

    Parameters
    ----------
    outputs : dict of name -> array
        The graph's outputs (:func:`build_graph`) for one image (batch size 1).
    min_score : float
        Candidates below this score are dropped before non-maximum suppression.
    nms_iou : float
        Of two candidates overlapping more than this, the higher-scoring is kept.

    Returns
    -------
    boxes : (N, 4) float32 (x1, y1, x2, y2), scores : (N,) float32, landmarks : (N, 5, 2) float32
        In the (padded) input's pixels, most confident first.
    """
    import cv2

    boxes, scores, marks = [], [], []
    for stride in STRIDES:
        score = outputs[f"score{stride}"][0, 0]
        rows, cols = np.nonzero(score >= min_score)
        if len(rows) == 0:
            continue
        delta = outputs[f"box{stride}"][0][:, rows, cols]  # (4, K)
        points = outputs[f"marks{stride}"][0][:, rows, cols].T.reshape(-1, 5, 2)  # (K, 5, 2)
        cx, cy = (cols + delta[0]) * stride, (rows + delta[1]) * stride
        half_w, half_h = np.exp(delta[2]) * (stride / 2.0), np.exp(delta[3]) * (stride / 2.0)
        boxes.append(np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1))
        scores.append(score[rows, cols])
        marks.append((points + np.stack([cols, rows], axis=1)[:, None, :]) * stride)
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32)
    boxes_all = np.concatenate(boxes).astype(np.float32)
    scores_all = np.concatenate(scores).astype(np.float32)
    marks_all = np.concatenate(marks).astype(np.float32)
    xywh = np.concatenate([boxes_all[:, :2], boxes_all[:, 2:] - boxes_all[:, :2]], axis=1)
    keep = np.asarray(cv2.dnn.NMSBoxes(xywh.tolist(), scores_all.tolist(), float(min_score), float(nms_iou)),
                      np.int64).reshape(-1)
    keep = keep[np.argsort(-scores_all[keep], kind="stable")]
    return boxes_all[keep], scores_all[keep], marks_all[keep]
