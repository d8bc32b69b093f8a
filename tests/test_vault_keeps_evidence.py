"""Review 4, finding 3 (high): housekeeping cost evidence. Class: a condition that says nothing about
a sealed record (the clock at restart, a failed read, a failed purge of *another* record, a file
planted beside an unfinished seal) made the camera lose a record or log it as gone for good.

* A camera whose clock ran ahead while it sealed (a real-time clock kept in local time, corrected
  by NTP later) and that restarted after the correction quarantined every record of that time:
  logged ``quarantined``, a removal, so ``open`` no longer found them, and quarantine is never
  purged either. Recovery now judges a logged record by its own bytes, and its seal time against
  the time its seal entry was logged, never against the clock at restart.
* A read that failed at restart (I/O error, permissions, descriptors) quarantined the record too.
* A purge that failed (here: the file system refuses the quarantine of a replaced expired record)
  made ``seal`` raise, so the new snapshot was lost, and made the camera fail to start.
* A file planted under the name of a record whose seal was logged but not yet renamed into place
  (a crash between the two) made recovery delete the sealed temporary: the record was gone.
"""

from __future__ import annotations

import errno
import logging
import os
import time

import pytest
from facesel.vault import recovery
from facesel.vault.audit import AuditLog
from facesel.vault.identity import load_identity
from facesel.vault.keys import AuthorityPublic
from facesel.vault.opening import logged_records
from test_vault_common import DAY, T0, FakeClock, make_authority, open_all, orl_faces, track_result, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 3, size=(32, 36))


def _events(vault_dir, record_id):
    return [e["event"] for e in AuditLog(vault_dir / "audit.log").entries() if e.get("record_id") == record_id]


def _live(vault_dir, adir):
    identity = load_identity(vault_dir, anchor=AuthorityPublic.load(adir / "authority.pub"))
    return set(logged_records(vault_dir, identity))


def test_records_sealed_while_the_clock_ran_ahead_survive_a_restart_after_it_is_set_right(tmp_path, faces):
    now = time.time()  # near the real time: readers compare seal times with the real clock too
    _, adir = make_authority(tmp_path / "auth", start=now - 2 * DAY)
    vault_dir = tmp_path / "v"
    ahead = FakeClock(now + 2 * 3600)  # an RTC kept in local time, two hours east of UTC
    with vault_at(vault_dir, adir, clock=ahead) as vault:
        ids = [vault.seal(track_result(face, track_id=i)) for i, face in enumerate(faces)]
    with vault_at(vault_dir, adir, clock=FakeClock(time.time())) as vault:  # NTP set it right, then a restart
        assert vault.recovery["quarantined"] == 0
        assert sorted(r.record_id for r in vault.rows()) == sorted(ids)
    assert all(_events(vault_dir, rid) == ["seal"] for rid in ids)
    assert _live(vault_dir, adir) == set(ids)
    assert not (vault_dir / "quarantine").exists()


def test_a_record_dated_ahead_of_its_own_seal_entry_is_still_quarantined(tmp_path, faces):
    """What the clock rule was for stays refused: a key holder sealing a record dated far ahead of
    the entry that logs it (to outlive its retention) is quarantined at the next start."""
    _, adir = make_authority(tmp_path / "auth")
    vault_dir = tmp_path / "v"
    clock = FakeClock(T0)
    with vault_at(vault_dir, adir, clock=clock) as vault:
        honest = vault.seal(track_result(faces[0]))
        log_clock = vault.audit.clock
        vault.audit.clock = lambda: T0  # the log entry says now, the record says five days on
        clock.now = T0 + 5 * DAY
        rogue = vault.seal(track_result(faces[1]))
        vault.audit.clock = log_clock
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + 60)) as vault:
        assert [r.record_id for r in vault.rows()] == [honest]
    assert _events(vault_dir, rogue) == ["seal", "quarantined"]


def test_a_failed_read_at_restart_leaves_the_record_in_place_and_live(tmp_path, faces, monkeypatch, caplog):
    _, adir = make_authority(tmp_path / "auth")
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir, clock=FakeClock(T0)) as vault:
        ids = [vault.seal(track_result(face, track_id=i)) for i, face in enumerate(faces)]
    real_read = recovery.read_record_file

    def failing_disk(path, *args, **kwargs):  # a disk error on one record's blocks
        if path.name == f"{ids[1]}.fsr":
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(path))
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr(recovery, "read_record_file", failing_disk)
    with caplog.at_level(logging.ERROR, logger="facesel.vault"), \
            vault_at(vault_dir, adir, clock=FakeClock(T0 + 60)) as vault:
        assert vault.recovery["quarantined"] == 0 and vault.recovery["unreadable"] == [ids[1]]
        assert sorted(r.record_id for r in vault.rows()) == sorted([ids[0], ids[2]])
    assert f"record {ids[1]} could not be read" in caplog.text
    assert _events(vault_dir, ids[1]) == ["seal"] and (vault_dir / "records" / f"{ids[1]}.fsr").exists()
    assert ids[1] in _live(vault_dir, adir)
    monkeypatch.setattr(recovery, "read_record_file", real_read)  # the disk recovered
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + 120)) as vault:
        assert sorted(r.record_id for r in vault.rows()) == sorted(ids)


