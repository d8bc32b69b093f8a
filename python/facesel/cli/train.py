"""``facesel train``: train the VAE quality model on a face folder and export it to ONNX.

Needs the ``[train]`` extra (PyTorch); the code lives in :mod:`facesel.training`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from facesel.cli.argtypes import SEED_MAX, finite_number, int_at_least, int_within


def _import_training():
    """Import :mod:`facesel.training` (it needs the ``[train]`` extra, PyTorch), or explain why not."""
    try:
        import torch
    except ImportError as err:
        raise RuntimeError("facesel train needs PyTorch: pip install 'facesel[train]'") from err
    import facesel.training.pipeline as pipeline

    return pipeline


def _run(args) -> int:
    from facesel.faceset import require_folder

    from facesel.cli.output_flags import refuse_unwritable_outputs

    pipeline = _import_training()
    data = require_folder(args.data, "--data")
    refuse_unwritable_outputs(args)  # --out and --cache, before the folder is aligned (minutes)
    try:
        card = _train(pipeline, data, args)
    except KeyboardInterrupt:
        checkpoint = Path(args.out) / "checkpoint.pt"
        if checkpoint.is_file():
            print(f"facesel train: interrupted; the finished epochs are saved in {checkpoint}: run the same command "
                  "with --resume to continue", file=sys.stderr)
        raise
    print(f"wrote {args.out}: method={card['method']} parameters={card['parameters']} final loss={card['losses']['loss'][-1]:.1f}")
    return 0


def _train(pipeline, data: Path, args) -> dict:
    return pipeline.train_and_export(
        data_dir=data,
        out_dir=Path(args.out),
        method=args.method,
        epochs=args.epochs,
        seed=args.seed,
        batch_size=args.batch_size,
        lr=args.lr,
        base_channels=args.base_channels,
        threads=args.threads,
        cache=Path(args.cache) if args.cache else None,
        progress=not args.quiet,
        resume=args.resume,
    )


def register(subparsers) -> None:
    """Add ``facesel train`` to ``subparsers``."""
    p = subparsers.add_parser("train", help="train the VAE face-quality model and export it to ONNX")
    p.add_argument("--data", required=True, help="face folder laid out as <identity>/<image> (e.g. lfw/train)")
    p.add_argument("--out", required=True, help="output folder for encoder.onnx, decoder.onnx, model_card.json")
    # choices: training.loop.TRAIN_METHODS (that module imports torch); a mistyped method was exit 1 under
    # its Python name ("method must be one of ('paper',)"), not a usage error naming the flag (ux23)
    p.add_argument("--method", default="paper", choices=("paper",),
                   help="training objective (default paper: the ELBO on clean faces); the corrected default "
                   "scoring rule needs no other")
    # ranges checked as the flags are parsed (a usage error naming the flag, ux19): TrainConfig checks
    # them again for Python callers, under their Python names
    p.add_argument("--epochs", type=int_at_least(1), default=10, help="passes over the faces (default 10, the paper's)")
    p.add_argument("--seed", type=int_within(0, SEED_MAX), default=0, help="seed of the initial weights, order, flips and noise (default 0)")
    p.add_argument("--batch-size", type=int_at_least(1), default=144, help="faces per step (default 144, the paper's)")
    p.add_argument("--lr", type=finite_number(0.0, inclusive=False), default=0.001, help="Adam learning rate (default 0.001; the paper: 0.005, which diverged here)")
    p.add_argument("--base-channels", type=int_at_least(1), default=32, help="channels of the first convolution (default 32: the paper's 6.4M-parameter shape)")
    p.add_argument("--threads", type=int_within(1, 256), default=1,  # training.loop.MAX_TRAIN_THREADS (imports torch)
                   help="torch CPU threads (1 to 256; default 1)")
    p.add_argument("--cache", default=None, help="optional .npz cache of the aligned crops (keep it outside the repo)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from OUT/checkpoint.pt (saved after every epoch): same --data and "
                        "settings, --epochs may be raised; the result equals an uninterrupted run's")
    p.set_defaults(func=_run)
