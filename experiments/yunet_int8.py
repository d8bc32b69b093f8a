"""Is an int8 YuNet worth it? Static int8 quantisation of facesel's YuNet graph, against the float graph.

    python experiments/yunet_int8.py [--every 4]

Issue 27 asked for a cheaper YuNet only if it keeps the same faces. This script builds the float
graph (:mod:`facesel.detect.yunet_graph`), quantises it with ONNX Runtime's static QDQ
quantisation (int8 weights per channel, uint8 activations), calibrated on frames of two clips of
``videos/more`` that are NOT among the evaluation clips, and then, on every ``--every``-th frame of
each evaluation clip (shrunk to ``max_side`` 1280 as the pipeline does), runs both graphs on one
ONNX Runtime thread, alternating their order, and reports per clip: faces found by each
(confidence >= 0.6, facesel's default), how many of the float graph's faces the int8 graph finds
(IoU >= 0.5) and the CPU ms a frame of each (``time.process_time``, same run, so a ratio is fair
on a loaded machine). The quantised model lives in a temporary folder only.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

CALIBRATION = ("more/sam2__demo_data_gallery_05_default_juggle.mp4", "more/LivePortrait__assets_examples_source_s18.mp4")
EVALUATION = ("arcade_walkers_1080p.mp4", "intel_face_demographics_walking.gif", "selfie_motion_blur_portrait.mp4",
              "more/sam2__notebooks_videos_bedroom.mp4", "more/mmaction2__demo_demo.mp4",
              "more/video-retalking__examples_face_2.mp4")


def network_inputs(path: Path, every: int, limit: int | None = None) -> list[np.ndarray]:
    """(1, H, W, 3) uint8 inputs of the graph: every ``every``-th frame, shrunk to 1280 and padded."""
    from facesel.detect.base import shrink
    from facesel.detect.yunet import _padded

    capture, out, index = cv2.VideoCapture(str(path)), [], 0
    while limit is None or len(out) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        if index % every == 0:
            out.append(_padded(shrink(frame, 1280)[0])[None])
        index += 1
    capture.release()
    return out


def session(model: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def quantise(float_model: Path, out: Path, calibration: list[np.ndarray]) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Frames(CalibrationDataReader):
        def __init__(self):
            self._items = iter([{"image": x} for x in calibration])

        def get_next(self):
            return next(self._items, None)

    prepared = out.with_name("prepared.onnx")
    quant_pre_process(str(float_model), str(prepared), skip_symbolic_shape=True)
    quantize_static(str(prepared), str(out), Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)


def main(argv=None) -> int:
    from facesel.boxes import pairwise_iou
    from facesel.data import data_root
    from facesel.detect import yunet_graph

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=4, help="use every N-th frame of the evaluation clips")
    args = parser.parse_args(argv)
    videos = data_root() / "videos"
    with tempfile.TemporaryDirectory(prefix="yunet-int8-") as folder:
        float_model, int8_model = Path(folder) / "float.onnx", Path(folder) / "int8.onnx"
        float_model.write_bytes(yunet_graph.graph_bytes())
        calibration = [x for clip in CALIBRATION for x in network_inputs(videos / clip, 10, 8)]
        quantise(float_model, int8_model, calibration)
        sessions = {"float": session(float_model), "int8": session(int8_model)}
        names = [o.name for o in sessions["float"].get_outputs()]
        totals = {"float": 0, "int8": 0, "matched": 0, "frames": 0, "float_s": 0.0, "int8_s": 0.0}
        print("| clip | frames | float faces | int8 faces | float faces found by int8 | CPU ms float | CPU ms int8 |")
        print("|---|---|---|---|---|---|---|")
        for clip in EVALUATION:
            row = {"float": 0, "int8": 0, "matched": 0, "float_s": 0.0, "int8_s": 0.0}
            inputs = network_inputs(videos / clip, args.every)
            for i, image in enumerate(inputs):
                found = {}
                for kind in ("float", "int8") if i % 2 == 0 else ("int8", "float"):
                    start = time.process_time()
                    outputs = sessions[kind].run(names, {"image": image})
                    row[f"{kind}_s"] += time.process_time() - start
                    found[kind] = yunet_graph.decode(dict(zip(names, outputs)), 0.6)[0]
                row["float"] += len(found["float"])
                row["int8"] += len(found["int8"])
                if len(found["float"]) and len(found["int8"]):
                    row["matched"] += int((pairwise_iou(found["float"], found["int8"]).max(axis=1) >= 0.5).sum())
            n = max(1, len(inputs))
            print(f"| {clip} | {len(inputs)} | {row['float']} | {row['int8']} | {row['matched']} | "
                  f"{1000 * row['float_s'] / n:.1f} | {1000 * row['int8_s'] / n:.1f} |")
            for key in row:
                totals[key] += row[key]
            totals["frames"] += len(inputs)
        n = max(1, totals["frames"])
        print(f"| all | {totals['frames']} | {totals['float']} | {totals['int8']} | {totals['matched']} "
              f"({100 * totals['matched'] / max(1, totals['float']):.1f} %) | {1000 * totals['float_s'] / n:.1f} | "
              f"{1000 * totals['int8_s'] / n:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
