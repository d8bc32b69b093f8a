"""Walkthrough ux27 (session 26): the operator's and the investigator's day (docs/review.md,
"Walkthrough ux27"). Each test fails on the branch's base."""

from __future__ import annotations

import pytest
from test_review_bundle import made  # noqa: F401
from test_vault_common import make_authority, run_cli

from facesel.vault.keys import AuthorityPublic


def test_verify_bundle_refuses_another_authoritys_file_whatever_its_serial(made, tmp_path, capsys):  # noqa: F811
    # Before: `verify-bundle B --fingerprint FP --authority OTHER/authority.pub`, another authority's
    # file whose serial was not above the bundle's copy, was skipped unread: VERIFIED, exit 0, as if
    # the revocations of the file given had been checked. One of a higher serial was refused.
    adir, _, _, bundle = made
    fingerprint = AuthorityPublic.load(adir / "authority.pub").fingerprint
    other, other_dir = make_authority(tmp_path / "other")
    assert other.serial <= AuthorityPublic.load(adir / "authority.pub").serial
    code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--fingerprint", fingerprint,
                           "--authority", other_dir / "authority.pub")
    assert code == 1, out
    assert out.startswith(f"{bundle}: NOT VERIFIED: the given authority.pub is signed by authority key "
                          f"{other.fingerprint[:16]}..."), out
    assert "(it must be a later file of the bundle's authority)" in out
    # the authority's own current file (the bundle's copy itself) verifies with no note on it
    code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--fingerprint", fingerprint,
                           "--authority", adir / "authority.pub")
    assert code == 0 and "older than the bundle's own copy" not in out, out
