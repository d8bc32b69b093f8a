"""One open connection to a frame source: ``read()`` gives the next frame or raises.

A backend knows how to open a stream and decode frames; it knows nothing of reconnection or
threads (:mod:`facesel.sources.stream` does that). Three backends:

- :class:`PyAVConnection` for network streams (RTSP, HTTP(S) MJPEG, HLS): FFmpeg through PyAV,
  with an open timeout and a per-read timeout that FFmpeg's interrupt callback enforces, small
  probe sizes and no demuxer buffering, so a dead or silent server is noticed in about
  ``read_timeout`` seconds (measured in ``benchmarks/serve/source_backends.py``; see
  ``docs/serve.md``).
- :class:`OpenCVConnection` for webcams (V4L2 and friends) and, as an alternative, URLs.
- :class:`FileConnection` (and :class:`PyAVFileConnection`, with the decoder's options in reach)
  for video files, optionally looping: a file is the test and demo stand-in for a camera.

Every connection that decodes with FFmpeg through PyAV (all but OpenCV's) bounds its decoder by
the size the stream states (:mod:`facesel.sources.bounded_decoder`, review round 11): a later frame
far larger than that is refused before FFmpeg allocates it, and one of any other size once
decoded, naming both sizes; :class:`SourceError` then ends the connection (a file camera that does
not loop ends, any other is opened again). OpenCV passes no option to its decoder: a stream with
``backend = "opencv"`` is bounded only at its first frame (see :class:`OpenCVConnection`).
An HTTP(S) MJPEG stream is read part by part by Python, each part bounded in bytes
(:mod:`facesel.sources.http_mjpeg`, review round 13b), before FFmpeg decodes it.
"""

from __future__ import annotations

import errno
import time
from pathlib import Path

import cv2
import numpy as np

from facesel.loopback_pin import pin_url
from facesel.redaction import redact_url
from facesel.sources.bounded_decoder import BoundedDecoder, open_options
from facesel.sources import http_mjpeg, own_bgr
from facesel.sources.decoded import Unconverted, decoded_frame
from facesel.sources.file_frames import VideoFile
from facesel.sources.frame_limit import MAX_FRAME_PIXELS, check_max_frame_pixels, refuse_large_frame
from facesel.sources.packet_decoder import PacketDecoder
from facesel.sources.mp4_boxes import check_video_file


SKIP_LOOP_FILTER = ("none", "noref", "bidir", "nokey", "all")
"""Frames on which FFmpeg's decoder skips H.264's in-loop deblocking filter (its ``skip_loop_filter``
option, AVDiscard names), from none to every frame. ``"noref"``: only frames no other frame is
predicted from (non-reference B frames), so the error stays in those frames: 8-11 % less
decoding CPU on the arcade video, 0.07 grey levels from the exact picture, the same faces;
``"all"``: 18-20 % less, but the error is carried into every later frame until the next key
frame (1.5 grey levels, 10 of 264 faces lost; ``experiments/decoder_options.py``,
docs/performance.md). How much ``"noref"`` saves depends on the encoder: a stream without B
frames (a live encoder's low-latency profile) has none to skip; and while a camera is behind with
``skip_when_behind`` the non-reference frames are not decoded at all, so it saves nothing then."""


def check_skip_loop_filter(value, name: str = "skip_loop_filter") -> str:
    """``value`` if it is one of :data:`SKIP_LOOP_FILTER`; otherwise ValueError naming ``name``."""
    if not isinstance(value, str) or value not in SKIP_LOOP_FILTER:
        raise ValueError(f"{name} must be one of {', '.join(SKIP_LOOP_FILTER)}, got {value!r}")
    return value


