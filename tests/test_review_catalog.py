"""The review page's search lists what the signed log holds, not only what the index shows
(review 2, finding 2): a deleted index row must not hide a record from the investigator."""

from __future__ import annotations

import sqlite3

from facesel.review.catalog import Filters, search
from facesel.vault.identity import load_identity
from facesel.vault.keys import Keystore
from facesel.vault.opening import trusted_authority
from review_common import demo_vault


def test_a_deleted_index_row_is_named_on_the_find_page(tmp_path):
    built = demo_vault(tmp_path / "work")
    vault = built["vault"]
    identity = load_identity(vault, anchor=trusted_authority(Keystore(built["keystore"]), vault))
    before = search(vault, identity, Filters())
    assert len(before.records) >= 2 and before.problems == []
    hidden = before.records[0].row.record_id
    with sqlite3.connect(vault / "index.sqlite") as db:  # what a folder writer without keys can do
        assert db.execute("DELETE FROM records WHERE record_id = ?", (hidden,)).rowcount == 1
    after = search(vault, identity, Filters())
    assert hidden not in {found.row.record_id for found in after.records}
    assert len(after.records) == len(before.records) - 1
    assert len(after.problems) == 1 and hidden in after.problems[0] and "missing from the index" in after.problems[0]
