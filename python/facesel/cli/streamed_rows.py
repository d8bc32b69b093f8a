"""Printing index rows as they arrive, for ``facesel central list`` (review 8).

The central store's owner decides how many rows a selection matches; a listing that kept them all
grew by about 1.3 KB a row (400,000 rows: +515,168 KiB). These helpers print each row as the
store's cursor yields it and keep only counts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from facesel.vault.index import IndexRow


class CountedRows:
    """Passes ``rows`` through once, counting them and their distinct camera ids on the way."""

    def __init__(self, rows: Iterable[IndexRow]) -> None:
        self._rows = rows
        self.count = 0
        self.cameras: set[str] = set()

    def __iter__(self) -> Iterator[IndexRow]:
        for row in self._rows:
            self.count += 1
            self.cameras.add(row.camera_id)
            yield row


def print_json_array(items: Iterable[dict], out: TextIO | None = None) -> None:
    """Print ``items`` as ``json.dumps(list(items), indent=1)`` would, one item at a time."""
    out = out or sys.stdout
    first = True
    for item in items:
        body = json.dumps(item, indent=1).replace("\n", "\n ")
        out.write(("[\n " if first else ",\n ") + body)
        first = False
    out.write("[]\n" if first else "\n]\n")
