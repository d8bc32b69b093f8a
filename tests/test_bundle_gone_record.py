"""Review round 8c (session 17): a bundle of a record that its vault's signed log shows as gone
(purged, quarantined, missing) before the opening. Genuine software does not open such a record
(round 4: readers take the records from the verified log), but K share holders with other software
can, and the bundle they sign carries the removal in its own log slice: the verifier reported it
``VERIFIED`` without a word. The "other software" here is the real opener with its list of logged
records replaced by the seals alone, removals ignored.
"""

from __future__ import annotations

import time

import pytest
from facesel.review import memory_open
from facesel.review.bundle import build_bundle
from facesel.review.verify_bundle import BundleError, verify_bundle
from facesel.vault.audit import AuditLog
from facesel.vault.keys import AuthorityPublic, Keystore
from test_review_bundle import _vault
from test_vault_common import master_of


def _seals_only(vault_dir, identity, now=None):
    """Every logged seal's digest, removals ignored (what a careless or hostile opener would use)."""
    return {e["record_id"]: e["sha256"] for e in AuditLog(vault_dir / "audit.log").entries() if e.get("event") == "seal"}


@pytest.mark.parametrize("event", ["purge", "quarantined", "record-missing"])
def test_a_record_logged_as_gone_before_its_opening_is_refused(tmp_path, shared_data, monkeypatch, event):
    adir, vault, ids, _ = _vault(tmp_path, shared_data, faces=2)
    keystore, master = Keystore(adir / "keystore"), master_of(adir)
    AuditLog(vault / "audit.log", time.time, keystore.signer(master)).append(event, record_id=ids[0])
    monkeypatch.setattr(memory_open, "logged_seals", _seals_only)  # the opener's list of logged records
    opening = memory_open.open_in_memory(vault, keystore, master, [1, 2], [("cam-1", r) for r in ids], "CASE-8c",
                                         "court order", "tester")
    bundle = tmp_path / "gone.zip"
    bundle.write_bytes(build_bundle(opening))
    pin = AuthorityPublic.load(adir / "authority.pub").fingerprint
    with pytest.raises(BundleError, match=rf"record {ids[0]} was logged as {event} at seq \d+, before this opening"):
        verify_bundle(bundle, pin=pin)  # before: VERIFIED
