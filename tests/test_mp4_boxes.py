"""Review round 17b: an MP4 whose first sample lies about its size is refused before ``av.open``.

FFmpeg reads a stream's first sample whole inside ``av.open`` (round 16a: +102,496 KiB of peak for
a 320 x 240 MP4 stating 100 MiB), before facesel knows the stream's frame size.
:mod:`facesel.sources.mp4_boxes` reads the box tree first. ``av.open`` is counted by a spy (no
timing): 0 calls for a refused file, 1 for the same file as it is. Malformed trees must give
:class:`MP4BoxError` (or be left to FFmpeg), never a hang or a crash. Files are small generated
stripes (no face), written to ``tmp_path``.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

import av
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import lying_mp4  # noqa: E402

from facesel.sources import mp4_boxes  # noqa: E402
from facesel.sources.backends import FileConnection, PyAVFileConnection, SourceError  # noqa: E402
from facesel.sources.file_frames import VideoFile  # noqa: E402
from facesel.sources.frame_limit import MAX_FRAME_PIXELS  # noqa: E402
from facesel.sources.mp4_boxes import MP4BoxError, check_video_file  # noqa: E402
from facesel.serve.source_file import check_source_file  # noqa: E402
from facesel.video import open_source  # noqa: E402

STATED = 100 << 20


@pytest.fixture
def opens(monkeypatch):
    """The calls of ``av.open`` (a list of their first arguments), FFmpeg still doing the work."""
    calls = []
    real = av.open

    def spy(target, *args, **kwargs):
        calls.append(str(target))
        return real(target, *args, **kwargs)

    monkeypatch.setattr(av, "open", spy)
    return calls


@pytest.fixture(scope="module")
def stripes() -> bytes:
    """The harmless faststart MP4 (twelve 320 x 240 frames), ``mdat`` to the file's end."""
    data = bytearray(lying_mp4.stripes_mp4())
    struct.pack_into(">I", data, data.index(b"mdat") - 4, 0)
    return bytes(data)


def _write(tmp_path, data: bytes, name: str = "clip.mp4") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _lying(stripes: bytes, sample: int = 0, stated: int = STATED) -> bytes:
    data = bytearray(stripes)
    at = data.index(b"stsz")
    struct.pack_into(">I", data, at + 16 + 4 * sample, stated)
    return bytes(data)


@pytest.mark.parametrize("sample", [0, 2])
def test_a_lying_sample_is_refused_before_av_open_by_every_local_reader(tmp_path, stripes, opens, sample):
    path = _write(tmp_path, _lying(stripes, sample))
    message = f"track 1's sample {sample} (of 12) states {STATED} bytes, more than {10 * 320 * 240 + (1 << 20)}"
    with pytest.raises(ValueError, match=r"sample") as refused:
        VideoFile(path, MAX_FRAME_PIXELS)
    assert str(path) in str(refused.value) and message in str(refused.value)
    assert "320x240" in str(refused.value)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        open_source(path)  # facesel run: refused before the header probe too
    for connection in (FileConnection, PyAVFileConnection):
        with pytest.raises(SourceError, match="states 104857600 bytes"):
            connection(path)
    with pytest.raises(ValueError, match=r"^cameras\.door\.source: .*states 104857600 bytes"):
        check_source_file(path, str(path), "cameras.door.source")  # serve --check, start and reload (ux27)
    assert opens == [], opens  # FFmpeg never read it


def test_the_same_file_as_it_is_opens_with_one_av_open(tmp_path, stripes, opens):
    """The guard of the test above: the spy sees FFmpeg's open when nothing is refused."""
    path = _write(tmp_path, stripes)
    video = VideoFile(path, MAX_FRAME_PIXELS)
    assert video.first_frame_decodes()
    video.close()
    assert opens == [str(path)]
    (track,) = check_video_file(path, MAX_FRAME_PIXELS)
    assert (track.width, track.height, track.samples) == (320, 240, 12)
    assert 0 < track.largest < mp4_boxes.sample_bound(320, 240)


def test_a_sample_at_the_bound_passes_and_one_byte_more_is_refused(tmp_path, stripes):
    bound = mp4_boxes.sample_bound(320, 240)
    assert check_video_file(_write(tmp_path, _lying(stripes, 5, bound), "at.mp4"), MAX_FRAME_PIXELS)
    with pytest.raises(MP4BoxError, match=f"sample 5 .*{bound + 1} bytes"):
        check_video_file(_write(tmp_path, _lying(stripes, 5, bound + 1), "over.mp4"), MAX_FRAME_PIXELS)


def test_a_stated_frame_above_max_frame_pixels_is_refused_before_av_open(tmp_path, stripes, opens):
    path = _write(tmp_path, stripes)
    with pytest.raises(ValueError, match=r"states 320x240 pixels \(76800\), more than max_frame_pixels = 76799"):
        VideoFile(path, 320 * 240 - 1)
    assert opens == []
    assert check_video_file(path, 320 * 240)  # at the bound: passes


