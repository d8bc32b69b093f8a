"""Review 4, finding 8 (high): a camera clock set back dated fresh evidence into the past, and the
first purge after the clock was set right deleted it as expired, with a signed ``purge`` entry
(reason "retention") that ``audit verify`` found in order.

A camera's real-time clock reset after a power loss (to its firmware's date, or days behind), or
a wrong NTP answer, is an everyday fault. The log's own times never went backwards (each entry is
clamped to the one before), but a record's seal time was the raw reading: sealed to an old epoch
(whose secret may be shredded already: never openable) and expiring at once. Seal times now only
move forward too: never before the latest seal time the camera logged; the reading is kept in the
seal entry (``camera_clock``).
"""

from __future__ import annotations

import logging

import pytest
from facesel.vault.audit import AuditLog
from test_vault_common import DAY, T0, FakeClock, make_authority, open_all, orl_faces, run_cli, track_result, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 2, size=(32, 36))


def _seal_entry(vault_dir, record_id):
    return next(e for e in AuditLog(vault_dir / "audit.log").entries()
                if e.get("event") == "seal" and e.get("record_id") == record_id)


def test_a_clock_set_back_never_dates_fresh_evidence_into_the_past(tmp_path, faces, capsys, caplog):
    _, adir = make_authority(tmp_path / "auth", retention=DAY, horizon=8 * DAY)
    vault_dir = tmp_path / "v"
    clock = FakeClock(T0 + 5 * DAY)
    with vault_at(vault_dir, adir, clock=clock) as vault:
        earlier = vault.seal(track_result(faces[0]))
        today = vault.authority.epoch_for(clock.now).epoch_id
    clock.now = T0 + DAY  # power loss: the real-time clock comes back four days behind
    with caplog.at_level(logging.WARNING, logger="facesel.vault"), vault_at(vault_dir, adir, clock=clock) as vault:
        fresh = vault.seal(track_result(faces[1]))
        clock.now = T0 + 5 * DAY + 120  # NTP sets it right two minutes later; the purge runs
        assert vault.purge() == 0  # before: 1, the fresh record, logged as a retention purge
        assert sorted(r.record_id for r in vault.rows()) == sorted([earlier, fresh])
    assert "before the last seal time logged" in caplog.text
    entry = _seal_entry(vault_dir, fresh)
    assert entry["sealed_at"] == T0 + 5 * DAY and entry["camera_clock"] == T0 + DAY
    assert entry["epoch_id"] == today  # not the old epoch of the wrong reading
    assert [e["event"] for e in AuditLog(vault_dir / "audit.log").entries() if e.get("record_id") == fresh] == ["seal"]
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 0, out
    assert sorted(o.row.record_id for o in open_all(vault_dir, adir, tmp_path / "out")) == sorted([earlier, fresh])
    # Retention still runs, from the time the record is dated.
    clock.now = T0 + 6 * DAY + 60
    with vault_at(vault_dir, adir, clock=clock) as vault:
        assert vault.rows() == []


def test_a_clock_that_is_right_dates_records_by_its_reading(tmp_path, faces):
    _, adir = make_authority(tmp_path / "auth")
    clock = FakeClock(T0)
    with vault_at(tmp_path / "v", adir, clock=clock) as vault:
        first = vault.seal(track_result(faces[0]))
        clock.advance(3600)
        second = vault.seal(track_result(faces[1]))
    for rid, when in ((first, T0), (second, T0 + 3600)):
        entry = _seal_entry(tmp_path / "v", rid)
        assert entry["sealed_at"] == when and "camera_clock" not in entry
