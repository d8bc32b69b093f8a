"""The largest frame a source decodes (review 8, finding 2: a frame bomb from a network peer).

A JPEG of 16000 x 16000 uniform grey is 3 MB; decoded it is 384 MB of YUV and 768 MB once
converted to BGR, and FFmpeg's own limit lets it through. Whoever answers for a camera's URL (a
compromised camera, a device on the camera network, a man in the middle of plain RTSP or HTTP)
sent two such frames in an MJPEG stream and a reader's peak grew by 1,026,396 KiB
(``benchmarks/frame_bomb_memory.py``); ``serve`` queues up to ``buffer_frames`` decoded frames a
camera, all cameras in one process, which the kernel kills when memory runs out. The pipeline's
own check (sides up to 16384 pixels) comes after the decoding.

So FFmpeg is told the bound before it decodes: its ``max_pixels`` codec option makes the
decoder refuse a larger picture (``avcodec_open2`` or ``avcodec_send_packet`` returns EINVAL)
before it allocates it; since review round 11 every PyAV reader tells it twice the stream's
stated size (:mod:`facesel.sources.bounded_decoder`). OpenCV passes no decoder option on, so its
connections check each frame after decoding (the frame is dropped before any queue; one frame's
memory is spent); and since OpenCV scales every frame of a stream to its first frame's size, only
a stream that starts large is refused there: a later large frame is decoded whole inside OpenCV
(not bounded: use the default ``backend = "pyav"`` for a camera whose network you do not trust;
``make_source`` logs a warning for ``backend = "opencv"``).

The default is an 8K UHD frame (7680 x 4320, 33,177,600 pixels): above every camera resolution in
common use, about 100 MB as BGR. ``max_frame_pixels`` (a camera's setting in ``facesel serve``)
raises or lowers it.
"""

from __future__ import annotations

import errno
import numbers
import os
import re
import select
import signal
import time
import warnings

import numpy as np

MAX_FRAME_PIXELS = 7680 * 4320
_FFMPEG_MAX = 2**31 - 1  # the option is a C int
_PILLOW_MAX = 2 * 89_478_485  # Pillow's DecompressionBombError bound, which hides an image's size


def check_max_frame_pixels(value, name: str = "max_frame_pixels") -> int:
    """``value`` as an int when it is a whole number of pixels in 1 .. 2**31 - 1 (numpy's integers
    too: ``np.int64(1920 * 1080)`` was refused as not whole, review 17b); otherwise ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or not 1 <= value <= _FFMPEG_MAX:
        raise ValueError(f"{name} must be a whole number of pixels from 1 to {_FFMPEG_MAX} (default "
                         f"{MAX_FRAME_PIXELS}, an 8K UHD frame), got {value!r}")
    return int(value)


def decoder_option(max_pixels: int) -> dict[str, str]:
    """The FFmpeg codec option that makes a decoder refuse a picture above ``max_pixels``."""
    return {"max_pixels": str(max_pixels)}


def refuse_large_frame(frame: np.ndarray, max_pixels: int, where: str) -> np.ndarray:
    """``frame`` when it has at most ``max_pixels`` pixels; otherwise the SourceError of the caller's module."""
    from facesel.sources.backends import SourceError

    height, width = frame.shape[:2]
    if height * width > max_pixels:
        raise SourceError(f"{where} sent a frame of {width}x{height} pixels, more than max_frame_pixels = "
                          f"{max_pixels}: refused")
    return frame


def header_size(path, max_pixels: int = MAX_FRAME_PIXELS, videos: bool = True) -> tuple[int, int] | None:
    """``(width, height)`` of an image file, or (``videos``) of a video file's first video stream, as
    its header states it, without decoding a picture larger than ``max_pixels``; None when no reader
    knows the file; ``(0, 0)`` for a video stream whose size FFmpeg could learn only by decoding a
    larger picture (or from a picture that does not decode).

    Images: Pillow's lazy ``Image.open`` reads only the header (a 16000 x 16000 PNG or JPEG: +7 MB
    of the reader's peak). FFmpeg's probe is no header reader: it decodes a first picture (a PNG,
    an MJPEG or H.264 stream) to learn its size and pixel format (+296 MB for that PNG). So
    videos, and images Pillow does not know, are probed by FFmpeg through PyAV with its decoders
    told ``max_pixels``: a larger picture fails to decode there, and FFmpeg then forgets the size
    the container stated. With ``videos=False`` (a reader of images) FFmpeg is asked only about a
    file one of OpenCV's image decoders takes by its signature and Pillow does not read (review 9,
    finding 1: a 2 MB Radiance HDR picture of 7700 x 4400, under any name, grew ``imread``'s reader
    by 502,024 KiB before the check after decoding), so that a file no reader knows keeps OpenCV's
    own refusal.

    With ``videos``, the probe runs in a forked child (:func:`_probed_apart`): for a video, Pillow
    loads every plugin before giving up, and PyAV loads a second FFmpeg besides OpenCV's and decodes
    up to seven frames; kept in this process, that was +34 MB of ``facesel run``'s peak on the
    arcade video (session 18, ``docs/performance.md``). ``ValueError`` naming ``path`` when the
    child ends without an answer (FFmpeg crashed on the file, say), which the caller's decoder
    would then have met in this process. An image's FFmpeg probe runs in such a child too.
    """
    if videos:
        return _probed_apart(_stated_size, path, max_pixels)
    size = _pillow_size(path)
    if size is not None or not _opencv_reads(path):
        return size  # None: no reader knows it, and OpenCV's imread refuses it with its own words
    return _probed_apart(_ffmpeg_size, path, max_pixels)


