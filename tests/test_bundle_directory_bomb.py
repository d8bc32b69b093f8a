"""A bundle whose zip directory is a bomb (review round 8c, session 17): ``zipfile`` builds one
object of about 450 bytes for every 47-byte entry of the central directory before a caller can
count them, so a 47 MB file of one million empty entries made ``verify-bundle`` hold 443 MB
before its member limit refused it (and a bundle may weigh 4 GiB). The verifier now counts the
entries from their lengths first: reading costs at most the directory's own bytes."""

from __future__ import annotations

import struct

import pytest
from peak_memory import run_fresh

_MEASURE = """
import sys
from peak_memory import peak_kib
from facesel.review.verify_bundle import BundleError, verify_bundle
before = peak_kib()
try:
    verify_bundle(sys.argv[1])
    print("VERIFIED")
except BundleError as err:
    print("refused:", err)
print(peak_kib() - before)
"""


def _directory_bomb(path, entries: int) -> None:
    """A zip of ``entries`` central-directory entries with one-byte names and no data (47 bytes each),
    zip64 end records (more than 65535 entries), written a chunk at a time."""
    entry = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    size = len(entry) * entries
    with open(path, "wb") as out:
        for start in range(0, entries, 10_000):
            out.write(entry * min(10_000, entries - start))
        out.write(struct.pack("<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size, 0))
        out.write(struct.pack("<4sIQI", b"PK\x06\x07", 0, size, 1))
        out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))


@pytest.mark.parametrize("entries", [300_000, 400_000], ids=["many-entries", "large-directory"])
def test_a_directory_of_many_entries_is_refused_before_zipfile_builds_them(tmp_path, entries):
    """300,000 entries (14 MB: under the directory's byte bound, over the member bound: counted) and
    400,000 (19 MB: over the byte bound, refused unread). Before, both were parsed whole: the
    reader grew by about nine times the file's size before the member limit said no."""
    bomb = tmp_path / "directory-bomb.zip"
    _directory_bomb(bomb, entries)
    size_kib = bomb.stat().st_size // 1024
    done = run_fresh(_MEASURE, bomb, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    grown_kib = int(lines[-1])
    # at most the directory's bytes and one copy of them; zipfile's objects weigh about nine times the file
    assert grown_kib < 2 * size_kib, f"verify-bundle grew by {grown_kib} KiB for a {size_kib} KiB directory bomb"
    assert lines[0].startswith("refused:") and "central directory" in lines[0], lines[0]
