"""Training of the supervised baseline (FaceQnet's idea, small): it NEEDS A FACE-RECOGNITION MODEL.

Targets come from the evaluation matcher on the *training* identities (``lfw/train``, disjoint
from ``lfw/eval``): for every subject with two or more images, the reference is chosen by the same
rule as in the evaluation (:data:`facesel.eval.protocol.REFERENCE_RULE`) and each other image's
target is its distance to that reference. Inputs are the same aligned crops the other methods see.
Training images are clean (not degraded), like every other model's.
"""

from __future__ import annotations

import numpy as np

from facesel.eval.cache import embed_all
from facesel.eval.method_context import MethodContext, MethodUnavailable
from facesel.eval.protocol import choose_references
from facesel.faceset import read_image


def train_distance_regressor(ctx: MethodContext):
    """A fitted :class:`facesel.scoring.baselines.DistanceRegressor`; MethodUnavailable without a matcher."""
    from facesel.scoring.baselines import DistanceRegressor

    if ctx.matcher is None:
        raise MethodUnavailable("the supervised baseline needs the face matcher for its training targets")
    faces = ctx.train_faces()
    names, counts = np.unique(faces.identities, return_counts=True)
    keep = np.flatnonzero(np.isin(faces.identities, names[counts >= 2]))
    if len(keep) < 20:
        raise MethodUnavailable(f"only {len(keep)} training images belong to subjects with two or more images")
    images = [read_image(faces.paths[i]) for i in keep]
    emb = embed_all(ctx.matcher, images, ctx.cache, ctx.progress, desc="embedding training faces")
    ids = faces.identities[keep]
    reference_of = choose_references(ids, emb)
    probe = reference_of != np.arange(len(keep))
    target = np.linalg.norm(emb[probe].astype(np.float64) - emb[reference_of[probe]].astype(np.float64), axis=1)
    model = DistanceRegressor(ctx.pca()).fit(faces.grey[keep[probe]], target)
    ctx.notes.append(
        f"supervised-ridge: trained on {int(probe.sum())} training probes; cross-validated RMSE "
        f"{model.cv_rmse_:.4f} vs {model.baseline_rmse_:.4f} for predicting the mean distance (alpha={model.alpha_:g})"
    )
    return model
