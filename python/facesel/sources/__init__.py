"""Live frame sources for long-running cameras: files (looping), webcams, RTSP and HTTP(S) streams.

``make_source(spec)`` turns a source description into a :class:`StreamSource`: a reader thread
that reconnects with backoff, watches for stalls, hands the pipeline the newest frame and counts
what it drops. ``facesel.video.open_source`` stays the simple, finite reader of ``facesel run``.
"""

from __future__ import annotations

import logging
import re
from functools import partial
from pathlib import Path

from facesel.redaction import redact_url, remember_url_secrets
from facesel.setting_checks import check_flag
from facesel.sources.backends import (
    SKIP_LOOP_FILTER,
    EndOfStream,
    FileConnection,
    OpenCVConnection,
    PyAVConnection,
    PyAVFileConnection,
    SourceError,
    StallError,
    check_skip_loop_filter,
)
from facesel.sources.frame_limit import MAX_FRAME_PIXELS, check_max_frame_pixels
from facesel.sources.backoff import Backoff
from facesel.sources.pacing import Pacer
from facesel.sources.segments import EpochSegments, Segment
from facesel.sources.stream import Frame, SourceStats, StreamSource

BACKENDS = ("pyav", "opencv")
_log = logging.getLogger("facesel.sources")
UNBOUNDED_OPENCV = ("source %s: backend = \"opencv\" does not bound the frames after the stream's first one (OpenCV "
                    "takes no decoder option: a later, larger frame is decoded whole, as large as FFmpeg's own limit "
                    "lets through, e.g. 16000x16000); backend = \"pyav\" bounds every frame")
"""The warning logged when a stream's source is made with ``backend = "opencv"`` (review round 11)."""
_URL = re.compile(r"^(rtsps?|https?|rtmp|udp|tcp)://", re.IGNORECASE)

__all__ = [
    "BACKENDS", "SKIP_LOOP_FILTER", "Backoff", "EndOfStream", "EpochSegments", "FileConnection", "Frame", "Pacer",
    "PyAVFileConnection", "Segment", "SourceError", "SourceStats", "StallError", "StreamSource",
    "check_webcam_index", "is_live_target", "make_source", "redact",
]


def redact(target: str) -> str:
    """The source name (or any text) with the credentials of its URLs masked, for logs and metrics
    (:func:`facesel.redaction.redact_url`)."""
    return redact_url(target)


