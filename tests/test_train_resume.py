"""An interrupted ``facesel train`` loses nothing: each epoch is saved (model, optimiser, random
states) to OUT/checkpoint.pt, ``--resume`` continues from it to the same weights an uninterrupted
run gives, and a rerun without ``--resume`` refuses to overwrite the saved epochs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import facesel
import numpy as np
import pytest

if not os.environ.get("CI"):  # torch is the [train] extra; CI installs it, so never skip there
    pytest.importorskip("torch", reason="facesel train needs torch (the [train] extra)")

import torch
from facesel.training.loop import TrainConfig, train_vae


@pytest.fixture(scope="module")
def orl_crops(shared_data):
    """(12, 64, 64) uint8: real ORL faces resized to the crop size."""
    paths = sorted((shared_data / "faces" / "orl").glob("s*/3.pgm"))[:12]
    return np.stack([cv2.resize(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), (64, 64), interpolation=cv2.INTER_AREA)
                     for p in paths])


def _config(epochs):
    return TrainConfig(epochs=epochs, batch_size=5, base_channels=4, latent=8, seed=7, threads=1)


def test_a_resumed_run_equals_an_uninterrupted_one(orl_crops, tmp_path):
    whole, whole_history = train_vae(orl_crops, _config(3), progress=False)
    checkpoint = str(tmp_path / "checkpoint.pt")
    # A 3-epoch run stopped after its first epoch leaves this file (the loop does not look at
    # the epoch count before the end of an epoch).
    train_vae(orl_crops, _config(1), progress=False, checkpoint=checkpoint)
    resumed, history = train_vae(orl_crops, _config(3), progress=False, checkpoint=checkpoint, resume=True)
    assert history.loss == whole_history.loss and len(history.loss) == 3
    for name, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name
    # Without the optimiser and random states (what the checkpoint held before) it would differ:
    fresh, _ = train_vae(orl_crops, _config(2), progress=False)
    assert not all(torch.equal(v, fresh.state_dict()[k]) for k, v in whole.state_dict().items())


@pytest.mark.parametrize(("setting", "says"), [({"seed": 8}, "seed 7 then, 8 now"),
                                               ({"batch_size": 4}, "batch_size 5 then, 4 now")])
def test_resume_with_other_settings_is_refused(orl_crops, tmp_path, setting, says):
    checkpoint = str(tmp_path / "checkpoint.pt")
    train_vae(orl_crops, _config(1), progress=False, checkpoint=checkpoint)
    config = TrainConfig(**{**_config(2).__dict__, **setting})
    with pytest.raises(ValueError, match=says):
        train_vae(orl_crops, config, progress=False, checkpoint=checkpoint, resume=True)
    with pytest.raises(ValueError, match="started on 12 face images, this one has 11"):
        train_vae(orl_crops[:11], _config(2), progress=False, checkpoint=checkpoint, resume=True)


def test_a_damaged_checkpoint_is_one_clear_error(orl_crops, tmp_path):
    checkpoint = tmp_path / "checkpoint.pt"
    checkpoint.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable facesel training checkpoint"):
        train_vae(orl_crops, _config(2), progress=False, checkpoint=str(checkpoint), resume=True)


def _faces_folder(shared_data, root: Path) -> Path:
    data = root / "faces"
    for ident in ("s1", "s2", "s3"):  # links to the shared images: nothing is copied
        (data / ident).mkdir(parents=True)
        for k in range(1, 5):
            (data / ident / f"{k}.pgm").symlink_to(shared_data / "faces" / "orl" / ident / f"{k}.pgm")
    return data


def test_ctrl_c_keeps_the_epochs_and_resume_finishes(shared_data, tmp_path):
    data, out = _faces_folder(shared_data, tmp_path), tmp_path / "model"
    argv = [sys.executable, "-m", "facesel", "train", "--data", str(data), "--out", str(out), "--epochs", "100000",
            "--batch-size", "4", "--base-channels", "4", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(Path(facesel.__file__).resolve().parents[1])}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        for _ in range(1200):  # until the first epoch is saved (aligning and importing torch first)
            if (out / "checkpoint.pt").exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert (out / "checkpoint.pt").exists(), proc.stderr.read() if proc.poll() is not None else "no checkpoint"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "run the same command with --resume to continue" in err
    saved = torch.load(out / "checkpoint.pt", weights_only=True)["epoch"]
    assert saved >= 1 and not (out / "checkpoint.pt.tmp").exists()
    # Without --resume the saved epochs are not overwritten; with it (fewer epochs now) it finishes.
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 1 and "add --resume to continue it" in again.stderr
    argv[argv.index("100000")] = str(saved + 1)
    done = subprocess.run(argv + ["--resume"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (out / "encoder.onnx").is_file() and not (out / "checkpoint.pt").exists()


def test_resume_without_a_checkpoint_says_so(shared_data, tmp_path, capsys):
    from facesel.cli import main

    data = _faces_folder(shared_data, tmp_path)
    code = main(["train", "--data", str(data), "--out", str(tmp_path / "model"), "--resume", "--quiet"])
    assert code == 1
    assert "nothing to resume" in capsys.readouterr().err


def test_an_interruption_while_calibrating_keeps_the_epochs(shared_data, tmp_path, monkeypatch):
    # The checkpoint was removed before the export and the calibration (minutes on lfw/train): a
    # Ctrl-C there lost every epoch. Now it goes only once the model card is written.
    import facesel.training.pipeline as pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    data, out = _faces_folder(shared_data, tmp_path), tmp_path / "model"
    settings = dict(epochs=1, batch_size=4, base_channels=4, threads=1, progress=False)
    monkeypatch.setattr(pipeline, "finalise_card", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.train_and_export(data, out, **settings)
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] == 1
    monkeypatch.undo()
    card = pipeline.train_and_export(data, out, resume=True, **settings)
    assert len(card["losses"]["loss"]) == 1 and not (out / "checkpoint.pt").exists()
