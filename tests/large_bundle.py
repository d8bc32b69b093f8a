"""A genuine evidence bundle of a chosen size, and the peak memory of verifying it in a fresh process
(review round 11, attack20: ``verify-bundle`` held about three times the bundle).

The bundle is made the way an investigator makes one: a vault seals ``records`` tracks of a real
ORL face, each with a clip of ``frames`` frames of ``side`` x ``side`` pixels (the face enlarged,
plus seeded noise so PNG cannot shrink it: a record as large as a long close-up clip), and
``facesel open --bundle`` exports them all. Used by ``tests/test_bundle_verify_memory.py`` and
``benchmarks/bundle_verify_memory.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
from peak_memory import run_fresh
from test_vault_common import T0, FakeClock, make_authority, orl_faces, share_paths, track_result, vault_at

_VERIFIER = """
import json, sys, time
from peak_memory import peak_kib
from facesel.review.verify_bundle import BundleError, verify_bundle
before, start = peak_kib(), time.perf_counter()  # after the imports: the verification's own growth
try:
    verdict = "VERIFIED %d record(s)" % len(verify_bundle(sys.argv[1]).records)
except BundleError as err:
    verdict = "REFUSED " + str(err)
print(json.dumps({"verdict": verdict, "grown_kib": peak_kib() - before,
                  "seconds": round(time.perf_counter() - start, 2)}))
"""


def make_bundle(root: Path, shared_data: Path, records: int, frames: int = 2, side: int = 640) -> Path:
    """``root/evidence.zip`` holding ``records`` records of ``frames`` noisy ``side``-pixel frames each."""
    from facesel.cli import main

    adir = make_authority(root / "auth")[1]
    face = orl_faces(shared_data, 1, size=(side, side))[0].astype(np.int16)
    noise = np.random.default_rng(20)
    clock = FakeClock(T0)
    ids = []
    with vault_at(root / "vault", adir, clock=clock) as vault:
        for track in range(records):
            clock.advance(60)
            clip = [np.clip(face + noise.integers(-40, 41, face.shape), 0, 255).astype(np.uint8)
                    for _ in range(frames)]
            ids.append(vault.seal(track_result(clip[0], track_id=track, clip=clip)))
    bundle = root / "evidence.zip"
    shares = share_paths(adir)
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["open", "--vault", str(root / "vault"), "--reason", "case 2027/31: large bundle",
                     "--out", str(root / "opened"), "--bundle", str(bundle), "--share", str(shares[0]),
                     "--share", str(shares[2]), *ids])
    if code != 0:
        raise RuntimeError(f"facesel open --bundle exited {code}")
    return bundle


def verify_peak(bundle: Path, python_path: str | None = None, timeout: float = 600) -> dict:
    """``verify_bundle(bundle)`` in a fresh process (``python_path`` first on its ``PYTHONPATH``, e.g.
    a copy of main's ``python/``): {"verdict": "VERIFIED n record(s)" or "REFUSED ...", "grown_kib":
    its peak resident size's growth over the verification (``VmHWM``), "seconds": its wall time
    (reported, never asserted)}."""
    import os

    env = dict(os.environ)
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [python_path, env.get("PYTHONPATH")]))
    done = run_fresh(_VERIFIER, bundle, env=env, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the verifier exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
