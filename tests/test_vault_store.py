"""Vault at the camera: sealing, the index, retention with a fake clock, recovery, full disk."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import uuid

import numpy as np
import pytest
from facesel.vault import Vault, open_records
from facesel.vault.audit import AuditLog, verify
from facesel.vault.consistency import custody_problems
from facesel.vault.errors import (
    EpochUnavailableError,
    VaultLockedError,
    VaultWriteError,
)
from facesel.vault.index import COLUMNS, Index
from facesel.vault.keys import Keystore
from facesel.vault.record import parse_record
from facesel.vault.retention import shred_expired
from facesel.vault.shares import reconstruct_master
from test_vault_common import (
    DAY,
    T0,
    FakeClock,
    add_camera,
    camera_dir,
    make_authority,
    master_of,
    orl_faces,
    share_paths,
    track_result,
    tree_digest,
    vault_at,
)


@pytest.fixture
def authority(tmp_path):
    pub, adir = make_authority(tmp_path / "auth", shares=3, threshold=2, start=T0 - 2 * DAY, horizon=10 * DAY)
    return pub, adir


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 6)


def _open_all(vault_dir, adir, out):
    return open_records(vault_dir, share_paths(adir)[:2], adir / "keystore", "test case", out, all_records=True)


def test_seal_index_and_open_round_trip(tmp_path, authority, faces):
    pub, adir = authority
    clock = FakeClock()
    add_camera(adir, "gate-3")
    with vault_at(tmp_path / "v", adir, camera_id="gate-3", clock=clock) as vault:
        ids = []
        for i, face in enumerate(faces[:4]):
            clock.advance(60)
            ids.append(vault.seal(track_result(face, track_id=i, clip=[faces[5]] if i == 0 else None)))
        rows = vault.rows()
    assert [r.record_id for r in rows] == ids
    assert all(r.camera_id == "gate-3" and r.epoch_id == pub.epoch_for(T0).epoch_id for r in rows)
    files = sorted(p.name for p in (tmp_path / "v" / "records").iterdir())
    assert files == sorted(f"{i}.fsr" for i in ids)
    opened = _open_all(tmp_path / "v", adir, tmp_path / "out")
    assert [o.row.record_id for o in opened] == ids
    for o, face in zip(opened, faces[:4]):
        assert np.array_equal(o.snapshot.crop(), face)
    assert np.array_equal(opened[0].snapshot.clip()[0], faces[5])
    assert (tmp_path / "out" / ids[0] / "crop.png").is_file() and (tmp_path / "out" / ids[0] / "clip" / "0000.png").is_file()
    entries = AuditLog(tmp_path / "v" / "audit.log").entries()
    assert [e["event"] for e in entries] == ["vault-created"] + ["seal"] * 4 + ["open"]
    assert entries[-1]["record_ids"] == ids and entries[-1]["reason"] == "test case"
    assert verify(tmp_path / "v" / "audit.log").ok


def test_index_holds_non_biometric_metadata_only(tmp_path, authority, faces):
    _, adir = authority
    with vault_at(tmp_path / "v", adir, clock=FakeClock()) as vault:
        vault.seal(track_result(faces[0], clip=[faces[1]]))
    db = sqlite3.connect(tmp_path / "v" / "index.sqlite")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        cols = [r[1] for r in db.execute("PRAGMA table_info(records)")]
        values = db.execute("SELECT * FROM records").fetchall()[0]
    finally:
        db.close()
    assert tables == ["records"] and tuple(cols) == COLUMNS
    assert not any(isinstance(v, bytes) for v in values)  # no blobs of any kind
    assert all(len(str(v)) <= 64 for v in values)
    for word in ("box", "landmark", "crop", "pixel", "embedding"):
        assert not any(word in c for c in cols)


def test_retention_with_fake_clock_purges_records_and_shreds_epochs(tmp_path, authority, faces):
    pub, adir = authority
    clock = FakeClock(T0)
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir, clock=clock, purge_interval=3600) as vault:
        old = [vault.seal(track_result(f, track_id=i)) for i, f in enumerate(faces[:2])]
        clock.advance(5 * DAY)
        fresh = []
        for i, face in enumerate(faces[2:4]):
            clock.advance(60)  # distinct seal times keep the listing order known
            fresh.append(vault.seal(track_result(face, track_id=10 + i)))
        clock.advance(26 * DAY)  # the old ones are 31 days old, the fresh ones 26
        assert vault.purge() == 2
        assert [r.record_id for r in vault.rows()] == fresh
    assert sorted(p.stem for p in (vault_dir / "records").glob("*.fsr")) == sorted(fresh)
    purged = [e for e in AuditLog(vault_dir / "audit.log").entries() if e["event"] == "purge"]
    assert sorted(e["record_id"] for e in purged) == sorted(old)
    assert {e["reason"] for e in purged} == {"retention"}
    # Authority side: the epoch of the old records is past retention, the fresh one's is not.
    old_epoch, fresh_epoch = pub.epoch_for(T0).epoch_id, pub.epoch_for(T0 + 5 * DAY).epoch_id
    shredded = shred_expired(adir, now=clock(), master=master_of(adir))
    assert old_epoch in shredded and fresh_epoch not in shredded
    ks = Keystore(adir / "keystore")
    assert old_epoch not in ks.epoch_ids() and fresh_epoch in ks.epoch_ids()
    logged = [e["epoch_id"] for e in AuditLog(adir / "audit.log").entries() if e["event"] == "shred"]
    assert logged == shredded and verify(adir / "audit.log").ok
    opened = _open_all(vault_dir, adir, tmp_path / "out")
    assert [o.row.record_id for o in opened] == fresh
    for o, face in zip(opened, faces[2:4]):
        assert np.array_equal(o.snapshot.crop(), face)


def test_backup_of_an_expired_record_is_unreadable_after_shredding(tmp_path, authority, faces):
    """Crypto-shredding: a copy taken before the purge cannot be opened once its epoch is shredded."""
    _, adir = authority
    clock = FakeClock(T0)
    with vault_at(tmp_path / "v", adir, clock=clock) as vault:
        rid = vault.seal(track_result(faces[0]))
    backup = (tmp_path / "v" / "records" / f"{rid}.fsr").read_bytes()
    clock.advance(45 * DAY)
    with vault_at(tmp_path / "v", adir, clock=clock):
        pass  # opening purges
    assert not (tmp_path / "v" / "records" / f"{rid}.fsr").exists()
    shred_expired(adir, now=clock(), master=master_of(adir))
    ks = Keystore(adir / "keystore")
    master, _ = reconstruct_master(share_paths(adir)[:2], ks)
    with pytest.raises(EpochUnavailableError, match="shredded"):
        ks.unwrap(master, parse_record(backup).epoch_id)


def test_automatic_purge_runs_inside_seal(tmp_path, faces):
    _, adir = make_authority(tmp_path / "auth", start=T0, horizon=32 * DAY)
    clock = FakeClock(T0)
    with vault_at(tmp_path / "v", adir, clock=clock, purge_interval=600) as vault:
        first = vault.seal(track_result(faces[0]))
        clock.advance(30 * DAY + 1)
        second = vault.seal(track_result(faces[1]))
        assert [r.record_id for r in vault.rows()] == [second] and first != second


def test_no_epoch_covering_now_refuses_and_writes_nothing(tmp_path, authority, faces):
    _, adir = authority
    clock = FakeClock(T0)
    with vault_at(tmp_path / "v", adir, clock=clock) as vault:
        vault.seal(track_result(faces[0]))
        before = tree_digest(tmp_path / "v")
        clock.now = T0 + 20 * DAY  # beyond the 10-day horizon
        with pytest.raises(EpochUnavailableError, match="no epoch key covering"):
            vault.seal(track_result(faces[1]))
        assert tree_digest(tmp_path / "v") == before


def test_second_writer_is_refused_and_other_authority_rejected(tmp_path, authority, tmp_path_factory):
    _, adir = authority
    with vault_at(tmp_path / "v", adir, clock=FakeClock()):
        with pytest.raises(VaultLockedError):
            vault_at(tmp_path / "v", adir, clock=FakeClock())
    _, other = make_authority(tmp_path_factory.mktemp("other") / "auth")
    with pytest.raises(ValueError, match="not by the pinned authority key"):
        Vault(tmp_path / "v", other / "authority.pub", camera=camera_dir(adir), clock=FakeClock())


def test_a_refused_writer_is_told_who_holds_the_vault(tmp_path, authority):
    # ux18: a second Vault on one folder was told "open for writing by another process", also
    # when the holder was the same script's first Vault, not yet closed; `facesel run` into a
    # vault that `facesel serve` holds was not told which process.
    import sys

    _, adir = authority
    with vault_at(tmp_path / "v", adir, clock=FakeClock()):
        with pytest.raises(VaultLockedError, match=r"already open for writing in this process: another Vault on "
                                                   r"this folder is not closed yet"):
            vault_at(tmp_path / "v", adir, clock=FakeClock())
    # A script file, and a camera URL with a password first among its arguments: the holder's command
    # line is then short enough that the URL lies within the part the message quotes.
    script = tmp_path / "hold.py"
    script.write_text("import sys; sys.path[:0] = sys.argv[2:4]\n"
                      "from pathlib import Path; from test_vault_common import vault_at, FakeClock\n"
                      "v = vault_at(Path(sys.argv[4]), Path(sys.argv[5]), clock=FakeClock()); print('held', flush=True)\n"
                      "sys.stdin.read()\n")
    tests = os.path.dirname(os.path.abspath(__file__))
    holder = subprocess.Popen([sys.executable, str(script), "rtsp://admin:hunter22@10.0.0.5/s1",
                               os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or ".",
                               tests, str(tmp_path / "v"), str(adir)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"  # waits until the other process holds it
        with pytest.raises(VaultLockedError, match=rf"open for writing by another process \(pid {holder.pid}: .*python") as refused:
            vault_at(tmp_path / "v", adir, clock=FakeClock())
        # review 18: the holder's command line is quoted with its URLs' passwords masked (the text
        # reaches logs and serve's /healthz)
        assert "hunter22" not in str(refused.value) and "rtsp://***@10.0.0.5/s1" in str(refused.value)
    finally:
        holder.communicate("", timeout=60)
    with vault_at(tmp_path / "v", adir, clock=FakeClock()):  # free again once it ended
        pass

@pytest.mark.parametrize("bad", [dict(camera_id=""), dict(camera_id="a\nb"), dict(clip_format="bmp"),
                                 dict(purge_interval=-1), dict(clock=5)])
def test_constructor_validates_arguments(tmp_path, authority, bad):
    _, adir = authority
    with pytest.raises((ValueError, TypeError)):
        Vault(tmp_path / "v", adir / "authority.pub", camera=camera_dir(adir), **bad)
    assert not (tmp_path / "v").exists()


def test_seal_rejects_non_track_results_and_non_images(tmp_path, authority, faces):
    _, adir = authority
    with vault_at(tmp_path / "v", adir, clock=FakeClock()) as vault:
        with pytest.raises(TypeError, match="TrackResult"):
            vault.seal(faces[0])
        with pytest.raises(ValueError, match="best.crop"):
            vault.seal(track_result(faces[0].astype(np.float32)))
        assert vault.rows() == []


# -- full disk -----------------------------------------------------------------------------------

def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["record-write", "record-fsync", "index-insert", "audit-append"])
def test_full_disk_is_a_clear_error_and_changes_nothing(tmp_path, authority, faces, monkeypatch, where):
    """Simulated ENOSPC at each write of a seal: VaultWriteError, and the vault is byte-identical."""
    _, adir = authority
    clock = FakeClock()
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir, clock=clock) as vault:
        vault.seal(track_result(faces[0]))
        before = tree_digest(vault_dir)
        with monkeypatch.context() as m:
            if where == "record-write":
                m.setattr("facesel.vault.fsutil.os.write", _enospc)
            elif where == "record-fsync":
                m.setattr("facesel.vault.fsutil.os.fsync", _enospc)
            elif where == "index-insert":
                def full(self, row):
                    raise sqlite3.OperationalError("database or disk is full")
                m.setattr(Index, "insert", full)
            else:
                real_write = os.write  # one os module: fail only the audit line (JSON + newline)

                def audit_full(fd, data):
                    if bytes(data).startswith(b'{"') and bytes(data).endswith(b"\n"):
                        _enospc()
                    return real_write(fd, data)
                m.setattr(os, "write", audit_full)
            with pytest.raises(VaultWriteError, match="nothing was stored|No space left"):
                vault.seal(track_result(faces[1]))
        assert tree_digest(vault_dir) == before
        assert not list((vault_dir / "records").glob(".*"))  # no temporary left
        assert verify(vault_dir / "audit.log").ok
        vault.seal(track_result(faces[2]))  # and it goes on once space is back
        assert len(vault.rows()) == 2
    assert verify(vault_dir / "audit.log").ok


def test_failure_after_the_seal_is_logged_is_completed_at_the_next_start(tmp_path, authority, faces, monkeypatch):
    """The rename of a logged record fails: the error says so, and the next start finishes it."""
    _, adir = authority
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir, clock=FakeClock()) as vault:
        with monkeypatch.context() as m:
            m.setattr("facesel.vault.store.os.replace", _enospc)
            with pytest.raises(VaultWriteError, match="logged but not yet renamed"):
                vault.seal(track_result(faces[1]))
    with vault_at(vault_dir, adir, clock=FakeClock()) as vault:
        assert vault.recovery["completed"] == 1 and len(vault.rows()) == 1
    assert not list((vault_dir / "records").glob(".*"))
    assert verify(vault_dir / "audit.log").ok


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A real 256 KiB tmpfs (needs root and mount permission; skipped otherwise)."""
    mount = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_really_full_disk_on_a_tiny_tmpfs(tmp_path, authority, faces, tiny_tmpfs):
    _, adir = authority
    vault_dir = tiny_tmpfs / "v"
    with vault_at(vault_dir, adir, clock=FakeClock()) as vault:
        first = vault.seal(track_result(faces[0]))
        # Fill the file system up to the last few KiB with a filler file.
        fd = os.open(tiny_tmpfs / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 1024)
        except OSError as err:
            assert err.errno == errno.ENOSPC
        finally:
            os.close(fd)
        before = tree_digest(vault_dir)
        with pytest.raises(VaultWriteError, match="No space left"):
            vault.seal(track_result(faces[1], clip=faces[2:5]))
        assert tree_digest(vault_dir) == before
        (tiny_tmpfs / "filler").unlink()
        second = vault.seal(track_result(faces[1]))
        assert sorted(r.record_id for r in vault.rows()) == sorted([first, second])
    assert verify(vault_dir / "audit.log").ok


