"""The evidence bundle of `facesel open --bundle` and `facesel verify-bundle`: it verifies offline and
says what it proves; one changed byte in any member, a raw flipped byte, a member added or
removed, or a whole bundle forged under another authority, each fails."""

from __future__ import annotations

import zipfile

import pytest
from facesel.review.bundle import pack
from facesel.review.verify_bundle import BundleError, verify_bundle
from facesel.vault.keys import AuthorityPublic
from test_vault_common import T0, FakeClock, make_authority, orl_faces, run_cli, share_paths, track_result, vault_at


def _vault(root, shared_data, faces=3, camera_id="cam-1"):
    adir = make_authority(root / "auth", camera_id=camera_id)[1]
    crops = orl_faces(shared_data, faces)
    clock = FakeClock(T0)
    with vault_at(root / "vault", adir, camera_id=camera_id, clock=clock) as vault:
        ids = []
        for i, face in enumerate(crops):
            clock.advance(3600)
            ids.append(vault.seal(track_result(face, track_id=i, clip=[face[::-1].copy(), face])))
    return adir, root / "vault", ids, crops


def _open_bundle(capsys, adir, vault, out, bundle, *select):
    args = ["open", "--vault", vault, "--reason", "case 2027/14: court order", "--out", out, "--bundle", bundle,
            "--share", share_paths(adir)[0], "--share", share_paths(adir)[2], *select]
    code, stdout, err = run_cli(capsys, *args)
    assert code == 0, err
    return stdout


@pytest.fixture()
def made(tmp_path, shared_data, capsys):
    adir, vault, ids, crops = _vault(tmp_path, shared_data)
    bundle = tmp_path / "evidence.zip"
    out = _open_bundle(capsys, adir, vault, tmp_path / "opened", bundle, ids[0], ids[2])
    assert "evidence bundle" in out and (tmp_path / "opened" / "index.html").is_file()
    return adir, vault, ids, bundle


def _members(bundle):
    with zipfile.ZipFile(bundle) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _rewrite(path, members):
    """Pack as the bundle writer does, so that only the content check can catch the change."""
    path.write_bytes(pack(list(members.items())))


def test_bundle_verifies_and_states_what_it_proves(made, capsys):
    adir, vault, ids, bundle = made
    fingerprint = AuthorityPublic.load(adir / "authority.pub").fingerprint
    code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--fingerprint", fingerprint)
    assert code == 0, out
    assert "VERIFIED" in out and "2 record(s)" in out
    for rid in (ids[0], ids[2]):
        assert f"record {rid}: sealed and signed by camera cam-1 at" in out
    assert ids[1] not in out  # only the chosen records are in the bundle
    assert "under case 'case 2027/14: court order'" in out and "2 of 3 share holders (shares 1, 3" in out
    assert "trusted channel" not in out  # pinned: no caveat about the key's origin
    index = (bundle.parent / "opened" / "index.html").read_text()
    for rid in (ids[0], ids[2]):
        assert f'src="{rid}/crop.png"' in index and (bundle.parent / "opened" / rid / "crop.png").is_file()
    assert ids[1] not in index and "cam-1" in index and "2 opened record(s)" in index
    assert "2025-10-09 09:53:20 UTC" in index and "2025-10-09 11:53:20 UTC" in index  # T0 + 1 h and + 3 h
    assert str(T0 + 3600) not in index and str(int(T0 + 3600)) not in index  # never Unix seconds
    members = _members(bundle)
    assert sum(1 for m in members if m.endswith("crop.png")) == 2
    assert sum(1 for m in members if "/clip/" in m) == 4


