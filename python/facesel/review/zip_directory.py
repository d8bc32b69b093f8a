"""Count a zip's central-directory entries before :mod:`zipfile` builds them (review round 8c).

``zipfile.ZipFile(path)`` reads the whole central directory that the end record declares and makes
one ``ZipInfo`` (about 450 bytes of Python objects) for each 47-byte entry before a caller can ask
how many there are: a 47 MB file of one million empty entries cost ``verify-bundle`` 443 MB, and
the 4 GiB a bundle may weigh would cost tens of GB. The entry count in the end record is the
writer's word (``zipfile`` does not stop at it), so the entries are counted from their own lengths,
in the same bytes and the same way ``zipfile`` walks them, without building anything.
"""

from __future__ import annotations

import struct
import zipfile
from typing import BinaryIO

_ENTRY_SIGNATURE = b"PK\x01\x02"
_ENTRY_FIXED = 46  # bytes of a central-directory entry before its name, extra field and comment
# zipfile's own reading of the end record (private, but it is exactly what ZipFile will use next)
_end_record = zipfile._EndRecData  # noqa: SLF001


def directory_problem(fp: BinaryIO, max_entries: int, max_bytes: int) -> str | None:
    """Why the zip open in ``fp`` (binary, seekable) must not be handed to ``zipfile``, or None.

    Reads the end record and at most ``max_bytes`` of central directory; refuses a directory
    larger than ``max_bytes`` or holding more than ``max_entries`` entries. A damaged directory
    that ``zipfile`` would refuse anyway returns None here: ``zipfile`` names the damage.
    """
    try:
        end = _end_record(fp)
    except OSError:
        return None
    if not end:
        return None
    size = end[zipfile._ECD_SIZE]  # noqa: SLF001
    if size > max_bytes:
        return f"its central directory declares {size} bytes, more than {max_bytes}"
    start = end[zipfile._ECD_LOCATION] - size  # noqa: SLF001  (where zipfile's "concat" puts it)
    if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # noqa: SLF001
        start -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    if start < 0:
        return None
    fp.seek(start)
    data = fp.read(size)
    count, at = 0, 0
    while at + _ENTRY_FIXED <= len(data) and data[at:at + 4] == _ENTRY_SIGNATURE:
        names, extra, comment = struct.unpack_from("<3H", data, at + 28)
        at += _ENTRY_FIXED + names + extra + comment
        count += 1
        if count > max_entries:
            return f"its central directory holds more than {max_entries} entries"
    return None
