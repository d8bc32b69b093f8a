"""The scorer facesel uses when none is given: the selection rule PickScorer (VAE + pose + detector)."""

from __future__ import annotations

RULES = ("pick", "dose", "paper")
"""``default_scorer(rule=...)``: ``pick`` (the default), ``dose`` (the previous default: the VAE's
corrected rule alone, the model card's ``default_method``), ``paper`` (the paper's log RP)."""


def default_scorer(rule: str = "pick", **settings):
    """The default scorer, or one of the earlier rules kept as settings.

    Parameters
    ----------
    rule : {"pick", "dose", "paper"}
        ``pick``: :class:`facesel.scoring.pick.PickScorer` (``uses_context = True``: the Selector
        passes the detector's context; without one it scores like ``dose``). ``dose``:
        ``VAEScorer.default()``. ``paper``: ``VAEScorer.paper()``.
    **settings
        VAEScorer's keyword arguments (samples, seed, threads, batch_size, ...); for ``pick`` also
        ``weights``.
    """
    from facesel.scoring.vae import VAEScorer

    if rule == "pick":
        from facesel.scoring.pick import PickScorer

        return PickScorer(**settings)
    if rule == "dose":
        return VAEScorer.default(**settings)
    if rule == "paper":
        return VAEScorer.paper(**settings)
    raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
