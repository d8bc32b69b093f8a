"""Review 2, finding 6 (vault side): retention evaded from the camera side. A camera key holder
sealed a record dated years ahead (kept long after every purge) and one sealed to an epoch far
ahead of its time (its key outlives the shred of the epoch it belongs to). Every reader now
refuses a record whose epoch's window does not contain its seal time, or whose seal time lies
more than SEAL_TIME_TOLERANCE ahead of the reader's clock; the camera quarantines both at its
next start, and ``audit verify`` names both seals."""

from __future__ import annotations

import hashlib
import time

import pytest
from facesel.vault.audit import AuditLog
from facesel.vault.errors import RecordError
from facesel.vault.index import Index, IndexRow
from facesel.vault.keys import AuthorityPublic
from facesel.vault.payload import encode_snapshot
from facesel.vault.record import make_header, new_record_id, seal_record
from facesel.vault.signing import CameraKey
from test_vault_common import DAY, FakeClock, camera_dir, make_authority, open_all, orl_faces, run_cli, track_result, \
    vault_at

YEAR = 365 * DAY


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 3, size=(32, 36))


def _forge(vault_dir, adir, face, sealed_at: float, epoch_id: int, logged_at: float) -> str:
    """What the holder of the camera's key can do: a correctly signed record and seal entry."""
    camera = CameraKey.load(camera_dir(adir))
    pub = AuthorityPublic.load(adir / "authority.pub")
    epoch = pub.epoch(epoch_id)
    rid = new_record_id()
    header = make_header(rid, pub.authority_id, epoch_id, camera.camera_id, sealed_at, 0.0, 1.0, 0.5, 9)
    data = seal_record(header, encode_snapshot(track_result(face), rid), epoch.public_key, camera.signer)
    (vault_dir / "records" / f"{rid}.fsr").write_bytes(data)
    index = Index(vault_dir / "index.sqlite")
    index.insert(IndexRow.from_header(header, len(data), hashlib.sha256(data).hexdigest()))
    index.close()
    AuditLog(vault_dir / "audit.log", FakeClock(logged_at), camera.signer).append(
        "seal", record_id=rid, epoch_id=epoch_id, camera_id=camera.camera_id, sealed_at=sealed_at, size=len(data),
        sha256=hashlib.sha256(data).hexdigest())
    return rid


def test_records_dated_ahead_or_sealed_to_a_later_epoch_are_refused(tmp_path, faces, capsys):
    now = time.time()
    # Monthly epochs for six years ahead: the far-future epochs exist, as they would after extends.
    pub, adir = make_authority(tmp_path / "auth", start=now - DAY, epoch=30 * DAY, retention=30 * DAY,
                               horizon=6 * YEAR)
    vault_dir = tmp_path / "v"
    with vault_at(vault_dir, adir) as vault:
        honest = vault.seal(track_result(faces[0]))
    later_epoch = pub.epoch_for(now + YEAR).epoch_id  # sealed now, to the key of an epoch a year ahead
    wrong_epoch = _forge(vault_dir, adir, faces[1], now + 1, later_epoch, now + 2)
    ahead = now + 4 * YEAR  # dated four years ahead, to the epoch that does contain that date
    dated_ahead = _forge(vault_dir, adir, faces[2], ahead, pub.epoch_for(ahead).epoch_id, now + 3)

    code, out, err = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir, "--json")
    assert code == 1 and honest in out and wrong_epoch not in out and dated_ahead not in out
    assert f"REJECTED record {wrong_epoch}: sealed at" in err and "does not contain that time" in err
    assert f"REJECTED record {dated_ahead}: sealed at" in err and "s ahead of now" in err
    with pytest.raises(RecordError, match="nothing was opened"):
        open_all(vault_dir, adir, tmp_path / "out")
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 1 and f"record {wrong_epoch}: sealed at" in out and "whose window does not contain" in out
    assert f"record {dated_ahead}: its seal time" in out and "lies ahead of when it was logged" in out
    # The camera's next start keeps them out of the vault (quarantine/, logged); the honest one stays.
    with vault_at(vault_dir, adir) as vault:
        assert vault.recovery["quarantined"] == 2 and [r.record_id for r in vault.rows()] == [honest]
    assert [o.row.record_id for o in open_all(vault_dir, adir, tmp_path / "out2")] == [honest]
