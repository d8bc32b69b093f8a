"""A PyAV decoder bounded by the size its stream states, shared by every reader that decodes with FFmpeg.

Review 10a bounded ``facesel run``'s video files (:mod:`facesel.sources.file_frames`); round 11
gives the same bound to ``facesel serve``'s cameras: the file cameras (both connections) and the
network streams decoded by PyAV (:mod:`facesel.sources.backends`). What each of them does:

1. opens the container with FFmpeg's ``max_pixels`` among its options (:func:`open_options`), so
   that the probe, which decodes a first picture to learn the stream's size (an MJPEG or PNG
   frame), decodes none larger than ``max_frame_pixels``;
2. gives the stream's decoder ``max_pixels`` = :func:`stated_bound` of the size the probe found
   (:class:`BoundedDecoder`), so that a later picture much larger than that is refused before
   FFmpeg allocates it (``avcodec_send_packet`` returns EINVAL: :meth:`BoundedDecoder.refusal`);
3. refuses a decoded picture of any other size than the stated one, naming both sizes
   (:meth:`BoundedDecoder.check`): the frames of one video or one connection keep one size, and a
   picture within the bound but of another size is still the sender's choice, not the stream's.

A stream whose probe found no size (a live stream that sent no frame within the probe) is bounded
by ``max_frame_pixels`` alone, and its first decoded picture fixes the size the later ones keep.
What the caller does with a refusal differs: a file ends (``facesel run``: the run says so; a
file camera: its source ends or reopens, see :mod:`facesel.sources.stream`), a network stream
is reconnected, where the new connection's probe states the new size (a camera whose resolution
was changed on purpose costs one reconnection).
"""

from __future__ import annotations

import errno

from facesel.sources.alloc_cap import raise_cap
from facesel.sources.frame_limit import _FFMPEG_MAX, decoder_option

_ALIGN = 64
"""FFmpeg checks ``max_pixels`` against its buffers' sizes: the width rounded up to its stride
alignment (up to 64), the height up to whole macroblocks (1088 for H.264's 1080p)."""

_FLOOR = 1 << 20
"""The smallest decoder bound, a 1024 x 1024 frame (3 MiB as BGR): some decoders check their own
scratch buffers against ``max_pixels`` too, which for a small frame are several times its size
(MPEG-4 part 2 at 96 x 64 needs 53,760, 8.75 times the frame; H.264, MJPEG, VP9, MPEG-2 and FFV1
need the aligned frame; measured in session 19 for 96 x 64, 426 x 240 and 1920 x 1080)."""


def stated_bound(width: int, height: int, max_pixels: int) -> int:
    """FFmpeg's ``max_pixels`` for a stream stated as ``width`` x ``height`` (ints >= 0, a size within
    ``max_pixels``): twice that frame with both sides rounded up to :data:`_ALIGN`, at least
    :data:`_FLOOR`, at most ``max_pixels`` (or the stated frame's rounded size, when that is more);
    ``max_pixels`` when the stream states no size. A frame the decoder allocates is so at most about
    twice a stated one (or 3 MiB); one of another size within it is refused after decoding
    (:meth:`BoundedDecoder.check`)."""
    if width <= 0 or height <= 0:
        return max_pixels
    aligned = -(-width // _ALIGN) * _ALIGN * (-(-height // _ALIGN) * _ALIGN)
    return min(max(max_pixels, aligned), max(2 * aligned, _FLOOR), _FFMPEG_MAX)


def open_options(max_pixels: int, options: dict[str, str] | None = None) -> dict[str, str]:
    """``options`` for ``av.open`` plus FFmpeg's ``max_pixels``, which PyAV hands to the decoders
    of the container's probe too: the probe then decodes no first picture above ``max_pixels``
    (a larger one leaves the stream's size unknown). Raises FFmpeg's allocation cap to what frames
    of ``max_pixels`` need first (:func:`facesel.sources.alloc_cap.raise_cap`, review round 15c: no
    packet larger than that)."""
    raise_cap(max_pixels)
    return {**(options or {}), **decoder_option(max_pixels)}


class BoundedDecoder:
    """The size bound of one PyAV video ``stream``, set on its decoder before its first packet.

    Parameters
    ----------
    stream : av.video.stream.VideoStream
        Not yet decoding: its codec options are applied when the decoder opens (the first packet).
    max_pixels : int
        ``max_frame_pixels``: no stated size above it is decoded, and no frame of a stream that
        states none.
    what : str
        Names the source in every message, e.g. ``"video file P"`` or ``"stream URL"`` (a URL with
        its credentials masked by the caller).

    Attributes
    ----------
    stated : tuple[int, int]
        (width, height) the stream states, or the first decoded picture's when it stated none.
    bound : int
        The decoder's ``max_pixels`` (:func:`stated_bound`).
    """

    def __init__(self, stream, max_pixels: int, what: str):
        self.what = what
        context = stream.codec_context
        self.stated = (int(context.width or 0), int(context.height or 0))
        self.bound = stated_bound(*self.stated, max_pixels)
        self._context = context
        self._index = 0
        context.options = {**context.options, **decoder_option(self.bound)}

    @property
    def states_size(self) -> bool:
        """Whether a size is known (stated by the stream, or fixed by its first picture)."""
        return self.stated[0] > 0 and self.stated[1] > 0

    def check(self, picture):
        """``picture`` (a decoded PyAV ``VideoFrame``) when it has the stated size; ValueError naming
        both sizes otherwise. Counts the pictures, so call it once for each one the decoder gives."""
        index, self._index = self._index, self._index + 1
        size = (int(picture.width), int(picture.height))
        if not self.states_size:
            self.stated = size  # no stated size: the first picture (within max_frame_pixels) sets it
        elif size != self.stated:
            raise ValueError(f"{self.what}: frame {index} is {size[0]}x{size[1]} pixels, but its stream states "
                             f"{self.stated[0]}x{self.stated[1]}: refused (the frames of one video must keep "
                             "one size; OpenCV scaled such a frame to the first one's size without a word)")
        return picture

    def refusal(self, err: BaseException) -> str | None:
        """What to say when FFmpeg's error ``err`` is its decoder's refusal of a picture above
        :attr:`bound` (EINVAL, which a decoder may also return for a packet it cannot take); None
        for any other error."""
        if getattr(err, "errno", None) != errno.EINVAL:
            return None
        if not self.states_size:
            return (f"{self.what} holds a frame of more than max_frame_pixels = {self.bound} pixels (its stream "
                    "states no size): FFmpeg's decoder refused it before allocating it")
        width, height = self.stated
        return (f"{self.what} holds a frame beyond its stream's stated size of {width}x{height} pixels: FFmpeg's "
                f"decoder refused it before allocating it (max_pixels = {self.bound})")
