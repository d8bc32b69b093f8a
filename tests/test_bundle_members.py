"""The streaming reader of `verify-bundle` (review round 11, attack20): its container comparison says
what comparing with the bundle writer's own ``pack`` said, and a member that changes in the file
after the first reading is refused when read again, never checked in its new form."""

from __future__ import annotations

import os
import zipfile
import zlib

import pytest
from facesel.review.bundle import pack
from facesel.review.bundle_members import CHUNK, MemberReadError, scan_members

MEMBERS = [("manifest.json", b"{}"), ("empty.txt", b""), ("records/a/crop.png", bytes(range(256)) * 9000),
           ("sealed/a.fsr", os.urandom(CHUNK + 17))]  # one member across two pieces


def _scan(path):
    fp = open(path, "rb")  # noqa: SIM115  (closed by the caller with the members)
    zf = zipfile.ZipFile(fp)
    return fp, scan_members(zf, zf.infolist(), fp.fileno(), str(path))


def _altered(path) -> bool:
    fp, members = _scan(path)
    with fp:
        members.close()
        return members.container.altered


def test_the_writers_own_bytes_are_not_altered_and_any_other_container_is(tmp_path):
    genuine = pack(MEMBERS)
    path = tmp_path / "b.zip"
    path.write_bytes(genuine)
    assert not _altered(path)
    changes = {"a local header's time": genuine.index(b"PK\x03\x04") + 10,
               "the central directory's attributes": genuine.rindex(b"PK\x01\x02") + 38,
               "the end record's comment length": len(genuine) - 2}
    for what, at in changes.items():
        raw = bytearray(genuine)
        raw[at] ^= 0x01
        path.write_bytes(bytes(raw))
        with zipfile.ZipFile(path) as zf:  # still a zip whose members read as before
            assert [zf.read(i) for i in zf.infolist()] == [d for _, d in MEMBERS], what
        assert _altered(path), what
    path.write_bytes(genuine + b"\0")  # a byte after the end record
    assert _altered(path)


def test_a_member_changed_after_the_first_reading_is_refused_when_read_again(tmp_path):
    genuine = pack(MEMBERS)
    path = tmp_path / "b.zip"
    path.write_bytes(genuine)
    name, original = MEMBERS[2]
    changed = bytearray(original)
    changed[0] ^= 0xFF
    fp, members = _scan(path)
    with fp:
        assert members["manifest.json"] == b"{}" and members.matches(name, original)
        with open(path, "r+b") as writer:  # the same length, in place, after the first reading
            writer.seek(genuine.index(original))
            writer.write(changed)
        with pytest.raises(MemberReadError, match="not an intact zip file .*CRC"):
            members[name]
        # a CRC-32 is no defence against a chosen change (a collision takes four bytes): with the
        # changed bytes' CRC, only the digest of the first reading tells them apart
        members._infos[name].CRC = zlib.crc32(changed)  # noqa: SLF001
        for read_again in (lambda: members[name], lambda: members.matches(name, bytes(changed))):
            with pytest.raises(MemberReadError, match=f"{name} changed while the bundle was being checked"):
                read_again()
        members.close()