def test_any_changed_byte_in_any_member_fails(made, tmp_path):
    bundle = made[3]
    members = _members(bundle)
    assert verify_bundle(bundle).records
    for name, data in members.items():
        for where in (0, len(data) // 2, len(data) - 1):
            changed = dict(members)
            changed[name] = data[:where] + bytes([data[where] ^ 0x01]) + data[where + 1:]
            target = tmp_path / "t.zip"
            _rewrite(target, changed)
            with pytest.raises(BundleError):
                verify_bundle(target)


def test_raw_flip_added_and_removed_members_fail(made, tmp_path):
    bundle = made[3]
    raw = bytearray(bundle.read_bytes())
    for where in range(0, len(raw), max(1, len(raw) // 200)):
        flipped = bytearray(raw)
        flipped[where] ^= 0x40
        target = tmp_path / "flip.zip"
        target.write_bytes(bytes(flipped))
        with pytest.raises(BundleError):
            verify_bundle(target)
    members = _members(bundle)
    _rewrite(tmp_path / "more.zip", {**members, "records/extra.png": b"\x89PNG"})
    with pytest.raises(BundleError, match="differ from its manifest"):
        verify_bundle(tmp_path / "more.zip")
    respaced = {**members, "manifest.json": members["manifest.json"].replace(b"\n", b"\n ", 1)}
    _rewrite(tmp_path / "respaced.zip", respaced)  # same JSON content, other bytes
    with pytest.raises(BundleError, match="altered"):
        verify_bundle(tmp_path / "respaced.zip")
    fewer = {k: v for k, v in members.items() if not k.endswith("clip/0001.png")}
    _rewrite(tmp_path / "fewer.zip", fewer)
    with pytest.raises(BundleError, match="differ from its manifest"):
        verify_bundle(tmp_path / "fewer.zip")


def test_a_bundle_forged_under_another_authority_fails_against_the_pin(made, tmp_path, shared_data, capsys):
    adir = made[0]
    true_pin = AuthorityPublic.load(adir / "authority.pub").fingerprint
    other_adir, other_vault, other_ids, _ = _vault(tmp_path / "forger", shared_data, faces=1)
    forged = tmp_path / "forged.zip"
    _open_bundle(capsys, other_adir, other_vault, tmp_path / "forged-out", forged, "--all")
    assert verify_bundle(forged).records == other_ids  # self-consistent on its own...
    with pytest.raises(BundleError, match="pinned"):
        verify_bundle(forged, true_pin)  # ...but not the authority the receiver trusts
    code, out, _ = run_cli(capsys, "verify-bundle", forged, "--fingerprint", true_pin)
    assert code == 1 and "NOT VERIFIED" in out


def test_open_bundle_refuses_an_existing_file(tmp_path, shared_data, capsys):
    adir, vault, ids, _ = _vault(tmp_path, shared_data, faces=1)
    (tmp_path / "exists.zip").write_bytes(b"")
    code, _, err = run_cli(capsys, "open", "--vault", vault, "--reason", "r", "--out", tmp_path / "o", "--all",
                           "--bundle", tmp_path / "exists.zip", "--share", share_paths(adir)[0], "--share",
                           share_paths(adir)[1])
    assert code == 1 and "exists already" in err
    assert not (tmp_path / "o").exists()


def test_not_a_zip_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "notes.zip").write_text("not a zip at all")
    code, out, _ = run_cli(capsys, "verify-bundle", tmp_path / "notes.zip")
    assert code == 1 and "NOT VERIFIED: " in out and "not an intact zip file" in out
    assert len(out.strip().splitlines()) == 1


def test_without_a_pin_a_bundle_under_anyones_key_is_never_called_verified(made, tmp_path, shared_data, capsys):
    """Review round 3: a forger's bundle, made with a key of their own, is self-consistent; without a
    fingerprint from a trusted channel the headline and the exit status must not say it is verified."""
    other_adir, other_vault, _, _ = _vault(tmp_path / "forger", shared_data, faces=1)
    forged = tmp_path / "forged.zip"
    opened = _open_bundle(capsys, other_adir, other_vault, tmp_path / "forged-out", forged, "--all")
    forger_pin = AuthorityPublic.load(other_adir / "authority.pub").fingerprint
    assert f"--fingerprint {forger_pin}" in opened  # `open --bundle` tells the opener what to send along
    code, out, _ = run_cli(capsys, "verify-bundle", forged)
    headline = out.splitlines()[0]
    assert code == 3 and ": VERIFIED" not in headline and "NOT VERIFIED AS THE AUTHORITY'S" in headline
    assert forger_pin in headline and "--fingerprint" in headline
    code, out, _ = run_cli(capsys, "verify-bundle", made[3])  # the genuine one, unpinned, is not "VERIFIED" either
    assert code == 3 and ": VERIFIED" not in out.splitlines()[0]


def test_an_empty_fingerprint_is_refused_not_read_as_no_pin(made, capsys):
    """ux19: ``verify-bundle B --fingerprint "$FP"`` with FP unset gave ``--fingerprint ""``, which was
    read as no pin at all: the unpinned verdict and exit 3, telling the user to add the flag they gave."""
    with pytest.raises(SystemExit) as stop:
        run_cli(capsys, "verify-bundle", made[3], "--fingerprint", "")
    out, err = capsys.readouterr()
    assert (stop.value.code, out) == (2, "")
    assert err.splitlines()[-1] == ("facesel verify-bundle: error: argument --fingerprint: empty value "
                                    "(a shell variable left unset?)")
