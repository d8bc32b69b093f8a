"""Packet-by-packet decoding that can skip non-reference frames while the camera is behind, and counts them.

A camera whose pipeline cannot keep up drops frames from its queue (:class:`facesel.sources.StreamSource`),
but each of those frames was decoded first: at four to eight 720p cameras on two cores, decoding
was half the process's CPU while 20-85 % of the frames were dropped (issue 27). FFmpeg's decoder
can leave out the frames no other frame is predicted from (``skip_frame = "NONREF"``: H.264's
non-reference B frames, 74 of 105 frames of the arcade video's 720p transcode) at almost no
cost, without touching the pixels of the frames it does decode. :class:`PacketDecoder` turns that
on only while its owner says the camera is behind (:class:`facesel.sources.StreamSource`: its last
frame pushed a waiting one out of the full queue, so the next one would be dropped too) and off
again as soon as it is not, so a camera that keeps up decodes every frame exactly as before.

A skipped frame is never silent: it is counted in :attr:`PacketDecoder.skipped`, which the source
adds to its received and dropped frames (and the frames' sequence numbers, so the load governor
sees the gap). The count is exact whatever the decoder's reordering delay (and with frame threads,
which apply the setting later than the packet is sent): with ``skip_when_behind`` every packet is
remembered by its presentation time until its frame comes out, and since frames come out of the
decoder in presentation order, a remembered time below that of a frame that comes out will never
come out: that frame was skipped (or otherwise not given by the decoder: a loss all the same). A stream without non-reference frames (a live encoder's low-latency
profile, I and P frames only) has nothing to skip: there the setting changes nothing.
"""

from __future__ import annotations

import heapq


class PacketDecoder:
    """Decodes one PyAV video stream's packets, skipping non-reference frames while :attr:`behind`.

    Parameters
    ----------
    stream : av.video.stream.VideoStream
        Its codec context's ``skip_frame`` is switched between ``"DEFAULT"`` and ``"NONREF"``.
    skip_when_behind : bool
        False: :meth:`set_behind` does nothing (every frame is decoded).

    Attributes
    ----------
    skipped : int
        Frames the decoder left out so far (with ``skip_when_behind``; none without).
    """

    REMEMBERED = 256
    """Packets after which a time not yet out is forgotten, uncounted: a decoder holds a few frames
    (16 at most for H.264), so such a time is one the stream's clock went back past (a server that
    restarted its timestamps), which no later frame would pass in time; counting it as skipped
    once the clock passed it again would be wrong."""

    def __init__(self, stream, skip_when_behind: bool = False):
        self._context = stream.codec_context
        self.skip_when_behind = bool(skip_when_behind)
        self.behind = False
        self.skipped = 0
        self._sent: list[tuple[int, int]] = []  # (presentation time, packet number) of frames not out yet
        self._packets = 0

    def set_behind(self, behind: bool) -> None:
        """Skip non-reference frames from the next packet on (True), or decode all again (False)."""
        behind = bool(behind) and self.skip_when_behind
        if behind != self.behind:
            self._context.skip_frame = "NONREF" if behind else "DEFAULT"
            self.behind = behind

    def decode(self, packet) -> list:
        """The frames that ``packet`` completes (decoding order is not output order: often none,
        sometimes several), counting the frames skipped before them."""
        if self.skip_when_behind and packet.pts is not None and packet.size:
            self._packets += 1
            if self._packets % self.REMEMBERED == 0:
                self._forget_stale()
            heapq.heappush(self._sent, (packet.pts, self._packets))
        frames = list(packet.decode())
        for frame in frames:
            self._came_out(frame.pts)
        return frames

    def _came_out(self, pts) -> None:
        if pts is None:
            return
        while self._sent and self._sent[0][0] < pts:  # sent before it in presentation order, never out
            heapq.heappop(self._sent)
            self.skipped += 1
        if self._sent and self._sent[0][0] == pts:
            heapq.heappop(self._sent)

    def _forget_stale(self) -> None:
        fresh = [entry for entry in self._sent if entry[1] > self._packets - self.REMEMBERED]
        if len(fresh) != len(self._sent):
            self._sent = fresh
            heapq.heapify(self._sent)

    def finish(self) -> None:
        """The stream ended and the decoder was drained (or is let go): what was sent and never
        came out was skipped."""
        self.skipped += len(self._sent)
        self._sent.clear()