def _set_decoder(stream, threads: int, skip_loop_filter: str, max_pixels: int, what: str) -> BoundedDecoder:
    """Configure a PyAV video ``stream``'s decoder before its first packet: ``threads`` FFmpeg
    threads, the deblocking filter skipped on ``skip_loop_filter`` frames, and no picture much
    larger than the stream's stated size decoded, nor any above ``max_pixels``
    (:class:`facesel.sources.bounded_decoder.BoundedDecoder`, named ``what`` in its messages)."""
    # PyAV's own default is FFmpeg's choice of slice threads (thread_count 0): 1 must be said
    stream.thread_count = threads
    if threads != 1:
        stream.thread_type = "AUTO"
    # codec options are applied when the decoder opens, at the first packet
    if skip_loop_filter != "none":
        stream.codec_context.options = {**stream.codec_context.options, "skip_loop_filter": skip_loop_filter}
    return BoundedDecoder(stream, max_pixels, what)


def _refused(bounded: BoundedDecoder, err: BaseException, broke: str) -> SourceError:
    """The SourceError of FFmpeg's error ``err`` while decoding: the bound's refusal said as such
    (:meth:`BoundedDecoder.refusal`), any other error as ``broke`` followed by FFmpeg's words."""
    refused = bounded.refusal(err)
    if refused is not None:
        return SourceError(redact_url(f"{refused} (EINVAL: FFmpeg refuses invalid data this way too)"))
    return SourceError(redact_url(f"{broke}: {err}"))


def _checked(bounded: BoundedDecoder, picture):
    """``picture`` when it has its stream's size (:meth:`BoundedDecoder.check`); SourceError otherwise."""
    try:
        return bounded.check(picture)
    except ValueError as err:
        raise SourceError(redact_url(str(err))) from None


def _image(picture, keep_picture: bool, convert_on_take: bool):
    """What a PyAV connection's ``read()`` gives for a decoded ``picture``: the BGR frame now, or
    with ``convert_on_take`` an :class:`Unconverted` that the source's frame converts when the
    pipeline takes it (a frame dropped before then is never converted)."""
    if convert_on_take:
        return Unconverted(picture, keep_picture)
    if keep_picture:  # the BGR frame keeps its YUV picture: a full-frame detection shrinks it in one step
        return decoded_frame(picture)
    # FFmpeg's conversion straight into an array of our own (one thread, PyAV's pixels): a view of
    # PyAV's frame costs far more memory once frames are held (own_bgr's docstring)
    return own_bgr.bgr(picture)


_FORMAT_REFUSED = (errno.EINVAL, errno.EPERM)  # what FFmpeg returns for a format off its format_whitelist


class SourceError(RuntimeError):
    """A source could not be opened or stopped delivering frames."""


class RefusedStream(SourceError):
    """A stream refused for a bound while opening (an HTTP MJPEG part over its bound in bytes:
    :mod:`facesel.sources.http_mjpeg`): not a stream PyAV cannot open, so no other reader is tried."""


class StallError(SourceError):
    """Connected, but no frame came for the stall timeout."""


class EndOfStream(Exception):
    """The source ended normally (a file that does not loop, a server that closed the stream)."""


