"""Decoder options of the sources (``skip_loop_filter``): a value that is set must reach FFmpeg's
decoder (the decoded pixels change, on the frames the value names and not on the others), exact
decoding must stay the same pixels as OpenCV's, and a bad value must be refused with an error that
names the setting, before anything is opened."""

from __future__ import annotations

import time

import numpy as np
import pytest
from facesel.sources import SKIP_LOOP_FILTER, make_source
from facesel.sources.backends import FileConnection, PyAVConnection, PyAVFileConnection
from facesel.sources.decoded import shrunk_copy
from facesel.sources.frame_limit import MAX_FRAME_PIXELS

pytest.importorskip("av")

FRAMES = 24  # the arcade video: one key frame, then P and B frames (non-reference B frames among them)


@pytest.fixture(scope="module")
def arcade(shared_data):
    return shared_data / "videos" / "arcade_walkers_1080p.mp4"


def _frames(connection, count: int = FRAMES) -> list[np.ndarray]:
    try:
        return [connection.read()[0] for _ in range(count)]
    finally:
        connection.close()


def _differs(a: list, b: list) -> list[float]:
    """Mean absolute difference, grey levels, frame by frame."""
    return [float(np.abs(x.astype(np.int16) - y.astype(np.int16)).mean()) for x, y in zip(a, b)]


@pytest.fixture(scope="module")
def exact(arcade):
    return _frames(PyAVFileConnection(arcade, keep_picture=False))


def _opencv_frames(video, count: int = FRAMES) -> list[np.ndarray]:
    """What OpenCV's ``VideoCapture`` gives (serve's file cameras decoded with it before review round 11)."""
    import cv2

    capture = cv2.VideoCapture(str(video), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])
    try:
        return [capture.read()[1] for _ in range(count)]
    finally:
        capture.release()


def test_exact_pyav_decoding_gives_opencvs_pixels(arcade, exact):
    # why a file may move from OpenCV to PyAV when a decoder option is asked: with none, nothing
    # changes; and why serve's default file camera (FileConnection, bounded since review round 11)
    # could leave OpenCV for PyAV: the same pixels, frame by frame
    opencv = _opencv_frames(arcade)
    assert all(np.array_equal(a, b) for a, b in zip(exact, opencv))
    assert all(np.array_equal(a, b) for a, b in zip(_frames(FileConnection(arcade)), opencv))


def test_skipping_the_loop_filter_on_non_reference_frames_reaches_the_decoder(arcade, exact):
    noref = _differs(exact, _frames(PyAVFileConnection(arcade, skip_loop_filter="noref", keep_picture=False)))
    everywhere = _differs(exact, _frames(PyAVFileConnection(arcade, skip_loop_filter="all", keep_picture=False)))
    assert noref[0] == 0.0  # the key frame is a reference: deblocked as before
    changed = [d > 0 for d in noref]
    assert any(changed) and not all(changed)  # the non-reference frames only
    # no frame is predicted from a non-reference frame, so the reference frames stay exact; "all"
    # deblocks none, the key frame included, and carries its error into every later frame
    assert all(d > 0 for d in everywhere)
    assert np.mean(everywhere) > np.mean(noref)


def test_a_stream_decoder_gets_the_option_too(arcade, exact):
    # PyAVConnection (RTSP, HTTP, anything FFmpeg opens; a file here)
    skipping = _frames(PyAVConnection(str(arcade), skip_loop_filter="all"))
    plain = _frames(PyAVConnection(str(arcade)))
    assert all(np.array_equal(a, b) for a, b in zip(plain, exact))
    assert all(d > 0 for d in _differs(exact, skipping))


def test_make_source_opens_files_with_pyav_only_when_a_decoder_option_is_asked(arcade):
    assert make_source(arcade)._connect.func is FileConnection
    skipping = make_source(arcade, skip_loop_filter="noref")._connect
    assert skipping.func is PyAVFileConnection
    assert skipping.keywords == {"skip_loop_filter": "noref", "keep_picture": False,
                                 "max_frame_pixels": MAX_FRAME_PIXELS}
    both = make_source(arcade, skip_loop_filter="noref", shrink_in_decoder=True)._connect
    assert both.keywords == {"skip_loop_filter": "noref", "keep_picture": True, "max_frame_pixels": MAX_FRAME_PIXELS}
    connection = both()
    try:
        first, _ = connection.read()
        assert shrunk_copy(first, 1280, 720) is not None  # the one-step shrink still has its picture
    finally:
        connection.close()


@pytest.mark.parametrize("value", ["fast", "NOREF", "", None, 1, True])
def test_a_bad_skip_loop_filter_is_refused_naming_the_setting(arcade, value):
    with pytest.raises(ValueError, match=r"skip_loop_filter must be one of none, noref, bidir, nokey, all"):
        make_source(arcade, skip_loop_filter=value)
    with pytest.raises(ValueError, match=r"skip_loop_filter"):
        PyAVFileConnection(arcade, skip_loop_filter=value)
    # refused before connecting: an unreachable address would otherwise take open_timeout to fail
    with pytest.raises(ValueError, match=r"skip_loop_filter"):
        PyAVConnection("rtsp://127.0.0.1:9/none", open_timeout=30.0, skip_loop_filter=value)


