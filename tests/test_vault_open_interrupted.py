"""Ctrl-C while ``open`` writes the decrypted snapshots leaves no plaintext behind (ux15).

Before, only an OSError (a full disk) removed the staging folder: a KeyboardInterrupt left every
face decrypted so far in ``.OUT.partial-XXXX`` beside the output folder, and no ``open-aborted``
entry said the opening had not completed."""

from __future__ import annotations

import pytest
from test_vault_common import open_all, orl_faces, sealed_vault


def test_an_interrupted_open_removes_its_staging_folder_and_logs_the_abort(shared_data, tmp_path, monkeypatch):
    import facesel.vault.opening as opening
    from facesel.vault.audit import AuditLog

    adir, vault_dir, _ = sealed_vault(tmp_path / "case", orl_faces(shared_data, 2))
    write = opening._write_outputs

    def write_then_interrupt(staging, opened):
        write(staging, opened)  # every plaintext file is on disk when the user presses Ctrl-C
        assert list(staging.rglob("*.png"))
        raise KeyboardInterrupt

    monkeypatch.setattr(opening, "_write_outputs", write_then_interrupt)
    out = tmp_path / "opened"
    with pytest.raises(KeyboardInterrupt):
        open_all(vault_dir, adir, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]  # no opened/, no .opened.partial-*
    for log in (vault_dir / "audit.log", adir / "audit.log"):
        last = AuditLog(log).entries()[-1]
        assert last["event"] == "open-aborted" and "interrupted (KeyboardInterrupt)" in last["reason"], log
    monkeypatch.undo()
    assert len(open_all(vault_dir, adir, out)) == 2  # the next try opens them