class PyAVConnection:
    """A network stream decoded by FFmpeg through PyAV.

    Parameters
    ----------
    url : str
        ``rtsp://``, ``http(s)://`` (MJPEG multipart or HLS ``.m3u8``) or anything FFmpeg opens.
    open_timeout, read_timeout : float > 0
        Seconds allowed for connecting, and for each network read once connected (FFmpeg gives
        up on a silent server after this).
    stall_timeout : float > 0
        Seconds without a decoded frame after which :class:`StallError` is raised, even while
        data keeps arriving (a server that sends only undecodable data).
    rtsp_transport : {"tcp", "udp"}
        TCP by default: UDP loses packets (grey smears) on busy networks and through NAT.
    decoder_threads : int >= 0
        FFmpeg's decoding threads; 1 by default, as for files (:class:`FileConnection`): frame
        threads hold frames of their own and delay each frame by one per thread, and several
        cameras decode in parallel anyway. 0: FFmpeg's choice (frame and slice threads).
    keep_picture : bool
        Frames keep their decoded picture (:func:`facesel.sources.decoded.decoded_frame`), so that
        a full-frame detection shrinks them in one step; default False.
    skip_loop_filter : one of :data:`SKIP_LOOP_FILTER`
        Frames decoded without the deblocking filter; default ``"none"`` (bit-exact decoding).
    convert_on_take : bool
        ``read()`` gives an :class:`facesel.sources.decoded.Unconverted` picture, converted to BGR
        only if the pipeline takes the frame; default False (converted at once).
    skip_when_behind : bool
        :meth:`set_behind` makes the decoder skip non-reference frames, counted in :attr:`skipped`
        (:class:`facesel.sources.packet_decoder.PacketDecoder`); default False.
    max_frame_pixels : int
        No picture above it is decoded, the probe's first one included (:mod:`facesel.sources.frame_limit`):
        whoever answers for the URL decides the frame size. Default an 8K UHD frame. Below it, the
        decoder refuses a picture much larger than the stream's stated size before allocating it,
        and a picture of another size is refused once decoded (:mod:`facesel.sources.bounded_decoder`):
        :class:`SourceError` naming the sizes, and the source reconnects. An ``http(s)://`` multipart
        (MJPEG) answer is read by :class:`facesel.sources.http_mjpeg.PartReader`: a part of more than
        3 bytes a pixel of it (of the decoder's bound once the first frame is known) is refused before
        FFmpeg holds it (:class:`RefusedStream` while opening, :class:`SourceError` later).
    """

    def __init__(self, url: str, open_timeout: float = 10.0, read_timeout: float = 5.0, stall_timeout: float = 10.0,
                 rtsp_transport: str = "tcp", decoder_threads: int = 1, keep_picture: bool = False,
                 skip_loop_filter: str = "none", convert_on_take: bool = False, skip_when_behind: bool = False,
                 max_frame_pixels: int = MAX_FRAME_PIXELS):
        self.max_frame_pixels = check_max_frame_pixels(max_frame_pixels)
        self.keep_picture = bool(keep_picture)
        self.convert_on_take = bool(convert_on_take)
        self.skip_loop_filter = check_skip_loop_filter(skip_loop_filter)
        import av

        self.url, self.stall_timeout = url, float(stall_timeout)

        # A small probe, so that the first frame comes quickly, and low-delay decoding.
        options = {"flags": "low_delay", "probesize": "500000", "analyzeduration": "1000000"}
        if url.lower().startswith("rtsp"):
            options["rtsp_transport"] = rtsp_transport
            # No demuxer-side buffering for RTSP. Not for HLS: there it stops the stream after
            # its first segment (measured: 11 of 35 frames; tests/test_sources.py).
            options["fflags"] = "nobuffer"
        # HTTP(S) MJPEG is read part by part by Python, each part bounded in bytes (review round 13b):
        # FFmpeg's own multipart reading holds a part without an end until the read timeout
        self._parts = None
        try:
            # a camera at localhost reached at 127.0.0.1 only (review round 14a, finding 1): not whoever
            # listens on [::1] at its port (its credentials, its frames); messages keep the URL's words
            target, container_format = self._http_target(pin_url(url), open_timeout, read_timeout, options)
            self._container = av.open(target, format=container_format,
                                      options=open_options(self.max_frame_pixels, options),
                                      timeout=(float(open_timeout), float(read_timeout)))
        except (av.FFmpegError, OSError, http_mjpeg.PartRefused) as err:
            self._close_parts()
            refused = self._parts is not None and self._parts.refused is not None
            # FFmpeg's message quotes the URL again: both are masked, not only ours.
            why = self._parts.refused if refused else err
            if self._parts is None and http_mjpeg.is_http(url) and getattr(err, "errno", None) in _FORMAT_REFUSED:
                # a format off HTTP_FORMATS (review round 14a, finding 3): refused, so that `facesel run`
                # does not hand it to OpenCV, whose FFmpeg would read it without the list
                refused, why = True, f"{err} {http_mjpeg.refused_format_hint()}"
            raise (RefusedStream if refused else SourceError)(redact_url(f"cannot open {url}: {why}")) from None
        if not self._container.streams.video:
            self.close()
            raise SourceError(redact_url(f"{url} has no video stream"))
        self._stream = self._container.streams.video[0]
        if isinstance(decoder_threads, bool) or not isinstance(decoder_threads, int) or decoder_threads < 0:
            self.close()
            raise ValueError(f"decoder_threads must be an integer >= 0, got {decoder_threads!r}")
        self._bounded = _set_decoder(self._stream, decoder_threads, self.skip_loop_filter, self.max_frame_pixels,
                                     f"stream {redact_url(url)}")
        if self._parts is not None:  # no part larger than the decoder would decode: 3 bytes a pixel of its bound
            self._parts.max_part = min(self._parts.max_part, http_mjpeg.part_bound(self._bounded.bound))
        self._decoder = PacketDecoder(self._stream, skip_when_behind)
        self._packets = self._container.demux(self._stream)
        self._decoded: list = []
        self.fps = float(self._stream.average_rate) if self._stream.average_rate else None

    def _http_target(self, url: str, open_timeout: float, read_timeout: float, options: dict):
        """What ``av.open`` reads and in which format: for an HTTP(S) multipart response, a
        :class:`facesel.sources.http_mjpeg.PartReader` (kept in ``_parts``) as ``"mpjpeg"``; any
        other URL as FFmpeg finds it, and over HTTP(S) in the formats of
        :data:`facesel.sources.http_mjpeg.HTTP_FORMATS` only (``options`` gain FFmpeg's
        ``format_whitelist``)."""
        if not http_mjpeg.is_http(url):
            return url, None
        self._parts = http_mjpeg.open_parts(url, float(open_timeout), float(read_timeout),
                                            http_mjpeg.part_bound(self.max_frame_pixels))
        if self._parts is not None:
            return self._parts, "mpjpeg"
        options.update(http_mjpeg.ffmpeg_options_for_http(options))
        return url, None

    def _close_parts(self) -> None:
        if self._parts is not None:
            self._parts.close()

    @property
    def skipped(self) -> int:
        """Frames the decoder skipped so far (non-reference frames while behind)."""
        return self._decoder.skipped

    def set_behind(self, behind: bool) -> None:
        """The source is behind (True: its last frame pushed one out of its full queue) or not: skip
        non-reference frames meanwhile, when asked to (``skip_when_behind``)."""
        self._decoder.set_behind(behind)

    def read(self) -> tuple[np.ndarray | Unconverted, float | None]:
        """The next decoded frame and its stream time in seconds (None when the stream has none): a
        (H, W, 3) uint8 BGR array, or an :class:`Unconverted` picture with ``convert_on_take``.
        StallError after ``stall_timeout`` without a frame, EndOfStream at the end, SourceError when the
        stream breaks.
        """
        import av

        # Packet by packet rather than through decode(): control comes back after every packet,
        # so the stall deadline holds even while undecodable data keeps the socket busy.
        deadline = time.monotonic() + self.stall_timeout
        while not self._decoded:
            if time.monotonic() > deadline:
                raise StallError(f"stalled: no frame for {self.stall_timeout:g} s")
            try:
                packet = next(self._packets)
                self._decoded = self._decoder.decode(packet)
            except StopIteration:
                if self._parts is not None and self._parts.refused is not None:  # FFmpeg took it for the end
                    raise self._broke(EOFError()) from None
                self._decoder.finish()
                raise EndOfStream() from None
            except (av.FFmpegError, OSError, http_mjpeg.PartRefused) as err:
                raise self._broke(err) from None
        frame = _checked(self._bounded, self._decoded.pop(0))
        stamp = float(frame.time) if frame.time is not None else None
        return _image(frame, self.keep_picture, self.convert_on_take), stamp

    def _broke(self, err: BaseException) -> SourceError:
        """The SourceError of ``err`` while reading: a multipart part refused for its size says so,
        even where FFmpeg reported the refusal as an error of its own."""
        if self._parts is not None and self._parts.refused is not None:
            return SourceError(redact_url(f"stream {self.url}: {self._parts.refused}"))
        return _refused(self._bounded, err, "stream broke")

    def close(self) -> None:
        """Close the stream (errors while closing a broken one are ignored)."""
        try:
            self._container.close()
        except Exception:  # closing a broken connection must not mask why it broke
            pass
        self._close_parts()


