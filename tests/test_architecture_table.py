"""docs/architecture.md's table "Where each thing lives" names only files that exist where it says.

A maintainer finds a stage's code through that table; a module split or moved without the table
following (session 17 split track_cues.py, vault/audit.py, central/pg_backend.py and
select/linking.py) would send them to a file that is not there. Each row's second column gives
folders or files (relative to ``python/`` or the repository root); every Python file its notes
name must lie in one of those folders, every C++ file somewhere under ``cpp/``,
``python/bindings/`` or ``cuda/``, and every path (``tests/...``) must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE_TITLE = "## Where each thing lives"


def _rows() -> list[tuple[str, str, str]]:
    """(stage, module column, notes) of every row of the table."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert TABLE_TITLE in text, "docs/architecture.md lost its table of where each thing lives"
    table = text.split(TABLE_TITLE, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        if not line.startswith("|") or line.startswith("|---") or line.startswith("| stage"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append((cells[0], cells[1], "|".join(cells[2:])))
    return rows


def _folders(module_column: str) -> tuple[list[Path], list[str]]:
    """The folders a row's module column points at, and the paths in it that do not exist."""
    folders, missing = [], []
    for name in re.findall(r"`([^`]+)`", module_column):
        found = [p for p in (ROOT / "python" / name, ROOT / name) if p.exists()]
        if not found:
            missing.append(name)
        folders += [p if p.is_dir() else p.parent for p in found]
    return folders, missing


def test_the_table_has_the_pipelines_stages():
    stages = {stage for stage, _, _ in _rows()}
    assert {"detection", "tracking", "scoring", "selection", "evidence vault", "central store"} <= stages


def test_every_module_the_table_names_exists_where_it_says():
    native = [ROOT / "cpp", ROOT / "python" / "bindings", ROOT / "cuda"]
    problems = []
    for stage, module_column, notes in _rows():
        folders, missing = _folders(module_column)
        problems += [f"{stage}: {name} does not exist" for name in missing]
        for name in re.findall(r"`([A-Za-z0-9_./]+\.(?:py|cpp|hpp|cu))`", notes):
            if "/" in name:  # a path from the repository's root (tests/..., cpp/src/...) or python/
                if not any((base / name).is_file() for base in (ROOT, ROOT / "python")):
                    problems.append(f"{stage}: {name} does not exist")
            elif name.endswith(".py"):
                if not any((folder / name).is_file() for folder in folders):
                    problems.append(f"{stage}: {name} is in none of {[str(f.relative_to(ROOT)) for f in folders]}")
            elif not any(list(base.rglob(Path(name).name)) for base in native):
                problems.append(f"{stage}: {name} is not under cpp/, python/bindings/ or cuda/")
    assert not problems, "\n".join(problems)
