"""Whole-vault properties: (1) random byte edits to any file of a vault are either harmless (what
the checks accept is exactly what was sealed) or detected by the checks a reader runs; (2) a
camera sealing and purging while the authority opens and a second writer tries to purge leaves a
log that verifies, records that match it, and openings that are exact."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
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
from test_vault_common import DAY, T0, camera_dir, make_authority, open_all, orl_faces, sealed_vault

_VAULT_ERRORS = (ValueError, RuntimeError, OSError, sqlite3.Error)


def _two_faces_opened_once(root: Path, shared_data: Path):
    """Two small real faces sealed in a vault below ``root`` and opened once, so that both the
    camera and the authority wrote to its log. Returns (authority folder, vault folder, record ids,
    faces: two (28, 24, 3) uint8 BGR crops)."""
    faces = orl_faces(shared_data, 2, size=(24, 28))
    adir, vault_dir, ids = sealed_vault(root, faces)
    open_all(vault_dir, adir, root / "first-open")
    shutil.rmtree(root / "first-open")  # plaintext of the test faces: not left lying around
    return adir, vault_dir, ids, faces


@pytest.fixture(scope="module")
def base(tmp_path_factory, shared_data):
    """A vault of two small real faces, opened once (so both signers wrote to its log)."""
    adir, vault_dir, ids, faces = _two_faces_opened_once(tmp_path_factory.mktemp("base"), shared_data)
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
        logged = sealed_digests(vault_dir, identity)
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


# -- review 2, finding 9: garbage values and special files in every vault, authority and camera file --

# Values a JSON file can hold where a number, string, list or object belongs: integers no float can
# hold, NaN and infinities (Python's json reads them), wrong types, bools posing as integers.
NASTY = [10 ** 400, -(10 ** 400), 2 ** 64, -1, 0, 1e308, -1e308, float("nan"), float("inf"), float("-inf"), None,
         True, False, [], {}, [1, 2], {"a": 1}, "", "x" * 300, "2025-01-01", 1.5]


@pytest.fixture(scope="module")
def world(tmp_path_factory, shared_data):
    """Authority, camera and vault side by side: two sealed records, opened once (so both logs exist)."""
    root = tmp_path_factory.mktemp("world")
    adir, vault_dir, ids, faces = _two_faces_opened_once(root, shared_data)
    epoch = AuthorityPublic.load(adir / "authority.pub").epoch_for(T0 + 3600).epoch_id
    files = ["v-cam-1/vault.json", "v-cam-1/authority.pub", "v-cam-1/audit.log", "v-cam-1/audit.log.head",
             "v-cam-1/index.sqlite", f"v-cam-1/records/{ids[0]}.fsr", "auth/authority.pub",
             "auth/keystore/authority.json", "auth/keystore/signing.key", f"auth/keystore/epoch-{epoch}.key",
             "auth/shares/share-1-of-3.json", "auth/audit.log", "auth-cam-1/camera.key", "auth-cam-1/camera.pub"]
    return root, ids, faces, files


def _commands(root: Path) -> list[list]:
    """Every command that reads these files: list, audit (vault and authority log), head, open,
    the camera's start and purge, shred (dry run and real)."""
    v, a, cam = root / "v-cam-1", root / "auth", root / "auth-cam-1"
    shares = ["--share", a / "shares" / "share-1-of-3.json", "--share", a / "shares" / "share-2-of-3.json"]
    return [["list", "--vault", v, "--authority", a],
            ["audit", "verify", "--vault", v, "--authority", a],
            ["audit", "verify", "--log", a / "audit.log", "--authority", a / "authority.pub"],
            ["audit", "head", "--vault", v],
            ["open", "--vault", v, *shares, "--keystore", a / "keystore", "--reason", "r", "--out", root / "out",
             "--all"],
            ["purge", "--vault", v, "--camera", cam, "--now", T0 + DAY],
            ["authority", "shred", "--dir", a, "--dry-run", "--now", T0 + 100 * DAY],
            ["authority", "shred", "--dir", a, *shares, "--now", T0 + 100 * DAY, "--new-no-passphrase"]]


def _run_all(root: Path) -> list[tuple[str, int, str]]:
    """Run every command in this process: (command, exit code, stderr). Any exception escapes."""
    import contextlib
    import io

    out = []
    for argv in _commands(root):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main([str(x) for x in argv])
        out.append((" ".join(map(str, argv[:2])), code, err.getvalue()))
    return out


def _kept_records(root: Path) -> int:
    """Record files still in the vault or moved to quarantine (nothing may be destroyed)."""
    v = root / "v-cam-1"
    return len(list((v / "records").glob("*.fsr"))) + (len(list((v / "quarantine").iterdir()))
                                                       if (v / "quarantine").is_dir() else 0)


def _check_outcome(results, root: Path, ids, faces) -> None:
    for command, code, err in results:
        assert code in (0, 1), (command, code, err)
        assert "Traceback" not in err, (command, err)
    assert _kept_records(root) >= len(ids) - 1  # the edited record file may itself be the garbage
    opened = root / "out"
    if opened.is_dir():  # whatever was opened is exactly what was sealed
        import cv2

        for rid, face in zip(ids, faces):
            if (opened / rid).is_dir():
                assert np.array_equal(cv2.imread(str(opened / rid / "crop.png"), cv2.IMREAD_UNCHANGED), face)


