"""Review 5, finding 1 (high): a wall clock stepped forward while the camera runs made every fresh
record look expired, and the camera's own housekeeping purge deleted them all, each with a signed
``purge`` entry (reason "retention") that ``audit verify`` found in order.

A wrong or forged NTP answer (NTP is unauthenticated on most networks: anyone on the path can
answer), a GPS week rollover or a real-time clock glitch steps the clock by years. The purge's
own guard (a purge time more than 300 s ahead of the clock is refused) compared the time with
the same clock. Entries dated by the stepped clock also made the log "dated in the future" once
the clock was set right: the camera refused to start. The vault's time (seals, log, purges) is
now bounded by the clock's reading at start plus the time that really passed (``CLOCK_BOOTTIME``,
which nobody sets); the step is logged once (``clock-ahead``) and kept in the seal entries.
"""

from __future__ import annotations

import logging
import time

import pytest
from facesel.vault import Vault
from facesel.vault.audit import AuditLog
from test_vault_common import (
    DAY,
    T0,
    FakeClock,
    camera_dir,
    make_authority,
    open_all,
    orl_faces,
    run_cli,
    track_result,
    vault_at,
)


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 3, size=(32, 36))


class SteppedClock:
    """The real clock, plus a step that a wrong NTP answer can set at any moment."""

    def __init__(self, start: float) -> None:
        self.offset = start - time.time()

    def __call__(self) -> float:
        return time.time() + self.offset


def test_a_clock_stepped_forward_does_not_expire_fresh_evidence(tmp_path, faces, capsys, caplog):
    _, adir = make_authority(tmp_path / "auth", retention=DAY, horizon=8 * DAY)
    vault_dir = tmp_path / "v"
    clock = SteppedClock(T0 + DAY)
    # As the camera runs it: the clock is the only argument; elapsed time comes from CLOCK_BOOTTIME.
    with caplog.at_level(logging.WARNING, logger="facesel.vault"), \
            Vault(vault_dir, adir / "authority.pub", camera=camera_dir(adir), clock=clock, purge_interval=0) as vault:
        sealed = [vault.seal(track_result(face)) for face in faces[:2]]
        clock.offset += 3 * DAY  # NTP answers three days ahead: both records look two days past retention
        assert vault.maybe_purge() == 0  # before: 2, both logged as retention purges
        third = vault.seal(track_result(faces[2]))  # a seal runs the housekeeping purge too
        assert sorted(r.record_id for r in vault.rows()) == sorted([*sealed, third])
    assert "more than the time passed since the vault opened" in caplog.text
    seals = [e for e in AuditLog(vault_dir / "audit.log").entries() if e["event"] == "seal"]
    assert seals[-1]["sealed_at"] < T0 + DAY + 3600 < T0 + 4 * DAY <= seals[-1]["camera_clock"]
    events = [e["event"] for e in AuditLog(vault_dir / "audit.log").entries()]
    assert "purge" not in events and events.count("clock-ahead") == 1  # once per episode
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 0, out
    assert len(open_all(vault_dir, adir, tmp_path / "out")) == 3


def test_records_whose_retention_really_passed_are_still_purged(tmp_path, faces):
    """The bound follows the time that passed: a day later on both clocks, the purge runs as before."""
    _, adir = make_authority(tmp_path / "auth", retention=DAY, horizon=8 * DAY)
    clock = FakeClock(T0)
    with vault_at(tmp_path / "v", adir, clock=clock, elapsed=clock, purge_interval=0) as vault:
        old = vault.seal(track_result(faces[0]))
        clock.advance(DAY + 60)
        assert vault.maybe_purge() == 1
        assert vault.rows() == []
    events = [e for e in AuditLog(tmp_path / "v" / "audit.log").entries() if e["event"] == "purge"]
    assert [e["record_id"] for e in events] == [old] and events[0]["purged_at"] == T0 + DAY + 60


def test_only_what_the_elapsed_time_supports_is_purged_while_the_clock_is_ahead(tmp_path, faces):
    """A record older than the retention by the time really passed goes; a fresh one stays."""
    _, adir = make_authority(tmp_path / "auth", retention=DAY, horizon=8 * DAY)
    wall, ticks = FakeClock(T0), FakeClock(0.0)
    with vault_at(tmp_path / "v", adir, clock=wall, elapsed=ticks, purge_interval=0) as vault:
        pass
    wall.now = T0 + 2 * DAY  # restarted two days later: the clock at start is taken as it is
    with vault_at(tmp_path / "v", adir, clock=wall, elapsed=ticks, purge_interval=0) as vault:
        first = vault.seal(track_result(faces[0]))
        wall.advance(DAY + 60)
        ticks.advance(DAY + 60)  # a day really passed
        second = vault.seal(track_result(faces[1]))
        assert [r.record_id for r in vault.rows()] == [second]  # the first expired for real
        wall.advance(30 * DAY)  # then the clock jumps a month; a minute passes
        ticks.advance(60)
        assert vault.maybe_purge() == 0
        assert [r.record_id for r in vault.rows()] == [second]
    assert first != second


def test_a_step_forward_and_back_leaves_no_log_dated_in_the_future(tmp_path, faces, capsys):
    """Entries logged while the clock was ahead were dated by it; once NTP set it right, the log held
    entries days in the future, which every verifier refuses: the camera did not start again (its
    own log check), and nothing in the vault could be opened, until real time caught up."""
    start = time.time()  # on the real timeline: verifiers refuse entries dated ahead of the real clock
    _, adir = make_authority(tmp_path / "auth", start=start - 2 * DAY, retention=30 * DAY, horizon=8 * DAY)
    vault_dir = tmp_path / "v"
    clock = SteppedClock(start)
    with Vault(vault_dir, adir / "authority.pub", camera=camera_dir(adir), clock=clock) as vault:
        first = vault.seal(track_result(faces[0]))
        clock.offset += 3 * DAY  # a wrong NTP answer...
        second = vault.seal(track_result(faces[1]))
        clock.offset -= 3 * DAY  # ...set right a minute later
    with Vault(vault_dir, adir / "authority.pub", camera=camera_dir(adir), clock=clock) as vault:  # before: AuditError
        third = vault.seal(track_result(faces[2]))
    seal = next(e for e in AuditLog(vault_dir / "audit.log").entries() if e.get("record_id") == second)
    assert seal["sealed_at"] < start + 3600 and seal["camera_clock"] >= start + 3 * DAY  # the step, kept
    assert max(e["time"] for e in AuditLog(vault_dir / "audit.log").entries()) < start + 3600
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 0, out
    assert len({first, second, third}) == 3
