"""Review round 9, finding 5: a config (or ``authority.pub``) that another account may change.

``facesel serve``'s config names each camera's vault and the authority whose key its faces are
sealed to. Round 4 required owner-only *reading* of a config that holds credentials; one without
any could be written by anyone (``chmod 666``, a team's group, a folder others may write), and so
could the ``authority.pub`` it names (whose replacement stops the camera: its key pins the
authority). Another account rewrote the config to name an authority, camera key and vault of its
own, and the next reload (SIGHUP, ``serve reload``) or start took it: every face
from then on sealed to the attacker's key, no share holder needed. Now the config and each
authority file it names must be changeable by their owner only (OpenSSH's rule), at start, at
every reload and for ``facesel run --config``, or they are refused naming the file, who else may
change it and the fix; a refused reload leaves the cameras as they were.

Real files and a real ``Service``; the attacker's authority and camera key are made with the
real commands' functions in folders of their own.
"""

from __future__ import annotations

import grp
import os
import time

import pytest
from facesel.serve.config import load_config
from facesel.serve.service import Service
from facesel.vault import create_authority, enrol_camera

from test_serve import authority, keys  # noqa: F401


def _config(authority_pub, key_dir, vault) -> str:
    return (f'[serve]\nlisten = "127.0.0.1:0"\n[cameras.gate]\nsource = "rtsp://127.0.0.1:9/none"\n'
            f'vault = "{vault}"\nauthority = "{authority_pub}"\ncamera_key = "{key_dir}"\n'
            '[cameras.gate.pipeline]\nscorer = "laplacian"\n')


def _attackers_authority(folder):
    """An authority of the attacker's own, with camera ``gate`` enrolled: (authority.pub, key folder)."""
    create_authority(folder, shares=2, threshold=2, epoch_seconds=86400.0, retention_seconds=7 * 86400.0,
                     horizon_seconds=2 * 86400.0, start=time.time())
    enrol_camera(folder, folder / "gate-key", "gate", sorted((folder / "shares").iterdir())[:2])
    return folder / "authority.pub", folder / "gate-key"


def test_a_reload_of_a_config_others_may_change_is_refused(authority, keys, tmp_path):  # noqa: F811
    config = tmp_path / "etc" / "facesel.toml"
    config.parent.mkdir()
    config.write_text(_config(authority, keys("gate"), tmp_path / "vault"))
    config.chmod(0o644)
    service = Service(load_config(config)).start()
    try:
        config.chmod(0o666)  # the operator's mistake; then another account writes its own authority in
        evil_pub, evil_key = _attackers_authority(tmp_path / "elsewhere")
        config.write_text(_config(evil_pub, evil_key, tmp_path / "elsewhere" / "vault"))
        with pytest.raises(ValueError, match=r"every account may write it \(mode 0666\).*chmod go-w"):
            service.reload_from_file()  # before: applied, the camera now sealing to evil_pub
        [camera] = service.camera_list()
        assert camera.config.authority == authority and service.reloads == 0
    finally:
        service.stop()


def _group_not_private() -> int | None:
    """A group this process may give its files that is not the owner's private group (root: any)."""
    if os.getuid() == 0:
        return grp.getgrnam("users").gr_gid if "users" in {g.gr_name for g in grp.getgrall()} else None
    others = [g for g in os.getgroups() if g != os.getgid()]
    return others[0] if others else None


@pytest.mark.parametrize("case", ["config-every-account", "config-group", "folder-every-account",
                                  "folder-above-every-account", "authority-every-account"])
def test_files_others_may_change_are_refused_at_load(authority, keys, tmp_path, case):  # noqa: F811
    folder = tmp_path / "etc"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    pub = tmp_path / "copied" / "authority.pub"  # the authority file, copied where the config says
    pub.parent.mkdir()
    pub.write_bytes(authority.read_bytes())
    pub.chmod(0o644)
    config = folder / "facesel.toml"
    config.write_text(_config(pub, keys("gate"), tmp_path / "vault"))
    config.chmod(0o644)
    load_config(config)  # as the operator left it: taken
    if case == "config-every-account":
        config.chmod(0o646)
        expected = rf"config {config} .*every account may write it \(mode 0646\)"
    elif case == "config-group":
        gid = _group_not_private()
        if gid is None:
            pytest.skip("this account has no group besides its own to give the file")
        os.chown(config, -1, gid)
        config.chmod(0o664)
        expected = rf"config {config} .*group {grp.getgrgid(gid).gr_name} may write it \(mode 0664\)"
    elif case == "folder-every-account":
        folder.chmod(0o777)  # anyone may put another file in its place (no sticky bit)
        expected = rf"config {config} .*every account may write its folder \(mode 0777\)"
    elif case == "folder-above-every-account":
        # review 18: only the file's own folder was checked; whoever may write the folder above it
        # renames etc/ and puts an etc/ of their own, with a config of their own, in its place
        tmp_path.chmod(0o777)
        expected = rf"config {config} .*every account may write the folder {tmp_path} above it \(mode 0777\)"
    else:
        pub.chmod(0o666)
        expected = rf"authority file {pub} .*every account may write it \(mode 0666\)"
    with pytest.raises(ValueError, match=expected):
        load_config(config)


def test_a_config_in_a_sticky_folder_is_taken(authority, keys, tmp_path):  # noqa: F811
    """A folder every account may write, with the sticky bit (as /tmp): nobody else may rename or
    delete the file in it, so it is taken."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    config = folder / "facesel.toml"
    config.write_text(_config(authority, keys("gate"), tmp_path / "vault"))
    config.chmod(0o644)
    assert load_config(config).cameras["gate"].authority == authority
