"""MTCNN (Zhang, Zhang, Li and Qiao, IEEE SPL 2016), the paper's face detector, run with ONNX Runtime.

A cascade of three small networks: P-Net proposes face windows over an image pyramid, R-Net
rejects and refines them on 24x24 patches, O-Net refines again on 48x48 patches and places five
landmarks. Weights: the PyPI package ``mtcnn`` 1.0.0 (MIT); the networks are rebuilt as ONNX
graphs in memory (:mod:`facesel.detect.mtcnn_graphs`), so neither TensorFlow nor torch is
needed. Pre- and post-processing follow that package (:mod:`facesel.detect.mtcnn_steps`).
"""

from __future__ import annotations

import cv2
import numpy as np

from facesel.detect import mtcnn_steps as steps
from facesel.detect.base import MAX_ONNX_THREADS, check_frame, check_max_side, check_number, shrink
from facesel.detect.mtcnn_graphs import graph_bytes
from facesel.types import Detections

_BATCH = 256  # patches per R-/O-Net run: bounds memory when P-Net proposes thousands


class MTCNNDetector:
    """Face detector with five landmarks: the detector of the AAAI-21 paper.

    Parameters
    ----------
    min_face_size : float >= 4
        Smallest face side searched for, in pixels (of the shrunk image when ``max_side`` is set).
        Smaller is slower: the pyramid starts at scale 12 / min_face_size.
    scale_factor : float in (0, 1)
        Ratio between pyramid levels (0.709, about 1/sqrt(2), in the paper's code).
    thresholds : tuple of 3 floats in [0, 1]
        Face-probability thresholds of P-Net, R-Net and O-Net (0.6, 0.7, 0.8 in mtcnn 1.0.0).
    min_confidence : float in [0, 1]
        Drop final detections below this O-Net probability (on top of ``thresholds[2]``).
    max_side : int >= 32 or None
        Shrink frames whose longer side exceeds it before detection (boxes mapped back).
    threads : int >= 1
        ONNX Runtime intra-op threads (spinning disabled so idle threads do not steal a busy CPU).

    Notes
    -----
    Boxes are not clipped to the frame (a face at the edge keeps its full extent) and not rounded;
    mtcnn 1.0.0 clips and rounds its output. Landmarks: image-left eye, image-right eye, nose,
    image-left and image-right mouth corner.
    """

    thread_safe = True
    """``detect`` keeps no state between calls and ONNX Runtime sessions may run from several
    threads at once, so full-frame detections may run ahead of tracking."""

    def __init__(
        self,
        min_face_size: float = 20.0,
        scale_factor: float = 0.709,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8),
        min_confidence: float = 0.0,
        max_side: int | None = None,
        threads: int = 1,
    ):
        self.min_face_size = check_number(min_face_size, "min_face_size", low=4.0)
        self.scale_factor = check_number(scale_factor, "scale_factor", low=0.0, high=1.0, low_open=True)
        if self.scale_factor >= 1.0:
            raise ValueError(f"scale_factor must be below 1, got {scale_factor!r}")
        if isinstance(thresholds, (str, bytes)) or not hasattr(thresholds, "__len__") or len(thresholds) != 3:
            raise ValueError(f"thresholds must be three numbers (P-Net, R-Net, O-Net), got {thresholds!r}")
        self.thresholds = tuple(check_number(t, "thresholds", 0.0, 1.0) for t in thresholds)
        self.min_confidence = check_number(min_confidence, "min_confidence", 0.0, 1.0)
        self.max_side = check_max_side(max_side)
        self.threads = check_number(threads, "threads", low=1, high=MAX_ONNX_THREADS, integer=True)
        self._sessions = None

    # ------------------------------------------------------------------ networks

    def _nets(self):
        """ONNX Runtime sessions of P-, R- and O-Net, made on first use."""
        if self._sessions is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            self._sessions = tuple(
                ort.InferenceSession(graph_bytes(name), options, providers=["CPUExecutionProvider"])
                for name in ("pnet", "rnet", "onet")
            )
        return self._sessions

    @staticmethod
    def _run(session, patches: np.ndarray) -> list[np.ndarray]:
        """Run R- or O-Net on (N, S, S, 3) patches in batches; outputs concatenated per head."""
        parts = []
        for start in range(0, len(patches), _BATCH):
            batch = np.ascontiguousarray(patches[start : start + _BATCH].transpose(0, 3, 1, 2))
            parts.append(session.run(None, {"image": batch}))
        return [np.concatenate(head, axis=0) for head in zip(*parts)]

    # ------------------------------------------------------------------ stages

    def _stage_p(self, image: np.ndarray) -> np.ndarray:
        """(M, 4) squared candidate boxes from P-Net over the pyramid."""
        pnet = self._nets()[0]
        height, width = image.shape[:2]
        all_boxes, all_scores = [], []
        for scale in steps.pyramid_scales(height, width, self.min_face_size, self.scale_factor):
            # Truncated sizes and area averaging, as the reference's tf.image.resize(method="area").
            size = (int(width * scale), int(height * scale))
            level = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            regression, probability = pnet.run(None, {"image": level.transpose(2, 0, 1)[None]})
            boxes, scores = steps.pnet_proposals(regression[0], probability[0], self.thresholds[0], scale)
            keep = steps.suppress(boxes, 0.5)
            all_boxes.append(boxes[keep])
            all_scores.append(scores[keep])
        if not all_boxes:
            return np.zeros((0, 4))
        boxes, scores = np.concatenate(all_boxes), np.concatenate(all_scores)
        order = steps.order_by_score(scores)
        boxes = boxes[order][steps.suppress(boxes[order], 0.7)]
        return steps.to_square(boxes)

    def _stage_r(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        regression, probability = self._run(self._nets()[1], steps.crop_and_resize(image, boxes, 24))
        scores = probability[:, 1].astype(np.float64)
        boxes = steps.refine(boxes, regression)
        keep = scores > self.thresholds[1]
        boxes, scores = boxes[keep], scores[keep]
        order = steps.order_by_score(scores)
        boxes = boxes[order][steps.suppress(boxes[order], 0.7)]
        return steps.to_square(boxes)

    def _stage_o(self, image: np.ndarray, boxes: np.ndarray):
        regression, landmarks, probability = self._run(self._nets()[2], steps.crop_and_resize(image, boxes, 48))
        scores = probability[:, 1].astype(np.float64)
        points = steps.place_landmarks(boxes, landmarks.astype(np.float64))
        boxes = steps.refine(boxes, regression)
        keep = scores > max(self.thresholds[2], self.min_confidence)
        boxes, scores, points = boxes[keep], scores[keep], points[keep]
        order = steps.order_by_score(scores)
        boxes, scores, points = boxes[order], scores[order], points[order]
        kept = steps.suppress(boxes, 0.7, method="min")
        return boxes[kept], scores[kept], points[kept]

    # ------------------------------------------------------------------ public

    def detect(self, frame: np.ndarray) -> Detections:
        """Faces in one frame.

        Parameters
        ----------
        frame : (H, W, 3) uint8 BGR (or (H, W) uint8 grey)

        Returns
        -------
        Detections
            boxes (N, 4) float32 xyxy, scores (N,) float32 O-Net face probability in [0, 1],
            landmarks (N, 5, 2) float32; in descending score order.
        """
        frame = check_frame(frame)
        small, back = shrink(frame, self.max_side)
        # The networks were trained on RGB scaled to about [-1, 1] by (x - 127.5) / 128.
        image = (cv2.cvtColor(small, cv2.COLOR_BGR2RGB).astype(np.float32) - 127.5) * np.float32(1 / 128)
        boxes = self._stage_p(image)
        if len(boxes):
            boxes = self._stage_r(image, boxes)
        if len(boxes) == 0:
            return Detections.empty()
        boxes, scores, points = self._stage_o(image, boxes)
        if len(boxes) == 0:
            return Detections.empty()
        return Detections(boxes * np.tile(back, 2), scores, points * back)