class OpenCVConnection:
    """A webcam index or a URL opened by ``cv2.VideoCapture``.

    OpenCV's FFmpeg backend honours ``CAP_PROP_OPEN_TIMEOUT_MSEC`` and ``CAP_PROP_READ_TIMEOUT_MSEC``
    (OpenCV >= 4.6) for URLs; other backends (V4L2) ignore them.

    **Not bounded after its first frame** (review round 11): OpenCV passes no option to its
    decoder (``OPENCV_FFMPEG_CAPTURE_OPTIONS`` reaches the demuxer only, review 9), and it scales
    every frame to the first one's size without a word, its ``CAP_PROP_FRAME_WIDTH`` unchanged:
    a later frame of 16000 x 16000 is decoded whole inside OpenCV (+273,112 KiB of the reader's peak
    for a grey one, review 9) and comes out at the first frame's size, where no check can see it.
    Only a first frame above ``max_frame_pixels`` is refused (once decoded). A camera with
    ``backend = "opencv"`` is therefore logged as unbounded when its source is made
    (:func:`facesel.sources.make_source`); the default ``backend = "pyav"`` bounds every frame.
    Webcams (a device of this machine, frames of the size the driver negotiated) keep OpenCV.
    """

    def __init__(self, target, open_timeout: float = 10.0, read_timeout: float = 5.0,
                 max_frame_pixels: int = MAX_FRAME_PIXELS):
        # OpenCV passes no decoder option on: a larger frame is refused once decoded, before any queue.
        self.max_frame_pixels = check_max_frame_pixels(max_frame_pixels)
        self._where = redact_url(str(target))
        if isinstance(target, int):
            capture = cv2.VideoCapture(target)
        else:
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(open_timeout * 1000),
                      cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(read_timeout * 1000)]
            capture = cv2.VideoCapture(pin_url(str(target)), cv2.CAP_FFMPEG, params)  # as PyAV's (round 14a)
        if not capture.isOpened():
            capture.release()
            raise SourceError(redact_url(f"cannot open {target!r}: OpenCV could not open it"))
        self._capture = capture
        rate = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(rate) if rate and np.isfinite(rate) and 0 < rate < 1000 else None

    def read(self) -> tuple[np.ndarray, float | None]:
        """The next (H, W, 3) uint8 BGR frame and None (OpenCV gives no stream time); SourceError when
        no frame comes (OpenCV does not tell an ended stream from a broken one).
        """
        ok, frame = self._capture.read()
        if not ok or frame is None:
            # OpenCV does not tell a closed stream from a broken one.
            raise SourceError("no frame (stream ended or broke)")
        return refuse_large_frame(frame, self.max_frame_pixels, self._where), None

    def close(self) -> None:
        """Release the capture."""
        self._capture.release()



