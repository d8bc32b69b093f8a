"""An MP4 / MOV file's sample sizes checked before FFmpeg reads it (review round 17b).

Round 16a measured it: FFmpeg reads a stream's first sample whole inside ``av.open``
(``avformat_find_stream_info`` reads a first packet to learn the pixel format), at the size the
file's sample table (``stsz``) states, before facesel learns the stream's frame size: a 320 x 240
MP4 stating a 100 MiB first sample grew the reader's peak by +102,496 KiB, bounded only by FFmpeg's
allocation cap for the configured ``max_frame_pixels`` (about 317 MiB at the default 8K bound,
:mod:`facesel.sources.alloc_cap`). :func:`check_video_file` reads the ISO-BMFF box tree (MP4,
MOV, M4V, 3GP, fragmented MP4) in Python first and refuses, naming the file, the track, the
sample and the sizes:

- a video track whose sample entry (``stsd``) states more than ``max_frame_pixels`` pixels;
- a video sample larger than :func:`sample_bound` of the stated frame: :data:`BYTES_PER_PIXEL`
  bytes a pixel plus :data:`SAMPLE_SLACK`. Why: a coded picture is not larger than the raw one
  by more than its headers. H.264 caps each macroblock's coded bits at ``128 + RawMbBits``
  (Annex A.3.1), RawMbBits being the raw macroblock, ``256 x BitDepthY + 2 x MbWidthC x
  MbHeightC x BitDepthC`` (at most 5.25 bytes a pixel, 4:4:4 at 14 bits); the widest frames
  stored uncompressed in a MOV sample are 16-bit RGBA (``b64a``, 8 bytes a pixel) and PNG (raw rows plus a filter byte a row and deflate's 5 bytes
  a 65,535-byte stored block). 10 bytes a pixel (the same as the allocation cap's) leaves a
  quarter over the widest; the 1 MiB covers headers (parameter sets, SEI) and small frames;
- a sample of another track (audio, timed metadata) above :data:`OTHER_SAMPLE_MAX` (16 MiB), and a
  uniform sample size above :data:`OTHER_UNIFORM_MAX` (FFmpeg packs up to 1,024 uniform audio
  samples in one packet): a FLAC frame is at most 65,535 samples x 8 channels x 4 bytes (2 MiB),
  an AAC frame 768 bytes a channel;
- fragmented MP4 alike: every top-level ``moof``'s ``trun`` sizes (else ``tfhd``'s, else
  ``trex``'s defaults) against the bound of the track its ``tfhd`` names;
- a box tree FFmpeg could be led through otherwise: a header stating fewer bytes than itself,
  boxes nested deeper than :data:`MAX_DEPTH` (FFmpeg's own ``mov`` limit), more than
  :data:`MAX_BOXES` boxes, a ``moov`` above :data:`MAX_MOOV`, a sample table stating more entries
  than its box holds (FFmpeg reads the entries it is told, past the box), a compressed ``moov``
  (``cmov``: its tables cannot be checked without inflating it).

A box running past its parent (or the file's end) is cut to it, as FFmpeg's ``mov`` demuxer cuts
it (``mov_read_default``), so a recording cut short in its ``mdat`` still opens; a table cut
short is refused. A size of 0 runs to the parent's end, a size of 1 is followed by a 64-bit size.
Files that are not ISO-BMFF (Matroska, AVI, MPEG-TS, GIF) are not read here
(:func:`check_video_file` returns None): their readers stay bounded by the allocation cap alone.
The file is read with seeks, at most :data:`_CHUNK` bytes at a time: the memory this takes does
not depend on what the file states.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BYTES_PER_PIXEL = 10
"""Bytes a pixel of the stated frame a video sample may hold (see the module's docstring)."""
SAMPLE_SLACK = 1 << 20
"""Bytes a video sample may hold beyond :data:`BYTES_PER_PIXEL` (headers, small frames)."""
OTHER_SAMPLE_MAX = 16 << 20
"""The largest sample of a track that is not video (audio, timed metadata, subtitles)."""
OTHER_UNIFORM_MAX = OTHER_SAMPLE_MAX // 1024
"""The largest uniform sample size (``stsz``'s ``sample_size``) of a track that is not video:
FFmpeg's ``mov_build_index`` reads up to 1,024 such samples as one packet."""
MAX_DEPTH = 10
"""Boxes nested deeper are refused (FFmpeg's ``mov_read_default``: "Atoms too deeply nested")."""
MAX_BOXES = 1_000_000
"""Box headers read at most (a fragmented MP4 of one fragment a frame at 30 fps has about 7 boxes a
frame: over an hour)."""
MAX_MOOV = 256 << 20
"""The largest ``moov`` read: a day of 60 fps video (5.2 million samples: ``stsz`` 4 bytes, ``ctts``
8, ``co64`` at most 8 each) and 48 kHz AAC audio (4 million samples, 12 bytes each) state about
150 MB of tables."""
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"edts", b"dinf"}
"""Boxes holding boxes that FFmpeg's ``mov`` demuxer descends into and whose tables matter here."""
_TOP_LEVEL = {b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"moof",
              b"sidx", b"mfra", b"junk", b"pict", b"udta", b"meta", b"prfl"}
