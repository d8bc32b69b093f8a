"""Review round 15a, finding 1: ``facesel batch --spool`` took an existing folder whatever its
owner and mode (``mkdir(exist_ok=True)``; the one check was that we may write it). Another
account that may write the spool, or the folder holding it, or that owns it, deletes or replaces a
task's vault folder before its records are forwarded. Each refusal below comes before the videos
or the store are looked at (main went on to ``videos not found``)."""

from __future__ import annotations

import os

import pytest
from facesel.cli import main


def _batch(tmp_path, spool, monkeypatch) -> None:
    monkeypatch.setenv("FACESEL_CENTRAL", "host=127.0.0.1 port=1 dbname=x user=x")  # never reached
    code = main(["batch", str(tmp_path / "missing.mp4"), "--camera", str(tmp_path / "cam"), "--authority",
                 str(tmp_path / "authority.pub"), "--spool", str(spool)])
    assert code == 1


def test_a_spool_every_account_may_write_is_refused_naming_flag_and_mode(tmp_path, capsys, monkeypatch):
    pytest.importorskip("psycopg")
    spool = tmp_path / "spool"
    spool.mkdir()
    spool.chmod(0o777)
    _batch(tmp_path, spool, monkeypatch)
    err = capsys.readouterr().err
    assert f"--spool {spool}: every account may write it (mode 0777)" in err, err
    assert "videos not found" not in err


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to a group of other accounts needs root")
def test_a_spool_a_group_may_write_is_refused(tmp_path, capsys, monkeypatch):
    pytest.importorskip("psycopg")
    spool = tmp_path / "spool"
    spool.mkdir()
    spool.chmod(0o770)
    os.chown(spool, -1, 65534)  # nogroup: not the owner's private group
    _batch(tmp_path, spool, monkeypatch)
    err = capsys.readouterr().err
    assert f"--spool {spool}: group " in err and "(mode 0770)" in err, err


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another account needs root")
def test_a_spool_another_account_owns_is_refused_naming_its_owner(tmp_path, capsys, monkeypatch):
    pytest.importorskip("psycopg")
    spool = tmp_path / "spool"
    spool.mkdir(mode=0o700)
    os.chown(spool, 65534, -1)  # root may still write it: only the owner check refuses it
    _batch(tmp_path, spool, monkeypatch)
    err = capsys.readouterr().err
    assert f"--spool {spool}: it belongs to another account (uid 65534)" in err, err


def test_a_new_spool_in_a_folder_every_account_may_write_is_refused(tmp_path, capsys, monkeypatch):
    # ./facesel-spool made in a shared folder: whoever may write it moves the spool away
    pytest.importorskip("psycopg")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    _batch(tmp_path, shared / "facesel-spool", monkeypatch)
    err = capsys.readouterr().err
    assert f"every account may write the folder {shared} above it (mode 0777)" in err, err
    assert not (shared / "facesel-spool").exists()


def test_an_owner_only_spool_and_a_sticky_folder_above_are_taken(tmp_path, capsys, monkeypatch):
    # passes on main too: the check lets the operator's own folder through to the next check
    pytest.importorskip("psycopg")
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    sticky.chmod(0o1777)
    for spool in (tmp_path / "own", sticky / "new-spool"):
        _batch(tmp_path, spool, monkeypatch)
        err = capsys.readouterr().err
        assert "videos not found" in err and "--spool" not in err, err