def _start_file(connection, path, loop: bool, decoder_threads: int) -> None:
    """The settings both file connections check and the loop state they share: ``path`` must be a
    file, ``decoder_threads`` an integer >= 0 (ValueError / SourceError name the value)."""
    if isinstance(decoder_threads, bool) or not isinstance(decoder_threads, int) or decoder_threads < 0:
        raise ValueError(f"decoder_threads must be an integer >= 0, got {decoder_threads!r}")
    connection.path = Path(path)
    connection.decoder_threads = decoder_threads
    if not connection.path.is_file():
        raise SourceError(f"video file not found: {connection.path}")
    connection.loop = bool(loop)
    connection.finite = not connection.loop
    connection.passes = 0
    connection._offset = 0.0  # stream time added to a pass's timestamps (the passes before it)
    connection._last = 0.0    # the last timestamp handed out

class FileConnection:
    """A video file read as ``facesel run`` reads it, from its first frame; ``loop`` restarts it at the end.

    Decoded by FFmpeg through PyAV (:class:`facesel.sources.file_frames.VideoFile`, review round 11;
    OpenCV before): each frame bounded by the stream's stated size before FFmpeg allocates it, and
    one of another size refused naming both sizes (:class:`SourceError`: a file that does not loop
    ends there, a looping one is opened again), where OpenCV decoded a later 16000 x 16000 frame
    whole and scaled it to the first one's size. The frames and times are OpenCV's as before (the
    same pixels and ``CAP_PROP_POS_MSEC`` arithmetic, a display rotation applied as OpenCV applied
    it; a frame after the first without a time is placed at ``index / fps``, where OpenCV said 0).

    Timestamps are the container's presentation times; with ``loop`` each pass adds the length
    of the previous passes, so time keeps increasing.

    ``decoder_threads``: FFmpeg's decoding threads (0: its own choice, one per core plus one,
    each frame-thread holding frames of its own). 1 by default: a camera's pipeline has threads
    enough, several cameras are parallel anyway, and each extra decoding thread held about
    10 MB of 1080p frames (issue 27).
    """

    def __init__(self, path: str | Path, loop: bool = False, decoder_threads: int = 1,
                 max_frame_pixels: int = MAX_FRAME_PIXELS):
        self.max_frame_pixels = check_max_frame_pixels(max_frame_pixels)
        _start_file(self, path, loop, decoder_threads)
        self._video, self._frames = self._open()
        self.fps = self._video.fps

    def _open(self):
        try:
            video = VideoFile(self.path, self.max_frame_pixels, self.decoder_threads)
        except ValueError as err:
            raise SourceError(str(err)) from None
        return video, video.frames(1, video.fps)  # the rate places a frame without a time

    def _next(self):
        try:
            return next(self._frames)
        except StopIteration:
            return None
        except ValueError as err:  # a frame refused, or the file broke: its message names the file
            raise SourceError(str(err)) from None

    def read(self) -> tuple[np.ndarray, float | None]:
        """The next (H, W, 3) uint8 BGR frame and its time in seconds (growing across passes when
        looping); EndOfStream at the end of a file that does not loop.
        """
        got = self._next()
        if got is None:
            if not self.loop:
                raise EndOfStream()
            self._video.close()
            self._video, self._frames = self._open()
            self.passes += 1
            self._offset = self._last + (1.0 / self.fps if self.fps else 0.04)
            got = self._next()
            if got is None:
                raise SourceError(f"video file {self.path} has no decodable frame")
        frame, seconds = got
        self._last = self._offset + max(0.0, seconds)
        return frame, self._last

    def close(self) -> None:
        """Close the file."""
        self._video.close()


