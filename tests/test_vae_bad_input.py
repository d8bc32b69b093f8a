"""VAEScorer given a model folder whose model_card.json is damaged (ux12's round): a ValueError
naming the file, not a JSONDecodeError or an AttributeError from inside the constructor."""

from __future__ import annotations

import shutil

import pytest
from facesel.scoring import VAEScorer
from facesel.scoring.vae import shipped_model_dir


@pytest.mark.parametrize("card", [b"{bad", b"[1, 2]", b'{"calibration": 5}', b"\xff\xfe\x00"])
def test_damaged_model_card_is_named(tmp_path, card):
    for name in ("encoder.onnx", "decoder.onnx"):
        shutil.copy(shipped_model_dir() / name, tmp_path / name)
    (tmp_path / "model_card.json").write_bytes(card)
    with pytest.raises(ValueError, match=r"model_card\.json is not a valid model card"):
        VAEScorer(tmp_path)


def test_shipped_model_card_is_read():
    assert VAEScorer().calibration  # the shipped card has its calibration
