"""The one-step shrink (facesel.sources.decoded): a full-frame detection on a frame decoded by PyAV
shrinks it from the decoded YUV picture with FFmpeg's area filter instead of shrinking the BGR frame
with OpenCV. It must find the same faces as the old path on real shared 1080p frames, be used only
for the very array the picture stands for, and let the picture go once it is not needed."""

from __future__ import annotations

import gc
import time

import numpy as np
import pytest
from facesel.boxes import pairwise_iou
from facesel.config import PipelineConfig
from facesel.detect.stage import DetectStage, Planned
from facesel.selector import default_detector
from facesel.sources import make_source
from facesel.sources.backends import FileConnection, PyAVFileConnection
from facesel.sources.decoded import pictures_held, shrunk_copy

pytest.importorskip("av")


@pytest.fixture(scope="module")
def arcade(shared_data):
    return shared_data / "videos" / "arcade_walkers_1080p.mp4"


def test_the_one_step_shrink_finds_the_same_faces_as_opencv_on_real_1080p_frames(arcade):
    detector = default_detector()  # YuNet at max_side 1280: every 1080p frame is shrunk
    connection = PyAVFileConnection(arcade)
    one_step = old = matched = frames = 0
    worst_iou, worst_score = 1.0, 0.0
    try:
        for index in range(105):
            frame, _ = connection.read()
            if index % 4:
                continue
            assert shrunk_copy(frame, 1280, 720) is not None  # the picture is there for this frame ...
            plain = frame.copy()
            assert shrunk_copy(plain, 1280, 720) is None  # ... and not for a copy, shrunk the old way
            new, before = detector.detect(frame), detector.detect(plain)
            frames += 1
            one_step += len(new)
            old += len(before)
            if len(new) and len(before):
                iou = pairwise_iou(before.boxes, new.boxes)
                pairs = iou.argmax(axis=1)
                good = iou.max(axis=1) >= 0.5
                matched += int(good.sum())
                worst_iou = min(worst_iou, float(iou.max(axis=1).min()))
                worst_score = max(worst_score, float(np.abs(before.scores - new.scores[pairs]).max()))
    finally:
        connection.close()
    print(f"{frames} frames: faces {old} (OpenCV shrink) / {one_step} (one step), {matched} matched at IoU >= 0.5, "
          f"worst IoU {worst_iou:.3f}, largest confidence difference {worst_score:.3f}")
    assert frames == 27 and old > 50  # the arcade video: up to six faces a frame
    assert one_step == old == matched


def test_opencv_and_pyav_decode_the_same_pixels_and_times(arcade):
    # The camera's file source now decodes with PyAV (the one-step shrink needs the picture): the
    # frames it hands over must be the frames OpenCV gave, at the same times.
    pyav, opencv = PyAVFileConnection(arcade, loop=True), FileConnection(arcade, loop=True)
    try:
        for _ in range(110):  # past the end: the loop's times go on increasing alike
            (a, ta), (b, tb) = pyav.read(), opencv.read()
            assert a.shape == b.shape == (1080, 1920, 3)
            assert np.abs(a.astype(np.int16) - b.astype(np.int16)).mean() < 1.0
            assert ta == pytest.approx(tb, abs=1e-3)
        assert pyav.passes == opencv.passes == 1
    finally:
        pyav.close()
        opencv.close()


def test_frames_not_detected_whole_let_their_picture_go(arcade):
    gc.collect()
    held_before = pictures_held()
    stage = DetectStage(default_detector(), PipelineConfig(detect_every=4, scene_change=0.0))
    connection = PyAVFileConnection(arcade)
    frames, full = [], []
    try:
        for _ in range(8):
            frame, _ = connection.read()
            frames.append(frame)
            full.append(stage.plan(frame).full)
    finally:
        connection.close()
    assert full == [True, False, False, False, True, False, False, False]
    # the frames passed over lost their picture at once; the planned full ones keep it until detected
    assert [shrunk_copy(f, 1280, 720) is not None for f in frames] == full
    stage.detect(frames[0], np.zeros((0, 4), np.float32), Planned(True))
    assert shrunk_copy(frames[0], 1280, 720) is None  # detected: let go
    assert pictures_held() == held_before + 1
    frames.clear()
    gc.collect()
    assert pictures_held() == held_before  # a freed frame takes its picture with it


def test_the_one_step_shrink_is_a_setting_off_by_default(arcade, tmp_path):
    # off by default: on the arcade video the sparse default's choice then matched 11 of the
    # exhaustive run's 12 tracks instead of 12 (benchmarks/decode_agreement.py)
    assert make_source(arcade)._connect.func is FileConnection
    assert make_source(arcade, shrink_in_decoder=True)._connect.func is PyAVFileConnection
    from facesel.serve.config import parse_config
    from facesel.vault import create_authority, enrol_camera

    create_authority(tmp_path / "authority", shares=3, threshold=2, epoch_seconds=86400.0, retention_seconds=7 * 86400.0,
                     horizon_seconds=2 * 86400.0, start=time.time(), kdf_level="min")
    enrol_camera(tmp_path / "authority", tmp_path / "key", "cam", sorted((tmp_path / "authority" / "shares").iterdir())[:2])
    table = {"source": str(arcade), "vault": str(tmp_path / "vault"), "camera_key": str(tmp_path / "key")}
    data = {"defaults": {"authority": str(tmp_path / "authority" / "authority.pub")}}
    plain = parse_config({**data, "cameras": {"cam": table}}, base=tmp_path).cameras["cam"]
    shrinking = parse_config({**data, "cameras": {"cam": {**table, "shrink_in_decoder": True}}}, base=tmp_path).cameras["cam"]
    assert plain.shrink_in_decoder is False and shrinking.shrink_in_decoder is True
    with pytest.raises(ValueError, match="shrink_in_decoder must be true or false"):
        parse_config({**data, "cameras": {"cam": {**table, "shrink_in_decoder": "yes"}}}, base=tmp_path)


def _threads() -> int:
    import os

    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self/task"), reason="needs Linux /proc to count threads")
def test_pyav_decoding_stays_on_the_reading_thread(arcade):
    # PyAV's own default (FFmpeg's slice threads) costs CPU in threads beside the cameras'
    # (docs/performance.md): one decoding thread is asked for. Frames are kept alive meanwhile.
    before = _threads()
    one, kept = PyAVFileConnection(arcade), []
    for _ in range(5):
        frame, _ = one.read()
        kept.append((frame, shrunk_copy(frame, 1280, 720)))
    on_one = _threads() - before
    one.close()
    before = _threads()
    auto = PyAVFileConnection(arcade, decoder_threads=0)  # FFmpeg's choice: the count can tell
    for _ in range(5):
        kept.append(auto.read())
    on_auto = _threads() - before
    auto.close()
    assert on_one == 0
    assert on_auto > 0


def test_stream_frames_keep_their_picture_only_when_asked(arcade):
    # PyAVConnection (RTSP, HTTP, anything FFmpeg opens; a file here) with shrink_in_decoder's keep_picture
    from facesel.sources.backends import PyAVConnection

    kept, plain = PyAVConnection(str(arcade), keep_picture=True), PyAVConnection(str(arcade))
    try:
        (a, _), (b, _) = kept.read(), plain.read()
        assert shrunk_copy(a, 1280, 720) is not None
        assert shrunk_copy(b, 1280, 720) is None
        assert np.array_equal(a, b)
    finally:
        kept.close()
        plain.close()
