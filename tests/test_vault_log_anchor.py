"""Finding 4 of the vault review: the audit log could be torn, deleted or rewritten, and a copy
of the vault opened without trace. Now entries and the head are signed, a shortened or missing
log stops the camera, openings are also in the authority's own log, and witnessed heads hold."""

from __future__ import annotations

import base64
import json
import shutil

import pytest
from facesel.vault.audit import AuditLog, _entry_hash, verify
from facesel.vault.errors import AuditError
from facesel.vault.signing import Signer
from nacl.signing import SigningKey
from test_vault_common import DAY, T0, FakeClock, open_all, orl_faces, sealed_vault, vault_at, run_cli


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 3)


@pytest.fixture
def opened_vault(tmp_path, faces):
    """Three records, opened three times (the last three log entries are openings)."""
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    for i in range(3):
        open_all(vault_dir, adir, tmp_path / f"out{i}")
    return adir, vault_dir, ids



def _later():
    return FakeClock(T0 + DAY)


def test_tail_joined_into_one_torn_line_stops_the_camera(opened_vault, capsys):
    adir, vault_dir, _ = opened_vault
    log = vault_dir / "audit.log"
    lines = log.read_text().splitlines(keepends=True)
    assert [json.loads(x)["event"] for x in lines[-3:]] == ["open"] * 3
    log.write_text("".join(lines[:-3]) + "".join(x.rstrip("\n") for x in lines[-3:]))
    before = log.read_bytes()
    with pytest.raises(AuditError, match="entries (at the end )?were (removed|deleted)"):
        vault_at(vault_dir, adir, clock=_later())
    assert log.read_bytes() == before  # never turned into a "recovered-torn-entry"
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 1 and "BROKEN" in out


def test_deleted_log_and_head_is_an_error_never_a_fresh_start(opened_vault, capsys):
    adir, vault_dir, _ = opened_vault
    (vault_dir / "audit.log").unlink()
    (vault_dir / "audit.log.head").unlink()
    with pytest.raises(AuditError, match="audit log is missing"):
        vault_at(vault_dir, adir, clock=_later())
    assert not (vault_dir / "audit.log").exists()
    code, _, err = run_cli(capsys, "audit", "verify", "--vault", vault_dir)
    assert code == 1 and "audit.log is missing" in err and err.count("\n") == 1


def test_rewritten_log_with_a_recomputed_chain_is_caught(opened_vault, tmp_path, capsys):
    adir, vault_dir, _ = opened_vault
    code, _, _ = run_cli(capsys, "audit", "head", "--vault", vault_dir, "--out", tmp_path / "witness.json")
    assert code == 0
    entries = AuditLog(vault_dir / "audit.log").entries()
    forger = AuditLog(tmp_path / "forged.log", clock=FakeClock(T0),
                      signer=Signer("camera:cam-1", SigningKey.generate()))
    for e in entries:  # same events, other reason, opener and record ids
        fields = {k: v for k, v in e.items() if k not in ("seq", "time", "prev", "hash", "sig", "signer", "event",
                                                          "clock")}
        if e["event"] == "open":
            fields.update(reason="routine", opened_by="nobody", record_ids=[])
        forger.append(e["event"], **fields)
    shutil.copy(tmp_path / "forged.log", vault_dir / "audit.log")
    shutil.copy(tmp_path / "forged.log.head", vault_dir / "audit.log.head")
    assert verify(vault_dir / "audit.log").ok  # the chain alone is consistent ...
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 1 and "BROKEN (unsigned)" in out  # ... but nobody registered signed it
    result = verify(vault_dir / "audit.log", expect=json.loads((tmp_path / "witness.json").read_text()))
    assert not result.ok and result.kind in ("edited", "deleted")


def test_witnessed_head_catches_a_cut_tail(opened_vault, tmp_path, capsys):
    adir, vault_dir, _ = opened_vault
    assert run_cli(capsys, "audit", "head", "--vault", vault_dir, "--out", tmp_path / "w.json")[0] == 0
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--expect", tmp_path / "w.json")
    assert code == 0 and "records and log agree" in out
    lines = (vault_dir / "audit.log").read_text().splitlines(keepends=True)
    (vault_dir / "audit.log").write_text("".join(lines[:-2]))
    (vault_dir / "audit.log.head").unlink()  # the attacker removes the local anchor too
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--expect", tmp_path / "w.json")
    assert code == 1 and "BROKEN" in out


def test_opening_a_copy_of_the_vault_shows_in_the_authoritys_log(opened_vault, tmp_path, capsys):
    adir, vault_dir, _ = opened_vault
    copy = tmp_path / "copy"
    shutil.copytree(vault_dir, copy)
    open_all(copy, adir, tmp_path / "from-copy")
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 1 and "AUTHORITY" in out and "opened from a copy" in out
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", copy, "--authority", adir)
    assert code == 0, out  # the copy's own log does hold all four openings


def test_times_only_move_forward(tmp_path):
    key = SigningKey.generate()
    signer = Signer("camera:cam-1", key)
    clock = FakeClock(T0)
    log = AuditLog(tmp_path / "a.log", clock=clock, signer=signer)
    log.append("seal", record_id="a" * 32)
    clock.now = T0 - 3600  # the clock runs backwards: the entry is clamped, the raw reading kept
    entry = log.append("seal", record_id="b" * 32)
    assert entry["time"] == T0 and entry["clock"] == T0 - 3600
    keys = {"camera:cam-1": bytes(key.verify_key)}
    assert verify(log.path, keys=keys).ok
    # The key holder itself back-dating an entry (re-signed, chain recomputed) is still refused.
    lines = [json.loads(x) for x in log.path.read_text().splitlines()]
    lines[1]["time"] = T0 - 7200
    lines[1].pop("clock")
    lines[1]["hash"] = _entry_hash(lines[1])
    lines[1]["sig"] = base64.b64encode(signer.sign(bytes.fromhex(lines[1]["hash"]))).decode()
    log.path.write_text("".join(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n" for e in lines))
    log.head_path.unlink()
    result = verify(log.path, keys=keys)
    assert not result.ok and result.kind == "time" and "before the entry it follows" in result.message
    # And an entry dated in the future.
    future = AuditLog(tmp_path / "f.log", clock=FakeClock(T0 + 400 * DAY + 1e8), signer=signer)
    future.append("seal", record_id="c" * 32)
    assert verify(future.path, keys=keys).kind == "time"
