"""Review 4, finding 9 (low): the vault's index readable by every account.

The index holds no pictures, but its rows say when people passed which camera (seal times, track
times, quality). SQLite created ``index.sqlite`` with the process's umask (0644) and its ``-wal`` and
``-shm`` files with the same mode; the vault folder is made 0700, but a vault in a folder that
exists already (made by an installer or a service manager, 0755) left them readable by everyone.
The record files, the lock and the quarantine were already owner-only.
"""

from __future__ import annotations

import os
import stat

import pytest
from test_vault_common import T0, FakeClock, make_authority, orl_faces, track_result, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 1, size=(32, 36))


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_index_and_its_journal_are_owner_only_in_a_folder_others_may_enter(tmp_path, faces):
    _, adir = make_authority(tmp_path / "auth")
    vault_dir = tmp_path / "v"
    vault_dir.mkdir(mode=0o755)
    os.chmod(vault_dir, 0o755)
    old_umask = os.umask(0o022)
    try:
        with vault_at(vault_dir, adir, clock=FakeClock(T0)) as vault:
            vault.seal(track_result(faces[0]))
            journal = [vault_dir / f"index.sqlite{s}" for s in ("", "-wal", "-shm")]
            assert all(p.exists() for p in journal)
            assert {p.name: _mode(p) for p in journal} == {p.name: 0o600 for p in journal}
        os.chmod(vault_dir / "index.sqlite", 0o644)  # e.g. restored from a backup with its old mode
        with vault_at(vault_dir, adir, clock=FakeClock(T0 + 60)) as vault:
            assert _mode(vault_dir / "index.sqlite") == 0o600 and len(vault.rows()) == 1
    finally:
        os.umask(old_umask)
    for path in (vault_dir / "records").iterdir():
        assert _mode(path) == 0o600
