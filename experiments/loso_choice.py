"""The leave-one-source-out choice the re-link experiments share: among a grid of candidate
settings, the one with the best totals over every source (or family) but the held-out one, ties
going to the candidate nearest the default on the grid.

Used by ``relink_loso.py``, ``relink_lone_loso.py`` and ``edge_return_loso.py`` (each with its own
totals); the choice is made before the held-out figures are looked at.
"""

from __future__ import annotations

import json
from collections.abc import Callable


def grid_distance(key: str, grid: dict, default: dict) -> int:
    """Grid steps between the candidate ``key`` (its settings as sorted JSON) and ``default``:
    the sum over the settings of how many values of ``grid[name]`` lie between the two."""
    settings = json.loads(key)
    return sum(abs(grid[name].index(settings[name]) - grid[name].index(default[name])) for name in grid)


def choose_held_out(table: dict, held_out, totals: Callable[[list], tuple], grid: dict, default: dict) -> str:
    """The key of ``table`` ({candidate key: {source: figures}}) whose ``totals`` of the other
    sources' figures is least (a tuple, compared in order), then nearest ``default``
    (:func:`grid_distance`); the first such key in ``table``'s order."""
    def score(key):
        rows = [figures for source, figures in table[key].items() if source != held_out]
        return (*totals(rows), grid_distance(key, grid, default))

    return min(table, key=score)