def _fragmented() -> bytes:
    """Twelve 320 x 240 frames as a fragmented MP4 (empty moov, a moof per keyframe, gop 4)."""
    return lying_mp4.stripes(options={"movflags": "frag_keyframe+empty_moov"}, gop_size=4)


def test_a_fragment_stating_a_lying_first_sample_is_refused_before_av_open(tmp_path, opens):
    honest = _fragmented()
    opens.clear()  # the writer's own open
    assert honest.count(b"moof") >= 2
    path = _write(tmp_path, honest, "honest.mp4")
    assert check_video_file(path, MAX_FRAME_PIXELS)
    VideoFile(path, MAX_FRAME_PIXELS).close()
    assert opens == [str(path)]
    data = bytearray(honest)
    trun = data.index(b"trun")
    flags, count = struct.unpack_from(">II", data, trun + 4)
    assert flags & 0x200, hex(flags)  # sizes a sample
    first = trun + 12 + (4 if flags & 1 else 0) + (4 if flags & 4 else 0)
    size_at = first + (4 if flags & 0x100 else 0)
    struct.pack_into(">I", data, size_at, STATED)
    path = _write(tmp_path, bytes(data), "lying.mp4")
    with pytest.raises(MP4BoxError, match=f"states sample 0 \\(of {count}\\) of track 1 as {STATED} bytes"):
        VideoFile(path, MAX_FRAME_PIXELS)
    assert opens == [str(tmp_path / "honest.mp4")]


def _box(kind: bytes, payload: bytes = b"", size: int | None = None) -> bytes:
    return struct.pack(">I4s", len(payload) + 8 if size is None else size, kind) + payload


def _with_moov(stripes: bytes, change) -> bytes:
    """``stripes`` with its ``moov`` replaced by ``change(moov)`` (chunk offsets left: not decoded)."""
    at = stripes.index(b"moov") - 4
    (size,) = struct.unpack_from(">I", stripes, at)
    return stripes[:at] + change(stripes[at:at + size]) + stripes[at + size:]


_FTYP = _box(b"ftyp", b"isom\0\0\2\0isomiso2mp41")


@pytest.mark.parametrize("name, data, expected", [
    ("a header stating 4 bytes", _FTYP + _box(b"moov", size=4), "states 4 bytes, less than its own 8-byte header"),
    ("a 64-bit size of 12", _FTYP + _box(b"moov", struct.pack(">Q", 12), size=1),
     "states 12 bytes, less than its own 16-byte header"),
    ("a 64-bit size cut off", _FTYP + struct.pack(">I4s", 1, b"moov") + b"\0\0\0", "64-bit size that is not there"),
    ("nested 12 deep", _FTYP + (lambda: (lambda f: f(f, 12))(
        lambda f, n: _box(b"trak", f(f, n - 1)) if n else b""))(), "nested deeper than 10"),
    ("moov of trak in trak, 11 deep", _FTYP + _box(b"moov", (lambda f: f(f, 10))(
        lambda f, n: _box(b"trak", f(f, n - 1)) if n else b"")), "nested deeper than 10"),
    ("a compressed moov", _FTYP + _box(b"moov", _box(b"cmov", b"\0" * 16)), "compressed movie header"),
    ("trailing bytes under a header", _FTYP + b"\0\0\0", None),
])
def test_a_malformed_box_tree_is_refused_with_a_clear_error_or_left_to_ffmpeg(tmp_path, name, data, expected, opens):
    path = _write(tmp_path, data)
    if expected is None:
        assert check_video_file(path, MAX_FRAME_PIXELS) == []  # no track stated: FFmpeg says why
        return
    with pytest.raises(MP4BoxError, match=expected) as refused:
        VideoFile(path, MAX_FRAME_PIXELS)
    assert str(path) in str(refused.value)
    assert opens == []


def test_box_sizes_of_0_and_huge_run_to_the_parents_end_as_ffmpeg_reads_them(tmp_path, stripes):
    """Size 0 (to the end) and a 64-bit size far past the file's end are cut to the file, as FFmpeg's
    ``mov_read_default`` cuts them: the tables are read and the lie still found."""
    lying = _lying(stripes)
    at = lying.index(b"mdat") - 4
    huge = lying[:at] + struct.pack(">I4sQ", 1, b"mdat", 2**63) + lying[at + 8:]
    for data in (lying, huge):
        with pytest.raises(MP4BoxError, match="sample 0 .* states 104857600 bytes"):
            check_video_file(_write(tmp_path, data), MAX_FRAME_PIXELS)


def test_a_file_cut_inside_its_sample_table_is_refused(tmp_path, stripes):
    cut = stripes[:stripes.index(b"stsz") + 20]  # the table states 12 sizes, 1 is there
    with pytest.raises(MP4BoxError, match="stsz states 12 samples \\(48 bytes of sizes\\), its box holds 4 bytes"):
        check_video_file(_write(tmp_path, cut), MAX_FRAME_PIXELS)


