"""YuNet (Wu et al., 2023) from the ``yuface`` package, whose weights are compiled in: run by ONNX
Runtime (default, :mod:`facesel.detect.yunet_graph`) or by ``yuface``'s own libfacedetection."""

from __future__ import annotations

import ctypes
import logging
import threading
import warnings
from pathlib import Path

import numpy as np

from facesel.detect import heap
from facesel.detect.base import MAX_ONNX_THREADS, check_frame, check_max_side, check_number, shrink
from facesel.types import Detections


class YuNetDetector:
    """Fast CPU face detector with five landmarks.

    Parameters
    ----------
    min_confidence : float in [0, 1]
        Detections below this confidence are dropped.
    max_side : int >= 32 or None
        When set, frames whose longer side exceeds it are shrunk to it before detection and the
        boxes and landmarks mapped back. YuNet's cost grows with the pixel count (libfacedetection
        itself warns above 960 pixels), so ``max_side=1280`` or ``960`` trades the smallest faces for
        speed on 1080p video. None (the default) detects at full size.
    threads : int >= 1
        OpenMP threads of libfacedetection. Default 1: on a busy machine its spinning OpenMP
        threads made 2 threads about 3x slower than 1 (measured on the 2-core dev box).
    keep_freed_memory : bool
        Default True: set the process's glibc heap thresholds so that the memory each call frees
        is reused by the next instead of being unmapped (:mod:`facesel.detect.heap`: about a
        fifth less CPU a frame for ``engine="yuface"``). False leaves the allocator as it is.
    engine : {"onnxruntime", "yuface"}
        What runs the network. "onnxruntime" (default): the same weights as an ONNX graph
        (:mod:`facesel.detect.yunet_graph`), about 4x faster on a CPU with AVX2/AVX-512, since the
        ``yuface`` wheel is a portable SSE build; float boxes and scores. When the installed
        ``yuface`` holds another network than the graph is written for, "yuface" runs instead and a
        warning is logged (:attr:`engine` says which runs). "yuface": the package's own C++
        (integer boxes and percent scores), the engine of facesel before 0.5.
    """

    output_decoder = "core"
    """Who decodes the network's outputs (:data:`facesel.detect.yunet_graph.DECODERS`): the C++
    core (default; GIL released, one call a batch of region squares) or ``"numpy"``, the reference
    with the same results, kept for comparisons (``benchmarks/frame_costs.py --yunet-decoding``)."""

    region_search = "core"
    """Who does the region search's work around the network (:data:`facesel.detect.schedule.REGION_PATHS`):
    the C++ core (default; :meth:`detect_squares`, the GIL released) or ``"python"``, the reference
    with the same results, kept for comparisons (``benchmarks/frame_costs.py --region-search``)."""

    network_input = "planar_float32"
    """What the network is fed (:data:`facesel.detect.yunet_graph.INPUT_LAYOUTS`): ``"planar_float32"``
    (default since session 24): the C++ core pads each image straight into (N, 3, H, W) float32
    planes and the graph starts at its first convolution; ``"bgr_uint8"``: padded (N, H, W, 3) uint8
    BGR, cast and transposed by the graph (the path before, kept as the reference). The same
    float32 numbers reach the convolution, so every output is the same bits
    (tests/test_yunet_planar.py); the planar input saves the graph's Cast and Transpose
    (docs/performance.md, "Session 24")."""

    thread_safe = True
    """``detect`` may be called from several threads at once (one result buffer per thread), so
    full-frame detections may run ahead of tracking (``PipelineConfig.detect_ahead``)."""

    def __init__(self, min_confidence: float = 0.6, max_side: int | None = None, threads: int = 1,
                 keep_freed_memory: bool = True, engine: str = "onnxruntime"):
        self.min_confidence = check_number(min_confidence, "min_confidence", 0.0, 1.0)
        self.max_side = check_max_side(max_side)
        self.threads = check_number(threads, "threads", low=1, high=MAX_ONNX_THREADS, integer=True)
        if not isinstance(keep_freed_memory, bool):
            raise TypeError(f"keep_freed_memory must be True or False, got {keep_freed_memory!r}")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
        self.engine = engine
        if keep_freed_memory:
            heap.keep_freed_memory()
        import yuface  # imported here so that facesel imports without it

        self._yuface = yuface
        from facesel.detectors import yuface_buffer  # yuface.detect leaks 36 KiB a call (see there)

        self._detect = yuface_buffer.detect if yuface_buffer.available() else yuface.detect
        self._omp = _bundled_openmp(yuface)
        self._session = None
        if engine == "onnxruntime":
            try:
                self._session = _onnx_session(self.threads, self.network_input)
            except RuntimeError as error:
                # Another yuface build may hold another network (yunet_graph checks the layer
                # table): the package's own engine still runs it, so detection goes on.
                logging.getLogger("facesel").warning("YuNet on ONNX Runtime unavailable (%s); using yuface's own engine",
                                                     error)
                self.engine = "yuface"

    def detect(self, frame: np.ndarray) -> Detections:
        """Faces in one frame.

        Parameters
        ----------
        frame : (H, W, 3) uint8 BGR (or (H, W) uint8 grey)

        Returns
        -------
        Detections
            boxes (N, 4) float32 xyxy, scores (N,) float32 in [0, 1], landmarks (N, 5, 2) float32.
        """
        frame = check_frame(frame)
        image, back = shrink(frame, self.max_side)
        if self._session is not None:
            return self._detect_onnx(image, back)
        if self._omp is not None:
            # OpenMP's thread count is per calling thread, so set it on every call.
            self._omp.omp_set_num_threads(self.threads)
        with warnings.catch_warnings():
            # yuface warns on every frame above 960 pixels; the max_side setting is our answer to it.
            warnings.filterwarnings("ignore", message="Image size .* is too large", category=UserWarning)
            confs, boxes_xywh, landmarks = self._detect(image, conf=self.min_confidence)
        if len(confs) == 0:
            return Detections.empty()
        # yuface returns int16 pixels (negative near the left/top edge), not the uint16 its docstring says.
        xywh = np.asarray(boxes_xywh, dtype=np.float32).reshape(-1, 4)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1) * np.tile(back, 2)
        # yuface reports confidence in percent; its landmark order is already image-left eye,
        # image-right eye, nose, image-left mouth corner, image-right mouth corner.
        scores = np.asarray(confs, dtype=np.float32) / 100.0
        points = np.asarray(landmarks, dtype=np.float32).reshape(-1, 5, 2) * back
        return Detections(boxes, scores, points)

    def detect_many(self, frames) -> list[Detections]:
        """:meth:`detect` of each frame; with the ONNX Runtime engine, frames of one padded size
        go through the network as one batch (the region search hands over a frame's squares at
        once: one call instead of one per tracked face).

        Parameters
        ----------
        frames : sequence of (H, W, 3) uint8 BGR (or (H, W) uint8 grey)

        Returns
        -------
        list of Detections, one per frame, in order.
        """
        if self._session is None:
            return [self.detect(frame) for frame in frames]
        images, backs = [], []
        for frame in frames:
            image, back = shrink(check_frame(frame), self.max_side)
            images.append(image)
            backs.append(back)
        found: list[Detections | None] = [None] * len(images)
        for batch, members in _padded_batches(images, planar=self.network_input == "planar_float32"):
            for i, faces in zip(members.tolist(), self._decode_outputs(self._run_onnx(batch))):
                found[i] = self._as_detections(faces, backs[i])
        return found

    def detect_squares(self, regions) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
        """The region search's squares through the network (:func:`facesel.detect.schedule._search_core`):
        padded and stacked by padded size in the C++ core (:func:`_padded_batches`), one network
        call and one decoding call a size.

        Parameters
        ----------
        regions : sequence of (h, w, 3) uint8 BGR (or (h, w) grey), any strides

        Returns
        -------
        list of (boxes (K, 4), scores (K,), landmarks (K, 5, 2)) float32 in each square's pixels,
        most confident first; None when ONNX Runtime does not run this detector or a square is
        larger than ``max_side`` (it would be shrunk first: :meth:`detect_many` handles those).
        """
        if self._session is None:
            return None
        if self.max_side is not None and any(max(region.shape[:2]) > self.max_side for region in regions):
            return None
        found: list = [None] * len(regions)
        for batch, members in _padded_batches(regions, planar=self.network_input == "planar_float32"):
            for i, faces in zip(members.tolist(), self._decode_outputs(self._run_onnx(batch))):
                found[i] = faces
        return found

    def _detect_onnx(self, image: np.ndarray, back: np.ndarray) -> Detections:
        if self.network_input == "planar_float32":
            batch = _padded_batches([image], planar=True)[0][0]
        else:
            batch = _padded(image)[None]
        return self._as_detections(self._decode_outputs(self._run_onnx(batch))[0], back)

    def _run_onnx(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """The graph's outputs (name -> (N, C, H', W') float32) for an (N, H, W, 3) uint8 batch (the
        ``bgr_uint8`` graph) or an (N, 3, H, W) float32 one (``planar_float32``): the batch's dtype
        picks the graph, whatever :attr:`network_input` says (that decides how batches are padded)."""
        layout = "bgr_uint8" if batch.dtype == np.uint8 else "planar_float32"
        session = self._session if self._session.input_layout == layout else _onnx_session(self.threads, layout)
        names = session.output_names
        return dict(zip(names, session.run(names, {"image": batch})))

    def _decode_outputs(self, outputs: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Faces of every image of the batch, in the network's (padded) pixels: one call."""
        from facesel.detect import yunet_graph

        return yunet_graph.decode_many(outputs, self.min_confidence, decoder=self.output_decoder)

    def _as_detections(self, faces: tuple[np.ndarray, np.ndarray, np.ndarray], back: np.ndarray) -> Detections:
        boxes, scores, points = faces
        if len(scores) == 0:
            return Detections.empty()
        return Detections(boxes * np.tile(back, 2), scores, points * back)


def _padded(image: np.ndarray) -> np.ndarray:
    """``image`` as (H', W', 3) BGR, zero-padded at the bottom and right to multiples of 32 (the
    network's coarsest stride)."""
    import cv2

    from facesel.detect import yunet_graph

    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    h, w = image.shape[:2]
    pad = yunet_graph.PAD_TO
    return cv2.copyMakeBorder(image, 0, -h % pad, 0, -w % pad, cv2.BORDER_CONSTANT, value=0)


def _padded_batches(regions, planar: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`_padded` of every region, stacked by padded size in the C++ core (GIL released):
    a list of (batch (n, H', W', 3) uint8, members (n,) int64), sizes in order of first appearance;
    with ``planar``, each batch is (n, 3, H', W') float32 of the same values (the graph's
    ``planar_float32`` input)."""
    from facesel import _core
    from facesel.detect import yunet_graph

    return _core.region_batches(list(regions), yunet_graph.PAD_TO, planar)


ENGINES = ("onnxruntime", "yuface")
"""What may run YuNet (:class:`YuNetDetector`'s ``engine``)."""

_sessions: dict[tuple[int, str], object] = {}
_sessions_lock = threading.Lock()


class _Session:
    """One ONNX Runtime session of the YuNet graph and its output names (shared per thread count
    and input layout: a session may be run from several threads at once)."""

    def __init__(self, threads: int, input_layout: str = "bgr_uint8"):
        import onnxruntime as ort

        from facesel.detect import yunet_graph

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # idle intra-op threads must not spin on a 2-core camera (they steal the other stages' core)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # region searches give every call another input size: no per-shape memory plans to keep
        options.enable_mem_pattern = False
        self.input_layout = input_layout
        self._session = ort.InferenceSession(yunet_graph.graph_bytes(input_layout), options,
                                             providers=["CPUExecutionProvider"])
        self.output_names = [o.name for o in self._session.get_outputs()]

    def run(self, names, feeds):
        return self._session.run(names, feeds)


def _onnx_session(threads: int, input_layout: str = "bgr_uint8") -> _Session:
    key = (threads, input_layout)
    with _sessions_lock:
        if key not in _sessions:
            _sessions[key] = _Session(threads, input_layout)
        return _sessions[key]


def _bundled_openmp(module) -> ctypes.CDLL | None:
    """The libgomp that the yuface wheel bundles (``yuface.libs/libgomp-*.so*``), through which its
    thread count is set; None when this build of yuface has none (then ``threads`` has no effect)."""
    libs = Path(module.__file__).resolve().parent.parent / "yuface.libs"
    for path in sorted(libs.glob("libgomp*.so*")):
        try:
            return ctypes.CDLL(str(path))
        except OSError:
            continue
    return None
