"""Whole-vault properties: (1) random byte edits to any file of a vault are either harmless (what
the checks accept is exactly what was sealed) or detected by the checks a reader runs; (2) a
camera sealing and purging while the authority opens and a second writer tries to purge leaves a
log that verifies, records that match it, and openings that are exact."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from facesel.cli import main
from facesel.vault.audit import AuditLog, verify
from facesel.vault.consistency import RECORD_SUFFIX, custody_problems
from facesel.vault.identity import load_identity
from facesel.vault.keys import AuthorityPublic
from facesel.vault.opening import open_index, sealed_digests, verified_record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_vault_common import DAY, camera_dir, make_authority, open_all, orl_faces, sealed_vault

_VAULT_ERRORS = (ValueError, RuntimeError, OSError, sqlite3.Error)


@pytest.fixture(scope="module")
def base(tmp_path_factory, shared_data):
    """A vault of two small real faces, opened once (so both signers wrote to its log)."""
    root = tmp_path_factory.mktemp("base")
    faces = orl_faces(shared_data, 2, size=(24, 28))
    adir, vault_dir, ids = sealed_vault(root, faces)
    open_all(vault_dir, adir, root / "first-open")
    files = sorted(str(p.relative_to(vault_dir)) for p in vault_dir.rglob("*")
                   if p.is_file() and p.name != ".lock" and p.stat().st_size > 0)
    return adir, vault_dir, ids, faces, files


def _accepted(vault_dir: Path, adir: Path) -> list[str] | None:
    """What a reader accepts (record ids), or None when any check reports a problem."""
    try:
        identity = load_identity(vault_dir, anchor=AuthorityPublic.load(adir / "authority.pub"))
        if not verify(vault_dir / "audit.log", keys=identity.audit_keys()).ok or custody_problems(vault_dir):
            return None
        index = open_index(vault_dir)
        try:
            rows, indexed = index.rows(), index.ids()
        finally:
            index.close()
        logged = sealed_digests(vault_dir)
        for row in rows:
            verified_record(identity, vault_dir, row, logged)
        if {p.name[:-len(RECORD_SUFFIX)] for p in (vault_dir / "records").glob(f"*{RECORD_SUFFIX}")} != indexed:
            return None
        return [r.record_id for r in rows]
    except _VAULT_ERRORS:
        return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 1000), edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)),
                                                   min_size=1, max_size=6))
def test_random_byte_edits_are_harmless_or_detected(base, which, edits):
    adir, vault_dir, ids, faces, files = base
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "v"
        shutil.copytree(vault_dir, copy)
        target = copy / files[which % len(files)]
        data = bytearray(target.read_bytes())
        for pos, value in edits:
            data[pos % len(data)] = value
        target.write_bytes(bytes(data))
        accepted = _accepted(copy, adir)
        if accepted is None:
            return  # detected
        # Accepted: it must be exactly what was sealed, down to the pixels.
        assert accepted == ids
        opened = open_all(copy, adir, Path(scratch) / "out")
        assert [o.row.record_id for o in opened] == ids
        for item, face in zip(opened, faces):
            assert np.array_equal(item.snapshot.crop(), face)


CAMERA = textwrap.dedent("""
    import os, sys, time
    import cv2
    from facesel.vault import Vault
    sys.path.insert(0, os.environ["TESTS_DIR"])
    from test_vault_common import track_result

    face = cv2.imread(sys.argv[4], cv2.IMREAD_COLOR)
    with Vault(sys.argv[1], sys.argv[2], camera=sys.argv[3], purge_interval=0.2) as vault:
        print("ready", flush=True)
        i, give_up = 0, time.time() + 120  # the test says when to stop (a bound, should it die first)
        while not os.path.exists(sys.argv[5]) and time.time() < give_up:
            vault.seal(track_result(face, track_id=i))
            vault.maybe_purge()
            i += 1
            time.sleep(0.1)
    print(i, flush=True)
""")


@pytest.mark.slow
def test_camera_seals_and_purges_while_the_authority_opens(tmp_path, shared_data, capsys):
    now = time.time()
    # Records expire 3 s after sealing: the camera's purges run all through the test.
    _, adir = make_authority(tmp_path / "auth", start=now - DAY, epoch=DAY, retention=3, horizon=2 * DAY)
    vault_dir = tmp_path / "v"
    script = tmp_path / "camera.py"
    script.write_text(CAMERA)
    face = shared_data / "faces" / "orl" / "s5" / "1.pgm"
    env = dict(os.environ, TESTS_DIR=os.path.dirname(__file__))
    proc = subprocess.Popen([sys.executable, str(script), str(vault_dir), str(adir / "authority.pub"),
                             str(camera_dir(adir)), str(face), str(tmp_path / "stop")], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "ready"
    opened = 0
    try:
        for i in range(12):
            time.sleep(0.4)
            # Records the camera is sealing or has just purged are left out, never an error.
            opened += len(open_all(vault_dir, adir, tmp_path / f"out{i}"))
            code = main(["purge", "--vault", str(vault_dir), "--camera", str(camera_dir(adir))])
            err = capsys.readouterr().err
            assert code == 1 and "purges expired records itself" in err  # one writer at a time
    finally:
        (tmp_path / "stop").touch()  # the camera stops, also when an assertion above failed
    sealed = int(proc.stdout.readline())
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    entries = AuditLog(vault_dir / "audit.log").entries()
    events = [e["event"] for e in entries]
    assert events.count("seal") == sealed and events.count("purge") > 0 and opened > 0
    identity = load_identity(vault_dir, anchor=AuthorityPublic.load(adir / "authority.pub"))
    assert verify(vault_dir / "audit.log", keys=identity.audit_keys()).ok
    assert custody_problems(vault_dir) == []
    assert main(["audit", "verify", "--vault", str(vault_dir), "--authority", str(adir)]) == 0
    assert events.count("open") == 12 and events.count("open-aborted") == 0
