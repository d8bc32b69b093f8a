"""``facesel calibrate``: refit a model's scoring calibration on clean training faces, without retraining.

The ``dose`` and ``typicality`` rules need constants measured with the exported model on training
crops (see :mod:`facesel.training.calibrate`), and the photo rule's JPEG grid term constants on
the same folder's photos (:func:`facesel.scoring.stills.calibrate_photos`). ``facesel train`` writes them; this command rewrites
them in an existing ``model_card.json``, e.g. after the statistic set changed. No torch needed.
"""

from __future__ import annotations

import json
from pathlib import Path

from facesel.cli.argtypes import SEED_MAX, int_within


def _run(args) -> int:
    from facesel.cli.output_flags import refuse_unwritable_outputs
    from facesel.faceset import require_folder
    from facesel.scoring.stills import calibrate_photos
    from facesel.scoring.vae_methods import STATISTICS
    from facesel.training.calibrate import DOSE_STATISTICS, calibrate
    from facesel.training.data import load_training_crops
    from facesel.vault.fsutil import atomic_write

    model = Path(args.model)
    card_path = model / "model_card.json"
    if not model.is_dir():  # was "--model X: encoder.onnx not found" for a file or a typo
        what = "a file, not a folder" if model.exists() else "no such folder"
        raise FileNotFoundError(f"--model {model}: {what}; give the model folder (encoder.onnx, decoder.onnx, "
                                "model_card.json: what facesel train --out wrote)")
    for name in ("encoder.onnx", "decoder.onnx", "model_card.json"):
        if not (model / name).is_file():
            raise FileNotFoundError(f"--model {model}: {name} not found")
    data = require_folder(args.data, "--data")
    refuse_unwritable_outputs(args)  # --cache, before the folder is aligned (minutes)
    statistics = tuple(args.statistics.split(",")) if args.statistics else DOSE_STATISTICS
    unknown = [s for s in statistics if s not in STATISTICS]
    if unknown:
        raise ValueError(f"--statistics: unknown {unknown}; known: {sorted(STATISTICS)}")
    if args.n < len(statistics) + 2:
        raise ValueError(f"--n must be at least {len(statistics) + 2} for {len(statistics)} statistics, got {args.n}")

    card = json.loads(card_path.read_text())
    crops = load_training_crops(data, cache=Path(args.cache) if args.cache else None, progress=not args.quiet)
    card["calibration"] = calibrate(model, crops, n=args.n, seed=args.seed, statistics=statistics, covariance=args.covariance)
    # The photo rule's JPEG grid term is measured on the folder's photos themselves, before alignment.
    card["calibration"].update(calibrate_photos(data, n=args.n))
    # Crash-safe replace (the vault's writer): a reader sees the old card or the new one, never half;
    # the card keeps its permission bits.
    atomic_write(card_path, json.dumps(card, indent=2).encode(), mode=card_path.stat().st_mode & 0o777)
    cal = card["calibration"]
    print(f"calibrated {card_path} on {cal['crops']} crops of {data}: dose statistics {', '.join(cal['dose_statistics'])}")
    return 0


def register(subparsers) -> None:
    """Add ``facesel calibrate`` to ``subparsers``."""
    p = subparsers.add_parser("calibrate", help="refit the quality model's calibration on clean training faces")
    p.add_argument("--model", required=True, help="model folder (encoder.onnx, decoder.onnx, model_card.json), rewritten in place")
    p.add_argument("--data", required=True, help="the training face folder (<identity>/<image>), never an evaluation folder")
    p.add_argument("--statistics", default=None, help="comma-separated dose statistics (default: the shipped set)")
    p.add_argument("--covariance", choices=("diagonal", "full"), default="diagonal", help="dose Gaussian covariance (default diagonal)")
    p.add_argument("--n", type=int, default=512, help="training crops to measure (default 512)")
    p.add_argument("--seed", type=int_within(0, SEED_MAX), default=0,
                   help=f"picks the crops and the latent samples (0 to {SEED_MAX}; default 0)")
    p.add_argument("--cache", default=None, help="optional .npz cache of the aligned crops (keep it outside the repo)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
