"""Review 5, finding 7 (low): an audit line could be rewritten and still verify, because the hash
and the signature cover the entry as parsed, not the line's bytes.

A writer of the vault folder rewrote a ``seal`` line with a duplicate key put first
(``{"event":"purge",...,"event":"seal",...}``): Python keeps the last value, so every facesel
check read the signed entry and ``audit verify`` said OK, while a reader that keeps the first
value (many JSON libraries in other languages) was shown a purge. Other spacing or key order
passed the same way. Every line must now be the canonical JSON of its entry, as the camera
writes it, in the vault's log and in a bundle's slice.
"""

from __future__ import annotations

import json

import pytest
from facesel.vault.audit import AuditLog
from test_vault_common import orl_faces, run_cli, sealed_vault


@pytest.fixture
def vault(tmp_path, shared_data):
    adir, vault_dir, ids = sealed_vault(tmp_path, orl_faces(shared_data, 2, size=(32, 36)))
    return adir, vault_dir, ids


def _rewrite_seal_line(vault_dir, record_id, rewrite):
    path = vault_dir / "audit.log"
    lines = path.read_bytes().split(b"\n")
    number = next(i for i, line in enumerate(lines) if line and json.loads(line).get("record_id") == record_id
                  and json.loads(line)["event"] == "seal")
    lines[number] = rewrite(lines[number])
    path.write_bytes(b"\n".join(lines))
    return number + 1, lines[number]


def _first_key_first(line: bytes) -> dict:
    """What a JSON reader that keeps the first of two equal keys sees."""
    def first(pairs):
        out = {}
        for key, value in pairs:
            out.setdefault(key, value)
        return out
    return json.loads(line, object_pairs_hook=first)


REWRITES = {
    "duplicate key first": lambda line: b'{"event":"purge",' + line[1:],
    "other spacing": lambda line: json.dumps(json.loads(line)).encode(),
}


@pytest.mark.parametrize("name", sorted(REWRITES))
def test_a_rewritten_line_does_not_verify(vault, capsys, name):
    adir, vault_dir, ids = vault
    number, line = _rewrite_seal_line(vault_dir, ids[0], REWRITES[name])
    assert json.loads(line)["event"] == "seal"  # what facesel parses is still the signed entry
    if name == "duplicate key first":
        assert _first_key_first(line)["event"] == "purge"  # what another reader is shown
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 1 and "BROKEN (edited)" in out, out  # before: 0, OK
    assert f"line {number}:" in out, out  # the rewritten line is the one named
    assert AuditLog(vault_dir / "audit.log").entries()  # listing still reads it; verification refuses it
