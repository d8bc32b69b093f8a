"""How many bytes a reader takes from the central store for one sealed record (review 7b).

The store is not trusted with the reader's memory: whoever owns its tables (or its bucket) can put
any number of bytes under a record id, up to PostgreSQL's 1 GB per ``bytea`` or any size of
object, and a reader that fetched them whole allocated all of it before the digest check refused
the record. Every read is therefore bounded *before* the bytes travel: the PostgreSQL query asks
for the stored length first (``octet_length``, which PostgreSQL knows without reading the value)
and returns the bytes only when they fit; an object is fetched with a ``Range`` for the bound plus
one byte and read through a cap, whatever the answer claims.

The bound: the record format itself allows up to :data:`facesel.vault.record.MAX_RECORD` (1 GiB),
which is no protection; a camera's record is a face crop (tens of KB) plus an optional clip of
crops (a 200-frame clip of PNG face crops is a few MB). The default, 256 MiB, keeps a clip of
thousands of frames readable and an opener's memory safe; ``FACESEL_CENTRAL_MAX_RECORD_BYTES``
raises or lowers it (up to the format's own limit).
"""

from __future__ import annotations

import os

from facesel.vault.errors import RecordError
from facesel.vault.index import COLUMNS, IndexRow
from facesel.vault.record import MAX_RECORD

LIMIT_ENV = "FACESEL_CENTRAL_MAX_RECORD_BYTES"
DEFAULT_LIMIT = 256 << 20

ROWS_ENV = "FACESEL_CENTRAL_MAX_ROWS"
#: Rows a reader keeps in one list (``rows()``): about 1.3 KB of memory each (benchmarks/
#: central_rows_memory.py), so about 130 MB. A listing streams instead and has no such bound.
DEFAULT_ROWS = 100_000

#: The longest text a row of ``records`` may carry in any index column: record ids are 32 hex
#: characters, camera ids at most 128 (the ``cameras`` table's check), digests 64 hex characters.
MAX_ROW_TEXT = 256

LOG_LINE_ENV = "FACESEL_CENTRAL_MAX_LOG_LINE_BYTES"
#: The longest entry of the central log a reader takes whole (review 8b, finding 2). An entry is
#: under 1 KB but for an ``open``, which names every record opened: 35 bytes each, so a selection
#: of FACESEL_CENTRAL_MAX_ROWS (100,000) records is about 3.5 MB; 16 MiB leaves room for four times
#: that. The tables' owner could make one line 1 GB (PostgreSQL's bound) and a reader took it whole.
DEFAULT_LOG_LINE = 16 << 20

#: The longest ``received`` entry of the central log a reader takes (one is under 1 KB: ids, times,
#: a size and a digest).
MAX_RECEIVED_LINE = 4096


# The index columns of ``records`` for a query: the text ones only when at most MAX_ROW_TEXT bytes
# (else NULL), then the length of each text column, so that a stuffed row is refused unread.
_TEXT_COLUMNS = ("record_id", "camera_id", "sha256")
BOUNDED_INDEX_COLUMNS = ",".join(
    [f"CASE WHEN octet_length({c}) <= {MAX_ROW_TEXT} THEN {c} END" if c in _TEXT_COLUMNS else c for c in COLUMNS]
    + [f"octet_length({c})" for c in _TEXT_COLUMNS])


def checked_index_row(values: tuple) -> IndexRow:
    """An :class:`IndexRow` from a row of ``BOUNDED_INDEX_COLUMNS``; RecordError when a text column
    was too long for the query to return it."""
    row, lengths = values[:len(COLUMNS)], values[len(COLUMNS):]
    for column, length in zip(_TEXT_COLUMNS, lengths):
        if length is not None and length > MAX_ROW_TEXT:
            name = row[0] if lengths[0] <= MAX_ROW_TEXT else f"with an id of {lengths[0]} bytes"
            raise RecordError(f"record {name}: the central store's row has a {column} of {length} bytes, more than "
                              f"{MAX_ROW_TEXT} (refused unread)")
    return IndexRow(*row)


def _setting(name: str, default: int, highest: int | None, must: str) -> int:
    """The whole number in environment variable ``name`` (``default`` when unset or blank), at
    least 1 and at most ``highest``; otherwise ValueError naming the variable, ``must`` and its value."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1 or (highest is not None and value > highest):
        raise ValueError(f"{name} must be {must}, got {raw!r}")
    return value


def record_read_limit() -> int:
    """The most bytes a reader accepts for one record: ``FACESEL_CENTRAL_MAX_RECORD_BYTES`` or 256 MiB.

    Raises
    ------
    ValueError
        When the variable is not an integer in 1 .. MAX_RECORD (1 GiB), naming it and its value.
    """
    return _setting(LIMIT_ENV, DEFAULT_LIMIT, MAX_RECORD, f"a whole number of bytes from 1 to {MAX_RECORD}")


def row_limit() -> int:
    """The most index rows a reader keeps in one list: ``FACESEL_CENTRAL_MAX_ROWS`` or 100,000.

    Raises
    ------
    ValueError
        When the variable is not a whole number of at least 1, naming it and its value.
    """
    return _setting(ROWS_ENV, DEFAULT_ROWS, None, "a whole number of rows, at least 1")


def log_line_limit() -> int:
    """The most bytes a reader takes for one entry of the central log: ``FACESEL_CENTRAL_MAX_LOG_LINE_BYTES``
    or 16 MiB.

    Raises
    ------
    ValueError
        When the variable is not an integer in 1 .. 1 GiB (PostgreSQL's own bound), naming it and its value.
    """
    return _setting(LOG_LINE_ENV, DEFAULT_LOG_LINE, 1 << 30, f"a whole number of bytes from 1 to {1 << 30}")


def log_line_too_long(seq: int, length: int, limit: int) -> str:
    """The message for a central log entry longer than a reader takes (left unread)."""
    return (f"entry seq {seq} is {length} bytes, more than the {limit} a reader takes ({LOG_LINE_ENV}): not read "
            f"(an entry is under 1 KB, an opening of 100,000 records about 3.5 MB; raise {LOG_LINE_ENV} only for a "
            "store you trust)")


class TooManyRows(ValueError):
    """A selection of the central store matches more rows than a reader keeps in one list.

    Raised, never truncated: a list cut short would hide records from an opener without a word.
    """


def too_many_rows(location: str, limit: int) -> TooManyRows:
    """The refusal of a selection that matched more than ``limit`` rows (counted up to ``limit + 1``)."""
    return TooManyRows(f"the selection matches more than {limit} records in central store {location}, more than a "
                       f"reader keeps at once (about 1.3 KB of memory each): narrow it (a camera, a time window, "
                       f"record ids), or raise {ROWS_ENV} for a store you trust")


def too_large(record_id: str, where: str, size: int, limit: int) -> str:
    """The message for a record the store answers with more bytes than a reader takes."""
    return (f"record {record_id}: {where} holds {size} bytes for it, more than the {limit} a reader accepts "
            f"(a sealed record is far smaller; refused unread: raise {LIMIT_ENV} only for a store you trust "
            "to hold larger clips)")


def too_large_to_store(record_id: str, size: int, limit: int) -> str:
    """The reason ``receive`` gives for a record larger than a reader takes: stored, it could not be
    read back without raising the bound, so it is refused and stays with its sender."""
    return (f"record {record_id}: {size} bytes, more than the {limit} a reader of the central store accepts "
            f"({LIMIT_ENV}); refused, the camera keeps its copy: raise {LIMIT_ENV} for the forwarder and the "
            "readers alike to store it")