# -- recovery ------------------------------------------------------------------------------------

def test_recover_indexes_orphan_file_drops_dead_row_and_removes_temporaries(tmp_path, authority, faces):
    _, adir = authority
    clock = FakeClock()
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir, clock=clock) as vault:
        a = vault.seal(track_result(faces[0]))
        b = vault.seal(track_result(faces[1]))
        vault.index.delete(a)  # as if killed between rename and index insert
        (vault_dir / "records" / f"{b}.fsr").unlink()  # a file removed behind the vault's back
        (vault_dir / "records" / ".deadbeef.fsr.1234.tmp").write_bytes(b"half a record")
    with vault_at(vault_dir, adir, clock=clock) as vault:
        assert [r.record_id for r in vault.rows()] == [a]
    assert not list((vault_dir / "records").glob(".*"))
    events = [(e["event"], e.get("record_id")) for e in AuditLog(vault_dir / "audit.log").entries()]
    assert ("record-missing", b) in events
    assert verify(vault_dir / "audit.log").ok
    json.loads((vault_dir / "audit.log.head").read_text())


def test_extended_authority_pub_is_adopted_and_logged(tmp_path, faces):
    from facesel.vault.authority import extend_authority
    pub, adir = make_authority(tmp_path / "auth", start=T0, horizon=2 * DAY)
    clock = FakeClock(T0 + 5 * DAY)
    with vault_at(tmp_path / "v", adir, clock=clock) as vault:
        with pytest.raises(EpochUnavailableError):
            vault.seal(track_result(faces[0]))
    master, _ = reconstruct_master(share_paths(adir)[:2], Keystore(adir / "keystore"))
    extend_authority(adir, master, T0 + 10 * DAY)
    with vault_at(tmp_path / "v", adir, clock=clock) as vault:
        vault.seal(track_result(faces[0]))
        clock.advance(60)
        assert vault.maybe_purge() == 0  # interval not yet passed: no purge run
    events = [e["event"] for e in AuditLog(tmp_path / "v" / "audit.log").entries()]
    assert events == ["vault-created", "authority-updated", "seal"]
    # An old authority.pub handed in later does not shrink what the vault knows.
    (tmp_path / "old.pub").write_text(json.dumps(pub.to_dict()))
    with Vault(tmp_path / "v", tmp_path / "old.pub", camera=camera_dir(adir), clock=clock) as vault:
        assert len(vault.authority.epochs) > len(pub.epochs)


def test_a_purge_logged_before_a_crash_is_finished_at_the_next_start(tmp_path, authority, faces):
    """Purges are logged first (so a reader never meets a missing file without its reason)."""
    _, adir = authority
    clock = FakeClock()
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir, clock=clock) as vault:
        keep, doomed = vault.seal(track_result(faces[0])), vault.seal(track_result(faces[1]))
        vault.audit.append("purge", record_id=doomed, reason="retention")  # then the process dies
    assert (vault_dir / "records" / f"{doomed}.fsr").exists()
    with vault_at(vault_dir, adir, clock=clock) as vault:
        assert vault.recovery["purges_finished"] == 1 and [r.record_id for r in vault.rows()] == [keep]
    assert not (vault_dir / "records" / f"{doomed}.fsr").exists() and not (vault_dir / "quarantine").exists()
    assert custody_problems(vault_dir) == []
