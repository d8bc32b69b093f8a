"""Review round 15b (attack25): a sparse file under a record's name, or its temporary's, read whole.

Whoever can write the vault folder (no key) can replace a record file or plant files beside it.
A sparse file costs no disk, whatever size it claims: one of up to 1 GiB (``MAX_RECORD``) under
the name of a sealed record was read whole by every reader before its SHA-256 was compared with
the one its ``seal`` entry logged (the camera's start, ``facesel list``, the desk's find,
``facesel open``), twice its size in memory at once; at the camera's start it was hashed a second
time to be quarantined, and every planted temporary ``.ID.fsr.XXXXXXXX.tmp`` of a sealed record,
as many as the writer liked, was hashed whole. The ``seal`` entry logs the record's size: a file
larger than that is not the one sealed, and is now refused (or deleted, for a temporary) before
a byte of it is read.

The tests count the bytes ``os.read`` returns (never time): a sealed record here is a few KiB.
"""

from __future__ import annotations

import secrets

import numpy as np
import pytest
from facesel.review.catalog import Filters, search
from facesel.vault.audit import AuditLog
from facesel.vault.errors import RecordError
from facesel.vault.identity import load_identity
from facesel.vault.keys import AuthorityPublic
from facesel.vault.opening import logged_records
from test_vault_common import (T0, FakeClock, count_reads, make_authority, open_all, plant_sparse, run_cli, track_result,
                               vault_at)

SPARSE = 64 << 20  # claimed by each planted file; no disk is used
BOUND = 4 << 20  # what a reader may read in all: the log, the key files and a few KiB of records


@pytest.fixture
def sealed(tmp_path):
    """(authority folder, vault folder, record id, its logged size) of a vault holding one record."""
    adir = make_authority(tmp_path / "auth")[1]
    with vault_at(tmp_path / "vault", adir, clock=FakeClock(T0)) as vault:
        rid = vault.seal(track_result(np.full((24, 20, 3), 90, np.uint8)))
    size = (tmp_path / "vault" / "records" / f"{rid}.fsr").stat().st_size
    assert size < BOUND
    return adir, tmp_path / "vault", rid, size


@pytest.fixture
def bytes_read(monkeypatch):
    """A list whose sum is the bytes every ``os.read`` returned since the fixture was made."""
    return count_reads(monkeypatch)


def _sparse(path, size=SPARSE):
    """Put a sparse file of ``size`` bytes (zeros, no disk used) at ``path``."""
    plant_sparse(path, size)


def test_the_cameras_start_does_not_read_a_sparse_file_under_a_records_name(sealed, bytes_read):
    adir, vault_dir, rid, size = sealed
    _sparse(vault_dir / "records" / f"{rid}.fsr")
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + 60)) as vault:
        assert vault.recovery["quarantined"] == 1
    assert sum(bytes_read) < BOUND, f"the camera's start read {sum(bytes_read)} bytes"  # main: 2 x 64 MiB
    entry = [e for e in AuditLog(vault_dir / "audit.log").entries() if e["event"] == "quarantined"][-1]
    assert entry["record_id"] == rid and f"more than the {size} bytes logged" in entry["reason"], entry
    assert entry["sha256"] is None  # not hashed either


def test_planted_sparse_temporaries_of_a_record_are_removed_unread(sealed, bytes_read):
    adir, vault_dir, rid, _ = sealed
    planted = [vault_dir / "records" / f".{rid}.fsr.{secrets.token_hex(4)}.tmp" for _ in range(8)]
    for path in planted:
        _sparse(path)
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + 60)) as vault:
        assert vault.recovery["temporaries_removed"] == 8 and vault.recovery["quarantined"] == 0
        assert [row.record_id for row in vault.rows()] == [rid]
    assert sum(bytes_read) < BOUND, f"the camera's start read {sum(bytes_read)} bytes"  # main: 8 x 64 MiB
    assert not any(path.exists() for path in planted)


def test_readers_refuse_a_sparse_file_under_a_records_name_unread(sealed, bytes_read, capsys, tmp_path):
    adir, vault_dir, rid, size = sealed
    _sparse(vault_dir / "records" / f"{rid}.fsr")
    why = f"holds more than the {size} bytes logged when the record was sealed"
    identity = load_identity(vault_dir, anchor=AuthorityPublic.load(adir / "authority.pub"))
    assert set(logged_records(vault_dir, identity)) == {rid}
    result = search(vault_dir, identity, Filters())  # the desk's find page
    assert sum(bytes_read) < BOUND, f"the desk's find read {sum(bytes_read)} bytes"  # main: 64 MiB
    assert result.records == [] and any(why in p for p in result.problems), result.problems
    bytes_read.clear()
    code, out, err = run_cli(capsys, "list", "--vault", vault_dir, "--authority", adir / "authority.pub")
    assert sum(bytes_read) < BOUND, f"facesel list read {sum(bytes_read)} bytes"
    assert code == 1 and why in err, (out, err)
    bytes_read.clear()
    with pytest.raises(RecordError, match=why):
        open_all(vault_dir, adir, tmp_path / "out")
    assert sum(bytes_read) < BOUND, f"facesel open read {sum(bytes_read)} bytes"
    assert not (tmp_path / "out").exists()


def test_audit_verify_names_a_sparse_file_under_a_records_name_without_hashing_it(sealed, bytes_read):
    from facesel.vault.consistency import custody_problems

    _, vault_dir, rid, size = sealed
    _sparse(vault_dir / "records" / f"{rid}.fsr")
    problems = custody_problems(vault_dir)  # `facesel audit verify --vault`'s custody check
    assert sum(bytes_read) < BOUND, f"audit verify read {sum(bytes_read)} bytes"  # main: 64 MiB
    assert problems == [f"record {rid}: file is larger than the {size} bytes logged when it was sealed (replaced)"]
