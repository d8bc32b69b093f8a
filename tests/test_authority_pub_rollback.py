"""Review round 11 (attack20), finding 3: an older authority.pub put back, re-signed without a revocation.

Every ``authority.pub`` the authority ever signed stays a genuine file. Whoever can write the
authority's folder (no share needed) copies the one from before a ``revoke-camera`` over the current
one; the next ``authority register`` (a new camera) or ``extend`` re-signed it with a higher serial
and without the revocation, and any reader given that file, a camera enrolled later, a central
store whose copy predates the revocation, accepted the stolen key's records again. Now every change
of ``authority.pub`` first checks the file against the revocations (and serials) that the
authority's own signed log records.
"""

from __future__ import annotations

import shutil
import time

import pytest
from facesel.vault.authority import extend_authority
from facesel.vault.errors import KeyMaterialError
from facesel.vault.keys import AuthorityPublic
from test_vault_common import DAY, add_camera, make_authority, master_of, run_cli, share_paths


def _revoked_then_rolled_back(tmp_path, capsys):
    _, adir = make_authority(tmp_path / "auth")
    shutil.copy(adir / "authority.pub", tmp_path / "before-revocation.pub")
    code, _, err = run_cli(capsys, "authority", "revoke-camera", "--dir", adir, "--camera", "cam-1", "--from",
                           repr(time.time() - 3600.0), "--share", share_paths(adir)[0],
                           "--share", share_paths(adir)[1])
    assert code == 0, err
    assert AuthorityPublic.load(adir / "authority.pub").revoked_from("cam-1") is not None
    shutil.copy(tmp_path / "before-revocation.pub", adir / "authority.pub")  # the attacker's one step
    return adir


def test_register_refuses_an_authority_pub_from_before_a_revocation(tmp_path, capsys):
    adir = _revoked_then_rolled_back(tmp_path, capsys)
    with pytest.raises(KeyMaterialError, match="revocation of camera 'cam-1'"):
        add_camera(adir, "cam-2")  # a new camera's key, registered by K holders as usual
    assert AuthorityPublic.load(adir / "authority.pub").camera_key("cam-2") is None  # nothing re-signed


def test_extend_refuses_an_authority_pub_from_before_a_revocation(tmp_path, capsys):
    adir = _revoked_then_rolled_back(tmp_path, capsys)
    before = AuthorityPublic.load(adir / "authority.pub")
    with pytest.raises(KeyMaterialError, match="revocation of camera 'cam-1'"):
        extend_authority(adir, master_of(adir), before.epochs[-1].not_after + 30 * DAY)
    assert AuthorityPublic.load(adir / "authority.pub").serial == before.serial


def test_the_current_file_is_still_changed_as_before(tmp_path, capsys):
    _, adir = make_authority(tmp_path / "auth")
    code, _, err = run_cli(capsys, "authority", "revoke-camera", "--dir", adir, "--camera", "cam-1", "--from",
                           repr(time.time() - 3600.0), "--share", share_paths(adir)[0],
                           "--share", share_paths(adir)[1])
    assert code == 0, err
    new = add_camera(adir, "cam-2")
    assert new.camera_key("cam-2") is not None and new.revoked_from("cam-1") is not None
