"""Review 7, finding 1: the decrypted pictures of an opening killed by SIGKILL.

No process cleans up after SIGKILL or a power cut, so an opening killed while it writes leaves
its hidden staging folder (``.OUT.partial-XXXXXXXX``) with the faces written so far. Review 6 had
the next opening remove it only when that opening named the same output; an opening to another
name (the usual case: a new case reference, a new folder) never looked. Now every staging folder
is registered in the user's private state folder while it exists, and the next opening to any
output removes those whose opening is gone, and only those.

The openings here are real child processes, stopped while they write (after the first record's
pictures reached the staging folder) and killed with a real SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_vault_common import open_all, orl_faces, sealed_vault

TESTS = Path(__file__).resolve().parent


def registry_dir() -> Path:
    """Where the openings register (``$XDG_STATE_HOME/facesel/openings``; each test sets the variable)."""
    return Path(os.environ["XDG_STATE_HOME"]) / "facesel" / "openings"

_STALLED_OPENING = """
import signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
import facesel.vault.opening as opening
from test_vault_common import open_all

write = opening._write_outputs

def write_one_then_stall(staging, opened):
    write(staging, opened[:1])  # the first face is decrypted on disk now
    Path({ready!r}).write_text(str(staging))
    signal.pause()

opening._write_outputs = write_one_then_stall
open_all(Path({vault!r}), Path({authority!r}), Path({out!r}))
"""


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 2)


def _stalled_opening(tmp_path: Path, vault: Path, authority: Path, out: Path) -> tuple[subprocess.Popen, Path]:
    """A child ``open`` to ``out`` that stops after writing one decrypted crop; returns it and its
    staging folder once the crop is there."""
    ready = tmp_path / f"{out.name}.ready"
    code = _STALLED_OPENING.format(tests=str(TESTS), ready=str(ready), vault=str(vault), authority=str(authority),
                                   out=str(out))
    child = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not ready.exists():
        if child.poll() is not None:
            pytest.fail(f"the opening to {out} ended before it wrote: {child.stderr.read()}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"the opening to {out} wrote nothing in 180 s")
        time.sleep(0.05)
    staging = Path(ready.read_text())
    assert list(staging.rglob("crop.png")), f"no decrypted crop in {staging} yet"
    return child, staging


def _kill(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    child.stderr.close()


def test_a_killed_openings_pictures_are_removed_by_the_next_opening_to_any_output(tmp_path, faces, monkeypatch,
                                                                                   caplog):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    authority, vault, ids = sealed_vault(tmp_path, faces)
    running, running_staging = _stalled_opening(tmp_path, vault, authority, tmp_path / "case-b")
    try:
        killed, killed_staging = _stalled_opening(tmp_path, vault, authority, tmp_path / "case-a")
        _kill(killed)
        assert list(killed_staging.rglob("crop.png")), "SIGKILL cleaned up by itself?"
        opened = open_all(vault, authority, tmp_path / "case-c")  # another name than either
        assert [o.row.record_id for o in opened] == ids
        assert not killed_staging.exists(), f"the killed opening's decrypted pictures stayed in {killed_staging}"
        assert any(r.getMessage().startswith(f"removed {killed_staging}") for r in caplog.records)
        assert list(running_staging.rglob("crop.png")), "a running opening's staging folder was removed"
    finally:
        _kill(running)
    open_all(vault, authority, tmp_path / "case-d")
    assert not running_staging.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if ".partial-" in p.name) == []
    registry = registry_dir()
    assert registry.stat().st_mode & 0o777 == 0o700 and list(registry.iterdir()) == []


def test_only_the_registered_folder_itself_is_removed(tmp_path, faces, monkeypatch):
    """A marker is a path and the folder's device and inode: a staging folder replaced by another
    folder (or a link) under the same name after the kill is left alone, and so is a marker that
    names something not shaped like a staging folder."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    authority, vault, _ = sealed_vault(tmp_path, faces)
    killed, staging = _stalled_opening(tmp_path, vault, authority, tmp_path / "case-a")
    _kill(killed)
    os.rename(staging, tmp_path / "moved")
    staging.mkdir()  # another folder under the registered name
    (staging / "keep").write_text("not the opening's")
    open_all(vault, authority, tmp_path / "case-b")
    assert (staging / "keep").exists() and (tmp_path / "moved").is_dir()
    assert list(registry_dir().iterdir()) == [], "the spent marker stayed"


def test_a_registry_other_users_may_write_is_not_used(tmp_path, faces, monkeypatch, caplog):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    registry_dir().mkdir(parents=True, mode=0o700)
    registry_dir().chmod(0o777)
    authority, vault, ids = sealed_vault(tmp_path, faces)
    assert [o.row.record_id for o in open_all(vault, authority, tmp_path / "out")] == ids
    assert list(registry_dir().iterdir()) == []
    assert any("chmod 700" in r.getMessage() for r in caplog.records)
