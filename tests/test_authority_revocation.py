"""Revocation of a camera key (review round 10c, planned item; built in session 19).

A stolen camera's key signs records that every reader accepted as that camera's: ``authority.pub``
registered keys but could not withdraw one. Now the authority signs a list of revocations (camera
id -> the time from which its key is no longer trusted) into ``authority.pub``
(``facesel authority revoke-camera``), and the vault's opening, ``facesel list`` and
``verify-bundle --authority`` refuse a record sealed at or after that time; records sealed before it
stay valid. The central store's readers are tested in tests/central/test_central_revocation.py.

Real files: an authority, a vault sealed by a real camera key (a FakeClock dates the seals), the
real ``facesel authority revoke-camera``, ``facesel open --bundle`` and ``facesel verify-bundle``.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from facesel.review.verify_bundle import BundleError, verify_bundle
from facesel.vault.audit import read_verified
from facesel.vault.errors import KeyMaterialError
from facesel.vault.keys import AuthorityPublic, Keystore, check_extension
from test_vault_common import (FakeClock, make_authority, master_of, orl_faces, run_cli, share_paths, track_result,
                               vault_at)

DAY = 86400.0
REVOKED = "signed with a key the authority revoked"

# What authority.pub held before revocations existed: a file without any keeps exactly these keys.
PRE_REVOCATION_KEYS = {"format", "version", "authority_id", "epoch_seconds", "retention_seconds", "threshold",
                       "shares", "signing_key", "serial", "cameras", "epochs", "signature"}


def _revoke(capsys, adir, camera_id: str, since: float):
    """``facesel authority revoke-camera`` with two of the three shares: (exit code, stdout, stderr)."""
    return run_cli(capsys, "authority", "revoke-camera", "--dir", adir, "--camera", camera_id, "--from", repr(since),
                   "--share", share_paths(adir)[0], "--share", share_paths(adir)[1])


def _signer(adir):
    return Keystore(adir / "keystore").signer(master_of(adir))


def test_a_file_without_revocations_keeps_its_bytes_and_signature(tmp_path):
    pub, adir = make_authority(tmp_path / "auth")
    raw = (adir / "authority.pub").read_bytes()
    assert set(json.loads(raw)) == PRE_REVOCATION_KEYS  # written as before: no "revocations" key
    loaded = AuthorityPublic.load(adir / "authority.pub")  # its old signature verifies
    assert loaded.revocations == () and loaded.revoked_from("cam-1") is None
    loaded.save(tmp_path / "again.pub")
    assert (tmp_path / "again.pub").read_bytes() == raw


def test_revoke_camera_signs_the_revocation_and_every_edit_of_it_is_refused(tmp_path, capsys):
    pub, adir = make_authority(tmp_path / "auth")
    since = time.time() - 3600.0
    code, out, err = _revoke(capsys, adir, "cam-1", since)
    assert code == 0, err
    assert "camera cam-1's key revoked from" in out and f"serial {pub.serial + 1}" in out
    new = AuthorityPublic.load(adir / "authority.pub")
    assert new.revoked_from("cam-1") == since and new.serial == pub.serial + 1
    check_extension(pub, new)  # the older file's readers take it as an extension
    logged = read_verified(adir / "audit.log", {f"authority:{pub.authority_id}": pub.signing_key})
    assert [(e["event"], e["camera_id"], e["revoked_from"], e["serial"]) for e in logged] == \
        [("revoke-camera", "cam-1", since, new.serial)]  # in the authority's own signed log
    doc = json.loads((adir / "authority.pub").read_bytes())
    assert doc["revocations"] == [{"camera_id": "cam-1", "revoked_from": since}]
    for edit in (lambda d: d.pop("revocations"), lambda d: d["revocations"][0].update(revoked_from=since + DAY)):
        edited = json.loads(json.dumps(doc))
        edit(edited)
        with pytest.raises(KeyMaterialError, match="signature does not match"):
            AuthorityPublic.from_dict(edited)
    # A later file the authority signed without the revocation, or with it moved later, is not an extension.
    signer = _signer(adir)
    for revocations in ((), (("cam-1", since + DAY),)):
        later = replace(new, revocations=revocations, serial=new.serial + 1).signed_by(signer)
        with pytest.raises(KeyMaterialError, match="drops or postpones the revocation of camera"):
            check_extension(new, later)
    # Revoking again from a later time changes nothing; from an earlier one moves it.
    code, out, _ = _revoke(capsys, adir, "cam-1", since + 60.0)
    assert code == 0 and "nothing changed" in out
    assert AuthorityPublic.load(adir / "authority.pub").revoked_from("cam-1") == since
    assert _revoke(capsys, adir, "cam-1", since - 60.0)[0] == 0
    assert AuthorityPublic.load(adir / "authority.pub").revoked_from("cam-1") == since - 60.0


def test_a_revocation_of_an_unregistered_camera_is_refused(tmp_path, capsys):
    pub, adir = make_authority(tmp_path / "auth")
    code, _, err = _revoke(capsys, adir, "cam-9", time.time())
    assert code != 0 and "camera 'cam-9' is not registered" in err
    assert AuthorityPublic.load(adir / "authority.pub") == pub  # unchanged
    signed = replace(pub, revocations=(("cam-9", 1.0),), serial=pub.serial + 1).signed_by(_signer(adir))
    with pytest.raises(KeyMaterialError, match="revocations\\[0\\] names camera 'cam-9', which is not registered"):
        AuthorityPublic.from_dict(signed.to_dict())


def test_revoke_camera_help_says_what_it_does_and_what_it_cannot(capsys):
    with pytest.raises(SystemExit) as stop:
        run_cli(capsys, "authority", "revoke-camera", "--help")
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for words in ("--dir DIR", "--camera ID", "--from TIME", "--share SHARE", "records sealed at or after this time "
                  "are refused", "Earlier records stay valid: their seal time is the key holder's word"):
        assert words in text, words


@pytest.fixture
def stolen(tmp_path, shared_data, capsys):
    """A vault of cam-1 holding a record sealed before the theft and one after, both opened into a
    bundle before the authority learnt of it; then cam-1's key revoked from between the two.
    Returns (authority folder, bundle, record before, record after, revoked from)."""
    now = time.time()
    adir = make_authority(tmp_path / "auth", start=now - 5 * DAY, horizon=10 * DAY)[1]
    clock = FakeClock(now - 2 * DAY)
    with vault_at(tmp_path / "vault", adir, clock=clock) as vault:
        before = vault.seal(track_result(orl_faces(shared_data, 1)[0], track_id=0))
        clock.advance(DAY)
        after = vault.seal(track_result(orl_faces(shared_data, 2)[1], track_id=1))
    bundle = tmp_path / "evidence.zip"
    code, _, err = run_cli(capsys, "open", "--vault", tmp_path / "vault", "--reason", "case 2027/4: court order",
                           "--out", tmp_path / "opened-early", "--bundle", bundle, "--share", share_paths(adir)[0],
                           "--share", share_paths(adir)[1], before, after)
    assert code == 0, err
    since = now - 1.5 * DAY
    assert _revoke(capsys, adir, "cam-1", since)[0] == 0
    return adir, bundle, before, after, since


def test_the_vault_opening_refuses_a_record_sealed_after_the_revocation(tmp_path, stolen, capsys):
    adir, _, before, after, _ = stolen
    shares = ("--share", share_paths(adir)[0], "--share", share_paths(adir)[1])
    code, _, err = run_cli(capsys, "open", "--vault", tmp_path / "vault", "--reason", "case 2027/5: court order",
                           "--out", tmp_path / "opened", *shares, after)
    assert code != 0
    assert f"record {after}: sealed at" in err and f"by camera 'cam-1', {REVOKED} (from" in err, err
    assert not (tmp_path / "opened").exists() or not any((tmp_path / "opened").rglob("*.png"))
    code, _, err = run_cli(capsys, "open", "--vault", tmp_path / "vault", "--reason", "case 2027/5: court order",
                           "--out", tmp_path / "opened-before", *shares, before)
    assert code == 0, err  # sealed before the revocation: still valid


def test_audit_verify_notes_the_revocation_and_the_records_sealed_after_it(tmp_path, stolen, capsys):
    """ux21: "OK" and "records and log agree" alone, exit 0, for a vault whose later record every
    reader refuses. The log is intact (exit 0 kept); a note says what the revocation makes of it."""
    adir, _, _, _, _ = stolen
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", tmp_path / "vault", "--authority", adir)
    assert code == 0 and "records and log agree" in out
    assert "note: the authority revoked camera cam-1's key from " in out
    assert "1 record(s) sealed from then on are refused by every reader" in out


def test_verify_bundle_with_the_newer_authority_file_refuses_the_revoked_record(stolen, capsys):
    adir, bundle, _, after, _ = stolen
    newer = AuthorityPublic.load(adir / "authority.pub")
    pin = newer.fingerprint
    assert sorted(verify_bundle(bundle, pin=pin).records)  # the bundle's own file predates the revocation
    with pytest.raises(BundleError, match=f"record {after}: sealed at .* {REVOKED} \\(from"):
        verify_bundle(bundle, pin=pin, newer=newer)
    code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--fingerprint", pin, "--authority", adir / "authority.pub")
    assert code == 1
    assert "NOT VERIFIED" in out and REVOKED in out


def test_verify_bundle_refuses_an_authority_file_of_another_key(stolen, tmp_path, capsys):
    _, bundle, _, _, _ = stolen
    other = make_authority(tmp_path / "other")[0]
    other = replace(other, serial=other.serial + 5)  # unsigned: refused before any record is judged
    with pytest.raises(BundleError, match="it must be a later file of the bundle's authority"):
        verify_bundle(bundle, newer=other)
