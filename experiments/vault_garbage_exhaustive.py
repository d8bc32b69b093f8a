"""Every case the garbage-value property of tests/test_vault_property.py can draw, not 60 random
ones (docs/review.md, "The unexplained vault failure (session 19, flaky19)").

The test's strategy is finite once taken modulo: a JSON file (or the index), an audit line, a
field (or index column) and one of the NASTY values. This builds the test's world once and runs
the test's own body on each case (a START/STEP slice, to split the run over processes); it prints
each failing case with its error, and the count.

Run: ``FACESEL_DATA=... PYTHONPATH=python python experiments/vault_garbage_exhaustive.py [START=0] [STEP=1]``
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import test_vault_property as prop  # noqa: E402
from facesel.data import data_root  # noqa: E402
from facesel.vault.index import COLUMNS  # noqa: E402


def world():
    """The test's ``world`` fixture, built the same way: (root, ids, faces, files)."""
    root = Path(tempfile.mkdtemp(prefix="garbage-world-")) / "world"
    root.mkdir()
    adir, _, ids, faces = prop._two_faces_opened_once(root, data_root())
    epoch = prop.AuthorityPublic.load(adir / "authority.pub").epoch_for(prop.T0 + 3600).epoch_id
    files = ["v-cam-1/vault.json", "v-cam-1/authority.pub", "v-cam-1/audit.log", "v-cam-1/audit.log.head",
             "v-cam-1/index.sqlite", f"v-cam-1/records/{ids[0]}.fsr", "auth/authority.pub",
             "auth/keystore/authority.json", "auth/keystore/signing.key", f"auth/keystore/epoch-{epoch}.key",
             "auth/shares/share-1-of-3.json", "auth/audit.log", "auth-cam-1/camera.key", "auth-cam-1/camera.pub"]
    return root, ids, faces, files


def cases(root: Path, json_files: list[str]) -> list[tuple[int, int, int]]:
    """(which, where, line) for every distinct place the test's modulo arithmetic reaches."""
    out = []
    for which, name in enumerate(json_files):
        path = root / name
        if path.name == "index.sqlite":
            out += [(which, where, line) for line in range(2) for where in range(len(COLUMNS))]
        elif path.name == "audit.log":
            lines = path.read_text().splitlines()
            out += [(which, where, line) for line in range(len(lines))
                    for where in range(len(prop._paths(json.loads(lines[line]))))]
        else:
            out += [(which, where, 0) for where in range(len(prop._paths(json.loads(path.read_text()))))]
    return out


def main() -> None:
    start = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    step = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    built = world()
    json_files = [f for f in built[3] if not f.endswith(".fsr")]
    every = [(w, where, line, v) for (w, where, line) in cases(built[0], json_files) for v in range(len(prop.NASTY))]
    body = prop.test_garbage_values_in_every_json_file_end_in_one_line_never_a_crash.hypothesis.inner_test
    failed, began = 0, time.monotonic()
    for k in range(start, len(every), step):
        which, where, line, value = every[k]
        try:
            body(built, which, where, line, prop.NASTY[value])
        except BaseException as err:  # any failure is a finding, an escaped exception included
            failed += 1
            print(f"FAIL case {k}: {json_files[which]} line {line} field {where} value {prop.NASTY[value]!r:.40}:"
                  f" {type(err).__name__}: {err}", flush=True)
            traceback.print_exc(limit=3)
    print(f"{len(range(start, len(every), step))} of {len(every)} cases run, {failed} failed,"
          f" {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
