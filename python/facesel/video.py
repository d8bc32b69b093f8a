"""Input sources for the pipeline: a video file, a folder of images, a webcam or a network stream.

Every source is an iterable of ``(frame, timestamp)`` pairs, where ``frame`` is an (H, W, 3) uint8
BGR array and ``timestamp`` is in seconds since the start of the stream:

- a video file: the container's presentation time (``CAP_PROP_POS_MSEC``), falling back to
  ``index / fps`` when the container gives none;
- a folder of images (sorted by name, numbers compared as numbers, so ``img10`` follows ``img9``):
  ``index / fps`` with an assumed ``fps`` (default 25; a folder has no frame rate of its own);
- a webcam index (``"0"``) or an RTSP/HTTP URL: the monotonic clock since the first frame, since
  live streams have no reliable presentation time.

Video files and URLs are decoded by FFmpeg through PyAV, each frame bounded before it is allocated
(:mod:`facesel.sources.bounded_decoder`): a file's frames and its rate and frame count
(:mod:`facesel.sources.file_frames`; the count as OpenCV's ``CAP_PROP_FRAME_COUNT`` computed it)
and a URL's frames (:class:`facesel.sources.backends.PyAVConnection`, serve's stream reader). A URL
PyAV cannot open is opened by OpenCV instead, with a warning: OpenCV's decoder takes no size bound
(ops22; before, every URL went to OpenCV and ``run`` asked OpenCV for a file's rate and count).
Webcams are read by OpenCV (a device of this machine).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facesel.loopback_pin import pin_url
from facesel.sources.file_frames import VideoFile, file_frames
from facesel.sources.frame_limit import MAX_FRAME_PIXELS, check_max_frame_pixels, refuse_decoded, refuse_large_file

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp"})
"""File suffixes (lower case) read from an image folder."""

DEFAULT_FOLDER_FPS = 25.0
"""Frame rate assumed for a folder of images when none is given."""

_log = logging.getLogger("facesel.video")

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")

MAX_CAMERA_INDEX = 2**31 - 1
"""Largest webcam index: OpenCV takes a C int. A negative index is refused too: OpenCV 4.14's V4L2
backend reads it as "any camera" and crashes the process (SIGSEGV) when none is present."""


@dataclass
class FrameSource:
    """A stream of ``(frame, timestamp)`` pairs; iterate it once.

    Attributes
    ----------
    name : str
        What was opened (path, URL or camera index), for messages.
    kind : {"file", "folder", "camera", "url"}
    fps : float or None
        Frames per second of the source (before ``every``), when known.
    frame_count : int or None
        Frames the iteration will yield (after ``every`` and ``max_frames``), when known.
    """

    name: str
    kind: str
    fps: float | None
    frame_count: int | None
    _frames: Callable[[], Iterator[tuple[np.ndarray, float]]] = field(repr=False)

    def __iter__(self) -> Iterator[tuple[np.ndarray, float]]:
        return self._frames()

    def __len__(self) -> int:
        if self.frame_count is None:
            raise TypeError(f"the length of {self.kind} source {self.name!r} is unknown")
        return self.frame_count


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _check_positive_int(value, name: str, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def _limited_count(total: int | None, every: int, max_frames: int | None) -> int | None:
    if total is None or total <= 0:
        return max_frames if total is None else 0
    count = (total + every - 1) // every
    return count if max_frames is None else min(count, max_frames)


def open_source(
    source,
    *,
    every: int = 1,
    max_frames: int | None = None,
    fps: float | None = None,
    max_frame_pixels: int = MAX_FRAME_PIXELS,
) -> FrameSource:
    """Open a video file, an image folder, a webcam index or a stream URL.

    Parameters
    ----------
    source : str, os.PathLike or int
        A path to a video file or to a folder of images; a webcam index (an int in [0, :data:`MAX_CAMERA_INDEX`]
        or a string of ASCII digits, e.g. ``"0"``); or a URL such as ``rtsp://...`` or ``http://...``
        (decoded by PyAV with the ``max_frame_pixels`` bound; by OpenCV, warned, where PyAV cannot open it).
    every : int >= 1
        Keep one frame in ``every`` (the others are skipped, not decoded where the backend allows).
    max_frames : int >= 1, optional
        Stop after this many kept frames.
    fps : finite float > 0, optional
        Frame rate of an image folder (default :data:`DEFAULT_FOLDER_FPS`); for a video file it
        overrides the container's rate when the container's timestamps are missing.
    max_frame_pixels : int in [1, 2**31 - 1]
        The largest frame (width x height) of a file or folder, default an 8K UHD frame (review 8b,
        finding 1: a 3 MB JPEG of 16000 x 16000 decodes to 768 MB): a file whose header states
        more is refused before it is decoded, an image above it (a size no header stated) once
        decoded. A video file's frames are decoded by FFmpeg through PyAV, whose decoder refuses a
        frame much larger than the stream states before allocating it; a frame of another size
        than the stated one is refused (:mod:`facesel.sources.file_frames`, review 10a). A URL's
        frames the same way (:class:`facesel.sources.backends.PyAVConnection`, ops22).

    Returns
    -------
    FrameSource

    Raises
    ------
    FileNotFoundError
        A path that does not exist.
    ValueError
        A file or stream that cannot be read, a folder without images, a negative or too large
        webcam index, a file or frame above ``max_frame_pixels``, a video frame of another size
        than its stream states, or a bad setting.
    """
    every = _check_positive_int(every, "every")
    max_frame_pixels = check_max_frame_pixels(max_frame_pixels)
    max_frames = _check_positive_int(max_frames, "max_frames", allow_none=True)
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float, np.floating, np.integer))
                            or not 0 < fps < float("inf")):
        raise ValueError(f"fps must be a finite positive number or None, got {fps!r}")
    if isinstance(source, bool):
        raise TypeError(f"source must be a path, URL or camera index, got {source!r}")
    if isinstance(source, (int, np.integer)):
        return _open_capture(_camera_index(int(source), source), str(source), "camera", every, max_frames)
    if not isinstance(source, (str, Path)):
        raise TypeError(f"source must be a path, URL or camera index, got {type(source).__name__}")
    text = str(source)
    if text == "":  # Path("") is the current folder: an empty --config source or "$UNSET" read it
        raise ValueError(f"source must be a path, URL or camera index, got {text!r}")
    if isinstance(source, str) and text.isascii() and text.isdigit():  # not "²": isdigit but no int
        return _open_capture(_camera_index(int(text), source), text, "camera", every, max_frames)
    if isinstance(source, str) and _URL.match(text):
        return _open_url(text, every, max_frames, max_frame_pixels)
    path = Path(source).expanduser()
    try:
        found = path.exists()
    except PermissionError:  # pathlib lets EACCES through: a folder on the way cannot be entered
        raise PermissionError(f"cannot read {path}: permission denied on a folder that holds it") from None
    if not found:
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_dir():
        return _open_folder(path, every, max_frames, fps, max_frame_pixels)
    return _open_file(path, every, max_frames, fps, max_frame_pixels)


def _camera_index(index: int, given) -> int:
    if not 0 <= index <= MAX_CAMERA_INDEX:
        raise ValueError(f"source: a webcam index must be in [0, {MAX_CAMERA_INDEX}], got {given!r}")
    return index


def _open_folder(path: Path, every: int, max_frames: int | None, fps: float | None,
                 max_pixels: int) -> FrameSource:
    files = sorted((p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
    if not files:
        raise ValueError(f"folder {path} holds no images (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    rate = float(fps) if fps is not None else DEFAULT_FOLDER_FPS
    chosen = files[::every][:max_frames]

    def frames() -> Iterator[tuple[np.ndarray, float]]:
        first = None
        for k, file in enumerate(chosen):
            refuse_large_file(file, max_pixels, "image file", videos=False)  # before OpenCV decodes it
            image = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if image is None:
                raise ValueError(f"cannot read image file {file}")
            refuse_decoded(image, file, max_pixels, "image file")
            # The frames of one stream have one size (the detection schedule compares each frame
            # with the last one it searched whole): a folder of mixed photos ended in a cv2.error.
            if first is None:
                first = (file, image.shape)
            elif image.shape != first[1]:
                raise ValueError(f"image folder {path}: {file.name} is {image.shape[1]}x{image.shape[0]} pixels but "
                                 f"the first image, {first[0].name}, is {first[1][1]}x{first[1][0]}: the images of "
                                 "a folder are frames of one video and must all have one size")
            yield image, (k * every) / rate

    return FrameSource(str(path), "folder", rate, len(chosen), frames)


def _open_file(path: Path, every: int, max_frames: int | None, fps: float | None, max_pixels: int) -> FrameSource:
    # The header's size is checked before anything decodes; the first frame is decoded (bounded)
    # to know the file holds one, and the rate and frame count are the container's, computed as
    # OpenCV's probe computed them (ops22: OpenCV's probe decoded that frame unbounded). The frames
    # themselves are decoded by FFmpeg through PyAV, each bounded before it is allocated
    # (facesel.sources.file_frames: OpenCV decoded a later, larger frame whole, review 10a). A file
    # PyAV cannot open has no OpenCV fallback: its frames are PyAV's anyway.
    refuse_large_file(path, max_pixels, "video file")
    try:
        probe = VideoFile(path, max_pixels)
    except ValueError:
        raise ValueError(f"cannot read video file {path}: {_why_unopened(path)}") from None
    try:
        if not probe.first_frame_decodes():
            raise ValueError(f"cannot read video file {path}: no frame could be decoded")
        rate, total = probe.fps, probe.frame_count
    finally:
        probe.close()
    rate = float(rate) if rate and np.isfinite(rate) and rate > 0 else (float(fps) if fps else None)
    count = _limited_count(total if total and total > 0 else None, every, max_frames)
    return FrameSource(
        str(path), "file", rate, count,
        lambda: file_frames(path, every, max_frames, rate, max_pixels),
    )


def _why_unopened(path: Path) -> str:
    """What a user can act on when FFmpeg refuses a file: its own words ("Invalid data found when
    processing input") say little of why."""
    try:
        with path.open("rb") as file:
            first = file.read(1)
    except OSError as err:  # permission denied, a folder-like special file, an I/O error
        return f"{err.strerror or err}"
    if not first:
        return "the file is empty (0 bytes)"
    return "FFmpeg could not open it (not a video format it can decode, or the file is damaged or cut short)"


def _open_url(url: str, every: int, max_frames: int | None, max_pixels: int) -> FrameSource:
    """A stream URL decoded by PyAV, bounded as serve's streams are; OpenCV (unbounded, warned)
    only where PyAV cannot open it. Opened once, here, as a camera is."""
    from facesel.redaction import redact_url
    from facesel.sources.backends import PyAVConnection, RefusedStream, SourceError

    try:
        connection = PyAVConnection(url, max_frame_pixels=max_pixels)
    except RefusedStream as err:  # OpenCV's FFmpeg would read the same part with no bound (review round 13b)
        raise ValueError(f"cannot read url {redact_url(url)!r}: {err}") from None
    except SourceError as err:
        _log.warning("%s; opening it with OpenCV instead, whose decoder takes no size bound (max_frame_pixels "
                     "is checked only once a frame is decoded)", err)
        source = _open_capture(pin_url(url), redact_url(url), "url", every, max_frames)  # localhost: 127.0.0.1 (round 14a)
        source._frames = _checked_after_decoding(source._frames, redact_url(url), max_pixels)
        return source
    return FrameSource(url, "url", connection.fps, max_frames,
                       lambda: _connection_frames(connection, redact_url(url), every, max_frames))


def _connection_frames(connection, name: str, every: int,
                       max_frames: int | None) -> Iterator[tuple[np.ndarray, float]]:
    """A URL's frames from its open PyAV ``connection``, one in ``every`` (each is decoded and
    converted: a stream cannot skip), timed by the monotonic clock since the first one. Ends at the
    stream's end; ValueError naming the URL when the stream breaks or a frame is refused for its size."""
    from facesel.sources.backends import EndOfStream, SourceError

    start = None
    yielded = index = 0
    try:
        while max_frames is None or yielded < max_frames:
            try:
                frame, _ = connection.read()
            except EndOfStream:
                return
            except SourceError as err:
                raise ValueError(f"cannot read url {name!r}: {err}") from None
            now = time.monotonic()
            start = now if start is None else start
            if index % every == 0:
                yield frame, float(now - start)
                yielded += 1
            index += 1
    finally:
        connection.close()


def _checked_after_decoding(frames: Callable[[], Iterator[tuple[np.ndarray, float]]], name: str,
                            max_pixels: int) -> Callable[[], Iterator[tuple[np.ndarray, float]]]:
    """``frames`` with each frame above ``max_pixels`` refused once decoded (OpenCV's fallback)."""
    def checked() -> Iterator[tuple[np.ndarray, float]]:
        for frame, stamp in frames():
            refuse_decoded(frame, name, max_pixels, "stream")
            yield frame, stamp
    return checked


def _open_capture(target, name: str, kind: str, every: int, max_frames: int | None) -> FrameSource:
    # A camera or stream cannot be probed without taking it; open it once and hand that capture
    # to the iteration, so that a camera that only one process may hold is opened exactly once.
    capture = cv2.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        raise ValueError(f"cannot open {kind} {name!r}: OpenCV could not open it")
    rate = capture.get(cv2.CAP_PROP_FPS)
    rate = float(rate) if rate and np.isfinite(rate) and rate > 0 else None
    return FrameSource(
        name, kind, rate, max_frames, lambda: _capture_frames(capture, name, every, max_frames)
    )


def _capture_frames(capture: cv2.VideoCapture, name: str, every: int,
                    max_frames: int | None) -> Iterator[tuple[np.ndarray, float]]:
    """A camera's or URL's frames from its open ``target``, timed by the monotonic clock since the
    first one (files: :func:`facesel.sources.file_frames.file_frames`, whose decoder takes a size bound)."""
    if not capture.isOpened():
        raise ValueError(f"cannot read {name}: OpenCV could not open it")
    start = time.monotonic()
    yielded = 0
    index = 0
    try:
        while max_frames is None or yielded < max_frames:
            # grab() advances without decoding, so skipped frames cost little.
            if not capture.grab():
                return
            if index % every == 0:
                ok, frame = capture.retrieve()
                if not ok or frame is None:
                    return
                yield frame, float(time.monotonic() - start)
                yielded += 1
            index += 1
    finally:
        capture.release()
