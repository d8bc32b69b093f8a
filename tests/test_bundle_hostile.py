"""A hostile evidence bundle handed to `facesel verify-bundle` (review round 3, session 12): the
checker reads only what the bundle writer makes (stored members whose sizes add up to no more than
the file), so a small zip cannot make it decompress or read gigabytes; and nothing it prints can
carry terminal control sequences from the bundle."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from facesel.review.bundle import pack
from facesel.review.verify_bundle import BundleError, verify_bundle

MIB = 1 << 20


def _deflated_zeros(path, members: int, mib_each: int) -> None:
    """A zip of ``members`` deflated members of ``mib_each`` MiB of zeros (about 1 KiB per MiB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(members):
            with zf.open(f"records/r{i}/crop.png", "w", force_zip64=True) as f:
                for _ in range(mib_each):
                    f.write(bytes(MIB))


def _peak_while_verifying(path) -> tuple[int, str]:
    tracemalloc.start()
    try:
        with pytest.raises(BundleError) as caught:
            verify_bundle(path)
        return tracemalloc.get_traced_memory()[1], str(caught.value)
    finally:
        tracemalloc.stop()


def test_a_decompression_bomb_is_refused_before_any_member_is_inflated(tmp_path):
    bomb = tmp_path / "bomb.zip"
    _deflated_zeros(bomb, members=2, mib_each=128)
    assert bomb.stat().st_size < MIB  # 256 MiB of members in well under 1 MiB
    peak, message = _peak_while_verifying(bomb)
    assert peak < 16 * MIB, f"verify-bundle held {peak / MIB:.0f} MiB for a {bomb.stat().st_size}-byte file"
    assert "stored" in message


def test_members_declaring_more_bytes_than_the_file_holds_are_refused(tmp_path):
    """Stored members that overlap (every entry pointing at the same bytes) would multiply the reads:
    the declared sizes may not add up to more than the file."""
    data = pack([("a.bin", bytes(64 * 1024))])
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.infolist()[0]
    # a second central-directory entry for the same local header: two members, one copy of the bytes
    cd_start = raw.rfind(b"PK\x01\x02")
    eocd = raw.rfind(b"PK\x05\x06")
    entry = bytes(raw[cd_start:eocd])
    twin = entry.replace(b"a.bin", b"b.bin")
    raw = raw[:cd_start] + entry + twin + raw[eocd:]
    eocd = raw.rfind(b"PK\x05\x06")
    raw[eocd + 8:eocd + 10] = (2).to_bytes(2, "little")
    raw[eocd + 10:eocd + 12] = (2).to_bytes(2, "little")
    raw[eocd + 12:eocd + 16] = (2 * len(entry)).to_bytes(4, "little")
    path = tmp_path / "overlap.zip"
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as zf:  # the container itself is readable: two names, one copy of the data
        assert [i.filename for i in zf.infolist()] == ["a.bin", "b.bin"] and info.file_size == 64 * 1024
    with pytest.raises(BundleError, match="more bytes than the file holds|overlap"):
        verify_bundle(path)


@pytest.mark.parametrize("flag", [0x01, 0x20, 0x40])  # encrypted, compressed patched data, strong encryption
def test_a_flag_bit_zipfile_cannot_read_is_a_refusal_not_a_crash(tmp_path, flag):
    """One flipped bit of a member's flag field (local header and directory entry alike) made zipfile
    raise RuntimeError or NotImplementedError, and verify-bundle ended in a traceback (session 20,
    bundle21: found by flipping every header byte of a genuine bundle)."""
    raw = bytearray(pack([("manifest.json", b"{}"), ("README.txt", b"text")]))
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        raw[at + flags_at] |= flag
    path = tmp_path / "flagged.zip"
    path.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="is not an intact zip file"):
        verify_bundle(path)
