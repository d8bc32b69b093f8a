"""The selfie check of tests/test_selector_videos.py with each default_scorer rule (one run, same detections).

Run:  FACESEL_DATA=../shared/data PYTHONPATH=python:tests python experiments/selfie_check_rules.py
"""
import numpy as np
from facesel.data import data_root
from facesel import Selector
from facesel.detect import make_detector
from facesel.scoring import default_scorer
from facesel.video import open_source
from test_selector_videos import ReplayDetector, run, sharpness
source = open_source(data_root() / "videos" / "selfie_motion_blur_portrait.mp4", every=2)
frames, stamps = zip(*source)
det = make_detector("yunet", max_side=640)
found = [det.detect(f) for f in frames]
for rule in ("pick", "context", "gate", "dose"):
    sel = Selector(ReplayDetector(found), default_scorer(rule), mode="exhaustive")
    results, _, _ = run(sel, frames, stamps)
    for r in [r for r in results if len(r.frame_indices) >= 10]:
        scores = np.array([sharpness(frames[f], b) for f, b in zip(r.frame_indices, r.boxes)])
        chosen = sharpness(frames[r.best.frame_index], r.best.box)
        print(rule, "track", r.track_id, "chosen", round(chosen, 1), "median", round(float(np.median(scores)), 1), "PASS" if chosen > np.median(scores) else "FAIL", flush=True)
