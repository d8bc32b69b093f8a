"""Shared printing of the crowd re-link experiments' leave-one-source-out tables.

The experiments (``crowds_occlusion_loso.py``, ``crowds_covered_loso.py``) fill ``table[(rule,
family)][material] = [persons, snapshots, wrong joins]`` (a material of same-place replacements is
``[pairs, joined]``) and ``held[family]`` with the held-out choice's row; these print what every
one of them reports the same way.
"""

from __future__ import annotations

import json
from pathlib import Path


def print_held_out_totals(held: dict, materials: tuple[str, ...]) -> None:
    """Snapshots per person and wrong joins over every held-out family, per crowd material, then
    the same-place replacements joined."""
    for key in materials:
        persons = sum(h[key][0] for h in held.values())
        snapshots = sum(h[key][1] for h in held.values())
        wrong = sum(h[key][2] for h in held.values())
        print(f"held out, all families, {key}: {snapshots} / {persons} = {snapshots / max(1, persons):.2f}, "
              f"wrong joins {wrong}")
    print(f"held out, replacements joined: {sum(h['replacements'][1] for h in held.values())}/"
          f"{sum(h['replacements'][0] for h in held.values())}")


def print_all_families(table: dict, rules, families: list[str], materials: tuple[str, ...]) -> None:
    """Each rule's totals over every family (in-sample: for reading, not for choosing)."""
    for name in rules:
        parts = []
        for key in (*materials, "replacements"):
            total = [sum(table[(name, f)][key][i] for f in families) for i in range(len(table[(name, families[0])][key]))]
            parts.append(f"{key} {total[1]}/{total[0]}" + (f" wrong {total[2]}" if key != "replacements" else ""))
        print(f"all families, {name}: " + "; ".join(parts))


def write_json(path: Path | None, table: dict, held: dict) -> None:
    """The whole table and the held-out choices, when ``--json`` was given."""
    if path is not None:
        Path(path).write_text(json.dumps({"table": {f"{k[0]}|{k[1]}": v for k, v in table.items()},
                                          "held_out": held}, indent=1))
