"""Findings 1 and 2 of the vault review: a swapped authority key, and records or log entries
forged from public material or copied from another camera. Each attack worked on the unsigned
format; each is now refused (and, where the camera sees it, logged)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import nacl.public
import pytest
from facesel.vault.audit import AuditLog
from facesel.vault.errors import AuditError, KeyMaterialError
from facesel.vault.identity import load_identity
from facesel.vault.index import COLUMNS, IndexRow
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.payload import encode_snapshot
from facesel.vault.record import make_header, new_record_id, parse_record, seal_record
from facesel.vault.signing import Signer
from nacl.signing import SigningKey
from test_vault_common import (
    run_cli,
    DAY,
    T0,
    FakeClock,
    add_camera,
    camera_dir,
    master_of,
    open_all,
    orl_faces,
    sealed_vault,
    track_result,
    vault_at,
)


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 4)


def _events(vault_dir):
    return [e["event"] for e in AuditLog(vault_dir / "audit.log").entries()]


def _attacker_copy(pub: AuthorityPublic) -> AuthorityPublic:
    """The review's attack: same authority id and epoch windows, the attacker's keys, the
    attacker's own signature (only public material and a fresh key were needed)."""
    epochs = tuple(replace(e, public_key=bytes(nacl.public.PrivateKey.generate().public_key)) for e in pub.epochs)
    return replace(pub, epochs=epochs).signed_by(Signer(f"authority:{pub.authority_id}", SigningKey.generate()))


def test_swapped_authority_pub_in_the_vault_folder_is_refused_and_logged(tmp_path, faces):
    adir, vault_dir, _ = sealed_vault(tmp_path, faces[:1])
    _attacker_copy(AuthorityPublic.load(vault_dir / "authority.pub")).save(vault_dir / "authority.pub")
    before = sorted(p.name for p in (vault_dir / "records").iterdir())
    with pytest.raises(KeyMaterialError, match="pinned authority key"):
        vault_at(vault_dir, adir, clock=FakeClock(T0 + DAY))
    assert _events(vault_dir)[-1] == "authority-rejected"
    assert sorted(p.name for p in (vault_dir / "records").iterdir()) == before  # nothing sealed
    # Handing the camera the attacker's file directly is refused before anything happens, and logged.
    with pytest.raises(KeyMaterialError, match="pinned authority key"):
        from facesel.vault import Vault
        Vault(vault_dir, vault_dir / "authority.pub", camera=camera_dir(adir))
    assert _events(vault_dir)[-2:] == ["authority-rejected", "authority-rejected"]
    # Readers that anchor in the authority's own file refuse the vault too.
    with pytest.raises(KeyMaterialError, match="swapped"):
        load_identity(vault_dir, anchor=AuthorityPublic.load(adir / "authority.pub"))


def test_an_extension_that_changes_an_epoch_in_use_is_refused_even_when_properly_signed(tmp_path, faces):
    adir, vault_dir, _ = sealed_vault(tmp_path, faces[:1])
    pub = AuthorityPublic.load(adir / "authority.pub")
    signer = Keystore(adir / "keystore").signer(master_of(adir))
    other = bytes(nacl.public.PrivateKey.generate().public_key)
    changed = replace(pub, epochs=(replace(pub.epochs[0], public_key=other), *pub.epochs[1:]),
                      serial=pub.serial + 1).signed_by(signer)
    changed.save(tmp_path / "changed.pub")
    from facesel.vault import Vault
    with pytest.raises(KeyMaterialError, match="changes or drops epochs"):
        Vault(vault_dir, tmp_path / "changed.pub", camera=camera_dir(adir))
    assert _events(vault_dir)[-1] == "authority-rejected"
    assert json.loads((vault_dir / "authority.pub").read_text()) == pub.to_dict()  # the pinned copy is kept


def _forge(pub: AuthorityPublic, camera_id: str, signer: Signer, face) -> tuple[str, bytes]:
    rid = new_record_id()
    epoch = pub.epoch_for(T0 + 60)
    header = make_header(rid, pub.authority_id, epoch.epoch_id, camera_id, T0 + 60, 0.1, 0.5, 0.99, 7)
    return rid, seal_record(header, encode_snapshot(track_result(face), rid), epoch.public_key, signer)



