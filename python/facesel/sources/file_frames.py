"""A video file's frames for ``facesel run`` and ``facesel serve``'s file cameras, each bounded before
FFmpeg allocates it (review 10a; serve's file cameras since review round 11).

Round 8b reads the size a file's header states before anything decodes it, but a video's later
frames may be larger than its first: an MJPEG file of 3 MB whose fourth frame is a 16000 x 16000
grey JPEG was decoded whole inside OpenCV (+273,112 KiB of the reader's peak) and came out scaled
to the first frame's 640 x 480, so the check after decoding never saw it (review 9, still open).
OpenCV passes no option to its decoder; FFmpeg's ``max_pixels`` codec option makes the decoder
refuse a larger picture before allocating it, so the file is decoded here by FFmpeg through PyAV:

- the decoder's bound is twice the stream's stated size (with the alignment FFmpeg's buffers
  add, at least a 1024 x 1024 frame: :func:`facesel.sources.bounded_decoder.stated_bound`, shared
  with serve's PyAV connections), never above ``max_frame_pixels``: a
  frame much larger than the stream says is refused before its memory is taken, whatever
  ``max_frame_pixels`` allows (a stated size above it is refused before decoding, as round 8b did);
- a decoded frame of another size than the stated one (a smaller or reshaped one, within that
  bound) is refused naming both sizes: the frames of one run must keep one size (a folder's images
  too, :func:`facesel.video.open_source`), and OpenCV's silent rescaling hid it.

Everything else is what OpenCV gave (``experiments/file_decoder_parity.py`` compares both on every
shared video, ``tests/test_file_frames.py`` on four and on turned MP4s): the same pixels (both convert with FFmpeg's swscale), the same times (OpenCV's
``CAP_PROP_POS_MSEC`` arithmetic, its fallback to ``index / fps``), a display rotation applied as
OpenCV applies it. A damaged file may give a few more frames than OpenCV gave: a packet that does
not decode is skipped here, where OpenCV sometimes stopped (a generated H.264 MKV with 2,000 bytes
overwritten in its middle: 12 frames against OpenCV's 10, the first 10 identical; an MJPEG frame
cut after its JPEG headers: 4 frames of 5 against OpenCV's 2, ``tests/test_file_frames.py``; a
zero-filled MJPEG frame is no packet of its own, FFmpeg's parser joins it to the frame before, and
both give the 4 others).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from facesel.sources import own_bgr
from facesel.sources.bounded_decoder import BoundedDecoder, open_options
from facesel.sources.frame_limit import _too_large
from facesel.sources.mp4_boxes import check_video_file


class VideoFile:
    """An open video file whose decoder is bounded (:class:`facesel.sources.bounded_decoder.BoundedDecoder`),
    giving frames as OpenCV gave them: ``facesel run``'s files (:func:`file_frames`) and ``facesel
    serve``'s file cameras (:class:`facesel.sources.backends.FileConnection`, review round 11).

    ``threads``: FFmpeg's decoding threads, 1 by default (see :func:`_bound_decoder`). ValueError
    naming the file when it does not open, has no video stream or states a size above ``max_pixels``;
    an MP4 / MOV whose box tree states a sample larger than its frame can hold is refused before
    FFmpeg reads it (:func:`facesel.sources.mp4_boxes.check_video_file`, review round 17b).
    The probe's decoders are told ``max_pixels`` too (a file nothing checked before, as a file
    camera's, whose first frame is larger, is refused without its size).
    """

    def __init__(self, path: Path, max_pixels: int, threads: int = 1):
        import av

        self.path = path
        check_video_file(path, max_pixels)  # an MP4's lying sample sizes, before FFmpeg reads one (round 17b)
        try:
            self._container = av.open(str(path), options=open_options(max_pixels))
        except (av.FFmpegError, OSError) as err:
            raise ValueError(f"cannot read video file {path}: {err}") from None
        try:
            if not self._container.streams.video:
                raise ValueError(f"video file {path} has no video stream")
            self._stream = stream = self._container.streams.video[0]
            stated = (int(stream.codec_context.width or 0), int(stream.codec_context.height or 0))
            if stated[0] * stated[1] > max_pixels:  # facesel.video's header check refuses it first
                raise ValueError(_too_large(path, stated, max_pixels, "video file", "before decoding"))
            self._bound_decoder(threads, max_pixels)
        except BaseException:
            self._container.close()
            raise
        rate = stream.average_rate or stream.guessed_rate
        self.fps = float(rate) if rate else None
        """Frames per second the container states (None when it states none)."""

    @property
    def frame_count(self) -> int | None:
        """Frames the container states, as OpenCV's ``CAP_PROP_FRAME_COUNT`` computed them (what
        ``facesel run`` showed before ops22): the stream's frame count when the container has one,
        else its duration (the container's, else the stream's) times :attr:`fps`, rounded; None
        when neither is known. An estimate (a damaged file gives fewer), for progress only."""
        stream = self._stream
        if stream.frames and stream.frames > 0:
            return int(stream.frames)
        seconds = self._container.duration / 1_000_000 if self._container.duration else 0.0  # AV_TIME_BASE
        if seconds <= 0 and stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        if seconds <= 0 or not self.fps:
            return None
        return int(math.floor(seconds * self.fps + 0.5))

    def first_frame_decodes(self) -> bool:
        """Whether the first frame decodes (within the bound; a refusal raises ValueError). Used on a
        file opened to probe it: the frames after it are not read."""
        for picture in self._pictures():
            self._bounded.check(picture)
            return True
        return False

    def _bound_decoder(self, threads: int, max_pixels: int) -> None:
        """``threads`` decoding threads and no picture above the stream's bound, set before the
        decoder opens. FFmpeg's own choice (a frame thread per core, as OpenCV's default) held about
        50 MiB more of the end-to-end run's peak (``benchmarks/file_decoder_cost.py``); the pixels
        do not depend on it."""
        self._stream.thread_count = threads
        if threads != 1:
            self._stream.thread_type = "AUTO"
        self._bounded = BoundedDecoder(self._stream, max_pixels, f"video file {self.path}")

    def frames(self, every: int = 1, fps: float | None = None) -> Iterator[tuple[np.ndarray, float]]:
        """``(frame, seconds)``, one in ``every`` (the others decoded, not converted): see
        :func:`file_frames`. ValueError when a frame is refused (its message names the sizes)."""
        stream = self._stream
        start = stream.start_time or 0
        seconds_per_tick = stream.time_base.numerator / stream.time_base.denominator
        for index, picture in enumerate(self._pictures()):
            self._bounded.check(picture)
            if index % every == 0:
                yield _bgr(picture), _stamp(picture, start, seconds_per_tick, index, fps)

    def _pictures(self):
        """The decoded ``VideoFrame`` objects in presentation order; a packet FFmpeg cannot decode (a
        damaged frame: InvalidDataError) is skipped (see the module's note), and a container that breaks
        ends the file there (its frames held in the decoder given out first), as OpenCV's ``grab``
        ended it: the run then says the input ended early. The decoder's refusal of a frame above
        its bound (EINVAL) ends the file with ValueError."""
        import av

        stream = self._stream
        packets = self._container.demux(stream)  # the last packets are empty: they drain the decoder
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.FFmpegError:
                packet = None  # drains the decoder
            try:
                yield from (packet.decode() if packet is not None else stream.codec_context.decode(None))
            except av.error.InvalidDataError:
                pass
            except av.FFmpegError as err:
                refused = self._bounded.refusal(err)
                if refused is None:
                    raise ValueError(f"video file {self.path} broke: {err}") from None
                raise ValueError(f"{refused}, and so is the file (the frames of one video must keep one size)") \
                    from None
            if packet is None:
                return

    def close(self) -> None:
        """Close the file."""
        self._container.close()


def file_frames(path: Path, every: int, max_frames: int | None, fps: float | None,
                max_pixels: int) -> Iterator[tuple[np.ndarray, float]]:
    """``(frame, seconds)`` of the video file ``path``: frames as (H, W, 3) uint8 BGR C-contiguous
    arrays, one in ``every`` (the others decoded, not converted), at most ``max_frames``; times as
    OpenCV's ``CAP_PROP_POS_MSEC`` gives them (from the stream's start), ``index / fps`` (``fps``:
    the rate the caller found, or None) for a frame after the first without one.

    ValueError naming the file when it does not open, when a frame is larger than the stream's
    stated size or than ``max_pixels`` (refused by the decoder before allocation), or when a
    decoded frame's size is not the stated one. The file opens at the first ``next``.
    """
    video = VideoFile(path, max_pixels)
    try:
        for yielded, item in enumerate(video.frames(every, fps), start=1):
            yield item
            if max_frames is not None and yielded >= max_frames:
                return
    finally:
        video.close()


def _bgr(picture) -> np.ndarray:
    """The BGR array of ``picture`` (FFmpeg's conversion, one thread), turned as its display matrix
    says (PyAV's ``rotation``: degrees counterclockwise, as OpenCV's automatic orientation turns
    it), C-ordered in memory of its own: PyAV's array is a view of its frame's buffer, and frames
    kept as such views raised the end-to-end run's peak by about 30 MiB (glibc cannot reuse the
    holes of PyAV's aligned frames: docs/performance.md, session 22). :func:`own_bgr.bgr` converts
    into an array of our own (no copy needed where its rows are unpadded, as at 1920 and 1280
    wide); a PyAV view, a padded or a turned frame is copied (about 0.4-1.2 ms a 1080p frame)."""
    image = own_bgr.bgr(picture)
    turns = round(picture.rotation / 90) % 4 if picture.rotation else 0
    if turns:
        image = np.rot90(image, turns)
    elif isinstance(image.base, np.ndarray) and image.flags.c_contiguous:
        return image  # own_bgr's array: ours already
    return np.array(image, order="C")


def _stamp(picture, start: int, seconds_per_tick: float, index: int, fps: float | None) -> float:
    """Seconds of ``picture`` as ``facesel.video`` computed them from OpenCV: ``CAP_PROP_POS_MSEC``
    is ``(pts - start) * time_base * 1000`` in doubles (the decoder's timestamp, else the packet's
    dts, else 0); after the first frame a time of 0 falls back to the frame rate."""
    ticks = picture.pts if picture.pts is not None else picture.dts
    msec = float(ticks - start) * seconds_per_tick * 1000.0 if ticks is not None else 0.0
    if msec > 0 or index == 0:
        return msec / 1000.0
    return index / fps if fps else float(index)
