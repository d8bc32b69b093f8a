"""Review 2, finding 9: garbage in vault files. Each case the review found, by name: a huge
integer in authority.pub (epoch_seconds, retention_seconds), in an audit entry's time or an epoch
key's not_after raised OverflowError; null, a list or an object in keystore/authority.json's
threshold or retention_seconds raised TypeError. Each now ends in one line and exit status 1.
(The property test in test_vault_property.py tries every field of every file, and FIFOs, devices
and folders in place of each.)"""

from __future__ import annotations

import json

import pytest
from test_vault_common import DAY, T0, orl_faces, run_cli, sealed_vault, share_paths

HUGE = 10 ** 400


def _name(value):
    """Readable test ids (not 400 digits)."""
    return "huge" if value == HUGE else "-huge" if value == -HUGE else type(value).__name__ if isinstance(
        value, (list, dict, type(None))) else repr(value)


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 2, size=(24, 28))


def _edit_json(path, key, value):
    doc = json.loads(path.read_text())
    doc[key] = value
    path.write_text(json.dumps(doc))


def _one_line(code, err):
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("where, key, value", [
    ("vault authority.pub", "epoch_seconds", HUGE), ("vault authority.pub", "retention_seconds", HUGE),
    ("vault authority.pub", "retention_seconds", [1]), ("vault authority.pub", "threshold", True),
    ("audit entry", "time", HUGE), ("audit entry", "time", -HUGE),
], ids=_name)
def test_garbage_in_the_vault_files(tmp_path, faces, capsys, where, key, value):
    adir, vault_dir, _ = sealed_vault(tmp_path, faces)
    if where == "audit entry":
        lines = (vault_dir / "audit.log").read_text().splitlines()
        entry = json.loads(lines[1])
        entry[key] = value
        lines[1] = json.dumps(entry)
        (vault_dir / "audit.log").write_text("\n".join(lines) + "\n")
    else:
        _edit_json(vault_dir / "authority.pub", key, value)
    code, out, err = run_cli(capsys, "audit", "verify", "--vault", vault_dir)
    assert code == 1 and "Traceback" not in err + out
    code, _, err = run_cli(capsys, "purge", "--vault", vault_dir, "--camera", tmp_path / "auth-cam-1", "--now", T0 + DAY)
    _one_line(code, err)
    code, _, err = run_cli(capsys, "open", "--vault", vault_dir, *[a for p in share_paths(adir)[:2] for a in
                                                                   ("--share", p)], "--reason", "r", "--all",
                           "--out", tmp_path / "out")
    _one_line(code, err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("file, key, value", [
    ("keystore/authority.json", "threshold", None), ("keystore/authority.json", "threshold", [2]),
    ("keystore/authority.json", "threshold", {"k": 2}), ("keystore/authority.json", "retention_seconds", None),
    ("keystore/authority.json", "retention_seconds", {"s": 1}), ("keystore/authority.json", "retention_seconds", HUGE),
    ("epoch", "not_after", HUGE), ("epoch", "not_after", float("nan")), ("epoch", "id", "7"),
], ids=_name)
def test_garbage_in_the_authority_files(tmp_path, faces, capsys, file, key, value):
    adir, vault_dir, _ = sealed_vault(tmp_path, faces)
    path = sorted((adir / "keystore").glob("epoch-*.key"))[0] if file == "epoch" else adir / file
    _edit_json(path, key, value)
    code, _, err = run_cli(capsys, "authority", "shred", "--dir", adir, "--dry-run", "--now", T0 + 100 * DAY)
    _one_line(code, err)
    code, _, err = run_cli(capsys, "authority", "shred", "--dir", adir, "--now", T0 + 100 * DAY,
                           *[a for p in share_paths(adir)[:2] for a in ("--share", p)], "--new-no-passphrase")
    _one_line(code, err)
    assert path.exists()  # nothing shredded on the strength of a garbage value