def _is_webcam_index(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²" is a digit to str.isdigit but no int


def check_webcam_index(target, where: str = "source") -> None:
    """ValueError naming ``target`` when it is a webcam index OpenCV cannot take: over
    :data:`facesel.video.MAX_CAMERA_INDEX` (an OpenCV overload error, retried for ever)."""
    from facesel.video import MAX_CAMERA_INDEX

    text = str(target)
    if _is_webcam_index(text) and int(text) > MAX_CAMERA_INDEX:
        raise ValueError(f"{where}: a webcam index must be in [0, {MAX_CAMERA_INDEX}], got {text}")


def is_live_target(target) -> bool:
    """True for a webcam index or a stream URL (not a file path)."""
    text = str(target)
    return _is_webcam_index(text) or bool(_URL.match(text))


def make_source(target, *, loop: bool = False, live: bool | None = None, backend: str = "pyav",
                open_timeout: float = 10.0, read_timeout: float = 5.0, stall_timeout: float = 10.0,
                backoff: Backoff | None = None, reconnect: bool | None = None, realtime: bool = False,
                shrink_in_decoder: bool = False, buffer_frames: int = 1,
                skip_loop_filter: str = "none", convert_on_take: bool = False,
                skip_when_behind: bool = False, max_frame_pixels: int = MAX_FRAME_PIXELS) -> StreamSource:
    """A :class:`StreamSource` (not started) for a file path, a webcam index or a URL.

    Parameters
    ----------
    target : str, int or path
        ``"0"`` / ``0``: webcam 0 (OpenCV). ``rtsp://``, ``http(s)://`` (MJPEG, HLS), ...: a
        network stream through ``backend``. Anything else: a video file.
    loop : bool
        Files only: start again at the end (a stand-in camera for tests and demos).
    live : bool, optional
        A full frame queue drops its oldest frame (counted); default True for webcams and streams,
        False for files (the reader waits instead).
    buffer_frames : int >= 1
        Frames waiting between the reader and the pipeline (:class:`StreamSource`); 1: a
        one-frame slot (``facesel serve`` sets it per camera).
    backend : {"pyav", "opencv"}
        Decoder of network streams (webcams always use OpenCV; files PyAV). ``"opencv"`` is not
        bounded after the stream's first frame (OpenCV takes no decoder option and scales a later,
        larger frame to the first one's size: :class:`facesel.sources.backends.OpenCVConnection`):
        a warning says so once a source is made with it.
    open_timeout, read_timeout, stall_timeout : float > 0
        Seconds: connecting; one network read; no decoded frame (the stall watchdog).
    backoff : Backoff, optional
        Reconnection delays (default 0.5 s doubling up to 30 s, full jitter).
    reconnect : bool, optional
        Default True for webcams and streams and for looping files; False for a plain file.
    realtime : bool
        Files only: hand frames over at the file's frame rate (:class:`facesel.sources.pacing.Pacer`),
        as a camera sends them, rather than as fast as they decode. Default False here (``facesel
        serve`` turns it on for files).
    shrink_in_decoder : bool
        Files and PyAV streams: frames keep their decoded picture, so that a full-frame detection
        shrinks them in one step from YUV (:mod:`facesel.sources.decoded`); files are then decoded
        by PyAV. Default False: the choice then differed slightly (docs/performance.md).
    skip_loop_filter : one of :data:`SKIP_LOOP_FILTER`
        Files and PyAV streams: frames FFmpeg decodes without H.264's deblocking filter
        (:data:`facesel.sources.backends.SKIP_LOOP_FILTER`); files are then decoded by PyAV (the
        same pixels as OpenCV's otherwise). Default ``"none"``: exact decoding. Sources that
        OpenCV decodes (webcams, ``backend="opencv"``) decode exactly whatever is asked: OpenCV
        passes no decoder option on.
    convert_on_take : bool
        Files and PyAV streams: frames wait in the queue as decoded pictures and are converted to
        BGR when the pipeline takes them (:class:`facesel.sources.decoded.Unconverted`), so a
        dropped frame is never converted; files are then decoded by PyAV. Default False.
    skip_when_behind : bool
        Files and PyAV streams, live sources: while the source is behind (its last frame pushed
        one out of the full queue) the decoder skips non-reference frames
        (:mod:`facesel.sources.packet_decoder`), counted as received, dropped and
        ``frames_skipped``; files are then decoded by PyAV. Default False.
    max_frame_pixels : int >= 1
        The largest frame decoded (:mod:`facesel.sources.frame_limit`): PyAV's decoder refuses a
        larger one before allocating it, and a frame far larger than its stream's stated size too
        (a frame of another size once decoded: :mod:`facesel.sources.bounded_decoder`); OpenCV's
        first frame is refused once decoded. Default an 8K UHD frame (33,177,600 pixels): whoever
        answers for a stream's URL decides its frame size.

    Raises
    ------
    ValueError
        An unknown backend or ``skip_loop_filter``, a bad timeout, ``loop`` or ``realtime`` with a
        live source, a webcam index over 2**31 - 1.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    for name, flag in (("loop", loop), ("realtime", realtime), ("shrink_in_decoder", shrink_in_decoder),
                       ("convert_on_take", convert_on_take), ("skip_when_behind", skip_when_behind)):
        check_flag(flag, name)  # truth is not enough: loop="no" would loop (ux19)
    check_flag(live, "live", or_none=True)
    check_flag(reconnect, "reconnect", or_none=True)
    check_skip_loop_filter(skip_loop_filter)
    max_frame_pixels = check_max_frame_pixels(max_frame_pixels)
    bound = {"max_frame_pixels": max_frame_pixels}
    for name, value in (("open_timeout", open_timeout), ("read_timeout", read_timeout),
                        ("stall_timeout", stall_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    text = str(target)
    remember_url_secrets(text)  # whatever prints it later (FFmpeg, OpenCV, a log line) is masked
    check_webcam_index(text)
    if is_live_target(text):
        if loop:
            raise ValueError(f"loop applies to video files only, not to {redact(text)!r}")
        if realtime:
            raise ValueError(f"realtime applies to video files only (a stream is paced by its sender), not to {redact(text)!r}")
        if _is_webcam_index(text):
            connect = partial(OpenCVConnection, int(text), open_timeout, read_timeout, **bound)
        elif backend == "opencv":
            _log.warning(UNBOUNDED_OPENCV, redact(text))
            connect = partial(OpenCVConnection, text, open_timeout, read_timeout, **bound)
        else:
            connect = partial(PyAVConnection, text, open_timeout, read_timeout, stall_timeout,
                              keep_picture=bool(shrink_in_decoder), skip_loop_filter=skip_loop_filter,
                              **_frame_options(convert_on_take, skip_when_behind), **bound)
        return StreamSource(redact(text), connect, live=True if live is None else live,
                            stall_timeout=stall_timeout, reconnect=True if reconnect is None else reconnect,
                            backoff=backoff, buffer_frames=buffer_frames)
    path = Path(text).expanduser()
    # Both file connections decode with PyAV, every frame bounded (review round 11; OpenCV before)
    if shrink_in_decoder or skip_loop_filter != "none" or convert_on_take or skip_when_behind:
        connect = partial(PyAVFileConnection, path, loop, skip_loop_filter=skip_loop_filter,
                          keep_picture=bool(shrink_in_decoder), **_frame_options(convert_on_take, skip_when_behind),
                          **bound)
    else:
        connect = partial(FileConnection, path, loop, **bound)
    return StreamSource(str(path), connect, live=False if live is None else live,
                        stall_timeout=stall_timeout, stream_time=True,
                        reconnect=loop if reconnect is None else reconnect, backoff=backoff, realtime=realtime,
                        buffer_frames=buffer_frames)


def _frame_options(convert_on_take, skip_when_behind) -> dict:
    """The PyAV connections' keyword arguments of the two load settings, only those asked for."""
    options = {"convert_on_take": bool(convert_on_take), "skip_when_behind": bool(skip_when_behind)}
    return {key: value for key, value in options.items() if value}