def test_every_named_value_opens(arcade):
    for value in SKIP_LOOP_FILTER:
        assert len(_frames(PyAVFileConnection(arcade, skip_loop_filter=value, keep_picture=False), 2)) == 2


def _camera(tmp_path, arcade, **extra):
    from facesel.serve.config import parse_config
    from facesel.vault import create_authority, enrol_camera

    if not (tmp_path / "authority").exists():
        create_authority(tmp_path / "authority", shares=3, threshold=2, epoch_seconds=86400.0,
                         retention_seconds=7 * 86400.0, horizon_seconds=2 * 86400.0, start=time.time(), kdf_level="min")
        enrol_camera(tmp_path / "authority", tmp_path / "key", "cam",
                     sorted((tmp_path / "authority" / "shares").iterdir())[:2])
    table = {"source": str(arcade), "vault": str(tmp_path / "vault"), "camera_key": str(tmp_path / "key"), **extra}
    data = {"defaults": {"authority": str(tmp_path / "authority" / "authority.pub")}, "cameras": {"cam": table}}
    return parse_config(data, base=tmp_path).cameras["cam"]


def test_a_camera_setting_checked_with_the_camera_named(tmp_path, arcade):
    # exact decoding by default: "noref" kept the choice, but a file camera is then decoded by PyAV,
    # whose frames held more memory per camera in the capacity runs (docs/performance.md)
    assert _camera(tmp_path, arcade).skip_loop_filter == "none"
    assert _camera(tmp_path, arcade, skip_loop_filter="noref").skip_loop_filter == "noref"
    assert _camera(tmp_path, arcade, skip_loop_filter="none").skip_loop_filter == "none"
    assert _camera(tmp_path, arcade, skip_loop_filter="all").skip_loop_filter == "all"
    with pytest.raises(ValueError, match=r"cameras\.cam\.skip_loop_filter must be one of"):
        _camera(tmp_path, arcade, skip_loop_filter="fast")


def test_a_serve_camera_decodes_with_its_setting(tmp_path, arcade):
    # the camera key reaches the camera's own source: facesel serve's code, a real camera thread
    from facesel.serve.config import parse_config
    from facesel.serve.service import Service
    from facesel.vault import create_authority, enrol_camera

    create_authority(tmp_path / "authority", shares=3, threshold=2, epoch_seconds=86400.0,
                     retention_seconds=7 * 86400.0, horizon_seconds=2 * 86400.0, start=time.time(), kdf_level="min")
    shares = sorted((tmp_path / "authority" / "shares").iterdir())[:2]
    tables = {}
    for name, extra in (("exact", {}), ("skipping", {"skip_loop_filter": "noref"})):
        enrol_camera(tmp_path / "authority", tmp_path / name, name, shares)
        tables[name] = {"source": str(arcade), "vault": str(tmp_path / f"vault-{name}"),
                        "camera_key": str(tmp_path / name), "loop": True, **extra}
    config = parse_config({"serve": {"listen": "", "log_level": "warning"},
                           "defaults": {"authority": str(tmp_path / "authority" / "authority.pub")},
                           "cameras": tables}, base=tmp_path)
    service = Service(config).start()
    try:
        cams = {cam.config.name: cam for cam in service.camera_list()}
        deadline = time.monotonic() + 120  # a wait for the camera threads, not a speed check
        while any(cam.source is None for cam in cams.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        exact, skipping = cams["exact"].source._connect, cams["skipping"].source._connect
    finally:
        service.stop(timeout=60)
    assert exact.func is FileConnection
    assert skipping.func is PyAVFileConnection and skipping.keywords["skip_loop_filter"] == "noref"


def _timed_frames(connection, count: int = FRAMES) -> dict[float, np.ndarray]:
    try:
        return {stamp: image for image, stamp in (connection.read() for _ in range(count))}
    finally:
        connection.close()


def _behind(arcade, skip_loop_filter: str) -> PyAVFileConnection:
    connection = PyAVFileConnection(arcade, skip_loop_filter=skip_loop_filter, keep_picture=False, skip_when_behind=True)
    connection.set_behind(True)  # from the first packet: a camera that stays behind
    return connection


def test_a_camera_that_is_behind_gets_both_decoder_settings(arcade):
    # Why the loop filter is not also dropped "only while behind" (docs/performance.md, "Decoder
    # options"): a camera that is behind decodes the reference frames only, which "noref" leaves
    # exact, so it saves nothing there; only "all" does, by changing the frames others are predicted
    # from. Both settings must reach the same decoder: frames are skipped (counted) and the pixels
    # of those decoded are changed exactly as the value says.
    exact = _timed_frames(PyAVFileConnection(arcade, keep_picture=False), 3 * FRAMES)
    noref = _behind(arcade, "noref")
    kept_noref = _timed_frames(noref, FRAMES)
    everywhere = _behind(arcade, "all")
    kept_all = _timed_frames(everywhere, FRAMES)
    assert noref.skipped > 0 and everywhere.skipped == noref.skipped  # the same non-reference frames left out
    assert set(kept_noref) == set(kept_all) and set(kept_noref) <= set(exact)
    assert all(np.array_equal(image, exact[stamp]) for stamp, image in kept_noref.items())
    assert all(d > 0 for d in _differs([exact[s] for s in kept_all], list(kept_all.values())))
