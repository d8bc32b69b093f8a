"""Review round 14a, finding 2: one ``received`` log entry the store's tables' owner wrote as
something else ended the central desk's whole find page (and ``facesel central open``).

The desk checks each row against the digest its camera's ``received`` entry logged. That entry
was parsed with ``json.loads`` and read by key, outside the per-row check (which catches
``RecordError`` only): an entry that is not JSON, not an object, lacks ``record_id``, or holds a
``sha256`` that is not text raised ``ValueError``, ``AttributeError``, ``KeyError`` or
``TypeError``, and the page showed that error and no record at all. The owner may append to the
log (its trigger forbids only changes and deletions). Now such an entry refuses the record it
names, with a reason, and every other record is listed. Real PostgreSQL, the owner's own SQL.
"""

from __future__ import annotations

import pytest
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.review.catalog import Filters
from facesel.review.sources import CentralSource
from facesel.vault import Vault
from facesel.vault.keys import Keystore
from hostile_store import as_owner
from test_vault_common import orl_faces, track_result

# What the owner appends for the victim's id: (a line, as the ``line`` column holds it).
ENTRIES = {
    "not-json": "'not json'",
    "a-list": "'[1]'",
    "no-record-id": "json_build_object('event', 'received', 'camera_id', r.camera_id, 'sha256', r.sha256)::text",
    "digest-a-number": "json_build_object('event', 'received', 'record_id', r.record_id, 'camera_id', r.camera_id, "
                       "'sha256', 5)::text",
}


@pytest.fixture
def two_records(central_dsn, authority, cameras, tmp_path, shared_data) -> list[str]:
    """Two records of cam-a in the store, in seal order."""
    pub, _ = authority
    with PostgresVault.create(central_dsn, pub) as store:
        cameras.register(store, "cam-a")
        with Vault(tmp_path / "cam-a", cameras.pub_path, camera=cameras("cam-a")) as vault:
            ids = [vault.seal(track_result(face)) for face in orl_faces(shared_data, 2)]
        assert sync_vault(tmp_path / "cam-a", store, cameras("cam-a")).stored == 2
    return ids


@pytest.mark.parametrize("how", sorted(ENTRIES))
def test_an_unreadable_received_entry_refuses_its_record_and_the_rest_are_listed(central_dsn, authority,
                                                                                 two_records, how):
    victim, other = two_records
    as_owner(central_dsn, (f"INSERT INTO audit SELECT (SELECT max(seq) + 1 FROM audit), 'received', r.record_id, "
                           f"{ENTRIES[how]}, 'x' FROM records r WHERE r.record_id = %s", (victim,)))
    source = CentralSource(central_dsn, Keystore(authority[1] / "keystore"))
    try:
        found = source.search(Filters())
    finally:
        source.close()
    assert [f.row.record_id for f in found.records] == [other]
    assert len(found.problems) == 1 and found.problems[0].startswith(f"record {victim}: "), found.problems
    assert "not a SHA-256 digest" in found.problems[0]