class PyAVFileConnection:
    """A video file decoded by FFmpeg through PyAV, from its first frame; ``loop`` restarts it at the end.

    The same interface, timestamps and pixels as :class:`FileConnection` (both convert with
    FFmpeg's swscale, identical frames on the arcade video; no display rotation here), and the
    same bound on every frame (:mod:`facesel.sources.bounded_decoder`), with the decoder's options in
    reach. With ``keep_picture`` (the default) each frame is remembered with its decoded picture
    (:func:`facesel.sources.decoded.decoded_frame`): a full-frame detection then shrinks it in one
    pass from YUV (FFmpeg's area filter) instead of shrinking the BGR frame with OpenCV (about 7 CPU
    ms less a detected 1080p frame; docs/performance.md). Decoding itself costs about the same
    through either library (PyAV 3-5 % less CPU in ``experiments/decoder_options.py``). What ``make_source`` opens for a file with ``shrink_in_decoder`` or a
    ``skip_loop_filter`` other than ``"none"``.

    ``decoder_threads``: FFmpeg's decoding threads, 1 by default (see :class:`FileConnection`);
    ``skip_loop_filter``: see :data:`SKIP_LOOP_FILTER`, ``"none"`` by default; ``convert_on_take``
    and ``skip_when_behind``: as :class:`PyAVConnection`'s (the skipped count goes on across passes);
    ``max_frame_pixels``: as :class:`PyAVConnection`'s.
    """

    def __init__(self, path: str | Path, loop: bool = False, decoder_threads: int = 1,
                 skip_loop_filter: str = "none", keep_picture: bool = True, convert_on_take: bool = False,
                 skip_when_behind: bool = False, max_frame_pixels: int = MAX_FRAME_PIXELS):
        self.max_frame_pixels = check_max_frame_pixels(max_frame_pixels)
        self.skip_loop_filter = check_skip_loop_filter(skip_loop_filter)
        self.keep_picture = bool(keep_picture)
        self.convert_on_take, self.skip_when_behind = bool(convert_on_take), bool(skip_when_behind)
        self._skipped_before = 0  # frames skipped in the passes before this one
        self._behind = False
        _start_file(self, path, loop, decoder_threads)
        self._container, self._decoder, self._frames = self._open()
        stream = self._container.streams.video[0]
        self.fps = float(stream.average_rate) if stream.average_rate else None

    @property
    def skipped(self) -> int:
        """Frames the decoder skipped so far, all passes (non-reference frames while behind)."""
        return self._skipped_before + self._decoder.skipped

    def set_behind(self, behind: bool) -> None:
        """The source is behind (True: its last frame pushed one out of its full queue) or not: skip
        non-reference frames meanwhile, when asked to (``skip_when_behind``)."""
        self._behind = bool(behind)
        self._decoder.set_behind(self._behind)

    def _open(self):
        import av

        try:  # an MP4's lying sample sizes, before FFmpeg reads one (review round 17b)
            check_video_file(self.path, self.max_frame_pixels)
        except ValueError as err:
            raise SourceError(str(err)) from None
        try:
            container = av.open(str(self.path), options=open_options(self.max_frame_pixels))
        except (av.FFmpegError, OSError) as err:
            raise SourceError(f"cannot read video file {self.path}: {err}") from None
        if not container.streams.video:
            container.close()
            raise SourceError(f"video file {self.path} has no video stream")
        stream = container.streams.video[0]
        self._bounded = _set_decoder(stream, self.decoder_threads, self.skip_loop_filter, self.max_frame_pixels,
                                     f"video file {self.path}")
        decoder = PacketDecoder(stream, self.skip_when_behind)
        decoder.set_behind(getattr(self, "_behind", False))
        return container, decoder, self._decode(container.demux(stream), decoder)

    @staticmethod
    def _decode(packets, decoder):
        for packet in packets:  # the last packets are empty: they drain the decoder
            yield from decoder.decode(packet)
        decoder.finish()

    def _next(self):
        import av

        try:
            picture = next(self._frames)
        except StopIteration:
            return None
        except (av.FFmpegError, OSError) as err:
            raise _refused(self._bounded, err, f"video file {self.path} broke") from None
        return _checked(self._bounded, picture)

    def read(self) -> tuple[np.ndarray, float | None]:
        """The next frame ((H, W, 3) uint8 BGR, or :class:`Unconverted` with ``convert_on_take``)
        and its time in seconds (growing across passes when looping); EndOfStream at the end of a file
        that does not loop.
        """
        picture = self._next()
        if picture is None:
            if not self.loop:
                raise EndOfStream()
            self._container.close()
            self._skipped_before += self._decoder.skipped
            self._container, self._decoder, self._frames = self._open()
            self.passes += 1
            self._offset = self._last + (1.0 / self.fps if self.fps else 0.04)
            picture = self._next()
            if picture is None:
                raise SourceError(f"video file {self.path} has no decodable frame")
        self._last = self._offset + max(0.0, float(picture.time or 0.0))
        return _image(picture, self.keep_picture, self.convert_on_take), self._last

    def close(self) -> None:
        """Close the file."""
        self._container.close()
