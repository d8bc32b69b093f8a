"""Review 5, finding 5 (low): ``verify-bundle`` met fields of the wrong type in a bundle whose
manifest is signed (by a forger's own key, which is all an unpinned check can say, or by a
careless authority tool) with a traceback instead of a refusal: an ``open_entry`` that is a list
raised AttributeError, a log line whose ``seq`` is ``Infinity`` OverflowError. A court's expert
saw a crash, not the sentence "not verified". Every malformed field now ends the check with a
BundleError and the command's one-line refusal.
"""

from __future__ import annotations

import json
from hashlib import sha256

import pytest
from facesel.review.bundle import pack
from facesel.review.verify_bundle import BundleError, verify_bundle
from facesel.vault.encoding import b64, canonical
from facesel.vault.keys import Keystore
from test_review_bundle import _members, _vault
from test_vault_common import master_of, run_cli, share_paths


def _resigned(adir, members: dict[str, bytes], edit) -> bytes:
    """The bundle with ``edit(manifest, members)`` applied, its file digests updated and its
    manifest signed again by the authority key (what anyone holding a key can do)."""
    members = dict(members)
    manifest = json.loads(members["manifest.json"])
    edit(manifest, members)
    manifest["files"] = {p: sha256(d).hexdigest() for p, d in sorted(members.items()) if p != "manifest.json"}
    manifest.pop("signature")
    keystore = Keystore(adir / "keystore")
    manifest["signature"] = b64(keystore.signer(master_of(adir)).sign(canonical(manifest)))
    members["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
    return pack([("manifest.json", members.pop("manifest.json")), *sorted(members.items())])


def _open_entry_a_list(manifest, members):
    manifest["open_entry"] = [manifest["open_entry"]["seq"]]


def _log_seq_infinite(manifest, members):
    lines = members["audit/vault-log.jsonl"].split(b"\n")
    lines[0] = lines[0].replace(b'"seq":', b'"seq":Infinity,"was":', 1)
    members["audit/vault-log.jsonl"] = b"\n".join(lines)


def _record_ids_a_number(manifest, members):
    manifest["records"] = 7


def _record_entry_a_list(manifest, members):
    manifest["records"] = [[r["record_id"]] for r in manifest["records"]]


EDITS = {"open_entry a list": _open_entry_a_list, "log seq Infinity": _log_seq_infinite,
         "records a number": _record_ids_a_number, "record entry a list": _record_entry_a_list}


@pytest.fixture(scope="module")
def genuine(tmp_path_factory, shared_data):
    """A genuine bundle's members, made by the real ``open --bundle`` (in-process, as run_cli does)."""
    from facesel.cli import main

    root = tmp_path_factory.mktemp("bundle")
    adir, vault, ids, _ = _vault(root, shared_data, faces=1)
    bundle = root / "evidence.zip"
    assert main([str(a) for a in ["open", "--vault", vault, "--reason", "case 5", "--out", root / "opened",
                                  "--bundle", bundle, "--share", share_paths(adir)[0], "--share",
                                  share_paths(adir)[1], *ids]]) == 0
    return adir, _members(bundle)


@pytest.mark.parametrize("name", sorted(EDITS))
def test_a_signed_but_malformed_bundle_is_refused_not_a_crash(genuine, tmp_path, capsys, name):
    adir, members = genuine
    forged = tmp_path / "forged.zip"
    forged.write_bytes(_resigned(adir, members, EDITS[name]))
    with pytest.raises(BundleError):  # before: AttributeError, OverflowError, TypeError
        verify_bundle(forged)
    code, out, err = run_cli(capsys, "verify-bundle", forged)  # before: the exception escaped the command
    assert code == 1 and ": NOT VERIFIED: " in out and "Traceback" not in err, (out, err)
    assert len(out.strip().splitlines()) == 1, out
