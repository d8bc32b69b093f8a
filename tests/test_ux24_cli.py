"""A new user's walkthrough, session 23 (docs/review.md, "Walkthrough ux24"): command-line findings.
Each test fails on the branch's base."""

from __future__ import annotations

import pytest
from facesel.cli import main


def _usage_error(capsys, argv) -> str:
    """The last stderr line of ``facesel ARGV``, which must be a usage error (exit 2)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize("camera_id", ["gate 3", "../x", "-gate", "x" * 129])
def test_camera_init_names_the_camera_id_flag(capsys, tmp_path, camera_id):
    # Before: exit 1, "facesel camera: camera id must be 1-128 letters ...": no flag named.
    out = tmp_path / "cam"
    err = _usage_error(capsys, ["camera", "init", "--out", str(out), f"--camera-id={camera_id}",
                                "--authority-fingerprint", "a" * 64])
    assert err.startswith("facesel camera init: error: argument --camera-id: must be 1-128 letters"), err
    assert repr(camera_id) in err
    assert not out.exists()  # refused before the folder is made


def test_batch_workers_beyond_the_bound_is_a_usage_error(capsys, tmp_path):
    # Before: --workers 100000 was taken (and, with --ray local, asked Ray for 100000 CPUs).
    err = _usage_error(capsys, ["batch", str(tmp_path / "v.mp4"), "--central", "postgresql://x/y", "--camera",
                                str(tmp_path), "--authority", str(tmp_path / "a.pub"), "--workers", "100000"])
    assert err.startswith("facesel batch: error: argument --workers: must be an integer in [1, 1024], got 100000"), err


def test_batch_says_what_its_workers_will_not_do():
    from facesel.cli.batch import workers_note

    assert workers_note(2, 5, None, 4) is None
    assert workers_note(1, 1, None, 1) is None
    assert "--workers 8 for 3 video(s): 3 pipeline(s) run" in workers_note(8, 3, None, 16)
    assert "3 pipelines on 2 CPU(s)" in workers_note(8, 3, None, 2)
    assert "3 pipelines on 2 CPU(s)" in workers_note(3, 10, "local", 2)
    assert "is not used with --ray auto" in workers_note(4, 10, "auto", 2)
    assert workers_note(1, 10, "auto", 2) is None


def test_verify_bundle_dates_a_vault_record_by_its_signed_header_as_the_desk_and_list_do(tmp_path, shared_data,
                                                                                        capsys):
    # Before: the vault bundle's line gave the seal's log entry time (written a moment after the
    # header's), so a record the desk, `list` and the manifest dated 13:05:16 was "sealed ... at
    # 13:05:17" in the clerk's verification.
    import re

    from facesel.vault.keys import AuthorityPublic
    from test_vault_common import T0, make_authority, orl_faces, run_cli, share_paths, track_result, vault_at

    class Ticking:
        """A clock that moves 0.7 s at each reading: the header's and the log entry's times differ."""

        def __init__(self):
            self.now = T0 + 0.5

        def __call__(self):
            self.now += 0.7
            return self.now

    adir = make_authority(tmp_path / "auth", camera_id="cam-1")[1]
    with vault_at(tmp_path / "vault", adir, camera_id="cam-1", clock=Ticking()) as vault:
        rid = vault.seal(track_result(orl_faces(shared_data, 1)[0]))
    code, listed, _ = run_cli(capsys, "list", "--vault", tmp_path / "vault", "--authority", adir / "authority.pub")
    assert code == 0
    row = next(line for line in listed.splitlines() if line.startswith(rid))
    header_time = row.split()[1].replace("T", " ").replace("Z", " UTC")  # as list shows it, in utc_text's form
    bundle = tmp_path / "evidence.zip"
    code, _, err = run_cli(capsys, "open", "--vault", tmp_path / "vault", "--reason", "case 1", "--out",
                           tmp_path / "opened", "--bundle", bundle, "--share", share_paths(adir)[0], "--share",
                           share_paths(adir)[2], rid)
    assert code == 0, err
    try:
        fingerprint = AuthorityPublic.load(adir / "authority.pub").fingerprint
        code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--fingerprint", fingerprint)
        assert code == 0, out
        said = re.search(rf"record {rid}: sealed and signed by camera cam-1 at ([0-9: -]+ UTC)( \(logged as sealed at "
                         r"([0-9: -]+ UTC)\))?", out)
        assert said, out
        assert said.group(1) == header_time, (said.group(0), header_time)
        assert said.group(3) is not None and said.group(3) != header_time  # this clock made them differ: both shown
    finally:
        import shutil

        shutil.rmtree(tmp_path / "opened", ignore_errors=True)  # plaintext faces: not left behind
