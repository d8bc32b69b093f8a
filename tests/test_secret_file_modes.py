"""Review 4, finding 6 (medium): secret files that other users may read were used silently.

``camera.key`` (whoever reads it signs seals *and purges* as the camera: early deletions that look
genuine), the MQTT ``password_file`` of ``serve`` and the holders' ``--passphrase-file`` were read
whatever their mode: a key copied with ``cp`` under a umask of 022, or a password file written by
an editor, is readable by every account on the camera or the authority's machine. facesel writes
each of them owner-only; now it also refuses to *use* one that group or others may read or write
(as ssh refuses such a private key), naming the file and the ``chmod`` that fixes it. The mode is
checked on the open descriptor (a link's target is what counts).
"""

from __future__ import annotations

import re

import pytest
from facesel.serve.events import check_mqtt
from facesel.vault.errors import KeyMaterialError
from facesel.vault.signing import CameraKey
from test_vault_common import T0, camera_dir, make_authority, make_live_authority, run_cli, vault_at


@pytest.fixture
def authority_dir(tmp_path):
    return make_authority(tmp_path / "auth")[1]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602])
def test_a_camera_key_others_may_read_or_change_is_refused(tmp_path, authority_dir, mode):
    key = camera_dir(authority_dir) / "camera.key"
    assert key.stat().st_mode & 0o777 == 0o600  # as facesel camera init writes it
    key.chmod(mode)
    with pytest.raises(KeyMaterialError, match=rf"other users may read or change it .*chmod 600 {key}"):
        CameraKey.load(key)
    with pytest.raises(KeyMaterialError, match="chmod 600"):  # the camera does not start with it
        vault_at(tmp_path / "v", authority_dir)
    assert not (tmp_path / "v").exists()
    link = tmp_path / "link.key"  # through a link: the target's mode counts
    link.symlink_to(key)
    with pytest.raises(KeyMaterialError, match="chmod 600"):
        CameraKey.load(link)
    key.chmod(0o600)
    assert CameraKey.load(link).camera_id == "cam-1"
    with vault_at(tmp_path / "v", authority_dir) as vault:
        assert vault.camera_id == "cam-1"


def test_an_mqtt_password_file_others_may_read_is_refused(tmp_path):
    password = tmp_path / "mqtt.pass"
    password.write_text("s3cret-broker-password\n")
    password.chmod(0o644)
    table = {"host": "127.0.0.1", "username": "facesel", "password_file": str(password)}
    with pytest.raises(ValueError, match=rf"serve.mqtt.password_file: {password}: other users may read"):
        check_mqtt(table, "serve.mqtt", tmp_path)
    password.chmod(0o600)
    assert dict(check_mqtt(table, "serve.mqtt", tmp_path))["password_file"] == str(password)


def test_a_passphrase_file_others_may_read_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FACESEL_KDF_LEVEL", "min")
    words = tmp_path / "words.txt"
    words.write_text("one quiet harbour\ntwo silver kites\nthree paper maps\n")
    words.chmod(0o644)
    argv = ["authority", "init", "--out", tmp_path / "a", "--shares", 3, "--threshold", 2, "--start", T0,
            "--horizon", "2d", "--passphrase-file", words, "--insecure-kdf-for-tests"]
    code, _, err = run_cli(capsys, *argv)
    assert code == 1 and "other users may read or change it" in err and f"chmod 600 {words}" in err
    assert not (tmp_path / "a").exists()
    words.chmod(0o600)
    code, _, err = run_cli(capsys, *argv)
    assert code == 0, err


def test_a_serve_config_holding_credentials_is_owner_only(tmp_path):
    """The serve config names camera URLs with passwords and the webhook URL: refused when others
    may read it, like the key and password files it names; a config without secrets may be 0644."""
    from facesel.serve.config import load_config

    authority_dir = make_live_authority(tmp_path / "auth")[1]  # a serve camera needs keys for now
    camera_key = camera_dir(authority_dir)
    base = f'[defaults]\nauthority = "{authority_dir / "authority.pub"}"\n[cameras.door]\nvault = "v"\n' \
           f'camera_key = "{camera_key}"\n'
    config = tmp_path / "serve.toml"
    cases = {'source = "rtsp://admin:pw@10.0.0.5:554/s1"\n': "the credentials of camera(s) door",
             'source = "rtsp://10.0.0.5:554/s1?token=abcdef"\n': "the credentials of camera(s) door",
             # a signed stream URL: its secret's name holds the word as one part (review round 12c)
             'source = "https://cams.example.net/door.m3u8?access_token=Acc-7781"\n': "the credentials of camera(s) door",
             'source = "rtsp://10.0.0.5:554/s1"\n[serve.webhook]\nurl = "https://hooks.example.org/services/T0/X"\n':
                 "the webhook's URL"}
    for extra, holds in cases.items():
        config.write_text(base + extra)
        config.chmod(0o644)
        with pytest.raises(ValueError, match=rf"holds {re.escape(holds)}, but other users may read.*chmod 600 "
                                             rf"{re.escape(str(config))}"):
            load_config(config)
        config.chmod(0o600)
        assert list(load_config(config).cameras) == ["door"]
    config.write_text(base + 'source = "rtsp://10.0.0.5:554/s1"\n')
    config.chmod(0o644)
    assert list(load_config(config).cameras) == ["door"]


def test_a_public_key_given_for_the_camera_key_is_named_not_chmodded(tmp_path, authority_dir, capsys):
    # ux15: `--camera DIR/camera.pub` (the public file beside the key, a likely slip) was called
    # "a secret facesel-camera-key file" and the user told to `chmod 600` the public key.
    public = camera_dir(authority_dir) / "camera.pub"
    assert public.stat().st_mode & 0o044  # readable by others, as a public key is
    with pytest.raises(KeyMaterialError, match=re.escape(f"{public}: not a facesel-camera-key file "
                                                         "(it is a facesel-camera-public file)")):
        CameraKey.load(public)
    code, _, err = run_cli(capsys, "list", "--vault", tmp_path, "--authority", public)
    assert code == 1 and "not a facesel-authority-public file (it is a facesel-camera-public file)" in err
    key = camera_dir(authority_dir) / "camera.key"
    key.chmod(0o644)  # the secret itself, exposed: still refused with the chmod that fixes it
    with pytest.raises(KeyMaterialError, match="chmod 600"):
        CameraKey.load(key)
