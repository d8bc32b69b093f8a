"""``verify_bundle``'s verdict on mutated copies of one genuine bundle, on this tree and on another
(``--before``: a copy of main's ``python/``), word for word (session 20, bundle21: the streaming
verifier must refuse exactly what the one that held the bundle refused, in the same words).

    python experiments/bundle_verdict_diff.py --before COPY_OF_MAIN/python

The bundle (two records of one small noisy face frame, ``tests/large_bundle.py``) is made in a
temporary folder. Mutations: every byte outside the members' data flipped (``^ 0x20``), every 61st
byte inside, a cut every 997 bytes, one byte appended. Prints the count of mutations and each one
whose verdict differs (the temporary folder's name left out).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

_VERDICTS = r"""
import json, os, sys, tempfile, zipfile
from facesel.review.verify_bundle import BundleError, verify_bundle
src = open(sys.argv[1], "rb").read()
with zipfile.ZipFile(sys.argv[1]) as zf:
    data = [(i.header_offset + 30 + len(i.filename.encode()), i.file_size) for i in zf.infolist()]
inside = lambda at: any(start <= at < start + size for start, size in data)
mutations = [("flip", at) for at in range(len(src)) if not inside(at) or at % 61 == 0]
mutations += [("cut", at) for at in range(0, len(src), 997)] + [("append", 1)]
folder = tempfile.mkdtemp(prefix="bundle-verdicts-")
path = os.path.join(folder, "m.zip")
for kind, at in mutations:
    raw = bytearray(src)
    if kind == "flip":
        raw[at] ^= 0x20
    raw = raw[:at] if kind == "cut" else raw + b"\0" if kind == "append" else raw
    open(path, "wb").write(raw)
    try:
        verdict = "VERIFIED %d" % len(verify_bundle(path).records)
    except BundleError as err:
        verdict = "REFUSED " + str(err).replace(folder, "TMP")
    except Exception as err:
        verdict = "RAISED %s: %s" % (type(err).__name__, err)
    print(json.dumps([kind, at, verdict]))
"""


def verdicts_in(script: str, args: list, python_path: str) -> list[list]:
    """The JSON lines ``script`` prints, run on ``args`` in a fresh interpreter with ``python_path``
    as its ``PYTHONPATH`` (the tree whose verdicts are asked; also ``record_verdict_diff.py``'s)."""
    env = dict(os.environ, PYTHONPATH=python_path)
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)], env=env, capture_output=True, text=True,
                          check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def _verdicts(bundle: Path, python_path: str) -> list[list]:
    return verdicts_in(_VERDICTS, [bundle], python_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="a copy of main's python/ (the compiled modules copied in)")
    args = parser.parse_args()
    from large_bundle import make_bundle

    from facesel.data import data_root

    with tempfile.TemporaryDirectory(prefix="facesel-bundle-verdicts-") as tmp:
        bundle = make_bundle(Path(tmp), data_root(), 2, frames=1, side=48)
        now = _verdicts(bundle, str(Path(__file__).resolve().parent.parent / "python"))
        before = _verdicts(bundle, args.before)
    differing = [(a, b) for a, b in zip(before, now) if a != b]
    print(json.dumps({"mutations": len(now), "differing": len(differing)}))
    for a, b in differing:
        print(json.dumps({"mutation": a[:2], "before": a[2][:200], "now": b[2][:200]}))


if __name__ == "__main__":
    main()
