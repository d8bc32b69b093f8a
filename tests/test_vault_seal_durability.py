"""Review 4, finding 10 (medium): a power cut could lose a record whose seal was already logged.

A seal writes the record to a temporary file in ``records/`` (data fsynced), logs the ``seal``
entry (fsynced), then renames the file into place. The *folder* was not fsynced between the first
two steps, so after a power cut the log could say "sealed" while the temporary's name never reached
the disk: recovery can only finish a seal whose temporary it finds, so the record was lost (and
logged as ``record-missing``). A process kill cannot show this (the kernel keeps the name); the
test checks the order of the durability barriers on the real file system instead: the folder
holding the temporary is fsynced before the seal is logged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from facesel.vault import store
from facesel.vault.audit import AuditLog
from test_vault_common import T0, FakeClock, make_authority, orl_faces, track_result, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 1, size=(32, 36))


def test_the_temporary_is_durable_in_its_folder_before_the_seal_is_logged(tmp_path, faces, monkeypatch):
    _, adir = make_authority(tmp_path / "auth")
    events = []
    real_fsync_dir, real_append = store.fsync_dir, AuditLog.append

    def fsync_dir(directory):
        events.append(("fsync", Path(directory).name, sorted(p.name for p in Path(directory).glob(".*.tmp"))))
        real_fsync_dir(directory)

    def append(self, event, **fields):
        events.append(("log", event, fields.get("record_id")))
        return real_append(self, event, **fields)

    monkeypatch.setattr(store, "fsync_dir", fsync_dir)
    monkeypatch.setattr(AuditLog, "append", append)
    with vault_at(tmp_path / "v", adir, clock=FakeClock(T0)) as vault:
        events.clear()
        rid = vault.seal(track_result(faces[0]))
    logged = events.index(("log", "seal", rid))
    assert any(kind == "fsync" and folder == "records" and any(name.startswith(f".{rid}.fsr.") for name in names)
               for kind, folder, names in events[:logged]), events
    assert (tmp_path / "v" / "records" / f"{rid}.fsr").exists()
