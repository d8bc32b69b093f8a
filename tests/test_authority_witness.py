"""Review round 11's open item (session 21, witness22): the whole authority folder put back to an older copy.

``authority.pub``, ``audit.log`` and its head copied aside, a revocation or an opening made, the old
folder put back: the three files agree among themselves and are genuinely signed, so every check
passed on main, the revocation was gone and the opening gone from the authority's record. Now:

* the vault is a natural witness: its copy of ``authority.pub`` (signed by the authority) and the
  serial its log says the camera was given are compared with the folder's; ``open``, ``audit
  verify --authority`` and the desk refuse a folder behind them;
* an opening in the vault's log missing from the authority's log is warned about at ``open``
  (refusing would lock a vault out for good after a legitimate restore of the authority folder);
  ``audit verify --authority`` fails on it (test_authority_log_rollback.py);
* ``facesel authority head --out FILE`` is the explicit witness, ``--expect-authority FILE`` checks it,
  for a vault that never saw the change (no natural witness).
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
from facesel.vault.errors import KeyMaterialError
from facesel.vault.keys import AuthorityPublic, Keystore
from test_vault_common import (T0, FakeClock, add_camera, open_all, orl_faces, run_cli, sealed_vault, share_paths,
                               vault_at)


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 2)


def _two_vaults(tmp_path, faces, opened_first: bool = False):
    """The authority with cam-1's and cam-2's vaults, and a copy of its folder taken now (after an
    opening of cam-2's vault when ``opened_first``: the copy then has a log of its own)."""
    adir, v1, _ = sealed_vault(tmp_path, faces)
    add_camera(adir, "cam-2")
    _, v2, _ = sealed_vault(tmp_path, faces, camera_id="cam-2", authority_dir=adir)
    if opened_first:
        open_all(v2, adir, tmp_path / "opened-first")
    shutil.copytree(adir, tmp_path / "old-auth")
    return adir, v1, v2


def _restarted(vault_dir, adir):
    """cam-1's camera started again with the authority's current file, on the records' own clock
    (a real clock would purge the records sealed at T0 as past their retention)."""
    return vault_at(vault_dir, adir, clock=FakeClock(T0 + 4 * 3600))


def _put_back(tmp_path, adir):
    """The attacker's step: the whole folder replaced by the copy taken earlier (no key needed)."""
    shutil.rmtree(adir)
    shutil.copytree(tmp_path / "old-auth", adir)


def _revoke(capsys, adir, camera_id):
    code, _, err = run_cli(capsys, "authority", "revoke-camera", "--dir", adir, "--camera", camera_id, "--from",
                           repr(time.time() - 3600.0), "--share", share_paths(adir)[0], "--share", share_paths(adir)[1])
    assert code == 0, err


def _open(capsys, vault_dir, adir, out, *extra):
    return run_cli(capsys, "open", "--vault", vault_dir, "--share", share_paths(adir)[0], "--share",
                   share_paths(adir)[1], "--reason", "case 7", "--all", "--out", out, *extra)


def _head(capsys, adir, out):
    code, printed, err = run_cli(capsys, "authority", "head", "--dir", adir, "--out", out)
    assert code == 0 and "--expect-authority" in printed, err
    return out


def test_a_vault_that_saw_the_revocation_refuses_the_folder_put_back(tmp_path, faces, capsys):
    adir, v1, _ = _two_vaults(tmp_path, faces)
    _revoke(capsys, adir, "cam-1")
    with _restarted(v1, adir):  # cam-1's camera restarts with the new file: the vault keeps a copy, logs it
        pass
    revoked = AuthorityPublic.load(adir / "authority.pub")
    assert AuthorityPublic.load(v1 / "authority.pub").serial == revoked.serial
    _put_back(tmp_path, adir)
    assert AuthorityPublic.load(adir / "authority.pub").revoked_from("cam-1") is None  # the revocation is gone

    code, out, err = _open(capsys, v1, adir, tmp_path / "out")
    assert code != 0 and not (tmp_path / "out").exists(), out
    assert f"serial {revoked.serial - 1}" in err and f"serial {revoked.serial}" in err, err
    assert str(adir / "authority.pub") in err and "put back to an older copy" in err, err

    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", v1, "--authority", adir)
    assert code == 1 and "AUTHORITY" in out and "put back to an older copy" in out, out
    assert f"the vault's copy {v1 / 'authority.pub'}" in out and "records at seq" in out, out  # copy and log


def test_the_vault_s_log_alone_still_witnesses_the_serial(tmp_path, faces, capsys):
    """The vault's copy of authority.pub replaced by the old one too: its signed log still names the serial."""
    adir, v1, _ = _two_vaults(tmp_path, faces)
    shutil.copy(v1 / "authority.pub", tmp_path / "v1-old.pub")
    _revoke(capsys, adir, "cam-1")
    with _restarted(v1, adir):
        pass
    _put_back(tmp_path, adir)
    shutil.copy(tmp_path / "v1-old.pub", v1 / "authority.pub")
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", v1, "--authority", adir)
    assert code == 1 and "its camera was given authority.pub serial" in out, out
    code, _, err = _open(capsys, v1, adir, tmp_path / "out")
    assert code != 0 and "its camera was given authority.pub serial" in err, err


def test_the_desk_refuses_the_folder_put_back(tmp_path, faces, capsys):
    from facesel.review.sources import VaultSource

    adir, v1, _ = _two_vaults(tmp_path, faces)
    _revoke(capsys, adir, "cam-1")
    with _restarted(v1, adir):
        pass
    _put_back(tmp_path, adir)
    with pytest.raises(KeyMaterialError, match="put back to an older copy"):
        VaultSource(v1, Keystore(adir / "keystore"))


def test_an_explicit_witness_catches_the_revocation_put_back_where_no_vault_saw_it(tmp_path, faces, capsys):
    adir, _, v2 = _two_vaults(tmp_path, faces)
    _revoke(capsys, adir, "cam-1")
    witness = _head(capsys, adir, tmp_path / "kept-elsewhere" / "authority-head.json")
    assert json.loads(witness.read_text())["serial"] == AuthorityPublic.load(adir / "authority.pub").serial
    _put_back(tmp_path, adir)

    before = (v2 / "audit.log").read_bytes()
    code, _, err = _open(capsys, v2, adir, tmp_path / "out", "--expect-authority", witness)
    assert code != 0 and not (tmp_path / "out").exists(), err
    assert f"--expect-authority {witness} witnessed serial" in err and str(adir / "authority.pub") in err, err
    assert (v2 / "audit.log").read_bytes() == before  # refused before any share was read or anything logged

    code, out, err = run_cli(capsys, "audit", "verify", "--vault", v2, "--authority", adir, "--expect-authority",
                             witness)
    assert code != 0 and "witnessed serial" in err, out + err
    # Without the witness, cam-2's vault (which never saw the new file) cannot tell: the limit of
    # the natural witnesses, which is why the explicit one exists.
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", v2, "--authority", adir)
    assert code == 0, out


def test_an_opening_removed_by_the_folder_put_back(tmp_path, faces, capsys):
    adir, v1, v2 = _two_vaults(tmp_path, faces, opened_first=True)
    open_all(v1, adir, tmp_path / "first")  # logged in v1's log and in the authority's
    witness = _head(capsys, adir, tmp_path / "authority-head.json")
    _put_back(tmp_path, adir)

    # cam-2's vault knows nothing of cam-1's opening: only the explicit witness does.
    code, _, err = _open(capsys, v2, adir, tmp_path / "out2", "--expect-authority", witness)
    assert code != 0 and "the authority's log was cut or put back to an older copy" in err, err
    # The opened vault's own log holds it: warned, not refused (a restored authority folder lacks it for good).
    code, _, err = _open(capsys, v1, adir, tmp_path / "out1")
    assert code == 0, err
    assert "facesel open: WARNING" in err and "the authority's own log does not" in err, err


def test_a_folder_put_back_from_before_its_log_existed(tmp_path, faces, capsys):
    adir, v1, v2 = _two_vaults(tmp_path, faces)  # the copy has no audit.log yet
    open_all(v1, adir, tmp_path / "first")
    witness = _head(capsys, adir, tmp_path / "authority-head.json")
    _put_back(tmp_path, adir)
    code, _, err = _open(capsys, v2, adir, tmp_path / "out2", "--expect-authority", witness)
    assert code != 0 and "audit.log does not exist, but --expect-authority" in err, err
    code, _, err = _open(capsys, v1, adir, tmp_path / "out1")
    assert code == 0 and "WARNING" in err and "the authority's log was deleted" in err, err


def test_a_witness_of_an_earlier_state_passes_after_genuine_changes(tmp_path, faces, capsys):
    adir, v1, _ = _two_vaults(tmp_path, faces)
    witness = _head(capsys, adir, tmp_path / "authority-head.json")
    assert json.loads(witness.read_text())["log"] is None  # no opening, no revocation: no log yet
    open_all(v1, adir, tmp_path / "first")
    later = _head(capsys, adir, tmp_path / "later.json")
    add_camera(adir, "cam-3")
    _revoke(capsys, adir, "cam-3")
    for kept in (witness, later):
        code, out, err = _open(capsys, v1, adir, tmp_path / f"out-{kept.stem}", "--expect-authority", kept)
        assert code == 0 and "WARNING" not in err, err
        code, out, err = run_cli(capsys, "audit", "verify", "--vault", v1, "--authority", adir,
                                 "--expect-authority", kept)
        assert code == 0 and "records and log agree" in out, out + err


def test_a_witness_of_another_authority_is_named(tmp_path, faces, capsys):
    adir, v1, _ = _two_vaults(tmp_path, faces)
    other, _, _ = sealed_vault(tmp_path / "other", faces)
    witness = _head(capsys, other, tmp_path / "other-head.json")
    code, _, err = _open(capsys, v1, adir, tmp_path / "out", "--expect-authority", witness)
    assert code != 0 and "was witnessed on authority" in err, err
    code, _, err = _open(capsys, v1, adir, tmp_path / "out", "--expect-authority", tmp_path / "nothing.json")
    assert code != 0 and "no such file" in err, err


def test_the_desk_refuses_a_folder_behind_its_witness_before_it_starts(tmp_path, faces, capsys):
    pytest.importorskip("starlette", reason="the desk needs the 'review' extra")
    adir, _, v2 = _two_vaults(tmp_path, faces)
    _revoke(capsys, adir, "cam-1")
    witness = _head(capsys, adir, tmp_path / "authority-head.json")
    _put_back(tmp_path, adir)
    code, out, err = run_cli(capsys, "review", "--vault", v2, "--keystore", adir / "keystore", "--expect-authority",
                             witness)
    assert code != 0 and "witnessed serial" in err and "open http" not in out + err, out + err
