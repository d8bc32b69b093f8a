"""What ``facesel serve --check`` can say of a camera whose ``source`` is a video file, before the
camera starts: the file must be one that can be read.

Before, a folder was called "video file not found" (it was found: image folders are for ``facesel
run``), an empty file or one the service's user may not read passed ``--check`` and the camera then
failed at every reconnection, and a mistyped URL (``rtsp//host/x``) was reported as a missing file
with its two slashes collapsed, ``rtsp/host/x`` (ux18). A named pipe or a device is not opened at
all.

The file is opened as FFmpeg opens it for the camera (its container's header; FFmpeg's probe may
decode a first picture, bounded by the camera's ``max_frame_pixels``): a file that is not a video
(garbage, a text file named ``.mp4``) or one cut short before its index passed ``--check`` and a
reload, which then replaced a working camera with one down for good, reconnecting every few
seconds (ux27). A damaged frame further in is still found when the camera reads it.
"""

from __future__ import annotations

import re
from pathlib import Path

from facesel.sources.bounded_decoder import open_options
from facesel.sources.frame_limit import MAX_FRAME_PIXELS
from facesel.sources.mp4_boxes import MP4BoxError, check_video_file

_URL_TYPO = re.compile(r"^(rtsps?|rtmps?|https?|udp|tcp)(:|//)", re.IGNORECASE)
"""A scheme whose ``://`` lost a character (``rtsp:/h``, ``rtsp//h``, ``rtsp:h``), read as a relative
file path otherwise. Only a source that is not a URL comes here, so ``rtsp://`` itself never does."""


def check_source_file(path: Path, given: str, where: str, max_pixels: int = MAX_FRAME_PIXELS) -> None:
    """ValueError naming ``where`` unless ``path`` (the source ``given`` in the file, resolved) is a
    non-empty file this process may read and FFmpeg opens as a video (``max_pixels``: the camera's
    ``max_frame_pixels``, the bound of the probe's decoding)."""
    if path.is_dir():
        raise ValueError(f"{where}: {path} is a folder, not a video file (a serve camera reads a URL, a webcam "
                         "index or a video file; a folder of images is for 'facesel run')")
    if not path.exists():
        typo = _URL_TYPO.match(given)
        hint = f" (a URL needs '{typo.group(1)}://')" if typo else ""
        raise ValueError(f"{where}: video file not found: {path}{hint}")
    if not path.is_file():
        # A named pipe a feeder writes into, or a device (/dev/video0): a stream, not read here.
        # Opening a pipe waits for its writer (serve --check and the start hung there), and
        # reading a byte would take it from the camera (review 18).
        return
    try:
        with path.open("rb") as file:
            first = file.read(1)
    except OSError as err:
        raise ValueError(f"{where}: {path} cannot be read: {(err.strerror or str(err)).lower()}") from None
    if not first:
        raise ValueError(f"{where}: {path} is empty (0 bytes): no frame to read")
    _check_opens_as_video(path, where, max_pixels)


def _check_opens_as_video(path: Path, where: str, max_pixels: int) -> None:
    """ValueError naming ``where`` unless FFmpeg opens ``path`` and finds a video stream in it. Its
    own words ("[Errno 1094995529] Invalid data found when processing input") say little of why."""
    import av

    try:
        # The box tree first, as every reader of a local file does: FFmpeg's open reads a first
        # sample whole, whatever size it states (review round 17b).
        check_video_file(path, max_pixels, where)
    except MP4BoxError as err:
        raise ValueError(f"{where}: {err}") from None
    try:
        container = av.open(str(path), options=open_options(max_pixels))
    except (av.FFmpegError, OSError):
        raise ValueError(f"{where}: {path} does not open as a video (FFmpeg: not a video format it can decode, or "
                         "the file is damaged or cut short)") from None
    try:
        if not container.streams.video:
            raise ValueError(f"{where}: {path} holds no video stream (a sound or data file?)")
    finally:
        container.close()
