"""CPU time per crop of the default selection rule against the previous default, on real video crops.

Run:  python experiments/pick_cost.py   (uses the number cache of facesel eval tracks in
/tmp/pick/cache when it is there; crops are rebuilt in memory). Times are ``time.process_time``
per crop, best of 3 repeats, one thread each, so that a busy machine disturbs them less.
"""

from __future__ import annotations

import time

import numpy as np

from facesel.data import data_root
from facesel.eval.track_data import collect_tracks
from facesel.scoring import VAEScorer, default_scorer


def per_crop(fn, crops, context, repeats=3) -> float:
    best = np.inf
    for _ in range(repeats):
        t = time.process_time()
        fn(crops, context)
        best = min(best, time.process_time() - t)
    return 1000.0 * best / len(crops)


def main() -> None:
    video = collect_tracks(data_root() / "videos" / "arcade_walkers_1080p.mp4", cache_dir="/tmp/pick/cache")
    crops, context = video.crops[:128], video.context[:128]
    dose = VAEScorer(method="dose")
    pick = default_scorer()
    fns = {
        "dose (previous default), L = 10": lambda c, x: dose.score(c),
        "pick (new default) score: one pass at z = mu_z": pick.score,
        "pick screen: context only": pick.screen,
    }
    for fn in fns.values():  # warm the sessions
        fn(crops[:4], context[:4])
    rows = {name: per_crop(fn, crops, context) for name, fn in fns.items()}
    for name, ms in rows.items():
        print(f"{name:36s} {ms:6.2f} ms CPU per crop")


if __name__ == "__main__":
    main()