def _stated_size(path, max_pixels: int) -> tuple[int, int] | None:
    """:func:`header_size` with ``videos``, in this process."""
    size = _pillow_size(path)
    if size is not None:
        return size
    return _ffmpeg_size(path, max_pixels)


def _opencv_reads(path) -> bool:
    """Whether one of OpenCV's image decoders takes ``path`` by its signature (the first bytes,
    not the name): Radiance HDR, PAM, PFM and others that Pillow does not read (review 9, finding 1)."""
    import cv2

    try:
        return bool(cv2.haveImageReader(str(path)))
    except cv2.error:
        return False


def _ffmpeg_size(path, max_pixels: int) -> tuple[int, int] | None:
    """The first video stream's size by FFmpeg's probe, its decoders told ``max_pixels`` (see
    :func:`header_size`); None when FFmpeg does not know the file, ``(0, 0)`` when it could not
    learn the size under the bound."""
    import av

    from facesel.sources.alloc_cap import raise_cap

    raise_cap(max_pixels)  # FFmpeg's allocations capped for frames of max_pixels (review round 15c)
    try:
        with av.open(str(path), options=decoder_option(max_pixels)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            width, height = int(stream.width or 0), int(stream.height or 0)
    except (av.FFmpegError, OSError, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else (0, 0)


class HeaderProbeEnded(ValueError):
    """The child that reads a file's header ended without an answer (:func:`_probed_apart`)."""


def _probed_apart(probe, path, max_pixels: int) -> tuple[int, int] | None:
    """``probe(path, max_pixels)`` (a size or None) computed in a forked child, whose memory (the
    libraries it loads, the heap its decoders leave) goes when it exits; in this process where the
    system has no ``fork``.

    The child only runs ``probe`` and writes its answer to a pipe: a fork copies no memory until
    written (about 14 ms of wall time for a 100 MB process), and the threads of this process (an
    ONNX Runtime pool, say) do not run in it. It leaves with ``os._exit``: no buffer of this process
    is flushed twice and no ``atexit`` handler runs there. A child with no answer after
    :data:`PROBE_SECONDS` is killed and the file refused (:class:`HeaderProbeEnded`).
    """
    if not hasattr(os, "fork"):
        return probe(path, max_pixels)
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns when a process with threads forks: a lock held by another thread stays
        # held in the child. The child here takes locks that fork resets (glibc's malloc, Python's
        # import lock) and those of Pillow and PyAV, which the callers (facesel run, score and batch
        # opening a file) do not run on other threads; serve's cameras never come here.
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        try:
            pid = os.fork()
        except BaseException:  # EAGAIN/ENOMEM (process or memory limit): no child, so both ends are ours to close
            os.close(read_end)
            os.close(write_end)
            raise
    if pid == 0:  # the child: never returns into the caller's code
        code = 1
        try:
            os.close(read_end)
            size = probe(path, max_pixels)
            os.write(write_end, b"none" if size is None else b"%d %d" % size)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    said, ended = b"", False
    try:
        said, ended = _answer(read_end, PROBE_SECONDS)
    finally:  # reaped even when a signal's exception (Ctrl-C, SIGTERM) ends the wait: no child left behind
        os.close(read_end)
        if not ended:  # past the deadline, or this process is leaving: the child is not waited for
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
    if not ended:
        raise HeaderProbeEnded(f"{path}: reading its header took over {PROBE_SECONDS:g} s (its child was stopped): "
                               "refused before decoding")
    if status != 0 or not said:
        how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit status {os.WEXITSTATUS(status)}")
        raise HeaderProbeEnded(f"{path}: reading its header ended with {how} and no answer: refused before "
                               "decoding")
    if said == b"none":
        return None
    width, height = map(int, said.split())
    return width, height


PROBE_SECONDS = 120.0
"""How long the header probe's child may take (:func:`_probed_apart`). A header is read in
milliseconds; a child that is still at it after this is stuck (a decoder looping on a hostile file,
or a lock another thread of this process held when it forked, which nothing in the child releases)
and would otherwise hang the reader for good (review 18)."""


def _answer(fd: int, seconds: float) -> tuple[bytes, bool]:
    """(what was read from ``fd``, whether its writer closed it) within ``seconds``."""
    deadline = time.monotonic() + seconds
    said = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return said, False
        chunk = os.read(fd, 64)
        if not chunk:
            return said, True
        said += chunk


def _pillow_size(path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # facesel's bound decides
            with Image.open(path) as image:
                return image.size
    except Image.DecompressionBombError as err:
        # Above Pillow's own bound (178,956,970 pixels), which keeps the size from us: the message
        # has the pixel count (as one row here); a frame this large is refused whatever the setting.
        found = re.search(r"\((\d+) pixels\)", str(err))
        return (int(found.group(1)) if found else Image.MAX_IMAGE_PIXELS * 2 + 1, 1)
    except Exception:  # not an image Pillow knows (a video), or damaged: the next reader's turn
        return None


def refuse_large_file(path, max_pixels: int, what: str = "file", videos: bool = True) -> None:
    """Review 8b, finding 1: a pixel bomb in a file handed to ``facesel run`` or ``facesel score``.

    Raise ValueError naming the file, its size and the bound when the header of ``path`` states
    more than ``max_pixels`` pixels, before anything decodes it (a 3 MB JPEG of 16000 x 16000 is
    768 MB as BGR, and OpenCV's own bound is 2**30 pixels). A file whose size neither Pillow nor
    FFmpeg reads from its header is left to OpenCV; its readers check each decoded frame too
    (:func:`refuse_decoded`). ``videos=False`` (a reader of images): Pillow, then FFmpeg's bounded
    probe for a file OpenCV takes as an image that Pillow does not read (Radiance HDR, PAM, PFM:
    review 9, finding 1); a file no image decoder of OpenCV takes keeps OpenCV's own refusal.
    With ``videos``, an MP4 / MOV whose box tree states a sample larger than its frame can hold, or
    a frame above ``max_pixels``, is refused before FFmpeg's probe reads it
    (:func:`facesel.sources.mp4_boxes.check_video_file`, review round 17b).
    """
    if videos:  # an MP4's lying sample sizes, before FFmpeg's probe reads one (review round 17b)
        from facesel.sources.mp4_boxes import check_video_file

        check_video_file(path, max_pixels, what)
    try:
        size = header_size(path, max_pixels, videos)
    except HeaderProbeEnded as err:
        raise ValueError(f"{what} {err}") from None
    if size is None:
        return
    if size == (0, 0):
        raise ValueError(f"{what} {path}: FFmpeg could not learn its size without decoding a picture of more than "
                         f"max_frame_pixels = {max_pixels} pixels (or its first picture does not decode): refused "
                         "before decoding (raise --max-frame-pixels for a file you trust)")
    if size[1] == 1 and size[0] > _PILLOW_MAX:  # _pillow_size's count of a picture Pillow would not size
        raise ValueError(f"{what} {path} has {size[0]} pixels, more than Pillow's own bound ({_PILLOW_MAX}), which "
                         f"max_frame_pixels (here {max_pixels}) does not raise: refused before decoding")
    if size[0] * size[1] > max_pixels:
        raise ValueError(_too_large(path, size, max_pixels, what, "before decoding"))


def refuse_decoded(frame: np.ndarray, path, max_pixels: int, what: str = "file") -> np.ndarray:
    """``frame`` when it has at most ``max_pixels`` pixels; otherwise ValueError naming ``path``: the
    check after decoding, for what the header did not state (a format FFmpeg cannot probe, a
    later frame of a video that grows)."""
    height, width = frame.shape[:2]
    if height * width > max_pixels:
        raise ValueError(_too_large(path, (width, height), max_pixels, what, "once decoded"))
    return frame


def _too_large(path, size: tuple[int, int], max_pixels: int, what: str, when: str) -> str:
    width, height = size
    return (f"{what} {path} is {width}x{height} pixels ({width * height}), more than max_frame_pixels = "
            f"{max_pixels}: refused {when} (raise --max-frame-pixels for a file you trust)")
