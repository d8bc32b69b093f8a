"""The output paths of ``eval``, ``train`` and ``calibrate``, checked before their work starts.

``eval switches --json`` and ``eval crowds --json`` wrote their table only after minutes of work,
and a path that could not be written then failed with ``[Errno 2] No such file or directory``,
naming no flag, the figures lost; ``eval tracks/erc --out`` and ``--cache-dir`` said the same, and
``train --out``/``--cache`` failed after the training folder had been aligned (minutes). Each flag
is checked as ``run``'s output flags are (:mod:`facesel.writable`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from facesel.writable import refuse_unwritable_file, refuse_unwritable_folder

FOLDER_FLAGS = ("out", "cache_dir")
FILE_FLAGS = ("json", "sheet", "cache")


def refuse_unwritable_outputs(args: argparse.Namespace) -> None:
    """Raise ValueError naming the flag of the first output in ``args`` that cannot be written:
    folders (``--out``, ``--cache-dir``) must be writable or makeable, files (``--json``,
    ``--sheet``, ``--cache``) must not be folders and their folder must take new files."""
    for name in FOLDER_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            flag = "--" + name.replace("_", "-")
            if Path(value).expanduser().is_file():
                raise ValueError(f"{flag} {value}: a file, not a folder")
            refuse_unwritable_folder(flag, value)
    for name in FILE_FLAGS:
        value = getattr(args, name, None)
        if value is not None and value is not False:
            flag = "--" + name
            if Path(value).expanduser().is_dir():
                raise ValueError(f"{flag} {value}: a folder, not a file")
            refuse_unwritable_file(flag, value)
