"""'Did you mean ...' for mistyped names (config keys, subcommands, flags)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word`` (difflib ratio >= 0.6), or None."""
    found = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` or an empty string."""
    match = closest(word, choices)
    return f" (did you mean {match!r}?)" if match else ""


def unknown_key_message(where: str, key: str, known: Iterable[str]) -> str:
    """The error for a config key ``key`` that ``where`` does not take: the nearest known key, then
    all of them."""
    known = sorted(known)
    return f"{where}: unknown key {key!r}{did_you_mean(key, known)}; known keys: {', '.join(known)}"


def check_known_keys(table: dict, where: str, known: Iterable[str]) -> None:
    """ValueError (:func:`unknown_key_message`) for the first key of ``table`` not in ``known``."""
    known = set(known)
    for key in table:
        if key not in known:
            raise ValueError(unknown_key_message(where, key, known))
