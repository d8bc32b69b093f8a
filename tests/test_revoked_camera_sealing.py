"""A camera whose key the authority revoked is refused on the sealing side (ux21): by the serve
config and by `facesel run --vault`. Every record it seals from the revocation's time on is refused
by every reader (`check_not_revoked`), yet `serve --check` said "2 camera(s) OK", the service ran
it "up, running", counting its records as sealed, and `run` sealed into its vault, exit 0."""

from __future__ import annotations

import time

import pytest
from facesel.cli import main
from facesel.serve.config import parse_config
from facesel.vault.authority import revoke_camera

from test_vault_common import add_camera, camera_dir, make_authority, master_of


@pytest.fixture()
def two_cameras(tmp_path, shared_data):
    adir = make_authority(tmp_path / "auth", camera_id="door", start=time.time() - 3600)[1]  # epochs cover now
    add_camera(adir, "hall")
    clip = shared_data / "videos" / "intel_face_demographics_walking.gif"
    cameras = {name: {"source": str(clip), "vault": str(tmp_path / f"vault-{name}"),
                      "camera_key": str(camera_dir(adir, name))} for name in ("door", "hall")}
    data = {"serve": {"listen": ""}, "defaults": {"authority": str(adir / "authority.pub")}, "cameras": cameras}
    return adir, data


def test_a_camera_revoked_from_a_time_passed_is_refused_naming_it(two_cameras):
    adir, data = two_cameras
    parse_config(data)  # both registered, none revoked: taken
    since = time.time() - 60
    revoke_camera(adir, master_of(adir), "hall", since)
    with pytest.raises(ValueError) as refused:
        parse_config(data)
    message = str(refused.value)
    assert message.startswith("cameras.hall.camera_key: camera hall's key was revoked by the authority from ")
    assert "refused by every reader" in message and "facesel camera init --camera-id NEW" in message
    del data["cameras"]["hall"]
    parse_config(data)  # the other camera is not concerned


def test_a_revocation_from_a_later_time_does_not_stop_the_camera_yet(two_cameras):
    adir, data = two_cameras
    revoke_camera(adir, master_of(adir), "hall", time.time() + 3600)
    assert set(parse_config(data).cameras) == {"door", "hall"}


def test_serve_check_exits_1_on_a_revoked_camera(two_cameras, tmp_path, capsys):
    adir, data = two_cameras
    revoke_camera(adir, master_of(adir), "door", time.time() - 60)
    config = tmp_path / "s.toml"
    lines = ['[defaults]', f'authority = "{data["defaults"]["authority"]}"']
    for name, camera in data["cameras"].items():
        lines += [f"[cameras.{name}]"] + [f'{key} = "{value}"' for key, value in camera.items()]
    config.write_text("\n".join(lines) + "\n")
    config.chmod(0o600)
    assert main(["serve", "--check", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "cameras.door.camera_key: camera door's key was revoked" in err


def test_run_into_a_vault_refuses_a_revoked_camera_before_making_the_vault(two_cameras, shared_data, tmp_path, capsys):
    adir, data = two_cameras
    revoke_camera(adir, master_of(adir), "hall", time.time() - 60)
    clip = shared_data / "videos" / "intel_face_demographics_walking.gif"
    vault = tmp_path / "run-vault"
    argv = ["run", str(clip), "--vault", str(vault), "--authority", str(adir / "authority.pub"), "--no-progress",
            "--max-frames", "20", "--camera"]
    assert main(argv + [str(camera_dir(adir, "hall"))]) == 1
    err = capsys.readouterr().err
    assert f"--camera {camera_dir(adir, 'hall')}: camera hall's key was revoked by the authority" in err
    assert not vault.exists()
    assert main(argv + [str(camera_dir(adir, "door"))]) == 0  # the camera not revoked seals as before
