"""Opening across cameras, against both backends (a camera's vault folder and PostgreSQL): exact
pixels back, tampering refused with nothing written or logged; the ``facesel central`` CLI."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import psycopg
import pytest
from central_common import facesel
from facesel.central import Selection
from facesel.central.file_backend import FileVaultBackend
from facesel.central.opening import open_from
from facesel.central.pg_backend import PostgresVault
from facesel.central.sync import sync_vault
from facesel.vault import Vault
from facesel.vault.errors import RecordError
from facesel.vault.store import record_path
from test_vault_common import orl_faces, share_paths, track_result


def _recompute_checksum(data: bytes) -> bytes:
    """An attacker who knows the format: change a ciphertext byte and fix the trailing BLAKE2b."""
    body = bytearray(data[:-32])
    body[-(64 + 8)] ^= 0x01  # inside the ciphertext (before the 64-byte signature)
    return bytes(body) + hashlib.blake2b(bytes(body), digest_size=32).digest()


def resign(data: bytes, key) -> bytes:
    """The record re-signed with another Ed25519 ``key`` (e.g. another camera's), checksum fixed."""
    body = data[:-(64 + 32)]
    body += key.sign(body).signature
    return body + hashlib.blake2b(body, digest_size=32).digest()


@pytest.fixture(params=["file", "postgres"])
def backend(request, tmp_path, authority, cameras, shared_data):
    """(backend, {record_id: sealed crop}) with two records per camera; cam-b only for PostgreSQL."""
    pub, _ = authority
    faces = orl_faces(shared_data, 4)
    crops = {}
    camera_ids = ("cam-a",) if request.param == "file" else ("cam-a", "cam-b")
    for n, camera_id in enumerate(camera_ids):
        with Vault(tmp_path / camera_id, cameras.pub_path, camera=cameras(camera_id)) as vault:
            for face in faces[2 * n:2 * n + 2]:
                crops[vault.seal(track_result(face))] = face
    if request.param == "file":
        store = FileVaultBackend(tmp_path / "cam-a", camera=cameras("cam-a"))
    else:
        dsn = request.getfixturevalue("central_dsn")
        store = PostgresVault.create(dsn, pub)
        for camera_id in camera_ids:
            cameras.register(store, camera_id)
            sync_vault(tmp_path / camera_id, store, cameras(camera_id))
    yield store, crops
    store.close()


def _open(store, authority, out, **kwargs):
    _, folder = authority
    return open_from(store, share_paths(folder)[:2], folder / "keystore", "case 15/1", out, **kwargs)


def _open_count(store) -> int:
    if isinstance(store, FileVaultBackend):
        entries = store.log.entries()
    else:
        entries = [json.loads(line) for line in store.audit_lines()]
    return sum(e["event"] == "open" for e in entries)


def test_open_gives_back_the_exact_crops_and_logs_once(backend, authority, tmp_path):
    store, crops = backend
    opened = _open(store, authority, tmp_path / "out", all_records=True)
    assert {o.row.record_id for o in opened} == set(crops)
    for item in opened:
        np.testing.assert_array_equal(item.snapshot.crop(), crops[item.row.record_id])
        assert (tmp_path / "out" / item.row.camera_id / item.row.record_id / "crop.png").is_file()
    assert _open_count(store) == 1


def test_open_by_camera_and_window(backend, authority, tmp_path):
    store, crops = backend
    rows = store.rows()
    first = rows[0]
    opened = _open(store, authority, tmp_path / "out", selection=Selection(camera_ids=(first.camera_id,),
                                                                          end=first.sealed_at))
    assert [o.row.record_id for o in opened] == [first.record_id]
    with pytest.raises(ValueError, match="exactly one"):
        _open(store, authority, tmp_path / "out2")


def test_a_selection_of_no_record_reads_no_share_and_logs_nothing(backend, authority, tmp_path, monkeypatch):
    # ux18: a window that held no record (a wrong year, a local time read as UTC) had the holders
    # give their shares, then logged an opening of no record and wrote an empty folder.
    import facesel.central.opening as opening

    store, _ = backend
    first = store.rows()[0]
    monkeypatch.setattr(opening, "reconstruct_master", lambda *a, **k: pytest.fail("a share was read"))
    with pytest.raises(ValueError, match=r"no record in .* matches the selection: nothing to open; no share was read"):
        _open(store, authority, tmp_path / "out", selection=Selection(end=first.sealed_at - 1))
    assert not (tmp_path / "out").exists() and _open_count(store) == 0


def test_python_callers_are_told_the_arguments_names_and_the_command_line_its_flags(backend, authority, tmp_path):
    # ux18c: open_from with no selection (or with both) said "choose records (ids, --camera and/or a
    # time window) or all_records": flags in the Python API's message.
    store, _ = backend
    python_words = ("choose exactly one of: a selection (Selection's record_ids, camera_ids and/or start/end) "
                    "or all_records=True")
    for kwargs in ({"selection": Selection()}, {"selection": Selection(camera_ids=("cam-a",)), "all_records": True}):
        with pytest.raises(ValueError) as err:
            _open(store, authority, tmp_path / "out", **kwargs)
        assert str(err.value) == python_words
    # The command line checks first (no store is reached: the DSN points at nothing), in its flags' words.
    _, folder = authority
    done = facesel("central", "open", "--central", "postgresql://127.0.0.1:1/none", "--share",
                   str(share_paths(folder)[0]), "--reason", "case 15/3", "--out", str(tmp_path / "cli-out"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.endswith("error: choose exactly one of: record ids, --camera and/or a time window "
                                "(--from/--to), or --all\n"), done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "cli-out").exists() and _open_count(store) == 0


def _tamper(store, record_id: str, kind: str, cameras) -> None:
    """Replace a record's bytes: with a forged ciphertext ("forged"), another record ("swapped"), or
    the same record signed by another enrolled camera's key ("resigned")."""
    other = next(r.record_id for r in store.rows() if r.record_id != record_id)
    if kind == "forged":
        forged = _recompute_checksum(store.read(record_id))
    elif kind == "resigned":
        forged = resign(store.read(record_id), cameras("cam-z").key)
    else:
        forged = store.read(other)
    if isinstance(store, FileVaultBackend):
        record_path(store.path, record_id).write_bytes(forged)
        return
    with psycopg.connect(store.conn.info.dsn, autocommit=True) as conn:
        # A database administrator bypassing the guard and fixing the index digest too.
        conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
        conn.execute("UPDATE records SET data = %s, sha256 = %s WHERE record_id = %s",
                     (forged, hashlib.sha256(forged).hexdigest(), record_id))


@pytest.mark.parametrize("kind", ["forged", "swapped", "resigned"])
def test_a_tampered_record_is_refused_with_nothing_written_or_logged(backend, authority, cameras, tmp_path, kind):
    store, crops = backend
    victim = store.rows()[-1].record_id
    _tamper(store, victim, kind, cameras)
    message = {"forged": "signature", "swapped": "swapped", "resigned": "signature of camera"}[kind]
    with pytest.raises(RecordError, match=f"{victim}.*{message}"):
        _open(store, authority, tmp_path / "out", all_records=True)
    assert not (tmp_path / "out").exists() and _open_count(store) == 0


def test_cli_lists_and_opens_across_cameras(central_dsn, authority, cameras, tmp_path, shared_data):
    pub, folder = authority
    cameras("cam-a"), cameras("cam-b")
    # register-camera takes camera.pub as 'facesel camera init' wrote it (the file, or its folder).
    for args in (["central", "init", "--authority", str(folder / "authority.pub")],
                 ["central", "register-camera", str(cameras.key_dir("cam-a") / "camera.pub"),
                  str(cameras.key_dir("cam-b"))]):
        done = facesel(*args, "--central", central_dsn)
        assert done.returncode == 0, done.stderr
    assert "camera cam-b: registered" in done.stdout
    faces = orl_faces(shared_data, 3)
    for camera_id, group in (("cam-a", faces[:1]), ("cam-b", faces[1:])):
        with Vault(tmp_path / camera_id, cameras.pub_path, camera=cameras(camera_id)) as vault:
            for face in group:
                vault.seal(track_result(face))
        done = facesel("sync", "--vault", str(tmp_path / camera_id), "--camera", str(cameras.key_dir(camera_id)),
                       "--central", central_dsn)
        assert done.returncode == 0 and "local copies deleted" in done.stdout, done.stderr
    listed = facesel("central", "list", "--central", central_dsn, "--json")
    assert sorted(r["camera_id"] for r in json.loads(listed.stdout)) == ["cam-a", "cam-b", "cam-b"]
    shares = share_paths(folder)
    done = facesel("central", "open", "--central", central_dsn, "--camera", "cam-b", "--share", str(shares[0]),
                   "--share", str(shares[2]), "--reason", "case 15/2", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "opened 2 record(s) from 1 camera(s)" in done.stdout
    assert len(list((tmp_path / "out" / "cam-b").glob("*/crop.png"))) == 2
    audit = facesel("central", "audit", "--central", central_dsn, "--export", str(tmp_path / "log.jsonl"))
    assert audit.returncode == 0 and "OK" in audit.stdout
    # The export is checked offline, and an edit to it is found.
    checked = facesel("central", "audit", "--log", str(tmp_path / "log.jsonl"))
    assert checked.returncode == 0 and "OK" in checked.stdout, checked.stderr
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    lines[2] = lines[2].replace("cam-b", "cam-z")
    (tmp_path / "edited.jsonl").write_text("\n".join(lines) + "\n")
    edited = facesel("central", "audit", "--log", str(tmp_path / "edited.jsonl"))
    assert edited.returncode == 1 and "BROKEN (edited)" in edited.stdout
    after_retention = pub.epochs[-1].not_after + pub.retention_seconds
    early = facesel("central", "purge", "--central", central_dsn, "--now", str(after_retention))
    assert early.returncode == 1 and "ahead of the clock" in early.stderr
    purge = facesel("central", "purge", "--central", central_dsn, "--now", str(after_retention), "--allow-future-now")
    assert purge.returncode == 0 and "purged 3 expired record(s)" in purge.stdout


def test_retention_through_the_interface_on_both_backends(backend, authority):
    store, crops = backend
    pub, _ = authority
    last = max(r.sealed_at for r in store.rows())
    with pytest.raises(ValueError, match="ahead of the clock"):
        store.purge(last + pub.retention_seconds + 60)  # the future: refused without the override
    assert store.purge(last + pub.retention_seconds - 60, allow_future=True) == 0
    assert store.purge(last + pub.retention_seconds + 60, allow_future=True) == len(crops)
    assert store.rows() == []
    assert store.verify_audit().ok


def test_an_interrupted_opening_leaves_no_plaintext_behind(backend, authority, tmp_path, monkeypatch):
    """Review 6, finding 3, central side: Ctrl-C (or SIGTERM, a SystemExit in the CLI) while the
    pictures were being written left the first records' decrypted crops in ``--out`` and logged no
    ``open-aborted``; an OSError did both (the cleanup caught only OSError)."""
    store, crops = backend
    from facesel.central import opening
    real, calls = opening.atomic_write, {"n": 0}

    def interrupted_later(path, data, mode=0o600):
        calls["n"] += 1
        if calls["n"] == 3:  # the first record's crop and meta.json are on disk
            raise KeyboardInterrupt
        return real(path, data, mode)

    monkeypatch.setattr(opening, "atomic_write", interrupted_later)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        _open(store, authority, out, all_records=True)
    assert not out.exists() or list(out.rglob("*")) == [], list(out.rglob("*"))
    if isinstance(store, FileVaultBackend):
        events = [e["event"] for e in store.log.entries()]
    else:
        events = [json.loads(line)["event"] for line in store.audit_lines()]
    assert events[-2:] == ["open", "open-aborted"]


def test_ctrl_c_while_writing_leaves_no_plaintext_and_logs_the_abort(backend, authority, tmp_path, monkeypatch):
    # ux15: a KeyboardInterrupt (Ctrl-C) while the snapshots were written left the
    # decrypted faces written so far in --out: only an OSError was cleaned up.
    import facesel.central.opening as opening

    store, _ = backend
    write = opening._write

    def write_then_interrupt(out_dir, opened):
        write(out_dir, opened)  # every plaintext file is on disk when the user presses Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(opening, "_write", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        _open(store, authority, tmp_path / "out", all_records=True)
    assert not (tmp_path / "out").exists()
    if isinstance(store, FileVaultBackend):
        entries = store.log.entries()
    else:
        entries = [json.loads(line) for line in store.audit_lines()]
    assert entries[-1]["event"] == "open-aborted" and "interrupted (KeyboardInterrupt)" in entries[-1]["reason"]
