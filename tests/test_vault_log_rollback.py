"""Review 7, finding 3: the vault's log and head put back to an older copy.

An older copy of ``audit.log`` and ``audit.log.head`` is as consistent as the current pair: every
entry chained and signed, the head signed and matching. A writer of the vault folder with no key
at all who kept such a copy put it back, deleted the record sealed since, and the camera restarted
without a word: the fresh record, its ``seal`` entry and a later ``open`` entry were gone without
trace, and ``audit verify`` said OK. Now the camera's anchor beside its key catches it.
"""

from __future__ import annotations

import json
import logging

import pytest
from facesel.vault.audit import AuditLog, verify
from facesel.vault.errors import AuditError
from facesel.vault.store import record_path
from test_vault_common import T0, FakeClock, camera_dir, open_all, orl_faces, sealed_vault, track_result, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 2)


def _later_seal(vault_dir, adir, face):
    """The camera starts again an hour later and seals one more record; returns its id."""
    clock = FakeClock(T0 + 3 * 3600)
    with vault_at(vault_dir, adir, clock=clock) as vault:
        clock.advance(60)
        return vault.seal(track_result(face, track_id=7))


def _copy_of_log(vault_dir):
    return {name: (vault_dir / name).read_bytes() for name in ("audit.log", "audit.log.head")}


def _put_back(vault_dir, saved):
    for name, data in saved.items():
        (vault_dir / name).write_bytes(data)


def test_a_log_put_back_to_an_older_copy_stops_the_camera(tmp_path, faces):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces[:1])
    saved = _copy_of_log(vault_dir)
    fresh = _later_seal(vault_dir, adir, faces[1])
    open_all(vault_dir, adir, tmp_path / "opened")
    events = [e["event"] for e in AuditLog(vault_dir / "audit.log").entries()]
    assert events[-2:] == ["seal", "open"]
    # The attack: no key, only the vault folder and an older copy of two of its files.
    _put_back(vault_dir, saved)
    record_path(vault_dir, fresh).unlink()
    assert verify(vault_dir / "audit.log").ok, "the older copy is consistent by itself (what makes the attack)"
    with pytest.raises(AuditError, match="older copy"):
        with vault_at(vault_dir, adir, clock=FakeClock(T0 + 4 * 3600)):
            pass
    anchors = list((camera_dir(adir) / "log-anchors").iterdir())
    assert len(anchors) == 1 and not any(p.name == "log-anchors" for p in vault_dir.rglob("*"))


def test_an_older_copy_continued_past_the_anchor_is_caught_too(tmp_path, faces):
    """The attacker appends entries of their own (here an authority's opening) to the put-back copy
    until it is longer than the anchored one: the entry at the anchored seq differs."""
    adir, vault_dir, _ = sealed_vault(tmp_path, faces[:1])
    saved = _copy_of_log(vault_dir)
    _later_seal(vault_dir, adir, faces[1])
    _put_back(vault_dir, saved)
    for i in range(3):
        open_all(vault_dir, adir, tmp_path / f"out{i}")
    with pytest.raises(AuditError, match="another entry at seq"):
        with vault_at(vault_dir, adir, clock=FakeClock(T0 + 4 * 3600)):
            pass


def test_ordinary_restarts_and_a_torn_anchor_keep_the_camera_running(tmp_path, faces, caplog):
    """Entries others append between two starts (openings) are no rollback, and an anchor a crash
    left empty is replaced with a warning, never a refusal."""
    adir, vault_dir, ids = sealed_vault(tmp_path, faces[:1])
    open_all(vault_dir, adir, tmp_path / "opened")
    fresh = _later_seal(vault_dir, adir, faces[1])
    anchor = next((camera_dir(adir) / "log-anchors").iterdir())
    last = AuditLog(vault_dir / "audit.log").entries()[-1]
    assert json.loads(anchor.read_text())["seq"] == last["seq"]
    anchor.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="facesel.vault"):
        with vault_at(vault_dir, adir, clock=FakeClock(T0 + 4 * 3600)) as vault:
            assert fresh in vault.index.ids() and ids[0] in vault.index.ids()
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    assert json.loads(anchor.read_text())["seq"] >= last["seq"]


def test_a_log_put_back_under_the_running_camera_is_reported_and_stops_the_next_start(tmp_path, faces, caplog):
    """Put back while the camera runs, the older copy is continued by the camera's next seal (the
    seal goes on: keeping beats deleting); that append is reported at once as an error, and the
    anchor keeps the later entry, so the next start is refused."""
    adir, vault_dir, _ = sealed_vault(tmp_path, faces[:1])
    saved = _copy_of_log(vault_dir)
    clock = FakeClock(T0 + 3 * 3600)
    with caplog.at_level(logging.WARNING, logger="facesel.vault"):
        with vault_at(vault_dir, adir, clock=clock) as vault:
            clock.advance(60)
            vault.seal(track_result(faces[1], track_id=7))
            _put_back(vault_dir, saved)
            clock.advance(60)
            kept = vault.seal(track_result(faces[0], track_id=8))
    assert record_path(vault_dir, kept).is_file()
    assert [r for r in caplog.records if r.levelno == logging.ERROR and "put back under the running camera"
            in r.getMessage()]
    with pytest.raises(AuditError, match="another entry at seq"):
        with vault_at(vault_dir, adir, clock=FakeClock(T0 + 4 * 3600)):
            pass
