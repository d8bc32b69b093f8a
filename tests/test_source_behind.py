"""A camera that is behind pays less for the frames it drops (issue 27): ``convert_on_take`` leaves
a waiting frame in YUV until the pipeline takes it, ``skip_when_behind`` lets the decoder skip
non-reference frames while the camera is behind. Neither may change a frame that is taken,
and every frame not taken must be counted as dropped (skipped ones as well), never lost silently."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from facesel.sources import make_source
from facesel.sources.backends import PyAVConnection, PyAVFileConnection
from facesel.sources.packet_decoder import PacketDecoder
from slow_detection import slow_full_detection
from test_serve import authority, keys, videos  # noqa: F401 - module fixtures

av = pytest.importorskip("av")

BUFFER = 2


@pytest.fixture(scope="module")
def arcade(shared_data):
    return shared_data / "videos" / "arcade_walkers_1080p.mp4"


@pytest.fixture(scope="module")
def exact(arcade):
    """{timestamp: BGR frame} of every frame, FFmpeg decoding everything."""
    frames = {}
    with av.open(str(arcade)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for picture in container.decode(stream):
            frames[round(float(picture.time), 4)] = picture.to_ndarray(format="bgr24")
    return frames


def _take_when_full(source) -> list:
    """Take each frame only once the full queue has pushed a frame out since the last one was taken
    (a pipeline that is always behind), to the end."""
    taken = []
    while True:
        dropped = source.stats.frames_dropped
        while source.stats.frames_dropped <= dropped and not source.stats.ended:
            time.sleep(0.002)
        frame = source.read(timeout=1.0)
        if frame is None:
            if source.ended:
                return taken
            continue
        taken.append(frame)


def test_a_camera_behind_skips_non_reference_frames_counted_as_dropped(arcade, exact):
    source = make_source(arcade, live=True, buffer_frames=BUFFER, skip_when_behind=True).start()
    try:
        taken = _take_when_full(source)
    finally:
        source.stop()
    stats = source.stats
    assert stats.frames_skipped > 0
    # nothing lost silently: every frame of the file is taken or counted as dropped, skipped ones too
    assert stats.frames_received == len(exact)
    assert len(taken) + stats.frames_dropped == len(exact)
    assert stats.frames_skipped <= stats.frames_dropped
    # the frames taken are the exact decoder's, pixel for pixel (a skipped frame is a non-reference one)
    assert all(np.array_equal(exact[round(f.timestamp, 4)], f.image) for f in taken)
    # the sequence numbers count the skipped frames: the consumer (the load governor) sees the gaps
    sequences = [f.sequence for f in taken]
    assert sequences == sorted(set(sequences)) and sequences[-1] < len(exact)
    gaps = sum(b - a - 1 for a, b in itertools.pairwise(sequences)) + sequences[0]
    assert gaps + (len(exact) - 1 - sequences[-1]) == stats.frames_dropped


def test_the_decoder_skips_only_while_told_the_camera_is_behind(arcade, exact):
    with av.open(str(arcade)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        decoder = PacketDecoder(stream, skip_when_behind=True)
        out = []
        for i, packet in enumerate(container.demux(stream)):
            decoder.set_behind(30 <= i < 60)  # behind for 30 packets, then caught up
            out += decoder.decode(packet)
        decoder.finish()
    times = [round(float(p.time), 4) for p in out]
    assert decoder.skipped > 0 and len(out) + decoder.skipped == len(exact)
    assert sorted(times) == times and set(times) <= set(exact)
    missing = sorted(set(exact) - set(times))
    assert len(missing) == decoder.skipped
    ordered = sorted(exact)
    # before the camera fell behind and after it caught up (the reorder delay aside) every frame is there
    assert all(t in times for t in ordered[:25]) and all(t in times for t in ordered[70:])
    assert all(np.array_equal(exact[t], p.to_ndarray(format="bgr24")) for t, p in zip(times, out))


def test_without_the_setting_being_behind_skips_nothing(arcade, exact):
    with av.open(str(arcade)) as container:
        stream = container.streams.video[0]
        decoder = PacketDecoder(stream, skip_when_behind=False)
        out = []
        for packet in container.demux(stream):
            decoder.set_behind(True)
            out += decoder.decode(packet)
        decoder.finish()
    assert decoder.skipped == 0 and len(out) == len(exact)


def test_frames_dropped_unseen_are_never_converted(arcade, exact, monkeypatch):
    from facesel.sources import decoded

    conversions = []
    convert = decoded.Unconverted.convert
    monkeypatch.setattr(decoded.Unconverted, "convert", lambda self: conversions.append(1) or convert(self))
    source = make_source(arcade, live=True, buffer_frames=BUFFER, convert_on_take=True).start()
    try:
        taken = _take_when_full(source)
        images = [f.image for f in taken] + [f.image for f in taken]  # converted once, then kept
    finally:
        source.stop()
    assert source.stats.frames_skipped == 0  # not asked to skip: every frame decoded
    assert len(taken) + source.stats.frames_dropped == len(exact)
    assert source.stats.frames_dropped > 0
    assert len(conversions) == len(taken)  # the dropped ones never
    assert all(np.array_equal(exact[round(f.timestamp, 4)], img) for f, img in zip(taken, images))


def test_make_source_passes_the_settings_to_pyav_only_when_asked(arcade):
    assert "convert_on_take" not in make_source(arcade, skip_loop_filter="noref")._connect.keywords
    lazy = make_source(arcade, convert_on_take=True)._connect
    assert lazy.func is PyAVFileConnection and lazy.keywords["convert_on_take"] is True
    skipping = make_source("rtsp://127.0.0.1:9/none", skip_when_behind=True)._connect
    assert skipping.func is PyAVConnection and skipping.keywords["skip_when_behind"] is True


def test_a_looping_file_counts_its_skipped_frames_across_passes(arcade, exact):
    connection = PyAVFileConnection(arcade, loop=True, keep_picture=False, skip_when_behind=True)
    try:
        connection.set_behind(True)
        read = 0
        while connection.passes < 2:
            connection.read()
            read += 1
        first_two = connection.skipped
    finally:
        connection.close()
    # two whole passes (and the first frame of the third): each frame read or skipped
    assert first_two > 0 and read - 1 + first_two == 2 * len(exact)


def test_a_camera_whose_queue_has_room_decodes_every_frame(arcade, exact):
    # a pipeline that takes nothing until the end, but whose queue holds the whole file: never behind
    source = make_source(arcade, live=True, buffer_frames=len(exact) + 1, skip_when_behind=True,
                         convert_on_take=True).start()
    try:
        while not source.stats.ended:
            time.sleep(0.01)
        taken = _take_when_full(source)
    finally:
        source.stop()
    assert source.stats.frames_skipped == 0 and source.stats.frames_dropped == 0
    assert [round(f.timestamp, 4) for f in taken] == sorted(exact)


def test_a_serve_camera_behind_skips_and_says_so_in_its_metrics(authority, keys, videos, tmp_path, monkeypatch):
    # full-frame YuNet on every unshrunk 1080p frame, each held 60 ms more than it takes, no
    # governor: behind whatever the machine (the real cost alone is, on 2 cores, not on any machine)
    slow_full_detection(monkeypatch)
    from facesel.serve.config import parse_config
    from facesel.serve.metrics import CameraCollector
    from facesel.serve.service import Service
    from test_sources import wait_for

    camera = {"source": str(videos / "arcade_walkers_1080p.mp4"), "vault": str(tmp_path / "v"),
              "camera_key": str(keys("behind")), "loop": True, "realtime": True, "live": True,
              "convert_on_take": True, "skip_when_behind": True,
              "coarsen_detection": False, "pipeline": {"detect_every": 1, "max_side": 0, "scorer": "laplacian"}}
    config = parse_config({"serve": {"listen": "", "log_level": "warning"}, "defaults": {"authority": str(authority)},
                           "cameras": {"behind": camera}})
    assert config.cameras["behind"].convert_on_take is True and config.cameras["behind"].skip_when_behind is True
    service = Service(config).start()
    try:
        cam = service.camera_list()[0]
        assert wait_for(lambda: cam.source is not None and cam.source.stats.frames_skipped > 0, timeout=120)
        samples = {sample.name: sample.value for family in CameraCollector(service.camera_list).collect()
                   for sample in family.samples if sample.labels.get("camera") == "behind"}
        stats = cam.source.stats
    finally:
        assert service.stop(timeout=60) == []
    assert samples["facesel_frames_skipped_total"] > 0
    assert samples["facesel_frames_dropped_total"] >= samples["facesel_frames_skipped_total"]
    # every frame received is processed, dropped (skipped ones included) or was still waiting at the stop:
    # in the source's queue, or in the pipeline's hands (reading, detection and selection threads and
    # the one-item queues between them: at most 5)
    assert 0 <= stats.frames_received - stats.frames_dropped - cam.processed <= cam.config.buffer_frames + 5


def test_the_settings_are_checked_with_the_camera_named(authority, keys, videos, tmp_path):
    from facesel.serve.config import parse_config

    base = {"source": str(videos / "arcade_walkers_1080p.mp4"), "vault": str(tmp_path / "v"),
            "camera_key": str(keys("named"))}

    def parsed(**extra):
        config = parse_config({"defaults": {"authority": str(authority)}, "cameras": {"cam": {**base, **extra}}})
        camera = config.cameras["cam"]
        return camera.convert_on_take, camera.skip_when_behind

    # by default on where the camera decodes with PyAV anyway, never moving a file camera off OpenCV
    assert parsed() == (False, False)
    assert parsed(skip_loop_filter="noref") == (True, True) == parsed(shrink_in_decoder=True)
    assert parsed(source="rtsp://127.0.0.1:8554/cam") == (True, True)
    assert parsed(source="rtsp://127.0.0.1:8554/cam", backend="opencv") == (False, False)
    assert parsed(source="0") == (False, False)  # a webcam: OpenCV
    assert parsed(convert_on_take=True) == (True, False)
    for key in ("convert_on_take", "skip_when_behind"):
        off = parse_config({"defaults": {"authority": str(authority)}, "cameras": {"cam": {**base, key: False}}})
        assert getattr(off.cameras["cam"], key) is False
        with pytest.raises(ValueError, match=rf"cameras\.cam\.{key} must be true or false"):
            parse_config({"defaults": {"authority": str(authority)}, "cameras": {"cam": {**base, key: "yes"}}})


def test_a_clock_that_goes_back_is_not_counted_as_skipped_frames():
    # a server that restarts its timestamps: times remembered before the jump are never passed in
    # time, and must not be counted as skipped when the clock passes them again much later
    class Packet:
        size = 1

        def __init__(self, pts):
            self.pts = pts

        def decode(self):
            return [Frame(self.pts)]

    class Frame:
        def __init__(self, pts):
            self.pts = pts

    class Stream:
        class codec_context:
            skip_frame = "DEFAULT"

    decoder = PacketDecoder(Stream(), skip_when_behind=True)
    decoder._sent.append((15_001, 0))  # a time the decoder never gave (the clock then went back)
    decoder._packets = 1
    for pts in range(0, 20_000, 40):
        decoder.decode(Packet(pts))
    assert decoder.skipped == 0
