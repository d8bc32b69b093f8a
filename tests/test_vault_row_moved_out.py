"""Review round 12b (attack21), finding 1: a record hidden from a search by time by moving its index row.

The desk's find page and ``facesel list --from/--to`` chose their rows with the index's own
``sealed_at`` (an SQL window), and checked each chosen row against its record's signed header.
Review 10c closed the rows moved *into* a window (refused: the row disagrees with the header); a
row moved *out* of it was never chosen, so never checked. Whoever can write the vault folder (no
key) set one row's ``sealed_at`` a month back: the investigator's search of the authorised window
(a court order names a camera and a time) showed the other records, no problem, and the record
was left out of the opening without a word. ``facesel open --from/--to`` was not affected: it
chooses by the signed log's seal times.

Now a window chooses the rows whose index time *or* logged seal time lies in it, so a moved row is
checked and refused by name.
"""

from __future__ import annotations

import sqlite3

import pytest
from facesel.review.catalog import Filters, search
from facesel.vault.identity import load_identity
from test_vault_common import DAY, T0, orl_faces, run_cli, sealed_vault


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 3)


def _move_row(vault_dir, record_id, sealed_at):
    con = sqlite3.connect(vault_dir / "index.sqlite")
    con.execute("UPDATE records SET sealed_at = ? WHERE record_id = ?", (sealed_at, record_id))
    con.commit()
    con.close()


# sealed_vault seals at T0 + 1 h, + 2 h, + 3 h: the window below holds all three.
START, END = T0, T0 + 4 * 3600


@pytest.mark.parametrize("moved_to", [T0 - 30 * DAY, T0 + 30 * DAY])
def test_a_row_moved_out_of_the_searched_window_is_refused_by_name_on_the_desk(tmp_path, faces, moved_to):
    _, vault_dir, ids = sealed_vault(tmp_path, faces)
    _move_row(vault_dir, ids[1], moved_to)
    result = search(vault_dir, load_identity(vault_dir), Filters(start=START, end=END))
    assert [f.row.record_id for f in result.records] == [ids[0], ids[2]]  # never the edited row's values
    assert any(ids[1] in p and "disagrees" in p for p in result.problems), result.problems


def test_a_row_moved_out_of_the_listed_window_is_refused_by_facesel_list(tmp_path, faces, capsys):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    _move_row(vault_dir, ids[1], T0 - 30 * DAY)
    code, out, err = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir,
                             "--from", START, "--to", END)
    assert code == 1 and f"REJECTED record {ids[1]}" in err and "disagrees" in err, (out, err)
    assert ids[0] in out and ids[2] in out and ids[1] not in out


def test_an_unedited_vault_lists_its_window_as_before(tmp_path, faces, capsys):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    result = search(vault_dir, load_identity(vault_dir), Filters(start=T0 + 1.5 * 3600, end=END))
    assert [f.row.record_id for f in result.records] == ids[1:] and not result.problems
    code, out, err = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir,
                             "--from", T0 + 1.5 * 3600, "--to", END)
    assert code == 0 and ids[0] not in out and ids[1] in out and ids[2] in out, (out, err)


def test_a_row_moved_out_of_the_window_is_refused_by_a_central_opening_of_the_vault_folder(tmp_path, faces):
    """The central store's file backend (a vault folder behind ``open_from``) selected by the index
    window too: the record was left out of the opening, which was logged as complete."""
    from facesel.central import Selection
    from facesel.central.file_backend import FileVaultBackend
    from facesel.central.opening import open_from
    from facesel.vault.errors import RecordError
    from test_vault_common import share_paths

    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    _move_row(vault_dir, ids[1], T0 - 30 * DAY)
    store = FileVaultBackend(vault_dir)
    try:
        assert ids[1] in [row.record_id for row in store.rows(Selection(start=START, end=END))]
        with pytest.raises(RecordError, match=f"record {ids[1]}: the store's row disagrees .*sealed_at"):
            open_from(store, share_paths(adir)[:2], adir / "keystore", "case 21/1", tmp_path / "out",
                      selection=Selection(start=START, end=END))
        assert not (tmp_path / "out").exists()
    finally:
        store.close()


def test_a_row_relabelled_to_another_camera_is_refused_by_a_central_opening_of_the_vault_folder(tmp_path, faces):
    from facesel.central import Selection
    from facesel.central.file_backend import FileVaultBackend
    from facesel.central.opening import open_from
    from facesel.vault.errors import RecordError
    from test_vault_common import share_paths

    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    con = sqlite3.connect(vault_dir / "index.sqlite")
    con.execute("UPDATE records SET camera_id = 'gate-9' WHERE record_id = ?", (ids[1],))
    con.commit()
    con.close()
    store = FileVaultBackend(vault_dir)
    try:
        with pytest.raises(RecordError, match=f"record {ids[1]}: .*not 'gate-9'"):  # refused by name, not left out
            open_from(store, share_paths(adir)[:2], adir / "keystore", "case 21/1", tmp_path / "out",
                      selection=Selection(camera_ids=("cam-1",)))
        assert not (tmp_path / "out").exists()
    finally:
        store.close()
