"""Review 2, finding 1 (High): fresh evidence destroyed and logged as a retention purge.

Someone who can write the vault folder (no keys) replaced a record sealed a minute ago with a
bare header dated a year back; the running camera's purge deleted it and signed a ``purge`` with
reason "retention", and ``audit verify`` said records and log agree. Now the camera purges only
what its signed log sealed, by the logged seal time; a file that differs from the logged seal is
quarantined, never purged; ``audit verify`` checks every purge against seal time + retention.
"""

from __future__ import annotations

import json
import struct

import pytest
from facesel.vault.audit import AuditLog
from facesel.vault.record import MAGIC, VERSION, make_header
from facesel.vault.signing import CameraKey
from test_vault_common import DAY, T0, FakeClock, camera_dir, make_authority, orl_faces, run_cli, track_result, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 3, size=(32, 36))


def _bare_header(vault, record_id: str, sealed_at: float) -> bytes:
    """What a folder writer can make without any key: a version-2 prefix and a plausible header."""
    header = make_header(record_id, vault.authority.authority_id, vault.authority.epochs[0].epoch_id,
                         vault.camera_id, sealed_at)
    body = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return MAGIC + struct.pack(">HI", VERSION, len(body)) + body


def _events(vault_dir, record_id):
    return [e["event"] for e in AuditLog(vault_dir / "audit.log").entries() if e.get("record_id") == record_id]


def test_a_fresh_record_replaced_by_an_old_header_is_not_purged(tmp_path, faces, capsys):
    _, adir = make_authority(tmp_path / "auth")
    clock = FakeClock(T0)
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir, clock=clock, purge_interval=60) as vault:
        fresh = vault.seal(track_result(faces[0]))
        path = vault_dir / "records" / f"{fresh}.fsr"
        path.write_bytes(_bare_header(vault, fresh, T0 - 365 * DAY))  # the folder writer's move
        planted = "ab" * 16  # and a header under an id that was never sealed
        (vault_dir / "records" / f"{planted}.fsr").write_bytes(_bare_header(vault, planted, T0 - 365 * DAY))
        clock.advance(61)
        assert vault.maybe_purge() == 0
    assert path.exists()  # nothing deleted on the strength of a header
    assert _events(vault_dir, fresh) == ["seal"] and _events(vault_dir, planted) == []
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 1 and f"record {fresh}: file differs from the one logged as sealed" in out
    assert f"record {planted}: file present but never logged as sealed" in out
    # The next start keeps both files for investigation (quarantine/), logged, never purged.
    with vault_at(vault_dir, adir, clock=clock) as vault:
        assert vault.recovery["quarantined"] == 2 and vault.rows() == []
    assert _events(vault_dir, fresh) == ["seal", "quarantined"]
    assert len(list((vault_dir / "quarantine").iterdir())) == 2


def test_an_expired_record_whose_file_was_replaced_is_quarantined_not_purged(tmp_path, faces):
    _, adir = make_authority(tmp_path / "auth", retention=DAY, horizon=5 * DAY)
    clock = FakeClock(T0)
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir, clock=clock) as vault:
        replaced, kept = vault.seal(track_result(faces[0])), vault.seal(track_result(faces[1]))
        (vault_dir / "records" / f"{replaced}.fsr").write_bytes(_bare_header(vault, replaced, T0))
        clock.advance(2 * DAY)
        assert vault.purge() == 1  # only the genuine one
    assert _events(vault_dir, kept) == ["seal", "purge"]
    assert _events(vault_dir, replaced) == ["seal", "quarantined"]
    moved = list((vault_dir / "quarantine").iterdir())
    assert len(moved) == 1 and moved[0].read_bytes()[:len(MAGIC)] == MAGIC
    entry = [e for e in AuditLog(vault_dir / "audit.log").entries() if e.get("record_id") == kept][-1]
    assert entry["reason"] == "retention" and entry["sealed_at"] == T0 and entry["purged_at"] == T0 + 2 * DAY


def test_audit_verify_checks_every_purge_against_the_logged_seal_time(tmp_path, faces, capsys):
    """A camera key holder (or an old camera) signs purges itself: each must come after the
    logged seal time plus the retention, and be of a record the log sealed."""
    _, adir = make_authority(tmp_path / "auth")
    clock = FakeClock(T0)
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir, clock=clock) as vault:
        early = vault.seal(track_result(faces[0]))
        vault.seal(track_result(faces[1]))
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 0 and "records and log agree" in out
    camera = CameraKey.load(camera_dir(adir))
    log = AuditLog(vault_dir / "audit.log", FakeClock(T0 + 60), camera.signer)
    log.append("purge", record_id=early, sealed_at=T0 - 365 * DAY, reason="retention")
    (vault_dir / "records" / f"{early}.fsr").unlink()
    log.append("purge", record_id="cd" * 16, reason="retention")
    forwarded = [r for r in AuditLog(vault_dir / "audit.log").entries() if r["event"] == "seal"][1]["record_id"]
    log.append("purge", record_id=forwarded, reason="forwarded")  # a handover that names no central entry
    (vault_dir / "records" / f"{forwarded}.fsr").unlink()
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 1
    assert f"record {forwarded}: purged as 'forwarded' without naming the central store entry" in out
    assert f"record {early}: purged at 2025-10-09T08:54:20Z, before its retention ended at 2025-11-08" in out
    assert "a purge of record 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', which this log never sealed" in out
