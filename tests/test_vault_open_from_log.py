"""Review 2, finding 2: a deleted index row hid a record from ``open --all`` (exit 0, no warning;
the file and the log intact, so the row could be put back later). What ``open`` chooses now comes
from the signed log (seals minus removals); the index only supplies rows, each checked."""

from __future__ import annotations

import sqlite3

import pytest
from facesel.vault.keys import Keystore
from test_vault_common import DAY, T0, FakeClock, open_all, orl_faces, run_cli, sealed_vault, share_paths, vault_at


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 3, size=(32, 36))


def _sql(vault_dir, statement, *args):
    con = sqlite3.connect(vault_dir / "index.sqlite")
    con.execute(statement, args)
    con.commit()
    con.close()


def _open_argv(adir, vault_dir, out, *selection):
    k = int(Keystore(adir / "keystore").meta["threshold"])
    shares = [a for p in share_paths(adir)[:k] for a in ("--share", p)]
    return ["open", "--vault", vault_dir, *shares, "--reason", "case 7", "--out", out, *selection]


def test_a_deleted_index_row_hides_nothing_from_open_or_list(tmp_path, faces, capsys):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    _sql(vault_dir, "DELETE FROM records WHERE record_id = ?", ids[1])
    for n, selection in enumerate((["--all"], ["--from", T0, "--to", T0 + DAY], [ids[1]])):
        code, out, err = run_cli(capsys, *_open_argv(adir, vault_dir, tmp_path / f"out{n}", *selection))
        assert code == 0, err
        want = ids if selection != [ids[1]] else [ids[1]]
        assert sorted(p.name for p in (tmp_path / f"out{n}").iterdir() if p.is_dir()) == sorted(want)
        assert "WARNING 1 opened record(s) were missing from the index" in err and ids[1] in err
    code, out, err = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir)
    assert code == 1 and f"record {ids[1]} (sealed" in err and "missing from the index" in err


def test_a_row_put_back_for_a_purged_record_opens_nothing(tmp_path, faces):
    """The other direction: the index (and a kept copy of the file) cannot bring back a record the
    signed log says was purged."""
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    con = sqlite3.connect(vault_dir / "index.sqlite")
    row = con.execute("SELECT * FROM records WHERE record_id = ?", (ids[0],)).fetchone()
    con.close()
    kept = (vault_dir / "records" / f"{ids[0]}.fsr").read_bytes()
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + 30 * DAY + 3600 + 60)) as vault:
        assert [r.record_id for r in vault.rows()] == ids[1:]  # the first one expired
    (vault_dir / "records" / f"{ids[0]}.fsr").write_bytes(kept)
    _sql(vault_dir, f"INSERT INTO records VALUES ({','.join('?' * len(row))})", *row)
    opened = open_all(vault_dir, adir, tmp_path / "out")
    assert [o.row.record_id for o in opened] == ids[1:]
    from facesel.vault import open_records
    with pytest.raises(ValueError, match=f"not in the vault.*{ids[0]}"):
        open_records(vault_dir, share_paths(adir)[:2], adir / "keystore", "r", tmp_path / "out2", record_ids=[ids[0]])