"""Box types that FFmpeg's ``mov_probe`` takes as MP4 / MOV signs (and common top-level boxes)."""
_VIDEO_HANDLERS = {b"vide", b"pict", b"auxv"}
"""``hdlr`` types of picture tracks (video; an AVIF / HEIF image sequence and its alpha plane)."""
_CHUNK = 1 << 20
_PROBE_BOXES = 4096
"""Top-level boxes :func:`is_iso_bmff` walks at most (a file FFmpeg probes has its signs in its
first megabytes)."""


class MP4BoxError(ValueError):
    """An MP4 / MOV file refused before FFmpeg reads it; the message names the file and the sizes."""


@dataclass
class _Track:
    """What one ``trak`` states: its id (``tkhd``), handler (``hdlr``), sizes and sample sizes."""

    number: int
    track_id: int = 0
    handler: bytes = b""
    tkhd_size: tuple[int, int] = (0, 0)
    entry_sizes: list = field(default_factory=list)
    tables: list = field(default_factory=list)  # (kind, uniform, count, offset of the entries, field bits)
    bound: int = 0  # the largest sample it may state (set by _Reader.check)
    why: str = ""   # what the bound is for, in messages


@dataclass
class VideoTrack:
    """A video track as the file states it: ``track_id`` (``tkhd``), ``width`` x ``height`` (the
    largest sample entry's, else ``tkhd``'s display size), ``samples`` in its sample table and the
    largest one's size in bytes."""

    track_id: int
    width: int
    height: int
    samples: int
    largest: int


def sample_bound(width: int, height: int) -> int:
    """The most bytes an honest coded picture of ``width`` x ``height`` pixels holds (see the
    module's docstring): :data:`BYTES_PER_PIXEL` a pixel plus :data:`SAMPLE_SLACK`."""
    return BYTES_PER_PIXEL * width * height + SAMPLE_SLACK


def is_iso_bmff(path) -> bool:
    """Whether FFmpeg's ``mov`` demuxer may take ``path``: its name says MP4 / MOV (FFmpeg also
    chooses by the name), or its top-level boxes, walked as ``mov_probe`` walks them (unknown
    types skipped, up to :data:`_PROBE_BOXES` boxes, stopping at a size under 8), include one of
    :data:`_TOP_LEVEL` (a file opening with an unknown box and then a ``moov`` is FFmpeg's)."""
    if Path(str(path)).suffix.lower() in {".mp4", ".mov", ".m4v", ".3gp", ".3g2", ".mj2", ".m4a", ".f4v"}:
        return True
    try:
        with open(path, "rb") as file:
            end = os.fstat(file.fileno()).st_size
            at = 0
            for _ in range(_PROBE_BOXES):
                file.seek(at)
                head = file.read(16)
                if len(head) < 8:
                    return False
                size, kind = struct.unpack(">I4s", head[:8])
                if size == 1 and len(head) == 16:
                    (size,) = struct.unpack(">Q", head[8:])
                elif size == 0:
                    size = end - at
                if size < 8:
                    return False
                if kind in _TOP_LEVEL:
                    return True
                at += size
    except OSError:
        return False
    return False


