"""``facesel eval erc`` end to end on real faces (ORL, 12 subjects), with and without degradation.

The embedding cache is shared within the test session, so the dlib matcher runs once per image.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("dlib")

from facesel.cli import main

N_SUBJECTS = 12


@pytest.fixture(scope="session")
def eval_cache(tmp_path_factory):
    # One folder for the whole session (test_eval_protocol.py uses the same one).
    return tmp_path_factory.getbasetemp() / "facesel-eval-embedding-cache"


def _run(shared_data, out, cache, *extra):
    argv = [
        "eval", "erc",
        "--data", str(shared_data / "faces" / "orl"),
        "--out", str(out),
        "--limit-identities", str(N_SUBJECTS),
        "--train", str(shared_data / "faces" / "lfw" / "train"),
        "--train-limit", "200",
        "--cache-dir", str(cache),
        "--bootstrap", "50",
        "--no-progress",
        *extra,
    ]  # fmt: skip
    assert main(argv) == 0
    return json.loads((out / "results.json").read_text()), (out / "report.md").read_text()


@pytest.fixture(scope="session")
def clean_run(shared_data, eval_cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("orl-clean")
    methods = "sharpness,pca-error,brightness,contrast,face-size,supervised-ridge"
    # (A --vae-model folder without a usable model is refused up front since ux13: see
    # test_a_vae_model_folder_without_a_usable_model_is_refused_before_any_work; a method that
    # cannot be built still says why: test_eval_protocol.test_vae_methods_say_why_when_their_model_is_missing.)
    return (out, *_run(shared_data, out, eval_cache, "--methods", methods))


@pytest.fixture(scope="session")
def degraded_run(shared_data, eval_cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("orl-degraded")
    return (out, *_run(shared_data, out, eval_cache, "--methods", "sharpness", "contrast", "face-size", "--degrade", "7"))


@pytest.mark.slow
def test_clean_run_writes_plots_tables_and_states_its_protocol(clean_run):
    out, results, report = clean_run
    for name in ("erc-fnmr-0.01", "erc-fnmr-0.001", "edc-fmr-0.001"):
        assert (out / f"{name}.png").stat().st_size > 10_000
        assert name in results["protocols"]
    assert "FaceNet" in report and "dlib" in report  # the matcher substitution is stated
    assert "closest to the mean clean embedding" in report  # the reference rule is stated
    assert "divided by the limit" in report  # the normalisation is stated
    # 108 probes at an initial FNMR of 0.001: a curve of one or two errors is flagged, not read.
    assert results["protocols"]["erc-fnmr-0.001"]["n_errors"] < 20
    assert "false non-matches: this curve turns on a handful of comparisons" in report
    assert results["meta"]["subjects"] == N_SUBJECTS
    assert results["meta"]["images"] == 10 * N_SUBJECTS
    assert results["meta"]["probes"] == 9 * N_SUBJECTS
    # The supervised baseline is there and clearly marked as needing a recognition model.
    assert "NEEDS A FACE-RECOGNITION MODEL" in results["families"]["supervised-ridge"]
    assert "| supervised-ridge | supervised: NEEDS A FACE-RECOGNITION MODEL" in report


@pytest.mark.slow
def test_controls_behave_as_defined(clean_run):
    _, results, _ = clean_run
    for proto in results["protocols"].values():
        rows, curves = proto["rows"], proto["curves"]
        assert rows["ideal"]["gain@0.2"] == pytest.approx(1.0)
        assert rows["random"]["gain@0.2"] == pytest.approx(0.0)
        # ORL images all have one size: face size is constant, so its curve is flat (gain 0).
        assert rows["face-size"]["gain@0.2"] == pytest.approx(0.0)
        np.testing.assert_allclose(curves["face-size"], proto["initial_error"])
        # The ideal curve is never above any method's curve.
        for name, curve in curves.items():
            assert np.all(np.asarray(curves["ideal"]) <= np.asarray(curve) + 1e-12), name
        # The many-seed random estimate agrees with its expectation.
        assert rows["random"]["pauc@0.2_seeds_mean"] == pytest.approx(rows["random"]["pauc@0.2"], abs=0.02)
        lo, hi = rows["sharpness"]["pauc@0.2_ci"]
        assert lo <= hi


@pytest.mark.slow
def test_degraded_run_degrades_probes_only_and_methods_notice_their_degradation(degraded_run, clean_run):
    _, results, report = degraded_run
    _, clean, _ = clean_run
    assert "degraded probes, seed 7" in report
    kinds = results["kind_ranks"]
    # Sharpness ranks blurred probes low and noisy ones high (it reads noise as detail);
    # contrast ranks low-contrast probes low.
    assert kinds["sharpness"]["gaussian_blur"] < 0.35
    assert kinds["sharpness"]["noise"] > 0.65
    assert kinds["contrast"]["low_contrast"] < 0.35
    assert kinds["face-size"]["gaussian_blur"] == pytest.approx(0.5)
    # Within each kind, Spearman(severity, quality): sharpness falls with blur and rises with noise;
    # a constant quality (face size on tight crops) has no correlation at all (NaN, not a number).
    rho = results["kind_spearman"]
    assert rho["sharpness"]["gaussian_blur"] < -0.5 and rho["sharpness"]["noise"] > 0.5
    assert np.isnan(rho["face-size"]["gaussian_blur"])
    assert "fall with each degradation's severity" in report
    # Degradation makes the matcher fail more at the same FMR.
    edc, edc_clean = results["protocols"]["edc-fmr-0.001"], clean["protocols"]["edc-fmr-0.001"]
    assert edc["initial_error"] > edc_clean["initial_error"]


def test_unknown_method_is_one_clear_error(shared_data, tmp_path, capsys):
    argv = ["eval", "erc", "--data", str(shared_data / "faces" / "orl"), "--out", str(tmp_path), "--methods", "nope"]
    assert main(argv) == 1
    assert "unknown quality method 'nope'" in capsys.readouterr().err


def test_missing_data_folder_is_one_clear_error(tmp_path, capsys):
    assert main(["eval", "erc", "--data", str(tmp_path / "absent"), "--out", str(tmp_path / "o")]) == 1
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize(("files", "says"), [
    ({}, "encoder.onnx not found"),
    ({"encoder.onnx": "garbage", "decoder.onnx": "garbage", "model_card.json": "{}"}, "not a usable model (InvalidProtobuf"),
])
def test_a_vae_model_folder_without_a_usable_model_is_refused_before_any_work(shared_data, tmp_path, capsys,
                                                                                 files, says):
    # Before: the whole evaluation set was aligned and embedded, then every VAE method was "not
    # available" in the report with exit status 0 (a missing folder), or a corrupt encoder.onnx
    # ended the run in an InvalidProtobuf traceback.
    model = tmp_path / "model"
    model.mkdir()
    for name, text in files.items():
        (model / name).write_text(text)
    argv = ["eval", "erc", "--data", str(shared_data / "faces" / "orl"), "--out", str(tmp_path / "out"),
            "--methods", "vae-paper", "--vae-model", str(model), "--no-progress"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--vae-model {model}: {says}" in err, err
    assert not (tmp_path / "out").exists()
