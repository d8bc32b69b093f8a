"""Audit log: every edit, deletion, reordering or insertion is found, at the right line."""

from __future__ import annotations

import json

import pytest
from facesel.vault.audit import AuditLog, verify
from facesel.vault.errors import AuditError
from facesel.vault.signing import Signer
from nacl.signing import SigningKey
from test_vault_common import FakeClock

SIGNER = Signer("camera:cam-1", SigningKey(bytes(32)))


@pytest.fixture
def log(tmp_path):
    log = AuditLog(tmp_path / "audit.log", clock=FakeClock(), signer=SIGNER)
    for i in range(8):
        log.append("seal", record_id=f"{i:032x}", size=100 + i)
    return log


def _lines(log):
    return log.path.read_text().splitlines(keepends=True)


def _write(log, lines):
    log.path.write_text("".join(lines))


def test_intact_log_verifies_and_reports_its_head(log):
    result = verify(log.path)
    assert result.ok and result.entries == 8 and result.head_seq == 7
    assert result.head_hash == json.loads(_lines(log)[-1])["hash"]
    assert verify(log.path, expect=(3, json.loads(_lines(log)[3])["hash"])).ok


@pytest.mark.parametrize("line", [0, 4, 7])
def test_edited_entry_is_found(log, line):
    lines = _lines(log)
    entry = json.loads(lines[line])
    entry["size"] = 999
    lines[line] = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
    _write(log, lines)
    result = verify(log.path)
    assert not result.ok and result.kind == "edited" and result.line == line + 1


def test_edited_entry_with_recomputed_hash_breaks_the_next_link(log):
    from facesel.vault.audit import _entry_hash
    lines = _lines(log)
    entry = json.loads(lines[2])
    entry["size"] = 999
    entry["hash"] = _entry_hash(entry)
    lines[2] = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
    _write(log, lines)
    result = verify(log.path)
    assert not result.ok and result.kind == "inserted" and result.line == 4  # seq 3 no longer chains


@pytest.mark.parametrize("line", [0, 3, 6])
def test_deleted_entry_is_found(log, line):
    lines = _lines(log)
    del lines[line]
    _write(log, lines)
    result = verify(log.path)
    assert not result.ok and result.kind == "deleted" and result.line == line + 1
    assert f"seq {line}" in result.message


def test_deleted_tail_is_found_through_the_head_anchor(log):
    _write(log, _lines(log)[:5])
    result = verify(log.path)
    assert not result.ok and result.kind == "deleted" and "seq 7" in result.message


def test_reordered_entries_are_found(log):
    lines = _lines(log)
    lines[2], lines[5] = lines[5], lines[2]
    _write(log, lines)
    result = verify(log.path)
    assert not result.ok and result.kind == "reordered" and result.line == 3


def test_inserted_entry_is_found(log, tmp_path):
    other = AuditLog(tmp_path / "other.log", clock=FakeClock(), signer=SIGNER)
    for i in range(5):
        other.append("open", reason="forged", record_ids=[])
    forged = _lines(other)[4]  # a well-formed entry with seq 4 from another chain
    lines = _lines(log)
    lines.insert(4, forged)
    _write(log, lines)
    result = verify(log.path)
    assert not result.ok and result.kind == "inserted" and result.line == 5


def test_garbage_line_and_torn_tail_are_found(log):
    lines = _lines(log)
    lines[1] = "not json\n"
    _write(log, lines)
    assert verify(log.path).kind == "edited" and verify(log.path).line == 2
    _write(log, _lines(log)[:3] + [_lines(log)[3][:20]])
    assert verify(log.path).kind == "torn"


def test_external_anchor_catches_a_full_rewrite(log, tmp_path):
    anchor = (5, json.loads(_lines(log)[5])["hash"])
    # Rewrite the whole log consistently (new chain, new head file): only the anchor notices.
    log.path.unlink()
    log.head_path.unlink()
    for i in range(8):
        log.append("seal", record_id=f"{i:032x}", size=0)
    assert verify(log.path).ok
    result = verify(log.path, expect=anchor)
    assert not result.ok and result.line == 6


def test_append_refuses_to_chain_onto_a_damaged_entry(log):
    lines = _lines(log)
    lines[-1] = '{"broken": \n'
    _write(log, lines)
    with pytest.raises(AuditError, match="damaged"):
        log.append("seal", record_id="x")


def test_torn_last_line_is_cut_and_recorded_on_next_append(log):
    log.path.write_bytes(log.path.read_bytes() + b'{"seq":8,"ti')
    entry = log.append("seal", record_id="y")
    events = [e["event"] for e in log.entries()]
    assert events[-2:] == ["recovered-torn-entry", "seal"] and entry["seq"] == 9
    assert verify(log.path).ok


def test_reserved_field_names_are_refused(log):
    with pytest.raises(ValueError, match="reserved|may not be named"):
        log.append("seal", seq=5)


def test_long_entries_chain_correctly(log):
    """An `open` of many records makes a long line; the next append must still find its hash."""
    many = [f"{i:032x}" for i in range(8000)]  # ~300 KB line
    log.append("open", record_ids=many, reason="bulk")
    entry = log.append("seal", record_id="z")
    assert entry["seq"] == 9 and verify(log.path).ok
