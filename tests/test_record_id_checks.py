"""Review round 13c, findings 4 and 5: record ids that are not ids.

Finding 4: the index is a cache anyone who can write the vault folder can edit (no key). One row
whose record id is not 32 hex characters made ``record_path``'s ValueError end the desk's whole
find page (it showed that error and no record) and ``facesel list`` (exit 1, nothing listed). Now
the row is refused by name and the others are listed.

Finding 5: ids that end with a newline (hardening).

``RECORD_ID``, ``CAMERA_ID`` and ``FINGERPRINT`` were ``^...$`` patterns used with ``match``, and
Python's ``$`` also matches before a final newline: ``"<32 hex>\\n"`` passed as a record id in the
header check and the record's file name. Whoever holds a camera's key (other software on the
camera) sealed a record under ``"<a genuine record's id>\\n"``: the signed log's reader (already
``\\A...\\Z``) refused it, but the find page and ``facesel list`` said so as ``record <the genuine
id>`` then a line break and "the log holds no seal of this record (planted or forged file)": the
genuine record's id named as forged. Now such an id is refused wherever an id is checked, and a
malformed id is quoted.
"""

from __future__ import annotations

import re
import sqlite3

import numpy as np
import pytest
from facesel.review.catalog import Filters, parse_record_key, search
from facesel.vault import store as vault_store
from facesel.vault import record as vault_record
from facesel.vault.errors import RecordError
from facesel.vault.identity import load_identity
from facesel.vault.signing import check_camera_id, check_fingerprint
from test_vault_common import T0, FakeClock, make_authority, track_result, vault_at

PERMISSIVE = re.compile(r"^[0-9a-f]{32}$")  # the pattern before the fix: what the other software accepts


def test_a_camera_key_holder_cannot_seal_a_twin_of_a_genuine_id(tmp_path, monkeypatch):
    adir = make_authority(tmp_path / "auth")[1]
    clock = FakeClock(T0)
    crop = np.full((24, 20, 3), 90, np.uint8)  # synthetic: not a face
    with vault_at(tmp_path / "vault", adir, clock=clock) as vault:
        genuine = vault.seal(track_result(crop))
        clock.advance(60)
        with monkeypatch.context() as other_software:  # the camera's key, run by code that skips our check
            other_software.setattr(vault_record, "RECORD_ID", PERMISSIVE)
            other_software.setattr(vault_store, "RECORD_ID", PERMISSIVE, raising=False)
            other_software.setattr(vault_store, "new_record_id", lambda: genuine + "\n")
            twin = vault.seal(track_result(crop, track_id=1))
    assert twin == genuine + "\n"
    identity = load_identity(tmp_path / "vault")
    result = search(tmp_path / "vault", identity, Filters())
    assert [f.row.record_id for f in result.records] == [genuine], result.problems
    # main refused it too (the signed log's reader was strict), but in words that named the genuine
    # record: "record <genuine id>" and a line break, then "the log holds no seal of this record
    # (planted or forged file)"; now the twin's id is quoted, its newline shown
    assert any(repr(twin) in p for p in result.problems), result.problems
    assert not any(p.startswith(f"record {genuine}") for p in result.problems), result.problems


def test_an_index_row_with_a_malformed_id_does_not_blind_the_find_page_or_list(tmp_path, capsys):
    from facesel.cli import main

    adir = make_authority(tmp_path / "auth")[1]
    with vault_at(tmp_path / "vault", adir, clock=FakeClock(T0)) as vault:
        genuine = vault.seal(track_result(np.full((24, 20, 3), 90, np.uint8)))
    index = sqlite3.connect(tmp_path / "vault" / "index.sqlite")  # a writer of the folder, no key
    row = list(index.execute("SELECT * FROM records").fetchone())
    for planted in ("zzz", "\x1b[2Jcleared"):
        index.execute(f"INSERT INTO records VALUES ({', '.join('?' * len(row))})", [planted, *row[1:]])
    index.commit()
    index.close()
    result = search(tmp_path / "vault", load_identity(tmp_path / "vault"), Filters())  # main: ValueError
    assert [f.row.record_id for f in result.records] == [genuine]
    assert sum("the index names an id that is not 32 lowercase hex characters" in p for p in result.problems) == 2
    assert any("'\\x1b[2Jcleared'" in p for p in result.problems), result.problems  # quoted, never raw
    assert main(["list", "--vault", str(tmp_path / "vault")]) == 1  # rows left out, as for any refused row
    out, err = capsys.readouterr()
    assert genuine in out and "REJECTED record 'zzz'" in err and "\x1b" not in err, (out, err)


def test_ids_with_a_final_newline_are_refused_everywhere():
    rid = "a" * 32
    with pytest.raises(RecordError, match="malformed record_id"):
        vault_record.make_header(rid + "\n", "auth", 0, "cam-1", T0)
    assert parse_record_key(f"cam-1/{rid}\n") is None and parse_record_key(f"cam-1\n/{rid}") is None
    with pytest.raises(ValueError, match="camera id must be"):
        check_camera_id("cam-1\n")
    assert check_fingerprint(" " + "b" * 64 + "\n") == "b" * 64  # surrounding spaces are trimmed, as before
    assert vault_record.RECORD_ID.match(rid) and not vault_record.RECORD_ID.match(rid + "\n")


def test_an_output_folder_that_is_a_link_is_refused_before_anything_is_logged(tmp_path):
    """Round 13c's open item, closed: ``OUT`` a link to an empty folder passed the "new or empty"
    check, the holders' shares were read, the opening decrypted and logged, and only the rename
    failed ("Not a directory", then ``open-aborted``). Now it is refused first, nothing logged."""
    from facesel.vault.audit import AuditLog
    from test_vault_common import open_all, sealed_vault

    adir, vdir, _ = sealed_vault(tmp_path / "s", [np.full((24, 20, 3), 70, np.uint8)])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").symlink_to(elsewhere)
    before = len(AuditLog(vdir / "audit.log").entries())
    with pytest.raises(ValueError, match="is a link: give the folder itself"):  # main: VaultWriteError, logged
        open_all(vdir, adir, tmp_path / "out")
    assert len(AuditLog(vdir / "audit.log").entries()) == before and list(elsewhere.iterdir()) == []
