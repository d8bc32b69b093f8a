"""Face-quality scorers. A scorer is any object with ``score(crops) -> (N,) float64``.

``crops`` is (N, 64, 64) uint8 grey (the output of :func:`facesel.align.align_face`); higher
scores mean better quality. Scores are only compared within one scorer.
"""

from facesel.scoring.base import Scorer, as_grey_batch
from facesel.scoring.sharpness import LaplacianVarianceScorer
from facesel.scoring.vae import VAEScorer
from facesel.scoring.default import default_scorer

__all__ = ["Scorer", "as_grey_batch", "LaplacianVarianceScorer", "VAEScorer", "default_scorer"]