def _garbage_in_index(path: Path, row: int, column: int, value) -> None:
    """The same values in a column of an index row, as SQLite can hold them (it keeps any type in
    any column; what it cannot bind, a 400-digit integer or a list, goes in as text)."""
    from facesel.vault.index import COLUMNS

    stored = value if isinstance(value, (float, str, type(None))) or (
        isinstance(value, int) and abs(value) < 2 ** 63) else json.dumps(value)
    con = sqlite3.connect(path)
    try:
        ids = [r[0] for r in con.execute("SELECT record_id FROM records ORDER BY record_id")]
        name = COLUMNS[column % len(COLUMNS)]
        try:
            con.execute(f"UPDATE records SET {name} = ? WHERE record_id = ?", (stored, ids[row % len(ids)]))
            con.commit()
        except sqlite3.IntegrityError:
            pass  # NULL in a NOT NULL column: SQLite itself refuses it
    finally:
        con.close()


def _paths(doc, prefix=()):
    """Every place in a JSON document where a value sits: key paths into objects and lists."""
    out = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.append(prefix + (key,))
            out += _paths(value, prefix + (key,))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out.append(prefix + (i,))
            out += _paths(value, prefix + (i,))
    return out


def _set(doc, path, value):
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 10_000), where=st.integers(0, 10_000), line=st.integers(0, 10_000),
       value=st.sampled_from(NASTY))
def test_garbage_values_in_every_json_file_end_in_one_line_never_a_crash(world, which, where, line, value):
    """A field of any JSON file (key files, vault.json, an audit entry, the head) set to a number out
    of range or a value of the wrong type: every command ends with exit 0 or 1 and no traceback
    (no OverflowError, TypeError, ...), nothing is deleted, and what opens is what was sealed."""
    root, ids, faces, files = world
    json_files = [f for f in files if not f.endswith(".fsr")]
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "w"
        shutil.copytree(root, copy)
        target = copy / json_files[which % len(json_files)]
        if target.name == "index.sqlite":
            _garbage_in_index(target, line, where, value)
        elif target.name == "audit.log":
            lines = target.read_text().splitlines()
            doc = json.loads(lines[line % len(lines)])
            paths = _paths(doc)
            _set(doc, paths[where % len(paths)], value)
            lines[line % len(lines)] = json.dumps(doc)
            target.write_text("\n".join(lines) + "\n")
        else:
            doc = json.loads(target.read_text())
            paths = _paths(doc)
            _set(doc, paths[where % len(paths)], value)
            target.write_text(json.dumps(doc))
        _check_outcome(_run_all(copy), copy, ids, faces)


RUN_COMMANDS = textwrap.dedent("""
    import contextlib, io, json, sys
    from facesel.cli import main

    results = []
    for argv in json.loads(sys.argv[1]):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(argv)  # any exception escapes: a traceback and a non-zero exit
        results.append([" ".join(argv[:2]), code, err.getvalue()])
    print(json.dumps(results))
""")


def _limit_memory() -> None:
    """In the child: at most 4 GiB of address space, so that code reading a device such as
    /dev/zero to its end fails with MemoryError instead of taking the machine's memory."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def _in_subprocess(root: Path, timeout: float):
    """Run every command of :func:`_commands` in a fresh interpreter, killed after ``timeout``
    seconds (a hang inside SQLite or a blocking read cannot be interrupted from within)."""
    argvs = [[str(x) for x in argv] for argv in _commands(root)]
    try:
        proc = subprocess.run([sys.executable, "-c", RUN_COMMANDS, json.dumps(argvs)], capture_output=True,
                              text=True, timeout=timeout, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
                              preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        return "HANG"
    if proc.returncode != 0:
        return ("raised", proc.stderr[-600:])
    return ("ok", [tuple(r) for r in json.loads(proc.stdout)])


def _make_special(path: Path, kind: str) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":  # /dev/zero: a reader that does not check would read forever
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    else:
        path.mkdir()


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_fifo_device_or_folder_in_place_of_any_file_never_hangs_or_crashes(world, tmp_path, kind):
    """Each file of the vault, the authority and the camera in turn replaced by a FIFO, a character
    device or a folder: every command still ends (exit 0 or 1, one line, no traceback), checked in
    a child process that is killed after 60 s."""
    root, ids, faces, files = world
    if kind == "device":
        probe = tmp_path / "probe"
        try:
            os.mknod(probe, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        except PermissionError:
            pytest.skip("cannot make a device node here (needs CAP_MKNOD)")
        probe.unlink()
    failures = []
    for name in files:
        copy = tmp_path / f"w-{len(failures)}-{name.replace('/', '_')}"
        shutil.copytree(root, copy)
        _make_special(copy / name, kind)
        outcome = _in_subprocess(copy, timeout=60)
        if outcome == "HANG" or outcome[0] != "ok":
            failures.append((name, outcome))
            continue
        try:
            _check_outcome(outcome[1], copy, ids, faces)
        except AssertionError as err:
            failures.append((name, str(err)[:300]))
        shutil.rmtree(copy, ignore_errors=True)
    assert failures == []
