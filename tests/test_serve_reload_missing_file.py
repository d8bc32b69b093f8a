"""``facesel serve reload`` while a file camera's video file is missing (ux20).

Before, the file check was part of the config's: once a running camera's file was deleted, every
reload was refused as a whole (``config refused, the cameras go on unchanged: cameras.walk.source:
video file not found``), also one that only added another camera. Now a camera that keeps the
source it runs with is not checked again: the reload applies the rest and names that camera
(``still down: ...``). A new or changed source is checked as at the start (refused, naming it).
A real service and status port; the camera reads a copy of the demo clip, slowed to real time.
"""

from __future__ import annotations

import shutil

from facesel.demo_data import demo_clip
from facesel.ports import unclaimed_port
from facesel.serve.config import load_config
from facesel.serve.service import Service
from test_serve import authority, keys  # noqa: F401 - module fixtures
from test_vault_common import run_cli


def test_a_reload_applies_the_rest_when_a_running_cameras_file_is_missing(authority, keys, tmp_path, capsys):
    path, port, clip = tmp_path / "facesel.toml", unclaimed_port(), tmp_path / "clip.mp4"
    shutil.copyfile(demo_clip(), clip)
    walk = (f'[cameras.walk]\nsource = "{clip}"\nvault = "{tmp_path / "walk"}"\ncamera_key = "{keys("walk")}"\n'
            'loop = true\nrealtime = true\n')

    def write(cameras: str) -> None:
        path.write_text(f'[serve]\nlisten = "127.0.0.1:{port}"\n[defaults]\nauthority = "{authority}"\n{cameras}')
        path.chmod(0o600)

    write(walk)
    service = Service(load_config(path)).start()
    try:
        clip.unlink()
        write(walk + f'[cameras.door]\nsource = "{demo_clip()}"\nvault = "{tmp_path / "door"}"\n'
                     f'camera_key = "{keys("door")}"\nenabled = false\n')
        code, out, err = run_cli(capsys, "serve", "reload", "--config", path)
        assert (code, err) == (0, ""), (out, err)
        assert out.splitlines() == ["reloaded: added door, removed none, changed none",
                                    f"still down: cameras.walk.source: video file not found: {clip}; that camera "
                                    "keeps its source until the file can be read"]
        assert sorted(service.config.cameras) == ["door", "walk"]
        # a source the reload would change to a file that is not there is refused, naming it
        write(walk.replace(str(clip), str(tmp_path / "other.mp4")))
        code, out, err = run_cli(capsys, "serve", "reload", "--config", path)
        assert code == 1 and f"cameras.walk.source: video file not found: {tmp_path / 'other.mp4'}" in err, err
        assert sorted(service.config.cameras) == ["door", "walk"]  # refused as a whole: unchanged
    finally:
        service.stop(timeout=60)


def test_a_reload_of_a_config_that_was_moved_away_says_the_service_was_not_asked(authority, keys, tmp_path, capsys):
    """ux21: ``config file not found: F`` alone did not say whether the running service had been
    asked (and had perhaps dropped its cameras). Now the line names the flag and the path and says
    that nothing was asked; exit 1 as for any refused reload (README's exit codes), and the
    service, still running on its old config, counts no reload."""
    path, port = tmp_path / "facesel.toml", unclaimed_port()
    path.write_text(f'[serve]\nlisten = "127.0.0.1:{port}"\n[defaults]\nauthority = "{authority}"\n'
                    f'[cameras.walk]\nsource = "{demo_clip()}"\nvault = "{tmp_path / "walk"}"\n'
                    f'camera_key = "{keys("walk")}"\nloop = true\n')
    path.chmod(0o600)
    service = Service(load_config(path)).start()
    try:
        path.rename(tmp_path / "moved.toml")
        code, out, err = run_cli(capsys, "serve", "reload", "--config", path)
        assert (code, out) == (1, ""), (out, err)
        assert err.strip() == (f"facesel serve: error: --config {path}: no such file (moved or deleted?); no reload "
                               "was asked: the running service, if any, goes on unchanged with the config it read "
                               "last. Give the path of the file the service was started with"), err
        code, out, err = run_cli(capsys, "serve", "status", "--config", path)
        assert code == 1 and f"--config {path}: no such file (moved or deleted?); no service was asked" in err, err
        assert service.reloads == 0 and sorted(service.config.cameras) == ["walk"]
    finally:
        service.stop(timeout=60)
