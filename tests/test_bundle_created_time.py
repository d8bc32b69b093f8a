"""Review 10a, finding 3 (8c's open item): the manifest's ``created`` is the authority's word.

A manifest re-signed by the authority's key with ``created`` set to 1970 was ``VERIFIED`` and the
report never said when the bundle claims to have been made: a reader of ``manifest.json`` saw
1970. The opening it exports is logged (signed by the authority) before any bundle of it is
written, on the same machine, so a genuine ``created`` is never earlier (but for a clock stepped
back, within ``CREATED_SLACK_SECONDS``). The verifier now refuses an earlier one and states the
time it accepts as the authority's word.
"""

from __future__ import annotations

import json

import pytest
from facesel.review.verify_bundle import BundleError, verify_bundle
from facesel.vault.keys import AuthorityPublic
from test_bundle_malformed_signed import _resigned, genuine  # noqa: F401  (genuine: the fixture)
from test_vault_common import run_cli


def _opened_at(members) -> float:
    manifest = json.loads(members["manifest.json"])
    seq = manifest["open_entry"]["seq"]
    entries = [json.loads(line) for line in members["audit/vault-log.jsonl"].splitlines() if line.strip()]
    return next(entry["time"] for entry in entries if entry["seq"] == seq)


def test_a_manifest_made_before_its_opening_is_refused(genuine, tmp_path, capsys):  # noqa: F811
    adir, members = genuine
    fingerprint = AuthorityPublic.load(adir / "authority.pub").fingerprint
    bundle = tmp_path / "backdated.zip"
    bundle.write_bytes(_resigned(adir, members, lambda manifest, _: manifest.update(created=0.0)))
    with pytest.raises(BundleError, match="says the bundle was made at 1970-01-01 00:00:00 UTC, before the opening"):
        verify_bundle(bundle, pin=fingerprint)  # on main: VERIFIED
    code, out, _ = run_cli(capsys, "verify-bundle", bundle, "--fingerprint", fingerprint)
    assert code == 1 and "NOT VERIFIED" in out, out
    for created in ("yesterday", float("nan"), True):
        bundle.write_bytes(_resigned(adir, members, lambda manifest, _, c=created: manifest.update(created=c)))
        with pytest.raises(BundleError, match="created is no time"):
            verify_bundle(bundle, pin=fingerprint)


def test_a_manifest_made_after_its_opening_verifies_and_its_time_is_stated(genuine, tmp_path):  # noqa: F811
    """The genuine bundle, and one whose clock stepped back a little between opening and export."""
    adir, members = genuine
    fingerprint = AuthorityPublic.load(adir / "authority.pub").fingerprint
    created = json.loads(members["manifest.json"])["created"]
    assert created >= _opened_at(members)
    stepped = _opened_at(members) - 60.0  # a clock stepped back a minute (within CREATED_SLACK_SECONDS, 300)
    for when in (created, stepped):
        bundle = tmp_path / "bundle.zip"
        bundle.write_bytes(_resigned(adir, members, lambda manifest, _, w=when: manifest.update(created=w)))
        report = verify_bundle(bundle, pin=fingerprint)
        stated = [line for line in report.caveats if line.startswith("the bundle says it was made at ")]
        assert len(stated) == 1 and "the authority's word" in stated[0], report.caveats
