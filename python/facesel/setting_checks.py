"""The lower-bound checks that the rule dataclasses' ``__post_init__`` share.

:class:`facesel.select.linking.LinkRule`, :class:`facesel.select.faceness.FacenessRule`,
:class:`facesel.track_cues.SwitchRule` and :class:`facesel.select.shot_return.ShotReturnRule` each refuse a setting that is not a number at or above a
bound, with an error that names the setting and its value (a rule is built from a settings file or
a command line, so the error is what its author reads).
"""

from __future__ import annotations

import math

import numpy as np


def is_finite(value) -> bool:
    """``math.isfinite(value)``, but False (not OverflowError) for an int beyond a float's range:
    10**400 is no finite number of seconds, frames per second or fractions (review 17b)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_flag(value, name: str, *, or_none: bool = False) -> bool | None:
    """``value`` as a bool: True or False (numpy's bools too), or None with ``or_none``; TypeError
    naming ``name`` otherwise. Truth is not enough: ``with_faces="no"`` is a truthy string that would
    turn face pictures on, ``live="false"`` a dropping buffer (ux19)."""
    if or_none and value is None:
        return None
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False{' or None' if or_none else ''}, got {value!r}")
    return bool(value)


def check_at_least(rule, names: tuple[str, ...], low: float, *, finite: bool = True, or_none: bool = False) -> None:
    """Raise ValueError unless each attribute ``names`` of ``rule`` is a number >= ``low``.

    A number is an int or a float (numpy's float64 included), never a bool; with ``finite`` it must
    also be finite (without it, infinity passes and NaN fails the comparison); with ``or_none`` None
    passes too. The message reads ``"<name> must be a finite number >= <low> or None, got <value>"``
    ("a number" when not ``finite``, no "or None" when not ``or_none``).
    """
    for name in names:
        value = getattr(rule, name)
        if or_none and value is None:
            continue
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or (finite and not is_finite(value)) or not value >= low):
            kind = "a finite number" if finite else "a number"
            raise ValueError(f"{name} must be {kind} >= {low}{' or None' if or_none else ''}, got {value!r}")


def check_count_at_least(rule, names: tuple[str, ...], low: int) -> None:
    """Raise ValueError unless each attribute ``names`` of ``rule`` is an int (never a bool) >= ``low``:
    ``"<name> must be an int >= <low>, got <value>"``. For counts: frames, observations, cuts."""
    for name in names:
        value = getattr(rule, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
