"""Checks of the arguments that choose records in the vault's Python API: record ids and a
seal-time window (:meth:`facesel.vault.Vault.rows`, :func:`facesel.vault.open_records`); the
number check of a time (:func:`unix_seconds`) is also the purges' (``now``).

Without them a record id given bare (``rows(record_ids=rid)``) was iterated by its characters:
``Vault.rows`` answered ``[]`` (no record has the id ``"0"``) and ``open_records`` said "record id
must be 32 lowercase hex characters, got '0'"; a time given as text (``start="2026-12-06"``)
was compared by SQLite as text, which sorts after every number: ``[]`` again, as for ``nan``,
and ``open_records`` failed with Python's "'>=' not supported between instances of 'float' and
'str'" (ux18).
"""

from __future__ import annotations

import math
import numbers
import os


def check_record_ids(record_ids) -> list[str] | None:
    """``record_ids`` as a list of strings, or None; TypeError for one id given bare or an id that is no string."""
    if record_ids is None:
        return None
    if isinstance(record_ids, (str, bytes, os.PathLike)):
        raise TypeError(f"record_ids must be a list of record ids, got one {type(record_ids).__name__} "
                        f"({record_ids!r}): put it in a list, [record_id]")
    try:
        ids = list(record_ids)
    except TypeError:
        raise TypeError(f"record_ids must be a list of record ids, got {type(record_ids).__name__}") from None
    for rid in ids:
        if not isinstance(rid, str):
            raise TypeError(f"record_ids must hold record ids (str), got {rid!r}")
    return ids


def unix_seconds(value, name: str) -> float:
    """``value`` (Unix seconds: a real number, not a bool) as a float, ``inf`` for an int beyond a
    float; TypeError naming ``name`` otherwise (text, say: float("2026-12-06") named nothing)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        hint = (" (facesel.vault.timeparse.parse_time turns text such as '2026-12-06T21:50' into them)"
                if isinstance(value, str) else "")
        raise TypeError(f"{name} must be Unix seconds (a number) or None, got {value!r}{hint}")
    try:
        return float(value)
    except OverflowError:  # an int beyond a float
        return math.inf


def check_seal_time(value, name: str) -> float | None:
    """``value`` (Unix seconds: a finite real number, or None) as a float; TypeError or ValueError naming ``name``."""
    if value is None:
        return None
    seconds = unix_seconds(value, name)
    if not math.isfinite(seconds):
        raise ValueError(f"{name} must be a finite number of Unix seconds, got {value!r}")
    return seconds
