"""A central opening leaves a trace its store's owner cannot remove (issue 24, finding 3).

Real PostgreSQL, the real CLI. The attacker owns the PostgreSQL tables (can disable the
append-only triggers, delete or rewrite rows, recompute hashes) but holds no authority key and
cannot reach the authority's own folder. After ``facesel central open``:

- the central ``open`` entry is signed by the authority's key;
- the authority's own signed ``audit.log`` holds the opening, naming the central entry (seq, hash);
- ``facesel central audit --authority DIR`` fails when the owner deletes the entry, rewrites it
  (hash recomputed), or swaps the store's copy of authority.pub; a head kept by a witness
  (``facesel central head``) catches a cut-off tail without the authority folder.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from central_common import facesel
from facesel.central.pg_audit import entry_hash
from facesel.central.pg_backend import PostgresVault
from facesel.vault import Vault
from facesel.vault.audit import AuditLog, verify
from test_vault_common import make_authority, orl_faces, share_paths, track_result


@pytest.fixture
def opened(central_dsn, authority, cameras, tmp_path, shared_data):
    """A store with two records of cam-a, opened once through the CLI; (dsn, authority folder)."""
    _, folder = authority
    cameras("cam-a")  # enrolled
    for args in (["central", "init", "--authority", str(folder / "authority.pub")],
                 ["central", "register-camera", str(cameras.key_dir("cam-a"))]):
        done = facesel(*args, "--central", central_dsn)
        assert done.returncode == 0, done.stderr
    with Vault(tmp_path / "cam-a", cameras.pub_path, camera=cameras("cam-a")) as vault:
        for face in orl_faces(shared_data, 2):
            vault.seal(track_result(face))
    done = facesel("sync", "--vault", str(tmp_path / "cam-a"), "--camera", str(cameras.key_dir("cam-a")),
                   "--central", central_dsn)
    assert done.returncode == 0, done.stderr
    shares = share_paths(folder)
    done = facesel("central", "open", "--central", central_dsn, "--all", "--share", str(shares[0]), "--share",
                   str(shares[1]), "--reason", "case 24/3", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    return central_dsn, folder


def _central_entries(dsn: str) -> list[dict]:
    with PostgresVault(dsn) as store:
        return [json.loads(line) for line in store.audit_lines()]


def _audit(dsn: str, *extra: str):
    return facesel("central", "audit", "--central", dsn, *extra)


def _as_table_owner(dsn: str, *statements) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        for sql, args in statements:
            conn.execute(sql, args)
        conn.execute("ALTER TABLE audit ENABLE TRIGGER USER")


def test_the_opening_is_signed_and_in_the_authoritys_own_log(opened):
    dsn, folder = opened
    pub = json.loads((folder / "authority.pub").read_text())
    entry = [e for e in _central_entries(dsn) if e["event"] == "open"][0]
    assert entry["signer"] == f"authority:{pub['authority_id']}" and entry["sig"]
    from facesel.vault.keys import AuthorityPublic

    trusted = AuthorityPublic.load(folder / "authority.pub")
    assert verify(folder / "audit.log", keys={entry["signer"]: trusted.signing_key}).ok
    mine = [e for e in AuditLog(folder / "audit.log").entries() if e.get("event") == "open"]
    assert len(mine) == 1 and mine[0]["reason"] == "case 24/3"
    assert (mine[0]["central_seq"], mine[0]["central_entry"]) == (entry["seq"], entry["hash"])
    assert mine[0]["record_ids"] == entry["record_ids"]
    done = _audit(dsn, "--authority", str(folder))
    assert done.returncode == 0 and "1 opening(s) the authority logged are in the central log" in done.stdout, \
        done.stdout + done.stderr


def test_a_deleted_opening_is_found(opened):
    """The issue's attack: the owner disables the append-only trigger and deletes the row (the last
    one, so the chain still holds)."""
    dsn, folder = opened
    seq = [e for e in _central_entries(dsn) if e["event"] == "open"][0]["seq"]
    _as_table_owner(dsn, ("DELETE FROM audit WHERE seq = %s", (seq,)))
    assert _audit(dsn).returncode == 0  # the chain alone cannot tell
    done = _audit(dsn, "--authority", str(folder))
    assert done.returncode == 1 and f"central entry seq {seq}, which is missing (deleted)" in done.stdout, \
        done.stdout + done.stderr


def test_a_rewritten_opening_fails_its_signature(opened):
    """The owner changes the opening's reason and recomputes its hash (the chain still holds)."""
    dsn, folder = opened
    entry = [e for e in _central_entries(dsn) if e["event"] == "open"][0]
    entry["reason"] = "routine maintenance"
    entry["hash"] = entry_hash(entry)
    line = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    _as_table_owner(dsn, ("UPDATE audit SET line = %s, hash = %s WHERE seq = %s", (line, entry["hash"], entry["seq"])))
    done = _audit(dsn)  # no authority folder needed: the signature no longer matches
    assert done.returncode == 1 and "BROKEN (unsigned)" in done.stdout, done.stdout + done.stderr
    # Dropping the signature instead does not help: an opening must be signed.
    del entry["sig"], entry["signer"]
    entry["hash"] = entry_hash(entry)
    line = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    _as_table_owner(dsn, ("UPDATE audit SET line = %s, hash = %s WHERE seq = %s", (line, entry["hash"], entry["seq"])))
    done = _audit(dsn)
    assert done.returncode == 1 and "BROKEN (unsigned)" in done.stdout, done.stdout + done.stderr