def test_record_forged_from_public_material_is_quarantined_never_adopted(tmp_path, faces, capsys):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces[:2])
    pub = AuthorityPublic.load(vault_dir / "authority.pub")
    rid, data = _forge(pub, "cam-1", Signer("camera:cam-1", SigningKey.generate()), faces[3])
    (vault_dir / "records" / f"{rid}.fsr").write_bytes(data)
    # Planted with an index row too: `list` already refuses it, naming the record.
    con = sqlite3.connect(vault_dir / "index.sqlite")
    row = IndexRow.from_header(parse_record(data).header, len(data), "0" * 64)
    con.execute(f"INSERT INTO records VALUES ({','.join('?' * len(COLUMNS))})", [getattr(row, c) for c in COLUMNS])
    con.commit()
    con.close()
    code, out, err = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir, "--json")
    assert code == 1 and f"REJECTED record {rid}" in err and "signature" in err
    assert [r["record_id"] for r in json.loads(out)] == ids, err
    # The camera restarts: the file goes to quarantine with a logged reason; nothing adopts it.
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + DAY)) as vault:
        assert vault.recovery["quarantined"] == 1 and [r.record_id for r in vault.rows()] == ids
    entry = [e for e in AuditLog(vault_dir / "audit.log").entries() if e["event"] == "quarantined"][0]
    assert entry["record_id"] == rid and "no seal" in entry["reason"]
    assert "recovered-record" not in _events(vault_dir)
    assert [o.row.record_id for o in open_all(vault_dir, adir, tmp_path / "out")] == ids
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 0 and "records and log agree" in out


def test_forged_and_backdated_seal_entry_is_caught(tmp_path, faces, capsys):
    adir, vault_dir, _ = sealed_vault(tmp_path, faces[:1])
    forger = AuditLog(vault_dir / "audit.log", clock=lambda: T0 - 86400,
                      signer=Signer("camera:cam-1", SigningKey.generate()))
    forger.append("seal", record_id="a" * 32, epoch_id=1, camera_id="cam-1", sealed_at=T0 - 86400, size=1,
                  sha256="0" * 64)
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir)
    assert code == 1 and "BROKEN (unsigned)" in out
    with pytest.raises(AuditError, match="does not verify"):
        vault_at(vault_dir, adir, clock=FakeClock(T0 + DAY))


def test_record_copied_from_another_cameras_vault_is_refused(tmp_path, faces, capsys):
    adir, vault_a, ids_a = sealed_vault(tmp_path, faces[:1])
    add_camera(adir, "cam-2")
    _, vault_b, ids_b = sealed_vault(tmp_path, faces[1:3], camera_id="cam-2", authority_dir=adir)
    stolen = vault_b / "records" / f"{ids_b[0]}.fsr"
    (vault_a / "records" / stolen.name).write_bytes(stolen.read_bytes())
    con = sqlite3.connect(vault_a / "index.sqlite")
    row = IndexRow.from_header(parse_record(stolen.read_bytes()).header, stolen.stat().st_size, "0" * 64)
    con.execute(f"INSERT INTO records VALUES ({','.join('?' * len(COLUMNS))})", [getattr(row, c) for c in COLUMNS])
    con.commit()
    con.close()
    code, _, err = run_cli(capsys, "list", "--vault", vault_a, "--authority", adir)
    assert code == 1 and "made by camera 'cam-2'" in err
    with vault_at(vault_a, adir, clock=FakeClock(T0 + DAY)) as vault:
        assert [r.record_id for r in vault.rows()] == ids_a and vault.recovery["quarantined"] == 1


def test_unregistered_camera_cannot_start_a_vault(tmp_path, faces):
    adir, _, _ = sealed_vault(tmp_path, faces[:1])
    from facesel.vault.signing import CameraKey
    pub = AuthorityPublic.load(adir / "authority.pub")
    CameraKey.create(tmp_path / "rogue", "rogue-1", pub.fingerprint)
    from facesel.vault import Vault
    with pytest.raises(KeyMaterialError, match="not registered"):
        Vault(tmp_path / "v-rogue", adir / "authority.pub", camera=tmp_path / "rogue")
    assert not (tmp_path / "v-rogue").exists()


def test_a_vault_belongs_to_one_camera(tmp_path, faces):
    adir, vault_a, _ = sealed_vault(tmp_path, faces[:1])
    add_camera(adir, "cam-2")
    with pytest.raises(KeyMaterialError, match="belongs to camera 'cam-1'"):
        vault_at(vault_a, adir, camera_id="cam-2", clock=FakeClock(T0 + DAY))
    # Nor can cam-2's identity file be dropped into cam-1's vault: every cam-1 record is then refused.
    _, vault_b, _ = sealed_vault(tmp_path, faces[1:2], camera_id="cam-2", authority_dir=adir)
    (vault_a / "vault.json").write_bytes((vault_b / "vault.json").read_bytes())
    with pytest.raises(KeyMaterialError, match="belongs to camera 'cam-2'"):
        vault_at(vault_a, adir, clock=FakeClock(T0 + DAY))
