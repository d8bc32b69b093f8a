"""OpenCV vs PyAV on a live HTTP MJPEG stream from a local server: how fast each notices trouble.

Not a test (no thresholds): prints one table. Scenarios, each for both backends:

- first frame: seconds from open to the first decoded frame;
- silent server: the server accepts and sends headers, then nothing; seconds until open or the
  first read gives up (with open/read timeouts of 2 s asked for);
- garbage: the server sends multipart parts that hold no JPEG; seconds until a failure
  (nan: 1000 reads "succeeded");
- server stops mid-stream: seconds from the server closing to the read failing;
- RTSP (gst-rtsp-server, when installed): first frame, and how long until a killed server is
  noticed;
- buffering: a consumer taking 0.2 s per frame from a 25 frames/s stream, reading the
  connection directly (no reader thread) for 4 s: how many frames behind live the last frame
  it got is (by the frame counter drawn into the image).

Run: ``python benchmarks/serve/source_backends.py`` (needs the shared data for the frames).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from mjpeg_server import MJPEGServer, read_gif  # noqa: E402

from facesel.data import data_root  # noqa: E402
from facesel.sources.backends import OpenCVConnection, PyAVConnection, SourceError  # noqa: E402

TIMEOUT = 2.0


def numbered_frames(base, count=250):
    frames = []
    for k in range(count):
        frame = base[k % len(base)].copy()
        # the frame number as 16 black/white squares, readable after JPEG
        for bit in range(16):
            frame[0:12, bit * 12:(bit + 1) * 12] = 255 if (k >> bit) & 1 else 0
        frames.append(frame)
    return frames


def frame_number(image) -> int:
    return sum(1 << bit for bit in range(16) if image[2:10, bit * 12 + 2:bit * 12 + 10].mean() > 127)


def connect(backend, url):
    if backend == "pyav":
        return PyAVConnection(url, TIMEOUT, TIMEOUT, stall_timeout=3 * TIMEOUT)
    return OpenCVConnection(url, TIMEOUT, TIMEOUT)


def first_frame(backend, frames):
    with MJPEGServer(frames, fps=25) as server:
        t = time.monotonic()
        conn = connect(backend, server.url)
        conn.read()
        dt = time.monotonic() - t
        conn.close()
    return dt


def silent(backend, frames):
    with MJPEGServer(frames, fps=25, mode="silent") as server:
        t = time.monotonic()
        try:
            conn = connect(backend, server.url)
            conn.read()
            conn.close()
            return float("nan")
        except SourceError:
            return time.monotonic() - t


def garbage(backend, frames):
    with MJPEGServer(frames, fps=25, mode="garbage") as server:
        t = time.monotonic()
        try:
            conn = connect(backend, server.url)
            for _ in range(1000):
                conn.read()
            conn.close()
            return float("nan")
        except Exception:
            return time.monotonic() - t


def stopped(backend, frames):
    server = MJPEGServer(frames, fps=25).start()
    conn = connect(backend, server.url)
    conn.read()
    stop_at = []
    threading.Timer(1.0, lambda: (stop_at.append(time.monotonic()), server.stop())).start()
    try:
        while True:
            conn.read()
    except Exception:
        pass
    dt = time.monotonic() - stop_at[0]
    conn.close()
    return dt


def lag(backend, frames):
    with MJPEGServer(frames, fps=25) as server:
        conn = connect(backend, server.url)
        t = time.monotonic()
        got = None
        while time.monotonic() - t < 4.0:
            got, _ = conn.read()
            time.sleep(0.2)
        behind = server.frames_sent - 1 - frame_number(got)
        conn.close()
    return behind


def lag_threaded(backend, frames):
    """As :func:`lag`, through StreamSource's reader thread (newest frame kept)."""
    from facesel.sources import make_source

    with MJPEGServer(frames, fps=25) as server, make_source(server.url, backend=backend, read_timeout=TIMEOUT) as source:
        t = time.monotonic()
        got = None
        while time.monotonic() - t < 4.0:
            got = source.read(2.0) or got
            time.sleep(0.2)
        return server.frames_sent - 1 - frame_number(got.image)


def rtsp_rows(video) -> list[str]:
    """First frame and stop-noticed times on a real RTSP server (gst-rtsp-server), both backends."""
    import rtsp_server

    if rtsp_server.available():
        return ["rtsp: skipped (" + rtsp_server.available() + ")"]
    rows = []
    for backend in ("opencv", "pyav"):
        server = rtsp_server.RTSPServer(video).start()
        try:
            t = time.monotonic()
            conn = connect(backend, server.url)
            conn.read()
            first = time.monotonic() - t
            for _ in range(12):
                conn.read()
            t = time.monotonic()
            server.stop()
            try:
                for _ in range(1000):
                    conn.read()
                noticed = float("nan")
            except Exception:
                noticed = time.monotonic() - t
            conn.close()
        finally:
            server.stop()
        rows.append(f"rtsp {backend:7s} first_frame_s {first:.3f}  stop_noticed_s {noticed:.3f}")
    return rows


def main() -> None:
    root = data_root()
    if root is None:
        sys.exit("shared data not found (FACESEL_DATA)")
    frames = numbered_frames(read_gif(root / "videos" / "intel_face_demographics_walking.gif"))
    print(f"cv2 {cv2.__version__}; timeouts asked for: {TIMEOUT} s")
    print("backend  first_frame_s  silent_server_s  garbage_s  stop_noticed_s  frames_behind_live")
    for backend in ("opencv", "pyav"):
        row = [first_frame(backend, frames), silent(backend, frames), garbage(backend, frames),
               stopped(backend, frames), lag(backend, frames)]
        print(f"{backend:7s}  {row[0]:13.3f}  {row[1]:15.3f}  {row[2]:9.3f}  {row[3]:14.3f}  {row[4]:18d}")
    for backend in ("opencv", "pyav"):
        print(f"{backend:7s} through the reader thread: frames behind live {lag_threaded(backend, frames)}")
    for line in rtsp_rows(root / "videos" / "intel_face_demographics_walking.gif"):
        print(line)


if __name__ == "__main__":
    np.random.seed(0)
    main()
