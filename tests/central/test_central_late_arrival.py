"""Review round 11, item 2: records of a revoked camera that reached the store after the revocation.

cam-a's key is stolen at T; the authority revokes it from T. Every reader refuses a record sealed
at or after T, but the seal time is the key holder's word: the thief seals faces dated before T,
and on main they were listed and opened like the camera's own. What the thief does not set is when
a record reached the store: the row's ``received_at`` is now the server's clock (schema 6: a
trigger sets it whatever the client sends), so a record that arrived after T is flagged: ``central
list`` marks it AFTER-REVOCATION, ``central open`` refuses it unless ``--allow-after-revocation``
(then its meta.json and the signed entries name it), and the desk (session 21) lists it flagged and
opens it only with the acknowledgement ticked in the page (the signed entries and the bundle name it). A record that
arrived before T is not flagged.

Real PostgreSQL server, a real vault and camera key; a FakeClock dates the seals hours back.
"""

from __future__ import annotations

import json
import time
import zipfile

import psycopg
import pytest
from central_common import facesel
from facesel.central import Selection
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.review.bundle import build_bundle, pack
from facesel.review.catalog import Filters
from facesel.review.sources import ACKNOWLEDGEMENT, CentralSource
from facesel.review.verify_bundle import BundleError, verify_bundle
from facesel.vault.audit import AuditLog
from facesel.vault.encoding import b64, canonical
from facesel.vault import Vault
from facesel.vault.errors import RecordError
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.shares import reconstruct_master
from facesel.vault.store import record_path
from test_vault_common import FakeClock, orl_faces, share_paths, track_result

HOUR = 3600.0
FLAG = "--allow-after-revocation"


def _opens(dsn: str) -> int:
    with PostgresVault(dsn) as store:
        return sum(json.loads(line)["event"] == "open" for line in store.audit_lines())


@pytest.fixture
def late(central_dsn, authority, cameras, tmp_path, shared_data):
    """cam-a's record "before" (sealed 3 hours ago) received; then T, the time cam-a's key is revoked
    from, taken after that arrival; then "after" (sealed 2 hours ago, before T: backdated, as a thief
    would) delivered after T by a client whose clock says an hour before T. Returns (before id,
    after id, T)."""
    clock = FakeClock(time.time() - 3 * HOUR)
    with Vault(tmp_path / "cam-a", cameras.pub_path, camera=cameras("cam-a"), clock=clock, elapsed=clock) as vault:
        ids = []
        for face in orl_faces(shared_data, 2):
            ids.append(vault.seal(track_result(face)))
            clock.advance(HOUR)
    data = [record_path(tmp_path / "cam-a", rid).read_bytes() for rid in ids]
    with PostgresVault.create(central_dsn, AuthorityPublic.load(cameras.pub_path)) as store:
        cameras.register(store, "cam-a")
        assert [a.status for a in store.receive([data[0]])] == ["stored"]
    since = time.time()  # after the first arrival committed (the server shares this machine's clock)
    deadline = time.monotonic() + 30
    while time.time() <= since + 0.01:  # the second arrival must begin after T
        assert time.monotonic() < deadline
        time.sleep(0.005)
    with PostgresVault(central_dsn, clock=lambda: since - HOUR) as thief:  # the client's clock lies
        assert [a.status for a in thief.receive([data[1]])] == ["stored"]
    done = facesel("authority", "revoke-camera", "--dir", str(authority[1]), "--camera", "cam-a", "--from",
                   repr(since), "--share", str(share_paths(authority[1])[0]), "--share",
                   str(share_paths(authority[1])[1]))
    assert done.returncode == 0, done.stderr
    return ids[0], ids[1], since


