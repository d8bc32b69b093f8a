"""Face-quality scorers. A scorer is any object with ``score(crops) -> (N,) float64``.

``crops`` is (N, 64, 64) uint8 grey (the output of :func:`facesel.align.align_face`); higher
scores mean better quality. Scores are only compared within one scorer. A scorer that sets
``uses_context = True`` (the default, :class:`PickScorer`) also takes the crops' CropContext.
"""

from facesel.scoring.base import Scorer, as_grey_batch, score_crops, screen_crops
from facesel.scoring.default import default_scorer
from facesel.scoring.gate import GateParams, GateScorer
from facesel.scoring.pick import PickScorer
from facesel.scoring.sharpness import LaplacianVarianceScorer
from facesel.scoring.stills import PhotoScorer
from facesel.scoring.vae import VAEScorer

__all__ = [
    "GateParams", "GateScorer", "LaplacianVarianceScorer", "PhotoScorer", "PickScorer", "Scorer", "VAEScorer", "as_grey_batch", "default_scorer",
    "score_crops", "screen_crops",
]
