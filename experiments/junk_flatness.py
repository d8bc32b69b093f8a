"""Is the face vote blind on flat or dark crops? Contrast and brightness of held-out faces (degraded
up to severity 2/3) against the background crops, and the VAE's ``dose`` vote on each
(docs/persons.md, "Junk").

    python experiments/junk_flatness.py      (about 2 CPU minutes)

Held-out faces: lfw/eval + orl (never lfw/train), aligned 64x64 grey, degraded by
facesel.eval.degrade; background crops: facesel.eval.evidence.background_crops (cut from the
shared videos where no face is detected). Contrast: the standard deviation of the crop's grey
levels; brightness: their mean.
"""

from __future__ import annotations

import numpy as np

from facesel.data import data_root
from facesel.eval.evidence import background_crops, degradation_grid, held_out_faces
from facesel.scoring.vae import VAEScorer
from facesel.select.finalise import DOSE_FACE_FLOOR


def main() -> None:
    root = data_root()
    if root is None:
        raise SystemExit("the shared data is needed (FACESEL_DATA)")
    crops, kinds, severity = degradation_grid(held_out_faces(root))
    poor = severity <= 2 / 3 + 1e-9
    faces = crops[poor].astype(np.float64)
    background = background_crops(root)
    bg = background.astype(np.float64)
    scorer = VAEScorer(method="dose")
    face_votes, bg_votes = scorer.score(crops[poor]), scorer.score(background)
    for name, f, b in (("contrast (grey std)", faces.std(axis=(1, 2)), bg.std(axis=(1, 2))),
                       ("brightness (grey mean)", faces.mean(axis=(1, 2)), bg.mean(axis=(1, 2)))):
        print(f"{name}: faces up to severity 2/3 ({len(f)}): 0.5/1/5th percentile "
              f"{np.percentile(f, [0.5, 1, 5]).round(1).tolist()}, min {f.min():.1f}; "
              f"background ({len(b)}): 5/25/50th percentile {np.percentile(b, [5, 25, 50]).round(1).tolist()}")
        for cut in np.percentile(f, [0.5, 1]):
            below = b < cut
            print(f"  below {cut:.1f}: faces {np.mean(f < cut):.1%}, background {below.sum()} "
                  f"(of them voted face-like, dose >= {DOSE_FACE_FLOOR}: {int((bg_votes[below] >= DOSE_FACE_FLOOR).sum())})")
    flat = bg.std(axis=(1, 2)) < np.percentile(faces.std(axis=(1, 2)), 5)
    print(f"background voted face-like: {int((bg_votes >= DOSE_FACE_FLOOR).sum())}/{len(bg_votes)}; "
          f"among the flattest (contrast under the faces' 5th percentile) {int((bg_votes[flat] >= DOSE_FACE_FLOOR).sum())}/{int(flat.sum())}")
    print(f"faces voted face-like: {np.mean(face_votes >= DOSE_FACE_FLOOR):.1%}")


if __name__ == "__main__":
    main()