def test_a_swapped_store_authority_cannot_sign_forged_openings(opened, tmp_path):
    """The owner puts another authority's public file in the store and signs a forged opening with
    that authority's key: the store's own copy then agrees, the authority's does not."""
    dsn, folder = opened
    other_pub, other_folder = make_authority(tmp_path / "impostor")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE authority SET public_json = %s", (json.dumps(other_pub.to_dict()),))
    done = _audit(dsn, "--authority", str(folder))
    assert done.returncode == 1 and "does not carry the signing key" in done.stdout, done.stdout + done.stderr


def test_a_witnessed_head_catches_a_cut_tail(opened, tmp_path):
    dsn, _ = opened
    head = facesel("central", "head", "--central", dsn, "--out", str(tmp_path / "head.json"))
    assert head.returncode == 0, head.stderr
    kept = json.loads((tmp_path / "head.json").read_text())
    assert kept["seq"] == _central_entries(dsn)[-1]["seq"]
    assert _audit(dsn, "--expect", str(tmp_path / "head.json")).returncode == 0
    _as_table_owner(dsn, ("DELETE FROM audit WHERE seq = %s", (kept["seq"],)))
    done = _audit(dsn, "--expect", str(tmp_path / "head.json"))
    assert done.returncode == 1 and "BROKEN" in done.stdout, done.stdout + done.stderr


def test_a_head_signed_by_the_authority_is_a_checkpoint_the_owner_cannot_cut_or_forge(opened, tmp_path):
    dsn, folder = opened
    shares = share_paths(folder)
    done = facesel("central", "head", "--central", dsn, "--share", str(shares[1]), "--share", str(shares[2]),
                   "--out", str(tmp_path / "signed.json"))
    assert done.returncode == 0, done.stderr
    signed = json.loads((tmp_path / "signed.json").read_text())
    assert signed["signer"].startswith("authority:") and signed["sig"]
    logged = [e for e in AuditLog(folder / "audit.log").entries() if e.get("event") == "central-head"]
    assert [(e["central_seq"], e["central_entry"]) for e in logged] == [(signed["seq"], signed["hash"])]
    assert _audit(dsn, "--expect", str(tmp_path / "signed.json"), "--authority", str(folder)).returncode == 0
    # A head edited to match a rewritten log does not carry the authority's signature.
    forged = {**signed, "hash": "0" * 64}
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    done = _audit(dsn, "--expect", str(tmp_path / "forged.json"), "--authority", str(folder))
    assert done.returncode == 1 and "signature is not the authority's" in done.stderr, done.stdout + done.stderr
    # The owner cuts the log back before the signed head: the authority's log alone finds it.
    _as_table_owner(dsn, ("DELETE FROM audit WHERE seq = %s", (signed["seq"],)))
    done = _audit(dsn, "--authority", str(folder))
    assert done.returncode == 1 and f"central entry seq {signed['seq']}, which is missing" in done.stdout, \
        done.stdout + done.stderr


def test_a_deleted_or_silently_erased_record_is_found(opened):
    """The owner also controls the records table: a row deleted, or its ciphertext dropped as if
    purged, without a log entry, is reported (the 'received' entries still name each record)."""
    dsn, _ = opened
    first, second = [e["record_id"] for e in _central_entries(dsn) if e["event"] == "received"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
        conn.execute("DELETE FROM records WHERE record_id = %s", (first,))
        conn.execute("UPDATE records SET data = NULL, purged_at = 1 WHERE record_id = %s", (second,))
    done = _audit(dsn)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"record {first}: logged as received, but its row is gone" in done.stdout
    assert f"record {second}: marked purged, but no purge is logged" in done.stdout
