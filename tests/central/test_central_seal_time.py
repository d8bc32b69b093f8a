"""Retention cannot be evaded from the camera side (issue 24, finding 6, central store): a record
whose epoch does not contain its seal time, or whose seal time is ahead of its arrival by more
than SEAL_CLOCK_TOLERANCE, is refused and logged, against a real PostgreSQL.

The attacker holds a camera's signing key (the camera is registered) and builds the records
itself with the vault's own format functions: the header is signed, so only the camera can lie
in it, and a camera can."""

from __future__ import annotations

import json
import time

import pytest
from facesel.central.pg_backend import SEAL_CLOCK_TOLERANCE, PostgresVault
from facesel.vault.payload import encode_snapshot
from facesel.vault.record import make_header, new_record_id, seal_record
from test_vault_common import DAY, FakeClock, orl_faces, track_result

YEAR = 365 * DAY


def _record(pub, camera, face, sealed_at: float, epoch) -> bytes:
    """A record sealed by ``camera`` at ``sealed_at`` (any time it likes) to ``epoch``."""
    record_id = new_record_id()
    result = track_result(face)
    header = make_header(record_id, pub.authority_id, epoch.epoch_id, camera.camera_id, sealed_at,
                         result.first_timestamp, result.last_timestamp, result.best.quality, result.track_id)
    return seal_record(header, encode_snapshot(result, record_id, "png"), epoch.public_key, camera.signer)


@pytest.fixture
def store(central_dsn, authority, cameras):
    pub, _ = authority
    now = float(int(time.time()))
    with PostgresVault.create(central_dsn, pub, clock=FakeClock(now)) as store:
        cameras.register(store, "cam-a")
        yield store, now


def test_a_record_outside_its_epoch_or_ahead_of_arrival_is_refused(store, authority, cameras, shared_data):
    central, now = store
    pub, _ = authority
    camera = cameras("cam-a")
    face = orl_faces(shared_data, 1)[0]
    current, last = pub.epoch_for(now), pub.epochs[-1]
    assert last.not_before > now + SEAL_CLOCK_TOLERANCE  # the fixture's authority has epochs days ahead
    cases = {
        # sealed now to an epoch days ahead (a copy would outlive the shredding of today's epoch)
        "future epoch": _record(pub, camera, face, now, last),
        # dated years ahead under today's epoch: central retention would never purge it
        "years ahead": _record(pub, camera, face, now + 4 * YEAR, current),
        # dated days ahead, inside the epoch of that day: the epoch fits, the clock does not
        "days ahead": _record(pub, camera, face, last.not_before + 60, last),
        # dated before its epoch began
        "before its epoch": _record(pub, camera, face, current.not_before - 60, current),
        # a seal time no calendar can print must be refused, not crash the batch
        "absurd": _record(pub, camera, face, 1e300, current),
    }
    fine = {
        "now": _record(pub, camera, face, now, current),
        "within tolerance": _record(pub, camera, face, now + SEAL_CLOCK_TOLERANCE / 2,
                                    pub.epoch_for(now + SEAL_CLOCK_TOLERANCE / 2)),
    }
    arrivals = central.receive(list(cases.values()) + list(fine.values()))
    by_case = dict(zip(list(cases) + list(fine), arrivals))
    for name in cases:
        assert by_case[name].status == "rejected", (name, by_case[name])
    assert "epoch" in by_case["future epoch"].reason and "does not contain" in by_case["future epoch"].reason
    assert "does not contain" in by_case["years ahead"].reason  # today's epoch ends tomorrow
    assert "ahead" in by_case["days ahead"].reason
    assert "epoch" in by_case["before its epoch"].reason
    for name in fine:
        assert by_case[name].status == "stored", (name, by_case[name])
    # Nothing refused is stored; every refusal is in the hash-chained log with its reason.
    assert {r.record_id for r in central.rows()} == {by_case[n].record_id for n in fine}
    logged = [json.loads(line) for line in central.audit_lines()]
    rejected = {e["record_id"] for e in logged if e["event"] == "rejected"}
    assert rejected == {by_case[n].record_id for n in cases}
    assert central.verify_audit().ok


def test_a_record_refused_for_its_clock_is_accepted_once_time_has_caught_up(central_dsn, authority, cameras,
                                                                            shared_data):
    """A camera whose clock runs ahead loses nothing: the record stays local (sync retries it) and is
    stored when the store's clock reaches its seal time minus the tolerance."""
    pub, _ = authority
    now = float(int(time.time()))
    clock = FakeClock(now)
    camera = cameras("cam-a")
    ahead = now + 3 * SEAL_CLOCK_TOLERANCE
    data = _record(pub, camera, orl_faces(shared_data, 1)[0], ahead, pub.epoch_for(ahead))
    with PostgresVault.create(central_dsn, pub, clock=clock) as central:
        cameras.register(central, "cam-a")
        assert central.receive([data])[0].status == "rejected"
        clock.now = ahead - SEAL_CLOCK_TOLERANCE / 2
        assert central.receive([data])[0].status == "stored"