def test_the_receive_time_is_the_servers_whatever_the_client_sends(central_dsn, late):
    before, after, since = late
    with psycopg.connect(central_dsn) as conn:
        times = dict(conn.execute("SELECT record_id, received_at FROM records").fetchall())
        # A client with the store's camera credentials inserts with a received_at of its choosing.
        conn.execute("INSERT INTO records (record_id, camera_id, epoch_id, sealed_at, size, sha256, received_at, "
                     "data) SELECT %s, camera_id, epoch_id, sealed_at, size, sha256, 0, data FROM records "
                     "WHERE record_id = %s", ("0" * 32, after))
        planted = conn.execute("SELECT received_at FROM records WHERE record_id = %s", ("0" * 32,)).fetchone()[0]
        conn.rollback()
    assert times[before] <= since < times[after]  # main: the thief's clock, an hour before T
    assert planted > since


def test_listing_marks_a_record_that_arrived_after_the_revocation(central_dsn, authority, late):
    before, after, _ = late
    pub = str(authority[1] / "authority.pub")
    done = facesel("central", "list", "--central", central_dsn, "--authority", pub)
    assert done.returncode == 0, done.stderr  # both genuine records listed; one marked
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line[:32] in (before, after)}
    assert lines[after].endswith("AFTER-REVOCATION") and not lines[before].endswith("AFTER-REVOCATION")
    assert "1 of them AFTER-REVOCATION" in done.stdout and FLAG in done.stdout
    assert f"AFTER-REVOCATION record {after}: arrived in the store at" in done.stderr, done.stderr
    assert before not in done.stderr
    as_json = facesel("central", "list", "--central", central_dsn, "--authority", pub, "--json")
    items = {item["record_id"]: item for item in json.loads(as_json.stdout)}
    assert "arrived_after_revocation" in items[after] and "arrived_after_revocation" not in items[before]


def test_an_opening_refuses_it_unless_asked_and_then_says_so(central_dsn, authority, late, tmp_path):
    before, after, _ = late
    folder = authority[1]
    shares = share_paths(folder)[:2]
    with PostgresVault(central_dsn) as store:
        with pytest.raises(RecordError, match=f"record {after}: arrived in the store .* {FLAG}"):
            open_from(store, shares, folder / "keystore", "case 20/3", tmp_path / "refused",
                      selection=Selection(camera_ids=("cam-a",)))
    assert not (tmp_path / "refused").exists() and _opens(central_dsn) == 0  # nothing read, nothing logged
    with PostgresVault(central_dsn) as store:  # the record that arrived before T needs no flag
        assert [o.row.record_id for o in open_from(store, shares, folder / "keystore", "case 20/4",
                                                   tmp_path / "before", selection=Selection(record_ids=(before,)))] \
            == [before]
        opened = open_from(store, shares, folder / "keystore", "case 20/5", tmp_path / "knowingly",
                           selection=Selection(camera_ids=("cam-a",)), allow_after_revocation=True)
    assert sorted(o.row.record_id for o in opened) == sorted([before, after])
    meta = json.loads((tmp_path / "knowingly" / "cam-a" / after / "meta.json").read_text())
    assert "arrived in the store" in meta["arrived_after_revocation"]
    assert "arrived_after_revocation" not in json.loads((tmp_path / "knowingly" / "cam-a" / before /
                                                         "meta.json").read_text())
    with PostgresVault(central_dsn) as store:
        opens = [json.loads(line) for line in store.audit_lines() if json.loads(line)["event"] == "open"]
    assert [e.get("after_revocation") for e in opens] == [None, [after]]
    done = facesel("central", "open", "--help")
    assert FLAG in done.stdout