def test_a_failing_purge_neither_loses_a_new_seal_nor_stops_the_camera(tmp_path, faces, caplog):
    _, adir = make_authority(tmp_path / "auth", retention=DAY, horizon=5 * DAY)
    vault_dir = tmp_path / "v"
    clock = FakeClock(T0)
    with vault_at(vault_dir, adir, clock=clock, purge_interval=0) as vault:
        old = vault.seal(track_result(faces[0]))
        # The folder writer replaces the old record (its expiry wants it quarantined) and puts a file
        # where the quarantine folder goes: every purge now fails half-way.
        (vault_dir / "records" / f"{old}.fsr").write_bytes(b"not the sealed record")
        (vault_dir / "quarantine").write_bytes(b"")
        clock.advance(2 * DAY)
        with caplog.at_level(logging.ERROR, logger="facesel.vault"):
            fresh = vault.seal(track_result(faces[1]))  # raised VaultWriteError: the snapshot was lost
            assert vault.maybe_purge() == 0  # the per-frame tick does not raise either
        assert "no purge" in caplog.text
        assert fresh in {r.record_id for r in vault.rows()}
    assert _events(vault_dir, fresh) == ["seal"] and _events(vault_dir, old) == ["seal"]
    # A restart with the obstacle still there: recovery cannot quarantine the replaced file either;
    # it leaves it in place, unindexed, and the camera starts (it raised: no camera at all).
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="facesel.vault"), vault_at(vault_dir, adir, clock=clock) as vault:
        assert [r.record_id for r in vault.rows()] == [fresh] and vault.recovery["unreadable"] == [old]
        third = vault.seal(track_result(faces[2]))
    assert "could not be quarantined" in caplog.text and _events(vault_dir, old) == ["seal"]
    (vault_dir / "quarantine").unlink()  # once it is moved away: quarantined, logged
    with vault_at(vault_dir, adir, clock=clock) as vault:
        assert sorted(r.record_id for r in vault.rows()) == sorted([fresh, third])
    assert _events(vault_dir, old) == ["seal", "quarantined"]


def test_a_purge_failing_at_start_does_not_stop_the_camera(tmp_path, faces, caplog):
    _, adir = make_authority(tmp_path / "auth", retention=DAY, horizon=5 * DAY)
    vault_dir = tmp_path / "v"
    clock = FakeClock(T0)
    with vault_at(vault_dir, adir, clock=clock) as vault:
        old = vault.seal(track_result(faces[0]))
    clock.advance(2 * DAY)
    real_unlink = type(vault_dir).unlink

    def refusing_unlink(path, *args, **kwargs):  # the file system refuses the expired record's deletion
        if path.name == f"{old}.fsr":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_unlink(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.ERROR, logger="facesel.vault"):
        patch.setattr(type(vault_dir), "unlink", refusing_unlink)
        with vault_at(vault_dir, adir, clock=clock) as vault:  # raised VaultWriteError: no camera at all
            fresh = vault.seal(track_result(faces[1]))
    assert "no purge" in caplog.text
    # The purge was logged before its unlink failed: the next start finishes it.
    with vault_at(vault_dir, adir, clock=clock) as vault:
        assert [r.record_id for r in vault.rows()] == [fresh]
        assert vault.recovery["purges_finished"] == 1
    assert not (vault_dir / "records" / f"{old}.fsr").exists()


def test_a_file_planted_beside_an_unfinished_seal_does_not_cost_the_record(tmp_path, faces):
    _, adir = make_authority(tmp_path / "auth")
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir, clock=FakeClock(T0)) as vault:
        rid, other = vault.seal(track_result(faces[0])), vault.seal(track_result(faces[1]))
    final = vault_dir / "records" / f"{rid}.fsr"
    # The state of a crash between the seal entry and the rename ...
    os.replace(final, vault_dir / "records" / f".{rid}.fsr.0badc0de.tmp")
    # ... and a file under the record's name meanwhile (here another genuine record's bytes).
    final.write_bytes((vault_dir / "records" / f"{other}.fsr").read_bytes())
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + 60)) as vault:
        assert vault.recovery["completed"] == 1 and vault.recovery["quarantined"] == 1
        assert sorted(r.record_id for r in vault.rows()) == sorted([rid, other])
    assert _events(vault_dir, rid) == ["seal"]  # the planted file's quarantine names no record
    assert rid in _live(vault_dir, adir)
    opened = open_all(vault_dir, adir, tmp_path / "out")
    assert sorted(o.row.record_id for o in opened) == sorted([rid, other])
