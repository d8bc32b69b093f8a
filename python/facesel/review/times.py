"""Times as people read them: local time with its zone, and UTC; never Unix floats on a page."""

from __future__ import annotations

import datetime as _dt


def utc_text(seconds: float) -> str:
    """``2026-12-05 15:07:22 UTC``."""
    return _dt.datetime.fromtimestamp(float(seconds), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def local_text(seconds: float) -> str:
    """The machine's local time with its zone name and offset, e.g. ``2026-12-05 16:07:22 CET (+0100)``."""
    value = _dt.datetime.fromtimestamp(float(seconds)).astimezone()
    return value.strftime("%Y-%m-%d %H:%M:%S %Z (%z)")


def local_day(seconds: float) -> str:
    """The local calendar day ``YYYY-MM-DD`` (counts per day follow the investigator's clock)."""
    return _dt.datetime.fromtimestamp(float(seconds)).astimezone().strftime("%Y-%m-%d")


def parse_local(text: str, name: str) -> float | None:
    """Unix seconds from an HTML ``datetime-local`` value (``YYYY-MM-DDTHH:MM[:SS]``) read as local
    time; an empty value is None. A value with an explicit zone (``Z``, ``+01:00``) keeps its zone.

    Raises
    ------
    ValueError
        Naming ``name`` when the text is not such a time.
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.astimezone()  # naive: the machine's local time
        return value.timestamp()
    except (ValueError, OverflowError, OSError):  # also dates the local calendar cannot shift (year 1, 9999)
        raise ValueError(f"{name} must be a date and time like 2026-12-05T15:30, got {text!r}") from None


def duration_text(seconds: float | None) -> str:
    """``3.4 s``; ``-`` when unknown."""
    return "-" if seconds is None else f"{seconds:.1f} s"
