"""Review 4, finding 1 (high): the review desk, ``facesel list``, ``open --bundle``, the forwarder and
the file backend of ``central`` took what was sealed from the audit log's lines *unverified*
(``AuditLog.entries()``): a ``seal`` line appended by anyone who can write the folder, without the
camera's key, brought back a record the signed log says was purged (a kept copy of its file and
index row put back), and the desk listed and opened it past its retention. Only ``facesel open``
verified the log. Every decision about records now comes from the log verified in the same read.

The attack here: seal three records, let the first expire (purged, logged), put its file and row
back, append a ``seal`` line for it whose hash chain is right but whose signature is not the
camera's (the attacker has no key). Nothing may show or open it; the CLI's ``open`` is the
reference behaviour that already refused it.
"""

from __future__ import annotations

import base64
import json
import sqlite3

import pytest
from facesel.central.file_backend import FileVaultBackend
from facesel.review.catalog import Filters, search
from facesel.review.memory_open import open_in_memory
from facesel.vault.audit import _entry_hash
from facesel.vault.errors import AuditError, RecordError
from facesel.vault.identity import load_identity
from facesel.vault.keys import Keystore
from facesel.vault.opening import logged_records, trusted_authority
from test_vault_common import DAY, T0, FakeClock, master_of, orl_faces, run_cli, sealed_vault, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 3, size=(32, 36))


def _forge_seal_line(vault_dir, record_id: str, sha256: str) -> None:
    """Append a ``seal`` entry that chains correctly but is not signed by the camera (64 zero bytes)."""
    log = vault_dir / "audit.log"
    last = json.loads(log.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1])
    entry = {"seq": last["seq"] + 1, "time": last["time"] + 1, "event": "seal", "record_id": record_id,
             "epoch_id": 0, "camera_id": "cam-1", "sealed_at": T0 + 3600, "size": 1, "sha256": sha256,
             "prev": last["hash"], "signer": "camera:cam-1"}
    entry["hash"] = _entry_hash(entry)
    entry["sig"] = base64.b64encode(bytes(64)).decode()
    with open(log, "ab") as f:
        f.write(json.dumps(entry, sort_keys=True, separators=(",", ":")).encode() + b"\n")


@pytest.fixture
def resurrected(tmp_path, faces):
    """A vault whose first (purged) record was put back: file, index row and a forged seal line."""
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    path = vault_dir / "records" / f"{ids[0]}.fsr"
    kept = path.read_bytes()
    with sqlite3.connect(vault_dir / "index.sqlite") as db:
        row = db.execute("SELECT * FROM records WHERE record_id = ?", (ids[0],)).fetchone()
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + 30 * DAY + 3600 + 60)) as vault:
        assert [r.record_id for r in vault.rows()] == ids[1:]  # the first one expired and was purged
    assert not path.exists()
    path.write_bytes(kept)
    with sqlite3.connect(vault_dir / "index.sqlite") as db:
        db.execute(f"INSERT INTO records VALUES ({','.join('?' * len(row))})", row)
    _forge_seal_line(vault_dir, ids[0], row[-1])
    identity = load_identity(vault_dir, anchor=trusted_authority(Keystore(adir / "keystore"), vault_dir))
    with pytest.raises(AuditError, match="not signed"):  # the verified read sees the forgery
        logged_records(vault_dir, identity)
    return adir, vault_dir, ids, identity


def test_the_desk_opens_nothing_from_a_forged_seal_line(resurrected):
    adir, vault_dir, ids, _ = resurrected
    keystore = Keystore(adir / "keystore")
    log_before = (vault_dir / "audit.log").read_bytes()
    with pytest.raises(AuditError, match="does not verify"):
        open_in_memory(vault_dir, keystore, master_of(adir), [1, 2], [("cam-1", ids[0])], "case 9", "test", "tester")
    assert (vault_dir / "audit.log").read_bytes() == log_before  # nothing decrypted, nothing logged


def test_the_desk_lists_nothing_as_genuine_from_a_log_that_does_not_verify(resurrected):
    _, vault_dir, _, identity = resurrected
    found = search(vault_dir, identity, Filters())
    assert found.records == []
    assert len(found.problems) == 1 and "does not verify" in found.problems[0]


def test_list_shows_no_record_from_a_log_that_does_not_verify(resurrected, capsys):
    adir, vault_dir, ids, _ = resurrected
    code, out, err = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir)
    assert code == 1 and ids[0] not in out and "does not verify" in err


def test_the_file_backend_reads_no_record_the_signed_log_does_not_hold(tmp_path, faces):
    """Without any forged line: a purged record's file and row put back were opened by
    ``central`` on a vault folder (its digests came from every seal line, purges ignored)."""
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    path = vault_dir / "records" / f"{ids[0]}.fsr"
    kept = path.read_bytes()
    with sqlite3.connect(vault_dir / "index.sqlite") as db:
        row = db.execute("SELECT * FROM records WHERE record_id = ?", (ids[0],)).fetchone()
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + 30 * DAY + 3600 + 60)):
        pass  # purges the first record
    path.write_bytes(kept)
    with sqlite3.connect(vault_dir / "index.sqlite") as db:
        db.execute(f"INSERT INTO records VALUES ({','.join('?' * len(row))})", row)
    backend = FileVaultBackend(vault_dir)
    try:
        assert ids[0] not in backend.logged_digests(ids) and set(ids[1:]) <= set(backend.logged_digests(ids))
        with pytest.raises(RecordError, match="does not hold it"):
            backend.read(ids[0])
        assert backend.read(ids[1]) == (vault_dir / "records" / f"{ids[1]}.fsr").read_bytes()
        _forge_seal_line(vault_dir, ids[0], row[-1])
        with pytest.raises(AuditError):
            backend.read(ids[0])
    finally:
        backend.close()
