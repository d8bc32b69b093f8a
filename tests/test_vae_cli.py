"""``facesel score`` and ``facesel train`` end to end on real faces (ORL), through main()."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from facesel.cli import main


@pytest.fixture(scope="module")
def orl_images(shared_data):
    return sorted((shared_data / "faces" / "orl").glob("s1*/1.pgm"))[:3]


def test_score_prints_one_line_per_image(orl_images, capsys):
    assert main(["score", *map(str, orl_images)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(orl_images)
    for line, path in zip(lines, orl_images):
        name, value = line.split("\t")[:2]
        assert name == str(path) and np.isfinite(float(value))


def test_score_json_matches_the_default_scorer(orl_images, capsys):
    assert main(["score", "--json", *map(str, orl_images)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in doc["results"]] == [str(p) for p in orl_images]
    assert all(isinstance(r["quality"], float) and r["detected"] for r in doc["results"])
    # the default rule reads a video's context; a photo has none, so the VAE's stills rule gives the numbers
    assert doc["scorer"].endswith("= vae-dose_flat+jpeg_grid")


def test_unreadable_and_missing_files_fail_clearly(tmp_path, orl_images, capsys):
    bad = tmp_path / "not_an_image.jpg"
    bad.write_text("plain text, not a JPEG")
    assert main(["score", str(orl_images[0]), str(bad)]) == 1
    assert "cannot read image file" in capsys.readouterr().err
    assert main(["score", str(tmp_path / "missing.png")]) == 1
    assert "image not found" in capsys.readouterr().err


def test_train_writes_onnx_card_and_plot(shared_data, tmp_path):
    if not os.environ.get("CI"):  # torch is the [train] extra; CI installs it, so never skip there
        pytest.importorskip("torch", reason="facesel train needs torch (the [train] extra)")
    data = tmp_path / "faces"
    for ident in ("s1", "s2", "s3"):  # links to the shared images: nothing is copied
        (data / ident).mkdir(parents=True)
        for k in range(1, 5):
            (data / ident / f"{k}.pgm").symlink_to(shared_data / "faces" / "orl" / ident / f"{k}.pgm")
    out = tmp_path / "model"
    args = ["train", "--data", str(data), "--out", str(out), "--epochs", "2", "--batch-size", "4",
            "--base-channels", "4", "--seed", "3", "--quiet"]
    assert main(args) == 0
    for name in ("encoder.onnx", "decoder.onnx", "model_card.json", "loss_curve.png"):
        assert (out / name).is_file(), name
    assert not (out / "checkpoint.pt").exists()
    card = json.loads((out / "model_card.json").read_text())
    assert card["method"] == "paper" and card["epochs"] == 2 and len(card["losses"]["loss"]) == 2
    assert card["data"]["images"] == 12 and card["parameters"] > 0 and "align_face" in card["crop_function"]
    from facesel.scoring import VAEScorer

    scores = VAEScorer(out, samples=2).score(np.zeros((2, 64, 64), np.uint8) + 100)
    assert scores.shape == (2,) and np.all(np.isfinite(scores))


def test_train_rejects_a_missing_folder(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 1
    assert "not found" in capsys.readouterr().err


@pytest.fixture()
def small_face_folder(shared_data, tmp_path):
    """3 ORL identities x 5 images, linked (nothing copied), laid out as <identity>/<image>."""
    data = tmp_path / "faces"
    for ident in ("s1", "s2", "s3"):
        (data / ident).mkdir(parents=True)
        for k in range(1, 6):
            (data / ident / f"{k}.pgm").symlink_to(shared_data / "faces" / "orl" / ident / f"{k}.pgm")
    return data


@pytest.fixture()
def model_copy(tmp_path):
    """The shipped model with a writable card: ONNX files linked, model_card.json copied."""
    from facesel.scoring.vae import shipped_model_dir

    src, dst = shipped_model_dir(), tmp_path / "model"
    dst.mkdir()
    for name in ("encoder.onnx", "decoder.onnx"):
        (dst / name).symlink_to(src / name)
    (dst / "model_card.json").write_text((src / "model_card.json").read_text())
    return dst


def test_calibrate_rewrites_only_the_calibration(small_face_folder, model_copy, capsys):
    before = json.loads((model_copy / "model_card.json").read_text())
    args = ["calibrate", "--model", str(model_copy), "--data", str(small_face_folder), "--n", "15",
            "--statistics", "log_rp_per_pixel,residual_blockiness", "--quiet"]
    assert main(args) == 0
    after = json.loads((model_copy / "model_card.json").read_text())
    cal = after["calibration"]
    assert cal["crops"] == 15 and cal["dose_statistics"] == ["log_rp_per_pixel", "residual_blockiness"]
    assert np.asarray(cal["dose_precision"]).shape == (2, 2)
    # the photo rule's JPEG grid term, measured on the same folder's photos (issue 22)
    assert cal["jpeg_grid_photos"] == 15 and cal["jpeg_grid_std"] > 0 and 0 < cal["jpeg_grid_mean"] < 1
    assert {k: v for k, v in after.items() if k != "calibration"} == {k: v for k, v in before.items() if k != "calibration"}
    assert "calibrated" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--statistics", "log_rp_per_pixel,no_such_statistic"], "unknown"),
        (["--n", "3"], "--n must be at least"),
    ],
)
def test_calibrate_rejects_bad_settings(small_face_folder, model_copy, capsys, extra, message):
    card = (model_copy / "model_card.json").read_text()
    assert main(["calibrate", "--model", str(model_copy), "--data", str(small_face_folder), "--quiet", *extra]) == 1
    assert message in capsys.readouterr().err
    assert (model_copy / "model_card.json").read_text() == card  # untouched


def test_calibrate_needs_a_model_folder(small_face_folder, tmp_path, capsys):
    assert main(["calibrate", "--model", str(tmp_path / "nowhere"), "--data", str(small_face_folder)]) == 1
    assert "nowhere: no such folder; give the model folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["calibrate", "--model", str(tmp_path / "empty"), "--data", str(small_face_folder)]) == 1
    assert "encoder.onnx not found" in capsys.readouterr().err


def test_train_refuses_too_few_faces_before_training(shared_data, tmp_path, capsys):
    if not os.environ.get("CI"):
        pytest.importorskip("torch", reason="facesel train needs torch (the [train] extra)")
    data = tmp_path / "faces" / "s1"
    data.mkdir(parents=True)
    for k in range(1, 4):
        (data / f"{k}.pgm").symlink_to(shared_data / "faces" / "orl" / "s1" / f"{k}.pgm")
    out = tmp_path / "model"
    assert main(["train", "--data", str(tmp_path / "faces"), "--out", str(out), "--epochs", "1", "--quiet"]) == 1
    assert "needs at least" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_score_gives_every_face_with_its_box(shared_data, capsys):
    """An image with several people (the first frame of the walking clip): one score per face,
    each with a box inside the image, nearest the centre first, and the score's scale."""
    from facesel.faceset import read_image

    path = shared_data / "videos" / "intel_face_demographics_walking.gif"
    assert main(["score", "--json", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    h, w = read_image(path).shape[:2]
    [row] = doc["results"]
    assert len(row["faces"]) >= 2 and all(f["detected"] for f in row["faces"])
    for face in row["faces"]:
        x1, y1, x2, y2 = face["box"]
        assert -1 <= x1 < x2 <= w + 1 and -1 <= y1 < y2 <= h + 1 and np.isfinite(face["quality"])
    centre = np.array([w / 2, h / 2])
    distances = [np.linalg.norm((np.array(f["box"][:2]) + f["box"][2:]) / 2 - centre) for f in row["faces"]]
    assert distances == sorted(distances)
    assert row["quality"] == row["faces"][0]["quality"]
    assert "higher is better" in doc["scale"]


def test_score_missing_file_keeps_the_json_of_the_others(orl_images, tmp_path, capsys):
    missing = tmp_path / "missing.png"
    assert main(["score", "--json", str(orl_images[0]), str(missing)]) == 1
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    good, bad = doc["results"]
    assert good["path"] == str(orl_images[0]) and np.isfinite(good["quality"]) and len(good["faces"]) >= 1
    assert bad == {"path": str(missing), "error": f"image not found: {missing}"}
    assert "image not found" in captured.err


def test_score_a_folder_says_it_is_a_folder_not_missing(orl_images, tmp_path, capsys):
    # Before: "image not found: DIR" for a folder that exists (ux12's round).
    assert main(["score", "--json", str(orl_images[0]), str(tmp_path)]) == 1
    captured = capsys.readouterr()
    _, bad = json.loads(captured.out)["results"]
    assert bad == {"path": str(tmp_path), "error": f"not an image file: {tmp_path} is a folder"}
