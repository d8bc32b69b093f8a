"""Review round 11 (attack20), finding 5: a record hidden from the desk, ``list`` and an opening.

A record whose file is missing was reported loudly ("file ... is missing"), except when it looked
like a camera at work: any file named like a temporary beside it ("being sealed right now"), or a
``purge`` of it in the log as read *without* verification ("removed a moment ago"). Whoever can
write the vault folder (no key) therefore hid a sealed record: rename its file to
``.ID.fsr.XXXX.tmp`` (and back later: nothing is lost or logged), or delete it and plant such a
name, or append an unsigned ``purge`` line without a newline (a torn last line, which the verified
read leaves out). The desk's find page, ``facesel list`` and an opening by time or ``--all`` then
left the record out without a word: the opening was logged as complete.

Now a temporary excuses only a record whose seal is not logged yet, a temporary holding the
logged seal's own bytes is read as the record, and a removal counts only when the signed log,
verified again, records it.
"""

from __future__ import annotations

import json

import pytest
from facesel.review.catalog import Filters, search
from facesel.vault.errors import RecordError
from facesel.vault.identity import load_identity
from test_vault_common import FakeClock, T0, make_authority, open_all, orl_faces, track_result, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 2)


def _two_records(tmp_path, faces):
    _, adir = make_authority(tmp_path / "auth")
    clock = FakeClock(T0)
    with vault_at(tmp_path / "v", adir, clock=clock) as vault:
        hidden = vault.seal(track_result(faces[0], track_id=1))
        clock.advance(60)
        kept = vault.seal(track_result(faces[1], track_id=2))
    return adir, tmp_path / "v", hidden, kept


def _listed(vault_dir):
    result = search(vault_dir, load_identity(vault_dir), Filters())
    return [f.row.record_id for f in result.records], result.problems


def test_a_record_file_renamed_to_a_temporary_name_is_still_opened(tmp_path, faces):
    adir, vault_dir, hidden, kept = _two_records(tmp_path, faces)
    records = vault_dir / "records"
    (records / f"{hidden}.fsr").rename(records / f".{hidden}.fsr.cafe0000.tmp")  # its bytes, out of sight
    assert sorted(_listed(vault_dir)[0]) == sorted([hidden, kept])
    opened = open_all(vault_dir, adir, tmp_path / "out")
    assert sorted(o.row.record_id for o in opened) == sorted([hidden, kept])


def test_a_deleted_record_beside_a_planted_temporary_is_named(tmp_path, faces):
    adir, vault_dir, hidden, kept = _two_records(tmp_path, faces)
    records = vault_dir / "records"
    (records / f"{hidden}.fsr").unlink()
    (records / f".{hidden}.fsr.cafe0000.tmp").write_bytes(b"not the record")
    listed, problems = _listed(vault_dir)
    assert listed == [kept] and any(hidden in p and "missing" in p for p in problems), problems
    with pytest.raises(RecordError, match=hidden):
        open_all(vault_dir, adir, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_unsigned_purge_at_the_log_s_end_hides_nothing(tmp_path, faces):
    adir, vault_dir, hidden, kept = _two_records(tmp_path, faces)
    (vault_dir / "records" / f"{hidden}.fsr").unlink()
    log = vault_dir / "audit.log"
    last = json.loads(log.read_bytes().splitlines()[-1])
    forged = {"seq": last["seq"] + 1, "time": last["time"] + 1, "event": "purge", "record_id": hidden,
              "prev": last["hash"], "hash": "0" * 64}
    with open(log, "ab") as handle:
        handle.write(json.dumps(forged).encode())  # no newline: read as a line being written
    listed, problems = _listed(vault_dir)
    assert listed == [kept] and any(hidden in p and "missing" in p for p in problems), problems
    with pytest.raises(RecordError, match=hidden):
        open_all(vault_dir, adir, tmp_path / "out")
