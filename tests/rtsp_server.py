"""A real RTSP server on localhost for tests: GStreamer's gst-rtsp-server, run by the system python3.

The Debian packages ``gir1.2-gst-rtsp-server-1.0``, ``python3-gi``, ``gstreamer1.0-rtsp``,
``gstreamer1.0-plugins-good/-ugly`` and ``gstreamer1.0-libav`` provide it (``.ci/run`` installs
them). ``gi`` belongs to the system Python, not to the virtual environment, so the server runs as
a subprocess of ``/usr/bin/python3`` running this very file. It serves a video file, looping, live
(paced at ``fps``), as H.264 over RTP at ``rtsp://127.0.0.1:PORT/cam``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

SYSTEM_PYTHON = "/usr/bin/python3"


def require() -> None:
    """Skip the calling test when no RTSP server can run here; fail instead under CI, where
    ``.ci/run`` installs it and a skip would hide."""
    import pytest

    why = available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI is set, so this is an error, not a skip)")
        pytest.skip(why)


def available() -> str | None:
    """None when an RTSP server can be started here, else why not."""
    if not os.path.exists(SYSTEM_PYTHON):
        return f"{SYSTEM_PYTHON} not found"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0');"
         "from gi.repository import Gst, GstRtspServer; Gst.init(None);"
         "assert all(Gst.ElementFactory.find(e) for e in ('avdec_gif', 'x264enc', 'rtph264pay', 'appsrc'))"],
        capture_output=True, text=True)
    return None if probe.returncode == 0 else "gst-rtsp-server or its plugins are missing: " + probe.stderr.strip()[-300:]


class RTSPServer:
    """``start()`` / ``stop()`` a server process for ``video`` on ``port`` (the same port each time)."""

    def __init__(self, video, port: int = 0, fps: int = 12):
        self.video, self.fps = str(video), int(fps)
        from facesel.ports import unclaimed_port  # not at the top: the server half runs alone

        # outside the ephemeral range: the restart tests bind it again after a down time
        self.port = port or unclaimed_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self, timeout: float = 20.0) -> RTSPServer:
        self.process = subprocess.Popen([SYSTEM_PYTHON, __file__, self.video, str(self.port), str(self.fps)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # "ready" once it listens
        if line.strip() != "ready":
            self.process.kill()
            error = self.process.stderr.read()[-800:]
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {line!r}; its stderr: {error}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError("RTSP server does not accept connections")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)  # a camera losing power: no goodbye
            self.process.wait(10)
        if self.process is not None:
            for stream in (self.process.stdout, self.process.stderr):
                stream.close()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _decode_all(Gst, video: str):
    """Every frame of ``video`` as I420 buffers, with its width and height (GStreamer decodes)."""
    pipeline = Gst.parse_launch(f"filesrc location={video} ! decodebin ! videoconvert ! "
                                "video/x-raw,format=I420 ! appsink name=out sync=false")
    sink = pipeline.get_by_name("out")
    pipeline.set_state(Gst.State.PLAYING)
    buffers, caps = [], None
    while True:
        # try-pull with a timeout: the GIF demuxer does not always send end-of-stream. The first
        # frame may take longer (plugins load; the CI machine is busy): a 1 s wait for it once
        # ended the server before it was ready.
        sample = sink.emit("try-pull-sample", Gst.SECOND if buffers else 15 * Gst.SECOND)
        if sample is None:
            break
        caps = sample.get_caps()
        buffers.append(sample.get_buffer().copy_deep())
    pipeline.set_state(Gst.State.NULL)
    structure = caps.get_structure(0)
    return buffers, structure.get_value("width"), structure.get_value("height")


def _serve(video: str, port: str, fps: str) -> None:  # runs under the system python3
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    Gst.init(None)
    # A GIF cannot be looped by multifilesrc (its demuxer wants to seek), so its frames are
    # decoded once into memory and pushed round and round through an appsrc, paced by timestamps.
    frames, width, height = _decode_all(Gst, video)
    rate = int(fps)
    duration = Gst.SECOND // rate
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( appsrc name=src is-live=true format=time caps=video/x-raw,format=I420,width={width},height={height},"
        f"framerate={rate}/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={rate} ! "
        "rtph264pay name=pay0 pt=96 config-interval=1 )")
    factory.set_shared(True)
    count = [0]

    def need_data(src, _length):
        buffer = frames[count[0] % len(frames)].copy()
        buffer.pts = buffer.dts = count[0] * duration
        buffer.duration = duration
        count[0] += 1
        src.emit("push-buffer", buffer)

    def configure(_factory, media):
        count[0] = 0
        media.get_element().get_by_name("src").connect("need-data", need_data)

    factory.connect("media-configure", configure)
    server.get_mount_points().add_factory("/cam", factory)
    server.attach(None)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    _serve(*sys.argv[1:4])
