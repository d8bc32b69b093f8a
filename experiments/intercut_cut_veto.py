"""The cut veto on intercut material, alone and with the shot-return link (issue 23, session 20).

    python experiments/intercut_cut_veto.py [--cache DIR]

Why: with the link off, the default already joins two people on the intercut signers (3 of the
4 wrong joins there): the track on A is lost at the cut (the detector misses the face on the new
shot's first frames, so the cut cue never marks it as ended by the cut) and the ordinary short
link joins the track that starts on B at the same place. The cut veto
(``Finaliser(cut_veto=True)``) refuses an ordinary link (and a fragment absorbed into a chain)
across a remembered cut.

**Registered** after that diagnosis and before any run with the veto: it has no threshold, so
nothing is chosen on data; it is run on every family of :mod:`facesel.eval.intercut` (interviews
and controls), alone and together with the shot-return link at each fold's choice of
``experiments/intercut_shot_return_loso.py`` (read from its cache), and on the existing material
(``experiments/switches_end_to_end.py --cut-veto``; the shared videos where a cut fires,
``experiments/crowds_shared.py --cut-veto``). Adopted as the default only if no material gains
a wrong join and no person loses their only snapshot (intercut, splices end to end), and no
shared video's snapshot count changes; otherwise a setting, off.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main() -> int:
    import cv2

    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval import intercut
    from facesel.selector import default_detector
    from intercut_shot_return_loso import candidates, choose, run_all, totals

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/intercut-loso"))
    args = parser.parse_args()
    cv2.setNumThreads(1)
    runs = run_all(args.cache)
    families = sorted({r["family"] for r in runs["off"]})
    chosen = {f: choose(runs, set(families) - {f}) for f in families}
    detector = default_detector(PipelineConfig())
    settings = {"veto": None, **{f"veto+{name}": candidates()[name] for name in set(chosen.values()) if name != "off"}}
    for name, rule in settings.items():
        path = args.cache / f"{name}.json"
        if not path.is_file():
            rows = intercut.evaluate(data_root(), detector=detector, shot_return=rule, cut_veto=True,
                                     log=lambda line, name=name: print(name, line, flush=True))
            path.write_text(json.dumps([{"family": r.family, "kind": r.kind, "snapshots": r.snapshots,
                                         "persons": r.persons, "wrong_joins": r.wrong_joins,
                                         "per_person": {str(k): v for k, v in r.per_person.items()},
                                         "shot_returns": r.extra["shot_returns"]} for r in rows]))
        runs[name] = json.loads(path.read_text())
    for family in families:
        line = [f"{family:12s}"]
        for name in ("off", chosen[family], "veto", f"veto+{chosen[family]}"):
            if name not in runs:
                continue
            t = totals(runs[name], {family})
            line.append(f"{name}: interviews {t['snapshots']}/{t['persons']} wrong {t['wrong_interview']}, "
                        f"controls {t['control_snapshots']}/{t['control_persons']} wrong {t['wrong_control']}")
        print(" | ".join(line))
    for name in runs:
        t = totals(runs[name], set(families))
        without = sum(1 for r in runs[name] if "per_person" in r for p in range(r["persons"])
                      if r["per_person"].get(str(p), 0) == 0)
        print(f"all families {name:20s}: interviews {t['snapshots']}/{t['persons']} wrong {t['wrong_interview']}; "
              f"controls {t['control_snapshots']}/{t['control_persons']} wrong {t['wrong_control']}"
              + (f"; persons without a snapshot {without}" if any("per_person" in r for r in runs[name]) else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