def check_video_file(path, max_pixels: int, what: str = "video file") -> list[VideoTrack] | None:
    """Refuse ``path`` (MP4BoxError naming it, the track, the sample and the sizes) when its box tree
    states a sample larger than its track can honestly hold or a video frame above ``max_pixels``,
    or is malformed (see the module's docstring); otherwise its video tracks. None when the file is
    not ISO-BMFF (another demuxer's, not read here) or cannot be opened (the caller's reader says
    why)."""
    if not is_iso_bmff(path):
        return None
    try:
        file = open(path, "rb")
    except OSError:
        return None
    with file:
        reader = _Reader(file, os.fstat(file.fileno()).st_size, f"{what} {path}")
        reader.walk(0, reader.size, 0, None)
        return reader.check(max_pixels)


class _Reader:
    """One walk of a file's box tree: the tracks it states and the fragments' sample sizes."""

    def __init__(self, file, size: int, name: str):
        self.file, self.size, self.name = file, size, name
        self.boxes = 0
        self.tracks: list[_Track] = []
        self.trex: dict[int, int] = {}  # track_ID -> default_sample_size
        self.fragments: list = []  # (trun offset, track_ID, count, first entry, fields a sample, size's field, default)
        self.traf = [0, None]  # the current traf's track_ID and default sample size

    def fail(self, why: str) -> MP4BoxError:
        return MP4BoxError(f"{self.name}: {why}: refused before FFmpeg reads it")

    def read(self, at: int, n: int) -> bytes:
        self.file.seek(at)
        data = self.file.read(n)
        if len(data) != n:
            raise self.fail(f"{n} bytes at offset {at} are past the file's end ({self.size} bytes)")
        return data

    def walk(self, start: int, end: int, depth: int, track: _Track | None, parent: bytes = b"") -> None:
        """The boxes in ``[start, end)`` of the file, at ``depth``, inside ``track`` (if any)."""
        if depth > MAX_DEPTH:
            raise self.fail(f"boxes nested deeper than {MAX_DEPTH} at offset {start} (FFmpeg's own limit)")
        at = start
        while end - at >= 8:  # fewer bytes left are ignored, as FFmpeg ignores them
            self.boxes += 1
            if self.boxes > MAX_BOXES:
                raise self.fail(f"more than {MAX_BOXES} boxes")
            size, kind = struct.unpack(">I4s", self.read(at, 8))
            header = 8
            if size == 1:
                if end - at < 16:
                    raise self.fail(f"box {kind!r} at offset {at} states a 64-bit size that is not there")
                (size,) = struct.unpack(">Q", self.read(at + 8, 8))
                header = 16
            elif size == 0:
                size = end - at  # to the end of the parent (of the file, at the top)
            if size < header:
                raise self.fail(f"box {kind!r} at offset {at} states {size} bytes, less than its own "
                                f"{header}-byte header")
            box_end = min(at + size, end)  # cut to the parent, as FFmpeg cuts it
            self.box(kind, at + header, box_end, depth, track, parent)
            at = box_end

    def box(self, kind: bytes, start: int, end: int, depth: int, track: _Track | None, parent: bytes) -> None:
        """One box's payload ``[start, end)``."""
        if kind == b"cmov":
            raise self.fail(f"a compressed movie header (cmov) at offset {start}: its sample tables cannot be "
                            "checked")
        if kind == b"moov" and end - start > MAX_MOOV:
            raise self.fail(f"moov at offset {start} states {end - start} bytes, more than {MAX_MOOV}")
        if kind == b"trak" and parent == b"moov":
            track = _Track(len(self.tracks) + 1)
            self.tracks.append(track)
        if kind == b"traf":
            self.traf = [0, None]  # its tfhd's track_ID and default sample size, for its truns
        if kind in _CONTAINERS:
            self.walk(start, end, depth + 1, track, kind)
        elif kind == b"tfhd" and parent == b"traf":
            self.tfhd(start, end)
        elif kind == b"trun" and parent == b"traf":
            self.trun(start, end)
        elif track is not None and kind == b"tkhd":
            self.tkhd(track, start, end)
        elif track is not None and kind == b"hdlr" and parent == b"mdia":
            track.handler = self.read(start + 8, 4) if end - start >= 12 else b""
        elif track is not None and kind == b"stsd" and parent == b"stbl":
            self.stsd(track, start, end)
        elif track is not None and kind in (b"stsz", b"stz2") and parent == b"stbl":
            self.stsz(track, kind, start, end)
        elif kind == b"trex" and parent == b"mvex" and end - start >= 24:
            track_id, _, _, default_size = struct.unpack(">IIII", self.read(start + 4, 16))
            self.trex[track_id] = default_size

    def tfhd(self, start: int, end: int) -> None:
        if end - start < 8:
            raise self.fail(f"a tfhd at offset {start} holds {end - start} bytes")
        flags, track_id = struct.unpack(">II", self.read(start, 8))
        at = start + 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0) + (4 if flags & 0x08 else 0)
        default = None
        if flags & 0x10:
            if end - at < 4:
                raise self.fail(f"the tfhd at offset {start} states a default sample size that is not there")
            (default,) = struct.unpack(">I", self.read(at, 4))
        self.traf = [track_id, default]

    def trun(self, start: int, end: int) -> None:
        if end - start < 8:
            raise self.fail(f"a trun at offset {start} holds {end - start} bytes")
        flags, count = struct.unpack(">II", self.read(start, 8))
        first = start + 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
        fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
        stride = 4 * len(fields)
        if count * stride > end - first:
            raise self.fail(f"the trun at offset {start} states {count} samples ({count * stride} bytes), its "
                            f"box holds {max(0, end - first)}")
        track_id, default = self.traf
        if default is None:
            default = self.trex.get(track_id, 0)
        where = fields.index(0x200) if 0x200 in fields else None
        self.fragments.append((start, track_id, count, first, len(fields), where, default))

    def tkhd(self, track: _Track, start: int, end: int) -> None:
        version = self.read(start, 1)[0]
        id_at, size_at = (start + 12, start + 76) if version == 0 else (start + 20, start + 88)
        if end - start < size_at - start + 8:
            raise self.fail(f"track {track.number}'s tkhd holds {end - start} bytes, too few for its version")
        (track.track_id,) = struct.unpack(">I", self.read(id_at, 4))
        width, height = struct.unpack(">II", self.read(size_at, 8))
        track.tkhd_size = (width >> 16, height >> 16)  # 16.16 fixed point

    def stsd(self, track: _Track, start: int, end: int) -> None:
        if end - start < 8:
            raise self.fail(f"track {track.number}'s stsd holds {end - start} bytes")
        (count,) = struct.unpack(">I", self.read(start + 4, 4))
        at = start + 8
        for index in range(count):
            if end - at < 8:
                raise self.fail(f"track {track.number}'s stsd states {count} entries, its box holds {index}")
            (size,) = struct.unpack(">I", self.read(at, 4))
            if size < 8 or size > end - at:
                raise self.fail(f"track {track.number}'s sample entry {index} states {size} bytes "
                                f"({end - at} left in its stsd)")
            if size >= 36:  # a visual sample entry: 8 header, 6 reserved, 2 index, 16 predefined, then w, h
                track.entry_sizes.append(struct.unpack(">HH", self.read(at + 32, 4)))
            at += size

    def stsz(self, track: _Track, kind: bytes, start: int, end: int) -> None:
        if end - start < 12:
            raise self.fail(f"track {track.number}'s {kind.decode()} holds {end - start} bytes")
        if kind == b"stsz":
            uniform, count = struct.unpack(">II", self.read(start + 4, 8))
            bits = 0 if uniform else 32
        else:
            bits = self.read(start + 7, 1)[0]
            (count,) = struct.unpack(">I", self.read(start + 8, 4))
            uniform = 0
            if bits not in (4, 8, 16):
                raise self.fail(f"track {track.number}'s stz2 states {bits}-bit sizes (4, 8 or 16 only)")
        need = (count * bits + 7) // 8
        if need > end - start - 12:
            raise self.fail(f"track {track.number}'s {kind.decode()} states {count} samples "
                            f"({need} bytes of sizes), its box holds {end - start - 12} bytes")
        track.tables.append((kind, uniform, count, start + 12, bits))

    def sizes(self, offset: int, count: int, bits: int):
        """The sample sizes of a table, :data:`_CHUNK` bytes at a time: ``(first index, uint32 array)``."""
        step = _CHUNK * 8 // bits
        for first in range(0, count, step):
            n = min(step, count - first)
            raw = self.read(offset + first * bits // 8, (n * bits + 7) // 8)
            if bits == 32:
                yield first, np.frombuffer(raw, ">u4")
            elif bits == 16:
                yield first, np.frombuffer(raw, ">u2")
            elif bits == 8:
                yield first, np.frombuffer(raw, np.uint8)
            else:  # 4-bit: high nibble first
                pairs = np.frombuffer(raw, np.uint8)
                yield first, np.stack([pairs >> 4, pairs & 15], axis=1).reshape(-1)[:n]

    def check(self, max_pixels: int) -> list[VideoTrack]:
        """Every table's samples against its track's bound; the video tracks."""
        videos = []
        by_id = {}
        for track in self.tracks:
            by_id[track.track_id] = track
            video = track.handler in _VIDEO_HANDLERS
            bound, uniform_bound, why = OTHER_SAMPLE_MAX, OTHER_UNIFORM_MAX, "a track that is not video"
            width = height = 0
            if video:
                width, height = max(track.entry_sizes, key=lambda s: s[0] * s[1], default=(0, 0))
                if width * height > max_pixels:
                    raise self.fail(f"video track {track.number} states {width}x{height} pixels "
                                    f"({width * height}), more than max_frame_pixels = {max_pixels} "
                                    "(raise --max-frame-pixels for a file you trust)")
                if width * height == 0:
                    width, height = track.tkhd_size
                    if width * height > max_pixels:
                        width = height = 0
                bound = uniform_bound = sample_bound(width, height) if width * height else \
                    sample_bound(max_pixels, 1)
                why = f"a frame of {width}x{height} pixels" if width * height else \
                    f"a frame of max_frame_pixels = {max_pixels}"
            track.bound, track.why = bound, why
            largest = samples = 0
            for kind, uniform, count, offset, bits in track.tables:
                samples = max(samples, count)
                if uniform:
                    if uniform > uniform_bound and count:
                        raise self.fail(f"track {track.number} states every sample as {uniform} bytes, more than "
                                        f"{uniform_bound} ({why})")
                    largest = max(largest, uniform)
                    continue
                for first, sizes in self.sizes(offset, count, bits):
                    over = np.flatnonzero(sizes > bound)
                    if over.size:
                        raise self.fail(f"track {track.number}'s sample {first + int(over[0])} (of {count}) states "
                                        f"{int(sizes[over[0]])} bytes, more than {bound} ({why}; "
                                        f"{BYTES_PER_PIXEL} bytes a pixel and {SAMPLE_SLACK} more)")
                    if sizes.size:
                        largest = max(largest, int(sizes.max()))
            if video:
                videos.append(VideoTrack(track.track_id, width, height, samples, largest))
        for start, track_id, count, first, fields, where, default in self.fragments:
            track = by_id.get(track_id)
            bound, why = (track.bound, track.why) if track else (OTHER_SAMPLE_MAX, "a track the moov does not state")
            name = f"track {track.number}" if track else f"track id {track_id}"
            if where is None:
                if default > bound and count:
                    raise self.fail(f"the fragment at offset {start} states its {count} samples of {name} as "
                                    f"{default} bytes each, more than {bound} ({why})")
                continue
            step = max(1, _CHUNK // (4 * fields))
            for index in range(0, count, step):
                n = min(step, count - index)
                rows = np.frombuffer(self.read(first + 4 * fields * index, 4 * fields * n), ">u4").reshape(n, fields)
                over = np.flatnonzero(rows[:, where] > bound)
                if over.size:
                    raise self.fail(f"the fragment at offset {start} states sample {index + int(over[0])} (of "
                                    f"{count}) of {name} as {int(rows[over[0], where])} bytes, more than {bound} "
                                    f"({why}; {BYTES_PER_PIXEL} bytes a pixel and {SAMPLE_SLACK} more)")
        return videos
