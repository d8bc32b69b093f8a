"""Checked reading of JSON fields: the type and range of every value taken from a vault,
authority or camera file, before any arithmetic is done with it.

JSON gives back whatever the file holds: ``null``, a list where a number belongs, ``true`` where
an integer belongs (``bool`` is an ``int`` in Python), an integer of 400 digits (``float()`` of it
raises OverflowError), ``NaN`` or ``Infinity`` (Python's json reads both). Each helper here
accepts exactly one JSON type within a stated range and raises the caller's error class (a
ValueError subclass, so the CLI prints one line) naming the file and the field otherwise.
"""

from __future__ import annotations

import math
import re

# Bounds for values that are never legitimately outside them.
MAX_TIME = 1e11                      # Unix seconds (year 5138): any later "time" is garbage
MAX_DURATION = 1000 * 365.25 * 86400  # a thousand years: longer epochs or retention are garbage
MAX_INDEX = 2 ** 53                  # ids, sequence numbers, serials, sizes: exact in a float too
_TEXT_ID = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")


def describe(value: object) -> str:
    """A short description of a JSON value for an error message (never a 400-digit number)."""
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, int):
        return repr(value) if abs(value) < 10 ** 18 else "a huge integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return f"a {'list' if isinstance(value, list) else 'JSON object' if isinstance(value, dict) else type(value).__name__}"


def _fail(error: type[Exception], where: str, name: str, wanted: str, value: object) -> Exception:
    return error(f"{where}: field {name!r} must be {wanted}, got {describe(value)}")


def number(value: object, name: str, where: str, error: type[Exception], lo: float, hi: float,
           lo_inclusive: bool = True) -> float:
    """A finite JSON number (int or float, not bool) in [lo, hi] (or (lo, hi]), as float."""
    wanted = f"a number in {'[' if lo_inclusive else '('}{lo:g}, {hi:g}]"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(error, where, name, wanted, value)
    # Compare before converting: float() of a huge int raises OverflowError.
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(error, where, name, wanted, value)
    if value > hi or value < lo or (value == lo and not lo_inclusive):
        raise _fail(error, where, name, wanted, value)
    return float(value)


def integer(value: object, name: str, where: str, error: type[Exception], lo: int = 0, hi: int = MAX_INDEX) -> int:
    """A JSON integer (not bool, not a float) in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _fail(error, where, name, f"an integer in [{lo}, {hi}]", value)
    return value


def text(value: object, name: str, where: str, error: type[Exception], pattern: re.Pattern | None = None,
         max_len: int = 256) -> str:
    """A JSON string of at most ``max_len`` characters (matching ``pattern`` when given)."""
    if not isinstance(value, str) or len(value) > max_len or (pattern is not None and not pattern.match(value)):
        raise _fail(error, where, name, "a string" + (" of the expected form" if pattern is not None else ""), value)
    return value


def identifier(value: object, name: str, where: str, error: type[Exception]) -> str:
    """An id (authority, camera, vault): 1-128 letters, digits or ``._:-``."""
    return text(value, name, where, error, _TEXT_ID, 128)


def mapping(value: object, name: str, where: str, error: type[Exception]) -> dict:
    """``value`` when it is a JSON object (dict); else ``error`` naming ``name`` in ``where``."""
    if not isinstance(value, dict):
        raise _fail(error, where, name, "a JSON object", value)
    return value


def listing(value: object, name: str, where: str, error: type[Exception], max_len: int) -> list:
    """``value`` when it is a list of at most ``max_len`` items; else ``error`` naming ``name`` in ``where``."""
    if not isinstance(value, list) or len(value) > max_len:
        raise _fail(error, where, name, f"a list of at most {max_len} items", value)
    return value


def time_value(value: object, name: str, where: str, error: type[Exception]) -> float:
    """A point in time in Unix seconds, within [0, MAX_TIME]."""
    return number(value, name, where, error, 0.0, MAX_TIME)


def duration(value: object, name: str, where: str, error: type[Exception]) -> float:
    """A positive duration in seconds, at most MAX_DURATION."""
    return number(value, name, where, error, 0.0, MAX_DURATION, lo_inclusive=False)