def test_the_desk_flags_it_and_opens_it_only_acknowledged_and_the_bundle_says_so(central_dsn, authority, late,
                                                                                 tmp_path):
    before, after, _ = late
    folder = authority[1]
    keystore = Keystore(folder / "keystore")
    source = CentralSource(central_dsn, keystore)
    try:
        found = source.search(Filters(camera="cam-a"))
        flags = {f.row.record_id: f.after_revocation for f in found.records}
        # Listed, flagged with its reason (main: refused, not listed)
        assert sorted(flags) == sorted([before, after]) and flags[before] is None, found.problems
        assert flags[after].startswith(f"record {after}: arrived in the store")
        assert source.late_arrivals([("cam-a", before), ("cam-a", after)]) == {("cam-a", after): flags[after]}
        master, used = reconstruct_master(share_paths(folder)[:2], keystore, None)
        with pytest.raises(RecordError, match=f"record {after}: arrived.*tick the acknowledgement"):
            source.open(keystore, master, used, [("cam-a", after)], "case 20/6", "court order", "desk")
        assert _opens(central_dsn) == 0  # never by default: nothing decrypted, nothing logged
        opening = source.open(keystore, master, used, [("cam-a", before), ("cam-a", after)], "case 21/3",
                              "court order", "desk", acknowledged=ACKNOWLEDGEMENT)
        assert opening.after_revocation == {("cam-a", after): flags[after]}
        bundle = tmp_path / "late.zip"
        bundle.write_bytes(build_bundle(opening))
        opening.end("test")
    finally:
        source.close()
    with PostgresVault(central_dsn) as store:
        opens = [json.loads(line) for line in store.audit_lines() if json.loads(line)["event"] == "open"]
    assert len(opens) == 1 and opens[0]["after_revocation"] == [after]
    assert opens[0]["after_revocation_records"] == [["cam-a", after]]
    assert opens[0]["after_revocation_acknowledged"] == ACKNOWLEDGEMENT and opens[0]["via"] == "review"
    mine = [e for e in AuditLog(folder / "audit.log").entries() if e["event"] == "open"]
    assert mine[-1]["after_revocation_acknowledged"] == ACKNOWLEDGEMENT  # the authority's own log too
    # The court's check states it, with the acknowledgement (verified against the signed entries).
    report = verify_bundle(bundle, AuthorityPublic.load(folder / "authority.pub").fingerprint)
    notes = [c for c in report.caveats if c.startswith("AFTER-REVOCATION")]
    assert len(notes) == 1 and f"record {after} of camera cam-a: {flags[after]}" in notes[0]
    assert ACKNOWLEDGEMENT in notes[0]
    # Whoever holds the authority's key cannot drop the note from a re-signed manifest: the entries name it.
    with zipfile.ZipFile(bundle) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members["manifest.json"])
    for item in manifest["records"]:
        item.pop("after_revocation", None)
    del manifest["after_revocation_acknowledged"]
    manifest.pop("signature")
    manifest["signature"] = b64(keystore.signer(master).sign(canonical(manifest)))
    members["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
    (tmp_path / "hidden.zip").write_bytes(pack([("manifest.json", members.pop("manifest.json")),
                                                *sorted(members.items())]))
    with pytest.raises(BundleError, match="after-revocation notes differ"):
        verify_bundle(tmp_path / "hidden.zip", AuthorityPublic.load(folder / "authority.pub").fingerprint)


def test_the_command_line_refuses_it_then_opens_it_knowingly_with_a_warning(central_dsn, authority, late, tmp_path):
    _, after, _ = late
    shares = share_paths(authority[1])
    holders = ["--share", str(shares[0]), "--share", str(shares[1])]
    refused = facesel("central", "open", "--central", central_dsn, "--camera", "cam-a", *holders, "--reason",
                      "case 20/7", "--out", str(tmp_path / "refused"))
    assert refused.returncode != 0 and f"record {after}: arrived in the store" in refused.stderr, refused.stderr
    assert FLAG in refused.stderr and not (tmp_path / "refused").exists() and _opens(central_dsn) == 0
    opened = facesel("central", "open", "--central", central_dsn, "--camera", "cam-a", *holders, "--reason",
                     "case 20/8", "--out", str(tmp_path / "opened"), FLAG)
    assert opened.returncode == 0, opened.stderr
    assert "opened 2 record(s)" in opened.stdout
    assert "WARNING: 1 of them arrived after their camera's key was revoked" in opened.stderr and after in opened.stderr
