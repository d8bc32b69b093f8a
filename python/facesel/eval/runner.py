"""One evaluation run: build the set, score it with every method, analyse, plot and report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facesel.eval.analysis import analyse, kind_ranks, kind_spearman
from facesel.eval.method_context import MethodContext
from facesel.eval.methods import build_methods, get_method
from facesel.eval.plots import plot_protocol
from facesel.eval.protocol import build_eval_set
from facesel.eval.report import write_report


def check_vae_model(folder: Path) -> None:
    """Refuses a ``--vae-model`` folder that holds no usable model, before any slow work: it made
    every VAE method "not available" in the report (a corrupt ONNX file: a traceback), after the
    whole evaluation set was aligned and embedded, with exit status 0."""
    for name in ("encoder.onnx", "decoder.onnx", "model_card.json"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"--vae-model {folder}: {name} not found")
    try:
        from facesel.scoring import VAEScorer
    except ImportError:  # no ONNX Runtime: the VAE methods say so in the report
        return
    try:
        VAEScorer(folder)
    except Exception as err:  # ONNX Runtime's own errors (InvalidProtobuf...) derive from no common base
        raise ValueError(f"--vae-model {folder}: not a usable model ({type(err).__name__}: {err})") from None


def run_erc(
    data: Path,
    out: Path,
    methods: list[str],
    train: Path | None,
    cache_dir: Path | None,
    degrade_seed: int | None = None,
    limit_identities: int | None = None,
    train_limit: int | None = None,
    n_boot: int = 500,
    n_random: int = 100,
    seed: int = 0,
    progress: bool = True,
    command: str = "",
    vae_model: Path | None = None,
) -> dict:
    """Run the whole evaluation and write ``report.md``, ``results.json`` and the PNG plots to ``out``.

    Returns a dict with the paths written, the analysis results and the unavailable methods.
    """
    from facesel.detectors import YuNetDetector
    from facesel.eval.cache import EmbeddingCache
    from facesel.eval.matcher import DlibMatcher
    from facesel.faceset import require_folder

    data, out = require_folder(data, "--data"), Path(out)
    if train is not None and Path(train).resolve() == data.resolve():
        raise ValueError(f"--data and --train are the same folder ({data}): never evaluate on training faces")
    for name in methods:
        get_method(name)  # unknown names fail before any slow work
    if vae_model is not None:
        check_vae_model(Path(vae_model))
    out.mkdir(parents=True, exist_ok=True)
    matcher = DlibMatcher()
    cache = None if cache_dir is None else EmbeddingCache(cache_dir, matcher.identity)
    detector = YuNetDetector(min_confidence=0.5)

    eval_set = build_eval_set(data, matcher, detector, cache, degrade_seed, limit_identities, progress)
    context = MethodContext(train, detector, matcher, cache, train_limit, progress, vae_model)
    built, unavailable = build_methods(methods, context)
    qualities = {name: fn(eval_set.crops, eval_set.image_side) for name, fn in built.items()}
    results, skipped = analyse(eval_set, qualities, n_boot=n_boot, n_random=n_random, seed=seed)
    kinds = kind_ranks(eval_set, qualities) if degrade_seed is not None else None
    kind_rho = kind_spearman(eval_set, qualities) if degrade_seed is not None else None

    families = {name: get_method(name).family for name in methods}
    meta = {
        "command": command,
        "data": str(data),
        "dataset": data.name if data.name not in ("eval", "train") else f"{data.parent.name}/{data.name}",
        "degrade_seed": degrade_seed,
        "subjects": int(len(np.unique(eval_set.identities))),
        "images": int(len(eval_set.identities)),
        "probes": int(len(eval_set.probes)),
        "detected": int(eval_set.detected.sum()),
        "cache": "(none)" if cache is None else str(cache.folder),
        "train": None if train is None else str(train),
        "vae_model": "(shipped)" if vae_model is None else str(vae_model),
        "bootstrap": n_boot,
        "random_seeds": n_random,
        "methods_requested": list(methods),
    }
    suffix = "" if degrade_seed is None else f", probes degraded (seed {degrade_seed})"
    plots = [
        plot_protocol(res, out / f"{name}.png", f"{meta['dataset']}{suffix}; matcher: dlib ResNet (paper: FaceNet)")
        for name, res in results.items()
    ]
    md, js = write_report(out, meta, results, families, unavailable, kinds, context.notes + [f'{k} not computed: {v}' for k, v in skipped.items()],
                            kind_rho)
    return {"report": md, "json": js, "plots": plots, "results": results, "unavailable": unavailable, "eval_set": eval_set}
