"""Keep FFmpeg's and OpenCV's own console messages off a command's stderr.

Their lines (``[ WARN:0@0.015] global cap_v4l.cpp:914 open VIDEOIO(V4L2:/dev/video9)...``,
``[mov,mp4,...] moov atom not found``, ``[h264 @ 0x...] Invalid NAL unit size``) go straight to
the terminal from C, unprefixed, and say the same as facesel's own error one line later (or
nothing a user can act on). facesel reports every failure that matters itself: an unopenable
input or webcam as an error, a truncated file in the run's summary and exit code
(:mod:`facesel.cli.run_outcome`), a stream's losses in the source counters and logs. At log level
``debug`` the libraries keep talking, for diagnosing a camera.
"""

from __future__ import annotations

import os


def quiet_media_libraries(log_level: str = "warning") -> None:
    """Silence OpenCV's logger and its FFmpeg backend unless ``log_level`` is ``debug`` (PyAV
    keeps FFmpeg's log off by itself: its level is None unless someone sets one). At ``debug``
    PyAV's FFmpeg is told to pass its warnings on (to Python's ``libav.*`` loggers): ``facesel run``
    decodes video files through PyAV since review 10a, so a damaged file's lines come from there."""
    if str(log_level).lower() == "debug":
        import av.logging

        av.logging.set_level(av.logging.WARNING)
        return
    # Read by OpenCV's FFmpeg backend each time it opens a capture: -8 is AV_LOG_QUIET.
    os.environ["OPENCV_FFMPEG_LOGLEVEL"] = "-8"
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
