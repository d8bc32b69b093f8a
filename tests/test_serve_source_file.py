"""A serve camera whose ``source`` is a file is checked with the rest of the config (ux18): a
folder, an empty or unreadable file and a mistyped URL are named by ``parse_config`` (so by
``serve --check``, the start and a reload), not found only when the camera fails to open it."""

from __future__ import annotations

import os
import time

import pytest
from facesel.serve.config import parse_config


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory):
    """(authority.pub, the camera key folder of camera 'door')."""
    from facesel.vault import create_authority, enrol_camera

    folder = tmp_path_factory.mktemp("authority")
    create_authority(folder, shares=3, threshold=2, epoch_seconds=86400.0, retention_seconds=7 * 86400.0,
                     horizon_seconds=2 * 86400.0, start=time.time())
    key = tmp_path_factory.mktemp("cameras") / "door"
    enrol_camera(folder, key, "door", sorted((folder / "shares").iterdir())[:2])
    return folder / "authority.pub", key


def config_with_source(enrolled, source, vault):
    authority, key = enrolled
    return {"serve": {"listen": ""}, "defaults": {"authority": str(authority)},
            "cameras": {"door": {"source": str(source), "vault": str(vault), "camera_key": str(key)}}}


def test_a_video_file_source_is_taken(enrolled, tmp_path):
    from facesel.demo_data import demo_clip

    video = demo_clip()  # the shipped clip: opened as FFmpeg opens it (ux27), no frame read by the check
    assert parse_config(config_with_source(enrolled, video, tmp_path / "v")).cameras["door"].source == str(video)


@pytest.mark.parametrize("make, message", [
    (lambda folder: folder, r"cameras\.door\.source: .* is a folder, not a video file .*'facesel run'"),
    (lambda folder: (folder / "empty.mp4").write_bytes(b"") or folder / "empty.mp4",
     r"cameras\.door\.source: .*empty\.mp4 is empty \(0 bytes\): no frame to read"),
    (lambda folder: "rtsp//192.0.2.1/stream1", r"video file not found: .*rtsp/192\.0\.2\.1/stream1 \(a URL needs 'rtsp://'\)"),
    (lambda folder: "http:/192.0.2.1/video.mjpg", r"video file not found: .* \(a URL needs 'http://'\)"),
    (lambda folder: folder / "missing.mp4", r"video file not found: .*missing\.mp4$"),
])
def test_a_file_source_that_cannot_be_read_is_named(enrolled, tmp_path, make, message):
    # Before: the folder was "video file not found" (it was found), the empty file passed, and the
    # URL's collapsed slashes were called a missing file without a word about the URL.
    source = make(tmp_path)
    with pytest.raises(ValueError, match=message):
        parse_config(config_with_source(enrolled, source, tmp_path / "v"))


def test_a_file_source_this_user_may_not_read_is_named(tmp_path):
    # Root reads a file whatever its mode: as root (CI), the check runs with another user's rights
    # (nobody, 65534) in an open folder, so the denial is real on any machine.
    import tempfile
    from pathlib import Path

    from facesel.serve.source_file import check_source_file

    home = Path(tempfile.mkdtemp(prefix="facesel-ux18-"))
    try:
        home.chmod(0o755)
        video = home / "door.mp4"
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
        video.chmod(0)
        as_root = os.geteuid() == 0
        if as_root:
            os.seteuid(65534)
        try:
            with pytest.raises(ValueError, match=r"cameras\.door\.source: .*door\.mp4 cannot be read: permission denied"):
                check_source_file(video, str(video), "cameras.door.source")
        finally:
            if as_root:
                os.seteuid(0)
    finally:
        video.chmod(0o600)
        video.unlink()
        home.rmdir()


def test_a_named_pipe_is_taken_without_being_opened(enrolled, tmp_path):
    """Review 18: the emptiness check opened the source and read a byte. On a named pipe a feeder
    streams into, the open waits for the writer: ``parse_config`` (so ``serve --check`` and the
    start) hung, and with a writer it would have taken the stream's first byte."""
    import threading

    pipe = tmp_path / "feed.mjpg"
    os.mkfifo(pipe)
    parsed = []
    check = threading.Thread(target=lambda: parsed.append(parse_config(config_with_source(enrolled, pipe,
                                                                                         tmp_path / "v"))),
                             daemon=True)
    check.start()
    check.join(timeout=60)  # a config parses in milliseconds; a hang waits for a writer for good
    if check.is_alive():  # let the blocked open return so the thread ends
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        check.join(timeout=60)
        pytest.fail("parse_config opened the named pipe and waited for its writer")
    assert parsed and parsed[0].cameras["door"].source == str(pipe)
