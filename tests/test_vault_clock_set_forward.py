"""Review 5, finding 1 (high): a wall clock stepped forward while the camera runs made every fresh
record look expired, and the camera's own housekeeping purge deleted them all, each with a signed
``purge`` entry (reason "retention") that ``audit verify`` found in order.

A wrong or forged NTP answer (NTP is unauthenticated on most networks: anyone on the path can
answer), a GPS week rollover or a real-time clock glitch steps the clock by years. The purge's
own guard (a purge time more than 300 s ahead of the clock is refused) compared the time with
the same clock. Housekeeping purges are now bounded by the clock's reading at start plus the time
that really passed (``time.monotonic``, which nobody sets), and the step is logged once.
"""

from __future__ import annotations

import logging
import time

import pytest
from facesel.vault import Vault
from facesel.vault.audit import AuditLog
from test_vault_common import DAY, T0, FakeClock, camera_dir, make_authority, open_all, orl_faces, run_cli, \
    track_result, vault_at


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
    # As the camera runs it: the clock is the only argument; elapsed time comes from time.monotonic.
    with caplog.at_level(logging.WARNING, logger="facesel.vault"), \
            Vault(vault_dir, adir / "authority.pub", camera=camera_dir(adir), clock=clock, purge_interval=0) as vault:
        sealed = [vault.seal(track_result(face)) for face in faces[:2]]
        clock.offset += 3 * DAY  # NTP answers three days ahead: both records look two days past retention
        assert vault.maybe_purge() == 0  # before: 2, both logged as retention purges
        third = vault.seal(track_result(faces[2]))  # a seal runs the housekeeping purge too
        assert sorted(r.record_id for r in vault.rows()) == sorted([*sealed, third])
    assert "more than the time passed since the vault opened" in caplog.text
    events = [e["event"] for e in AuditLog(vault_dir / "audit.log").entries()]
    assert "purge" not in events and events.count("purge-clock-held") == 1  # once per episode
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
