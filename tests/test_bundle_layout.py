"""Review round 8c (session 17): every member of a verified bundle is something the verifier
checked. Before, a member the authority's key listed in the manifest was accepted whatever it was:
a picture under a record id no camera sealed, a README with other instructions, a name that climbs
out of the folder an expert unzips into, a record listed twice (counted twice in "N record(s)"), a
seal time in the manifest that the camera's signed header contradicts. Each was reported
``VERIFIED`` against the pinned authority; each is now refused with the reason.
"""

from __future__ import annotations

import json

import pytest
from facesel.review.verify_bundle import BundleError, verify_bundle
from facesel.vault.keys import AuthorityPublic
from test_bundle_malformed_signed import _resigned, genuine  # noqa: F401  (genuine: the fixture)
from test_review_bundle import _members, made  # noqa: F401  (made: the fixture)
from test_vault_common import run_cli


def _unsealed_picture(manifest, members):
    """A picture no camera sealed, where a record's would be: records/<id>/crop.png of an unlisted id."""
    members["records/" + "ab" * 16 + "/crop.png"] = members[manifest["records"][0]["pictures"]["crop"]]


def _climbing_name(manifest, members):
    members["../outside.txt"] = b"written beside the folder an unzip tool extracts into\n"


def _absolute_name(manifest, members):
    members["/tmp/facesel-bundle-planted.txt"] = b"an absolute path\n"


def _other_readme(manifest, members):
    members["README.txt"] = members["README.txt"].replace(b"--fingerprint AUTHORITY_FINGERPRINT",
                                                          b"--fingerprint 00ff (this bundle's authority)")


def _record_twice(manifest, members):
    manifest["records"] = manifest["records"] * 2


def _other_seal_time(manifest, members):
    manifest["records"][0]["sealed_at_utc"] = "2020-01-01 00:00:00 UTC"


def _picture_elsewhere(manifest, members):
    """The record's crop moved to a path outside its folder (its content unchanged)."""
    item = manifest["records"][0]
    members["crop-of-the-suspect.png"] = members.pop(item["pictures"]["crop"])
    item["pictures"]["crop"] = "crop-of-the-suspect.png"


EDITS = {"unsealed picture": (_unsealed_picture, "no listed record"),
         "../ name": (_climbing_name, "no listed record"),
         "absolute name": (_absolute_name, "no listed record"),
         "README changed": (_other_readme, "README.txt"),
         "record listed twice": (_record_twice, "listed twice"),
         "seal time changed": (_other_seal_time, "dates its sealing"),
         "picture elsewhere": (_picture_elsewhere, "not at the bundle's path")}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_a_member_nothing_proves_is_refused_even_under_the_authoritys_key(genuine, tmp_path, capsys,  # noqa: F811
                                                                          name):
    adir, members = genuine
    edit, reason = EDITS[name]
    bundle = tmp_path / "edited.zip"
    bundle.write_bytes(_resigned(adir, members, edit))
    fingerprint = AuthorityPublic.load(adir / "authority.pub").fingerprint
    with pytest.raises(BundleError, match=reason):  # before: VERIFIED against the pinned authority
        verify_bundle(bundle, pin=fingerprint)
    code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--fingerprint", fingerprint)
    assert code == 1 and "NOT VERIFIED" in out, out


def test_the_genuine_bundle_still_verifies_after_resigning(genuine, tmp_path):  # noqa: F811
    """The edits above are the only difference: re-signing the untouched members verifies."""
    adir, members = genuine
    bundle = tmp_path / "resigned.zip"
    bundle.write_bytes(_resigned(adir, members, lambda manifest, members: None))
    report = verify_bundle(bundle, pin=AuthorityPublic.load(adir / "authority.pub").fingerprint)
    assert len(report.records) == len(json.loads(members["manifest.json"])["records"]) == 1


def test_swapped_sealed_records_are_refused_naming_the_swap(made, tmp_path):  # noqa: F811
    """Two records' sealed files exchanged (and the manifest re-signed by the authority's key): the
    refusal names the swap. Before, the record's own error was caught as a malformed entry and the
    reason read "manifest record entry is malformed (RecordError)"."""
    adir, _, _, bundle = made
    members = _members(bundle)

    def swap(manifest, members):
        first, second = (item["sealed"] for item in manifest["records"][:2])
        members[first], members[second] = members[second], members[first]

    edited = tmp_path / "swapped.zip"
    edited.write_bytes(_resigned(adir, members, swap))
    with pytest.raises(BundleError, match=r"the file holds record [0-9a-f]{32} \(swapped files\)"):
        verify_bundle(edited, pin=AuthorityPublic.load(adir / "authority.pub").fingerprint)
