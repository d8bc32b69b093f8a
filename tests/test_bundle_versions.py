"""Bundles name records by camera and id (version 2, session 21), and the bundles exported before
(version 1: ``sealed/<id>.fsr``, ``records/<id>/``, no ``camera_id``) still verify, with the same
sentences. A version 1 manifest that lists one id twice is refused with a message that says why
(the old layout cannot tell two cameras' records of one id apart); a version 2 manifest whose
camera is not the one the sealed header names is refused."""

from __future__ import annotations

import json

import pytest
from facesel.review.verify_bundle import BundleError, verify_bundle
from facesel.vault.keys import AuthorityPublic
from test_bundle_malformed_signed import _resigned
from test_review_bundle import _members, _vault
from test_vault_common import run_cli, share_paths


@pytest.fixture()
def bundle(tmp_path, shared_data, capsys):
    adir, vault, ids, _ = _vault(tmp_path, shared_data, faces=2)
    path = tmp_path / "evidence.zip"
    code, _, err = run_cli(capsys, "open", "--vault", vault, "--reason", "case 21/9", "--out", tmp_path / "out",
                           "--bundle", path, "--share", share_paths(adir)[0], "--share", share_paths(adir)[2], *ids)
    assert code == 0, err
    return adir, ids, path


def _as_version_1(manifest: dict, members: dict) -> None:
    """The layout the writer used before session 21: paths by id alone, no camera in the entries."""
    manifest["version"] = 1
    for item in manifest["records"]:
        camera, rid = item.pop("camera_id"), item["record_id"]
        item["sealed"] = f"sealed/{rid}.fsr"
        item["meta"] = f"records/{rid}/meta.json"
        item["pictures"] = {n: p.replace(f"records/{camera}/{rid}/", f"records/{rid}/")
                            for n, p in item["pictures"].items()}
        for old in [m for m in members if m.startswith((f"sealed/{camera}/{rid}", f"records/{camera}/{rid}/"))]:
            members[old.replace(f"/{camera}/{rid}", f"/{rid}")] = members.pop(old)


def test_a_version_1_bundle_still_verifies_with_the_same_sentences(bundle, tmp_path):
    adir, ids, path = bundle
    pin = AuthorityPublic.load(adir / "authority.pub").fingerprint
    members = _members(path)
    manifest = json.loads(members["manifest.json"])
    assert manifest["version"] == 2 and [r["camera_id"] for r in manifest["records"]] == ["cam-1", "cam-1"]
    assert f"sealed/cam-1/{ids[0]}.fsr" in members
    now = verify_bundle(path, pin)
    (tmp_path / "v1.zip").write_bytes(_resigned(adir, members, _as_version_1))
    assert f"sealed/{ids[0]}.fsr" in _members(tmp_path / "v1.zip")
    old = verify_bundle(tmp_path / "v1.zip", pin)
    assert old.proven == now.proven and old.records == now.records == ids


def test_a_version_1_bundle_naming_one_id_twice_is_refused_saying_why(bundle, tmp_path):
    adir, _, path = bundle

    def twice(manifest, members):
        _as_version_1(manifest, members)
        manifest["records"].append(dict(manifest["records"][0]))

    (tmp_path / "twice.zip").write_bytes(_resigned(adir, _members(path), twice))
    with pytest.raises(BundleError, match="version 1 bundle names records by id alone"):
        verify_bundle(tmp_path / "twice.zip")


def test_a_version_2_entry_naming_another_camera_is_refused(bundle, tmp_path):
    adir, ids, path = bundle

    def other_camera(manifest, members):
        item = manifest["records"][0]
        item["camera_id"] = "cam-2"
        for key in ("sealed", "meta"):
            item[key] = item[key].replace("/cam-1/", "/cam-2/")
        item["pictures"] = {n: p.replace("/cam-1/", "/cam-2/") for n, p in item["pictures"].items()}
        for old in [m for m in members if f"/cam-1/{ids[0]}" in m]:
            members[old.replace("/cam-1/", "/cam-2/")] = members.pop(old)

    (tmp_path / "other.zip").write_bytes(_resigned(adir, _members(path), other_camera))
    with pytest.raises(BundleError, match=f"record {ids[0]}: manifest.json names camera 'cam-2', its signed header"):
        verify_bundle(tmp_path / "other.zip")
