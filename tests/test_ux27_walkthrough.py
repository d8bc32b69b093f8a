"""Walkthrough ux27 (session 26): the operator's and the investigator's day (docs/review.md,
"Walkthrough ux27"). Each test fails on the branch's base."""

from __future__ import annotations

import pytest
from test_review_bundle import made  # noqa: F401
from test_serve_source_file import config_with_source, enrolled  # noqa: F401
from test_vault_common import camera_dir, make_authority, run_cli

from facesel.vault.keys import AuthorityPublic


def test_verify_bundle_refuses_another_authoritys_file_whatever_its_serial(made, tmp_path, capsys):  # noqa: F811
    # Before: `verify-bundle B --fingerprint FP --authority OTHER/authority.pub`, another authority's
    # file whose serial was not above the bundle's copy, was skipped unread: VERIFIED, exit 0, as if
    # the revocations of the file given had been checked. One of a higher serial was refused.
    adir, _, _, bundle = made
    fingerprint = AuthorityPublic.load(adir / "authority.pub").fingerprint
    other, other_dir = make_authority(tmp_path / "other")
    assert other.serial <= AuthorityPublic.load(adir / "authority.pub").serial
    code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--fingerprint", fingerprint,
                           "--authority", other_dir / "authority.pub")
    assert code == 1, out
    assert out.startswith(f"{bundle}: NOT VERIFIED: the given authority.pub is signed by authority key "
                          f"{other.fingerprint[:16]}..."), out
    assert "(it must be a later file of the bundle's authority)" in out
    # the authority's own current file (the bundle's copy itself) verifies with no note on it
    code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--fingerprint", fingerprint,
                           "--authority", adir / "authority.pub")
    assert code == 0 and "older than the bundle's own copy" not in out, out


@pytest.mark.parametrize("content, says", [
    (b"hello\n", "does not open as a video (FFmpeg: not a video format it can decode, or the file is damaged or cut short)"),
    (bytes(range(256)) * 64, "does not open as a video"),
])
def test_a_camera_file_that_is_not_a_video_is_refused_by_the_check(enrolled, tmp_path, content, says):
    # Before: `serve --check` said "2 camera(s) OK" of a source file holding garbage, and a reload to
    # it replaced a working camera with one down for good ("[Errno 1094995529] Invalid data found
    # when processing input", reconnecting every few seconds).
    from facesel.serve.config import parse_config

    video = tmp_path / "door.mp4"
    video.write_bytes(content)
    with pytest.raises(ValueError, match="^cameras\\.door\\.source: ") as caught:
        parse_config(config_with_source(enrolled, video, tmp_path / "v"))
    assert f"{video} {says}" in str(caught.value)


@pytest.mark.parametrize("argv, says", [
    (["run", "--input", "x.mp4"], "--input: INPUT is given without a flag: facesel run ... INPUT"),  # was '--min-iou'
    (["open", "--vault", "v", "--share", "s", "--reason", "r", "--out", "o", "--record", "0" * 32],
     "--record: RECORD_ID is given without a flag: facesel open ... RECORD_ID"),  # was "did you mean '--reason'?"
    (["verify-bundle", "--bundle", "case.zip"], "--bundle: bundle is given without a flag: facesel verify-bundle ... "
                                               "bundle"),  # was no hint
    (["score", "--images", "a.png"], "--images: IMAGE is given without a flag: facesel score ... IMAGE"),
])
def test_an_operand_given_as_a_flag_is_told_to_go_without_it(capsys, argv, says):
    import facesel.cli as cli

    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert err.endswith(f"error: unrecognized arguments: {argv[argv.index(says.split(':')[0])]} ({says})\n"), err
    assert "did you mean" not in err


EXPIRED = "has no epoch key for now (2"  # the date, then "its keys ended at " the last key's end
ENDED = "Z, so nothing can be sealed; the authority's holders make later keys with " \
        "'facesel authority extend --until TIME' and give the camera the new authority.pub"


def test_a_run_into_a_vault_under_an_expired_authority_is_refused_before_anything_is_read(tmp_path, capsys):
    # Before: the models loaded, the whole input was read, then "--vault V could not be written
    # (authority.pub ... has no epoch key covering ...); ... free space (or fix the folder)", a vault
    # folder made. make_authority's keys run from T0 - 2 days for 10 days (October 2025).
    from facesel.demo_data import demo_clip

    _, adir = make_authority(tmp_path / "authority")
    vault = tmp_path / "vault"
    code, _, err = run_cli(capsys, "run", demo_clip(), "--vault", vault, "--authority", adir / "authority.pub",
                           "--camera", camera_dir(adir))
    assert code == 1
    assert err.startswith(f"facesel run: error: --authority {adir / 'authority.pub'}: authority.pub of authority "), err
    assert EXPIRED in err and "): its keys ended at 2025-" in err and ENDED in err and "input " not in err
    assert not vault.exists()


def test_a_serve_camera_under_an_expired_authority_is_refused_by_the_check(tmp_path):
    # Before: `serve --check` said OK of a camera whose authority's keys had all ended, and the camera
    # then ran "up", its tracks held and counted as lost: nothing could be sealed. A disabled camera
    # is not asked (the operator may park it until the holders extend the keys).
    from facesel.demo_data import demo_clip
    from facesel.serve.config import parse_config

    _, adir = make_authority(tmp_path / "authority", camera_id="door")  # keys of October 2025
    config = {"serve": {"listen": ""}, "defaults": {"authority": str(adir / "authority.pub")},
              "cameras": {"door": {"source": str(demo_clip()), "vault": str(tmp_path / "v"),
                                   "camera_key": str(camera_dir(adir, "door"))}}}
    with pytest.raises(ValueError, match="^cameras\\.door\\.authority: authority\\.pub of authority ") as caught:
        parse_config(config)
    assert EXPIRED in str(caught.value) and "): its keys ended at 2025-" in str(caught.value), caught.value
    assert ENDED in str(caught.value)
    config["cameras"]["door"]["enabled"] = False
    assert not parse_config(config).cameras["door"].enabled