def test_a_sample_table_stating_more_entries_than_its_box_holds_is_refused(tmp_path, stripes):
    data = bytearray(stripes)
    struct.pack_into(">I", data, data.index(b"stsz") + 12, 1_000_000)
    with pytest.raises(MP4BoxError, match="states 1000000 samples"):
        check_video_file(_write(tmp_path, bytes(data)), MAX_FRAME_PIXELS)


def test_a_uniform_size_is_checked_as_every_sample(tmp_path, stripes):
    data = bytearray(stripes)
    struct.pack_into(">I", data, data.index(b"stsz") + 8, STATED)  # sample_size != 0: one size for all
    with pytest.raises(MP4BoxError, match=f"states every sample as {STATED} bytes"):
        check_video_file(_write(tmp_path, bytes(data)), MAX_FRAME_PIXELS)


def test_many_boxes_and_a_large_moov_are_refused(tmp_path, stripes, monkeypatch):
    many = _FTYP + _box(b"free") * 200 + stripes[len(_FTYP):]
    path = _write(tmp_path, many)
    assert check_video_file(path, MAX_FRAME_PIXELS)
    monkeypatch.setattr(mp4_boxes, "MAX_BOXES", 100)
    with pytest.raises(MP4BoxError, match="more than 100 boxes"):
        check_video_file(path, MAX_FRAME_PIXELS)
    monkeypatch.setattr(mp4_boxes, "MAX_MOOV", 500)  # the stripes' moov: 885 bytes
    with pytest.raises(MP4BoxError, match="moov at offset .* states 877 bytes, more than 500"):
        check_video_file(_write(tmp_path, stripes), MAX_FRAME_PIXELS)


def test_random_damage_never_hangs_or_crashes(tmp_path, stripes):
    """Bytes of the moov overwritten at random (fixed seed): each file gives a result or MP4BoxError."""
    rng = np.random.default_rng(17)
    at = stripes.index(b"moov") - 4
    (size,) = struct.unpack_from(">I", stripes, at)
    outcomes = {"refused": 0, "passed": 0}
    for _ in range(300):
        data = bytearray(stripes)
        for where in rng.integers(at, at + size, 4):
            data[where] = int(rng.integers(0, 256))
        try:
            check_video_file(_write(tmp_path, bytes(data)), MAX_FRAME_PIXELS)
            outcomes["passed"] += 1
        except MP4BoxError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0 and outcomes["passed"] > 0, outcomes


def test_files_that_are_not_iso_bmff_are_left_to_their_readers(tmp_path):
    for name, data in (("a.mkv", b"\x1aE\xdf\xa3" + b"\0" * 60), ("a.gif", b"GIF89a" + b"\0" * 60), ("a.txt", b"")):
        assert check_video_file(_write(tmp_path, data, name), MAX_FRAME_PIXELS) is None
    assert check_video_file(tmp_path / "absent.mp4", MAX_FRAME_PIXELS) is None  # the reader says why


def test_a_file_opening_with_an_unknown_box_under_another_name_is_still_read(tmp_path, stripes):
    """FFmpeg's ``mov_probe`` skips unknown top-level boxes: so does the check, whatever the name."""
    hidden = _box(b"abcd", b"\0" * 24) + _lying(stripes)
    with pytest.raises(MP4BoxError, match="sample 0 .* states 104857600 bytes"):
        check_video_file(_write(tmp_path, hidden, "clip.bin"), MAX_FRAME_PIXELS)


def _shared_videos() -> list[Path]:
    root = os.environ.get("FACESEL_DATA")
    folder = Path(root) / "videos" if root else None
    if folder is None or not folder.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("FACESEL_DATA/videos is absent under CI")
        pytest.skip("FACESEL_DATA/videos is absent (the shared videos)")
    return sorted(p for p in [*folder.iterdir(), *(folder / "more").iterdir()]
                  if p.suffix.lower() in {".mp4", ".mov", ".mkv", ".m4v"})


def test_every_shared_video_still_opens(opens):
    videos = _shared_videos()
    assert len(videos) >= 30, videos
    checked = 0
    for path in videos:
        tracks = check_video_file(path, MAX_FRAME_PIXELS)
        if path.suffix.lower() == ".mp4":
            assert tracks, path
            checked += 1
            for track in tracks:  # with a wide margin: the largest shared sample is 3.2% of its bound
                assert track.largest < mp4_boxes.sample_bound(track.width, track.height) // 10, (path, track)
        video = VideoFile(path, MAX_FRAME_PIXELS)
        try:
            assert video.first_frame_decodes(), path
        finally:
            video.close()
    assert checked >= 20 and len(opens) == len(videos)  # 23 MP4s and 14 MKVs here
