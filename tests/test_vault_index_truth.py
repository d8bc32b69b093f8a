"""Finding 5 of the vault review: the SQLite index was trusted. Now every row is checked against
the record's authenticated header at list, open and camera start; purge goes by the header's
time; a purge time in the future is refused unless explicitly overridden (and logged)."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
from facesel.vault.audit import AuditLog
from facesel.vault.errors import RecordError
from test_vault_common import DAY, T0, FakeClock, open_all, orl_faces, sealed_vault, tree_digest, vault_at, run_cli


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 3)



def _edit_index(vault_dir, sql, *args):
    con = sqlite3.connect(vault_dir / "index.sqlite")
    con.execute(sql, args)
    con.commit()
    con.close()


def test_edited_index_rows_are_refused_by_list_and_open_and_corrected_by_the_camera(tmp_path, faces, capsys):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    _edit_index(vault_dir, "UPDATE records SET sealed_at = ?, camera_id = 'gate-9', quality = 99 WHERE record_id = ?",
                T0 - 300 * DAY, ids[1])
    code, out, err = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir, "--json")
    assert code == 1 and f"REJECTED record {ids[1]}" in err
    assert "camera_id, sealed_at, quality" in err
    assert [r["record_id"] for r in json.loads(out)] == [ids[0], ids[2]]  # no edited value is shown
    with pytest.raises(RecordError, match=f"record {ids[1]}: the index row disagrees"):
        open_all(vault_dir, adir, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + DAY)) as vault:
        assert vault.recovery["rows_corrected"] == 1
        assert {r.camera_id for r in vault.rows()} == {"cam-1"}
    assert "index-corrected" in [e["event"] for e in AuditLog(vault_dir / "audit.log").entries()]
    code, out, _ = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir)
    assert code == 0 and "3 record(s)" in out


def test_the_list_summary_counts_the_rows_left_out(tmp_path, faces, capsys):
    """ux21: the text table's last line said "2 record(s) of camera cam-1" with a third row left
    out as REJECTED: stdout kept in a file read as a clean vault (central list counts them)."""
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    _edit_index(vault_dir, "UPDATE records SET quality = 99 WHERE record_id = ?", ids[1])
    code, out, err = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir)
    assert code == 1 and f"REJECTED record {ids[1]}" in err and ids[1] not in out
    assert out.splitlines()[-1] == "2 record(s) of camera cam-1; 1 left out, REJECTED (reasons on stderr)"


def test_purge_goes_by_the_headers_time_not_the_index(tmp_path, faces, capsys):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    camera = tmp_path / "auth-cam-1"
    _edit_index(vault_dir, "UPDATE records SET sealed_at = ?", T0 - 300 * DAY)  # "everything is old"
    code, out, _ = run_cli(capsys, "purge", "--vault", vault_dir, "--camera", camera, "--now", T0 + 10 * DAY)
    assert code == 0 and "purged 0" in out and "3 kept" in out
    _edit_index(vault_dir, "UPDATE records SET sealed_at = ?", T0 + 300 * DAY)  # "everything is new"
    code, out, _ = run_cli(capsys, "purge", "--vault", vault_dir, "--camera", camera, "--now", T0 + 31 * DAY)
    assert code == 0 and "purged 3" in out and not list((vault_dir / "records").glob("*.fsr"))


def test_a_purge_time_in_the_future_is_refused_unless_overridden_and_logged(tmp_path, faces, capsys):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    camera = tmp_path / "auth-cam-1"
    before = tree_digest(vault_dir)
    code, out, err = run_cli(capsys, "purge", "--vault", vault_dir, "--camera", camera, "--now", "2100-01-01")
    assert code == 1 and err.count("\n") == 1 and "ahead of the clock" in err
    assert tree_digest(vault_dir) == before
    code, out, err = run_cli(capsys, "purge", "--vault", vault_dir, "--camera", camera, "--now", "2100-01-01",
                          "--allow-future-now")
    assert code == 0 and "purged 3" in out, err
    entries = AuditLog(vault_dir / "audit.log").entries()
    assert [e["event"] for e in entries][-4:] == ["purge-clock-override", "purge", "purge", "purge"]
    assert max(e["time"] for e in entries) < time.time() + 60  # no entry dated 2100
    code, _, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 0
