"""Review round 11 (attack20), finding 6: an opening removed from the authority's own log unseen.

Every opening is logged twice, signed by the authority: in the vault's log and in the authority's
own ``audit.log``. ``facesel audit verify --vault DIR --authority ADIR`` checked one direction only
(each opening the authority logged must be in the vault's log). Putting back an older copy of the
authority's log and its head (no key needed: both are genuinely signed) or deleting them removed
later openings from the authority's record, and the check said "records and log agree". Now every
opening the vault's log holds, signed by the authority, must be in the authority's log too.
"""

from __future__ import annotations

import shutil

import pytest
from test_vault_common import open_all, orl_faces, run_cli, sealed_vault


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 2)


def _verify(capsys, vault_dir, adir):
    return run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)


def test_an_older_copy_of_the_authority_s_log_put_back_is_found(tmp_path, faces, capsys):
    adir, vault_dir, _ = sealed_vault(tmp_path, faces)
    open_all(vault_dir, adir, tmp_path / "first")
    for name in ("audit.log", "audit.log.head"):
        shutil.copy(adir / name, tmp_path / name)  # the authority's log after the first opening
    open_all(vault_dir, adir, tmp_path / "second")
    code, out, _ = _verify(capsys, vault_dir, adir)
    assert code == 0 and "records and log agree" in out, out
    for name in ("audit.log", "audit.log.head"):
        shutil.copy(tmp_path / name, adir / name)  # put back: the second opening is gone from it
    code, out, _ = _verify(capsys, vault_dir, adir)
    assert code == 1 and "AUTHORITY" in out and "authority's log was cut" in out, out
    assert out.count("signed by the authority (seq") == 1  # the second opening only


def test_a_deleted_authority_log_is_found(tmp_path, faces, capsys):
    adir, vault_dir, _ = sealed_vault(tmp_path, faces)
    open_all(vault_dir, adir, tmp_path / "out")
    (adir / "audit.log").unlink()
    (adir / "audit.log.head").unlink()
    code, out, _ = _verify(capsys, vault_dir, adir)
    assert code == 1 and "the authority's log was deleted" in out, out


def test_a_vault_never_opened_needs_no_authority_log(tmp_path, faces, capsys):
    adir, vault_dir, _ = sealed_vault(tmp_path, faces)
    assert not (adir / "audit.log").exists()
    code, out, _ = _verify(capsys, vault_dir, adir)
    assert code == 0 and "records and log agree" in out, out
