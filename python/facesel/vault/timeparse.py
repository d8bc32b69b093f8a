"""Durations (``30d``, ``12h``) and points in time (ISO 8601 or Unix seconds) for the CLI."""

from __future__ import annotations

import datetime as _dt
import math
import re

from facesel.vault.fields import MAX_DURATION, MAX_TIME

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str, name: str = "duration") -> float:
    """Seconds in ``text`` such as ``"1d"``, ``"30d"``, ``"12h"``, ``"90m"``, ``"3600"`` (seconds).

    Raises
    ------
    ValueError
        Naming ``name`` and the value, when it is not a positive duration of at most a thousand
        years (:data:`facesel.vault.fields.MAX_DURATION`: every file that stores a duration refuses
        a longer one, so it is refused here, before anything is written).
    """
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{name} must look like 30d, 12h, 90m, 45s or 3600, got {text!r}")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]  # 400 nines: inf, refused below
    if seconds <= 0:
        raise ValueError(f"{name} must be positive, got {text!r}")
    if not seconds <= MAX_DURATION:
        raise ValueError(f"{name} must be at most 1000 years, got {_short(text)}")
    return seconds


def parse_time(text: str, name: str = "time") -> float:
    """Unix seconds from ``"1767225600"`` or an ISO 8601 date/time (UTC when no zone is given).

    Raises ValueError naming ``name`` and the value unless the time lies in [0, MAX_TIME]
    (1970 to the year 5138, :data:`facesel.vault.fields.MAX_TIME`): ``nan`` compares false with
    every record time (a purge at ``--now nan`` kept everything and said so as a success) and
    ``inf`` or ``1e30`` made an authority whose epochs no clock reaches."""
    text = str(text).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{name} must be Unix seconds or ISO 8601 (e.g. 2026-11-29T12:00), "
                             f"got {_short(text)}") from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        seconds = value.timestamp()
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_TIME):
        raise ValueError(f"{name} must be a time from 1970 to the year 5138 (Unix seconds 0 to {MAX_TIME:.0f}), "
                         f"got {_short(text)}")
    return seconds


def _short(text: str) -> str:
    """``text`` for an error message: quoted, and never 400 characters long."""
    text = str(text)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def format_time(seconds: float) -> str:
    """ISO 8601 UTC, to the second (Unix seconds as a number when no calendar date can show it)."""
    try:
        return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError, TypeError):
        return f"{seconds!r} (Unix seconds)" if isinstance(seconds, float) else "an invalid time"


def format_duration(seconds: float) -> str:
    """``2592000`` -> ``"30 days"``, ``5400`` -> ``"1.5 hours"``: the largest unit that reads well."""
    seconds = float(seconds)
    for unit, size in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and (seconds % size == 0 or unit in ("day", "hour", "minute")):
            if unit == "week" and seconds % size:
                continue
            value = seconds / size
            text = f"{value:.0f}" if value == int(value) else f"{value:.3g}"
            return f"{text} {unit}{'' if text == '1' else 's'}"
    text = f"{seconds:.0f}" if seconds == int(seconds) else f"{seconds:.3g}"
    return f"{text} second{'' if text == '1' else 's'}"
