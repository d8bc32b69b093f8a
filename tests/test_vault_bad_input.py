"""Finding 8 of the vault review: bad input ended in tracebacks or crashes. Each case now ends in
one clear line and exit status 1, with nothing changed (or, for the camera, nothing adopted)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest
from test_vault_common import DAY, T0, FakeClock, orl_faces, sealed_vault, vault_at, run_cli


@pytest.fixture(scope="module")
def faces(shared_data):
    return orl_faces(shared_data, 2)


@pytest.fixture
def vault(tmp_path, faces):
    adir, vault_dir, ids = sealed_vault(tmp_path, faces)
    return adir, vault_dir, ids, tmp_path / "auth-cam-1"



def _one_line_error(code, err, command):
    assert code == 1 and err.count("\n") == 1 and re.match(rf"facesel {command}( [a-z-]+)?: error:", err), err
    assert "Traceback" not in err and "[Errno" not in err


@pytest.mark.parametrize("command", ["list", "purge"])
def test_garbage_index(vault, capsys, command):
    """A reader refuses it in one line and changes nothing; a writer (the camera, ``purge``) moves it
    into quarantine/, logs it and rebuilds the index from the records (review 5, finding 6)."""
    adir, vault_dir, _, camera = vault
    (vault_dir / "index.sqlite").write_bytes(b"this is not a database" * 100)
    for extra in ("index.sqlite-wal", "index.sqlite-shm"):
        (vault_dir / extra).unlink(missing_ok=True)
    before = tree_digest_raw(vault_dir)
    argv = ["list", "--vault", vault_dir] if command == "list" else ["purge", "--vault", vault_dir, "--camera", camera]
    code, out, err = run_cli(capsys, *argv)
    if command == "list":
        _one_line_error(code, err, command)
        assert "not a usable vault index" in err
        assert tree_digest_raw(vault_dir) == before
        return
    assert code == 0 and out.startswith("purged "), err  # the purge ran (by the signed log, as always)
    after = tree_digest_raw(vault_dir)
    moved = [k for k in after if k.startswith("quarantine/index.sqlite.")]
    assert len(moved) == 1 and after[moved[0]] == before["index.sqlite"]


def tree_digest_raw(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_negative_head_sequence(vault, capsys):
    adir, vault_dir, _, camera = vault
    head = json.loads((vault_dir / "audit.log.head").read_text())
    (vault_dir / "audit.log.head").write_text(json.dumps(dict(head, seq=-3)))
    before = tree_digest_raw(vault_dir)
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir)
    assert code == 1 and "BROKEN (anchor)" in out
    code, _, err = run_cli(capsys, "purge", "--vault", vault_dir, "--camera", camera, "--now", T0 + DAY)
    _one_line_error(code, err, "purge")
    assert tree_digest_raw(vault_dir) == before


def test_symlinked_audit_log_is_never_followed(vault, tmp_path, capsys):
    adir, vault_dir, _, camera = vault
    elsewhere = tmp_path / "elsewhere.log"
    os.replace(vault_dir / "audit.log", elsewhere)
    os.symlink(elsewhere, vault_dir / "audit.log")
    before = elsewhere.read_bytes()
    code, out, _ = run_cli(capsys, "audit", "verify", "--vault", vault_dir)
    assert code == 1 and "symbolic link" in out
    code, _, err = run_cli(capsys, "purge", "--vault", vault_dir, "--camera", camera, "--now", T0 + DAY)
    _one_line_error(code, err, "purge")
    assert elsewhere.read_bytes() == before


def test_read_only_vault(vault, tmp_path, capsys):
    """A real read-only mount (needs root; skipped otherwise): purge says so in one line, list works."""
    adir, vault_dir, ids, camera = vault
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "--bind", str(vault_dir), str(mount)], capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        code, _, err = run_cli(capsys, "purge", "--vault", mount, "--camera", camera, "--now", T0 + DAY)
        _one_line_error(code, err, "purge")
        assert "Read-only file system" in err
        code, out, err = run_cli(capsys, "list", "--vault", mount, "--json")
        assert code == 0, err
        assert [r["record_id"] for r in json.loads(out)] == ids
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def _list_process(adir, vault_dir, *flags):
    return subprocess.Popen([sys.executable, "-m", "facesel", "list", "--vault", str(vault_dir), "--authority",
                             str(adir), *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_listing_whose_reader_left_at_once_ends_quietly(vault):
    """``facesel list | head -0``: the reader is gone before the first write. A closed pipe is normal
    for a listing (``ls | head`` ends quietly), so: exit 0, nothing on stderr (ux18c; it said
    "the output was closed before everything was written", exit 1)."""
    proc = _list_process(vault[0], vault[1])
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0, err
    assert err == ""
    # The listing still runs to its end: an edited index row is reported, exit 1, as to a full read.
    con = sqlite3.connect(vault[1] / "index.sqlite")
    con.execute("UPDATE records SET quality = 99 WHERE record_id = ?", (vault[2][1],))
    con.commit()
    con.close()
    proc = _list_process(vault[0], vault[1])
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1
    assert err.startswith(f"facesel list: REJECTED record {vault[2][1]}") and "closed" not in err, err


def test_a_listing_read_one_line_then_closed_ends_quietly(tmp_path, faces):
    """``facesel list --json | head -1`` through a real pipe of one page: the listing (over three
    pipes' worth, checked first) is still being written when the reader closes after one line."""
    import fcntl

    adir, vault_dir, ids = sealed_vault(tmp_path, faces * 40)
    whole = _list_process(adir, vault_dir, "--json").communicate(timeout=120)[0]
    assert len(json.loads(whole)) == len(ids) == 80
    proc = _list_process(adir, vault_dir, "--json")
    size = fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    assert len(whole) > 3 * size  # the writer cannot have finished before the close
    assert proc.stdout.readline().strip() == b"["
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0, err
    assert err == ""


def test_huge_record_file_is_never_read_whole(vault, capsys, monkeypatch):
    adir, vault_dir, ids, _ = vault
    huge = vault_dir / "records" / f"{'e' * 32}.fsr"
    with open(huge, "wb") as f:
        f.truncate(3 << 30)  # sparse: 3 GiB that cost nothing on disk
    real = type(huge).read_bytes

    def guarded(self):
        if self.name == huge.name:
            raise AssertionError("the huge file was read whole")
        return real(self)

    monkeypatch.setattr(type(huge), "read_bytes", guarded)
    code, out, err = run_cli(capsys, "list", "--vault", vault_dir)
    assert code == 1 and "is not in the index" in err
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + DAY)) as v:
        assert v.recovery["quarantined"] == 1 and [r.record_id for r in v.rows()] == ids
    assert not huge.exists()


def test_errors_name_no_internal_arguments(vault, tmp_path, capsys):
    adir, vault_dir, _, _ = vault
    cases = [
        (["open", "--vault", vault_dir, "--share", "nowhere.json", "--reason", "r", "--out", tmp_path / "o",
          "--keystore", adir / "keystore", "--all", "--from", T0], "open"),
        (["open", "--vault", vault_dir, "--share", "nowhere.json", "--reason", "r", "--out", tmp_path / "o",
          "--keystore", adir / "keystore"], "open"),
        (["list", "--vault", tmp_path / "no-such-vault"], "list"),
        (["authority", "init", "--out", tmp_path / "x", "--shares", 3, "--threshold", 2, "--passphrase-file",
          tmp_path / "missing.txt"], "authority"),
    ]
    for argv, command in cases:
        code, _, err = run_cli(capsys, *argv)
        _one_line_error(code, err, command)
        for internal in ("all_records", "start/end", "out_dir", "authority_public", "record_ids", "share_paths"):
            assert internal not in err, err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("authority", ["missing", "garbage", "other", "index-fails"])
def test_a_failed_first_start_leaves_no_vault_folder(vault, tmp_path, monkeypatch, authority):
    adir, _, _, camera = vault
    from facesel.vault import Vault
    from facesel.vault.authority import create_authority
    path = tmp_path / "auth.pub"
    if authority == "garbage":
        path.write_text("{not json")
    elif authority == "other":  # a real authority, but not the one the camera pinned
        create_authority(tmp_path / "other", 3, 2, DAY, 30 * DAY, 2 * DAY, T0, kdf_level="min")
        path = tmp_path / "other" / "authority.pub"
    elif authority == "index-fails":  # late: after the folder, vault.json and the log were made
        from facesel.vault.errors import IndexDamagedError

        def broken(*args, **kwargs):
            raise IndexDamagedError("simulated")
        monkeypatch.setattr("facesel.vault.store.Index", broken)
        path = adir / "authority.pub"
    with pytest.raises((ValueError, FileNotFoundError, RuntimeError)):
        Vault(tmp_path / "new-vault", path, camera=camera)
    assert not (tmp_path / "new-vault").exists()
    # A folder made beforehand keeps what it had and gets nothing added.
    (tmp_path / "made").mkdir()
    (tmp_path / "made" / "notes.txt").write_text("mine")
    with pytest.raises((ValueError, FileNotFoundError, RuntimeError)):
        Vault(tmp_path / "made", path, camera=camera)
    assert [p.name for p in (tmp_path / "made").iterdir()] == ["notes.txt"]


def test_demo_echoes_commands_that_paste_back_into_a_shell(monkeypatch, capsys):
    import shlex

    import facesel.cli
    from facesel.cli.demo import _step
    seen = []
    monkeypatch.setattr(facesel.cli, "main", lambda argv: seen.append(argv) or 0)
    argv = ["open", "--vault", "my vault", "--reason", "demo: authorised opening", "--all", "--out", "it's here"]
    _step("title", argv)
    echoed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("$ ")][0]
    assert shlex.split(echoed[2:]) == ["facesel", *argv] and seen == [argv]


@pytest.mark.parametrize("as_path", [False, True])
def test_one_share_path_given_bare_is_named_not_iterated(tmp_path, as_path):
    # ux15: enrol_camera(..., "authority/shares/share-1-of-3.json") iterated the string and said
    # "share file not found: a"; open_records did the same.
    from facesel.vault import enrol_camera
    from test_vault_common import make_authority, share_paths

    _, adir = make_authority(tmp_path / "auth")
    share = share_paths(adir)[0] if as_path else str(share_paths(adir)[0])
    kind = type(share).__name__
    with pytest.raises(TypeError, match=rf"share_paths must be a list of share files, got one {kind} .*put it in a list"):
        enrol_camera(adir, tmp_path / "cam", "gate-9", share)
    assert not (tmp_path / "cam").exists()
    assert enrol_camera(adir, tmp_path / "cam", "gate-9", share_paths(adir)[:2]).camera_id == "gate-9"


def test_the_authority_folder_given_for_its_public_file_points_to_the_file(tmp_path):
    # ux16: Vault("vault/", "authority/", camera=...) (the README's layout, one name short) said
    # "authority is a folder, not a regular file: not a facesel-authority-public file".
    import time

    from facesel.vault import Vault, create_authority, enrol_camera
    from facesel.vault.errors import KeyMaterialError

    authority = tmp_path / "authority"
    create_authority(authority, shares=3, threshold=2, epoch_seconds=86400, retention_seconds=30 * 86400,
                     horizon_seconds=2 * 86400, start=time.time())
    enrol_camera(authority, tmp_path / "camera", "gate-3", sorted((authority / "shares").iterdir())[:2])
    with pytest.raises(KeyMaterialError, match=rf"{authority} is the authority's folder, not its public file: "
                                               rf"give {authority / 'authority.pub'}$"):
        Vault(tmp_path / "vault", authority, camera=tmp_path / "camera")


def test_one_record_id_given_bare_or_a_time_given_as_text_is_named(vault, tmp_path):
    # ux18: Vault.rows(record_ids=rid) iterated the id by characters and answered [] (no record
    # has the id "0"), open_records said "record id must be 32 lowercase hex characters, got '0'";
    # rows(start="2026-...") and rows(start=nan) answered [] (SQLite sorts text after every number),
    # open_records(start="...") failed with "'>=' not supported between instances of 'float' and 'str'".
    from facesel.vault import open_records
    from test_vault_common import share_paths

    adir, vault_dir, ids, _ = vault
    with vault_at(vault_dir, adir, camera_id="cam-1", clock=FakeClock(T0 + DAY)) as opened:
        assert [row.record_id for row in opened.rows(record_ids=[ids[0]])] == [ids[0]]
        assert len(opened.rows(start=T0, end=T0 + DAY)) == len(ids)
        with pytest.raises(TypeError, match=r"record_ids must be a list of record ids, got one str .*put it in a list"):
            opened.rows(record_ids=ids[0])
        with pytest.raises(TypeError, match=r"start must be Unix seconds \(a number\) or None, got '2026-12-06'.*parse_time"):
            opened.rows(start="2026-12-06")
        with pytest.raises(ValueError, match=r"end must be a finite number of Unix seconds, got nan"):
            opened.rows(end=float("nan"))
    shares = share_paths(adir)[:2]
    with pytest.raises(TypeError, match=r"record_ids must be a list of record ids, got one str .*put it in a list"):
        open_records(vault_dir, shares, adir / "keystore", "case 1", tmp_path / "out", record_ids=ids[0])
    with pytest.raises(TypeError, match=r"start must be Unix seconds \(a number\) or None, got '2026-12-06'"):
        open_records(vault_dir, shares, adir / "keystore", "case 1", tmp_path / "out", start="2026-12-06")
    assert not (tmp_path / "out").exists()
    opened_ids = [r.row.record_id for r in open_records(vault_dir, shares, adir / "keystore", "case 1",
                                                           tmp_path / "out", record_ids=(rid for rid in ids[:1]))]
    assert opened_ids == ids[:1]  # a generator of ids is read once, not consumed by the check


def test_python_callers_are_told_the_arguments_names_and_the_command_line_its_flags(vault, tmp_path, capsys,
                                                                                     shared_data):
    # ux18: PlaintextSink/ReportSink given a file said "--plaintext-out must be a folder" ("--report"),
    # open_records with no selection "choose exactly one of: record ids, a time window (--from/--to),
    # or --all": the command line's words in the Python API. Now each names the Python argument, and
    # the command line still its flags.
    from facesel.sinks import PlaintextSink, ReportSink
    from facesel.vault import open_records
    from test_vault_common import share_paths

    adir, vault_dir, _, _ = vault
    shares = share_paths(adir)[:2]
    with pytest.raises(ValueError) as err:
        open_records(vault_dir, shares, adir / "keystore", "case 1", tmp_path / "out")
    assert str(err.value) == ("choose exactly one of: record_ids (a list of ids), a time window (start and/or end), "
                              "or all_records=True")
    code, _, err = run_cli(capsys, "open", "--vault", vault_dir, "--share", shares[0], "--share", shares[1],
                           "--reason", "case 1", "--out", tmp_path / "out")
    assert code == 1 and "choose exactly one of: record ids, a time window (--from/--to), or --all" in err, err
    assert not (tmp_path / "out").exists()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    for sink in (PlaintextSink, ReportSink):
        with pytest.raises(ValueError, match=r"^folder must be a folder, got the file .*notes\.txt$"):
            sink(a_file)
    gif = shared_data / "videos" / "intel_head_pose_female.gif"
    for flag in ("--plaintext-out", "--report"):
        extra = () if flag == "--plaintext-out" else ("--dry-run",)
        code, _, err = run_cli(capsys, "run", gif, "--max-frames", "1", "--no-progress", flag, a_file, *extra)
        assert code == 1 and f"{flag} must be a folder, got the file {a_file}" in err, err


def test_a_head_witnessed_on_another_vault_of_the_camera_is_named_not_called_tampering(tmp_path, faces, capsys):
    # ux18: `audit verify --vault B --expect head-of-A.json`, A and B two vaults of one camera (a
    # second folder, or the vault made again), said "BROKEN (deleted) witnessed entry seq N is
    # missing (log truncated or replaced)": a tampering verdict on a log nobody touched.
    adir, vault_a, _ = sealed_vault(tmp_path / "a", faces)
    _, vault_b, _ = sealed_vault(tmp_path / "b", faces[:1], authority_dir=adir)
    head = tmp_path / "head-a.json"
    code, _, err = run_cli(capsys, "audit", "head", "--vault", vault_a, "--out", head)
    assert code == 0, err
    code, out, err = run_cli(capsys, "audit", "verify", "--vault", vault_b, "--authority", adir, "--expect", head)
    assert code == 1 and "BROKEN" not in out, out
    vault_id = json.loads(head.read_text())["vault_id"]
    _one_line_error(code, err, "audit")
    assert f"--expect {head}: a head witnessed on vault {vault_id}, not on this vault" in err
    code, out, err = run_cli(capsys, "audit", "verify", "--vault", vault_a, "--authority", adir, "--expect", head)
    assert code == 0 and out.startswith(f"{vault_a / 'audit.log'}: OK"), err  # its own vault still verifies


def test_a_purge_time_that_is_no_number_is_named(vault):
    # ux18: Vault.purge(now="2026-12-06") and maybe_purge(now=...) said "could not convert string to
    # float: '2026-12-06'", naming nothing; purge(now=1e300) wrote the time ahead out in 301 digits.
    adir, vault_dir, ids, _ = vault
    with vault_at(vault_dir, adir, camera_id="cam-1", clock=FakeClock(T0 + DAY)) as opened:
        with pytest.raises(TypeError, match=r"^now must be Unix seconds \(a number\) or None, got '2026-12-06'"):
            opened.purge(now="2026-12-06")
        with pytest.raises(TypeError, match=r"^now must be Unix seconds \(a number\) or None, got '2026-12-06'"):
            opened.maybe_purge(now="2026-12-06")
        with pytest.raises(ValueError, match=r"^the time given \(1e\+300 \(Unix seconds\)\) is 1e\+300 s ahead of the "
                           r"clock \(.*\): refusing"):
            opened.purge(now=1e300)
        assert len(opened.rows()) == len(ids)  # nothing was purged


def test_a_path_argument_given_none_or_empty_names_the_argument(tmp_path, monkeypatch):
    # ux19: Vault(None, ...), PlaintextSink(None), ReportSink(5), verify_audit(None),
    # create_authority(None, ...), open_records(None, ...) and AuthorityPublic.load(None) raised
    # pathlib's "expected str, bytes or os.PathLike object, not NoneType", naming no argument;
    # enrol_camera(..., None) "'NoneType' object is not iterable"; Vault("", ...) made its vault in
    # the current folder (Path("") is ".").
    from facesel.sinks import PlaintextSink, ReportSink
    from facesel.vault import AuthorityPublic, Keystore, Vault, create_authority, enrol_camera, open_records, verify_audit
    from test_vault_common import camera_dir, make_authority, share_paths

    _, adir = make_authority(tmp_path / "auth")
    pub, cam = adir / "authority.pub", camera_dir(adir)
    cases = [
        ("path", lambda: Vault(None, pub, camera=cam)),
        ("folder", lambda: PlaintextSink(None)),
        ("folder", lambda: ReportSink(5)),
        ("path", lambda: verify_audit(None)),
        ("path", lambda: AuthorityPublic.load(None)),
        ("path", lambda: Keystore(None)),
        ("out_dir", lambda: create_authority(None, 3, 2, DAY, 30 * DAY, DAY, T0)),
        ("vault_dir", lambda: open_records(None, share_paths(adir)[:2], adir / "keystore", "case 1", tmp_path / "o",
                                           all_records=True)),
        ("out_dir", lambda: open_records(tmp_path / "v", share_paths(adir)[:2], adir / "keystore", "case 1", None,
                                         all_records=True)),
        ("camera_dir", lambda: enrol_camera(adir, None, "gate-9", share_paths(adir)[:2])),
        ("the share path", lambda: enrol_camera(adir, tmp_path / "cam9", "gate-9", [None, None])),
    ]
    for name, call in cases:
        with pytest.raises(TypeError, match=rf"^{name} must be a str or os.PathLike, got (None|5)$"):
            call()
    with pytest.raises(TypeError, match=r"^share_paths must be a list of share files, got NoneType$"):
        enrol_camera(adir, tmp_path / "cam9", "gate-9", None)
    assert not (tmp_path / "cam9").exists()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^path must not be the empty string \(write '\.' for the current folder\)$"):
        Vault("", pub, camera=cam)
    assert not (tmp_path / "vault.json").exists()


@pytest.mark.parametrize("argv", [
    ["list", "--fingerprint", ""],
    ["audit", "verify", "--fingerprint", ""],
    ["audit", "verify", "--authority", ""],
    ["list", "--authority", ""],
    ["audit", "verify", "--expect", ""],
    ["open", "--all", "--reason", "case 1", "--share", "s.json", "--out", ""],
], ids=lambda v: "-".join(v))
def test_an_anchor_flag_given_empty_is_refused_not_read_as_absent(vault, capsys, argv):
    # ux19: `--fingerprint "$FP"`, `--authority "$PUB"`, `--expect "$HEAD"` with the variable unset give
    # "", which was read as no flag: an unanchored check against the vault's own authority.pub (a note
    # only), or no witness check at all, answered OK with exit 0; `open --out ""` was the current folder.
    _, vault_dir, _, _ = vault
    command, flag = " ".join(argv[:2] if argv[0] == "audit" else argv[:1]), argv[-2]
    code, out, err = run_cli_usage(capsys, *argv[:-2], "--vault", vault_dir, *argv[-2:])
    assert code == 2 and out == "", out
    assert err.splitlines()[-1] == f"facesel {command}: error: argument {flag}: empty value (a shell variable left unset?)"


def run_cli_usage(capsys, *argv):
    """``run_cli`` for a command line argparse refuses: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as stop:
        run_cli(capsys, *argv)
    out, err = capsys.readouterr()
    return stop.value.code, out, err


def test_a_safeguard_s_opt_out_given_a_truthy_string_is_refused(vault, tmp_path):
    # ux19: the opt-outs were taken by truth: create_authority(..., threshold=1, allow_single_share="no")
    # made a 1-of-N authority, open_records(..., all_records="no") opened every record, and
    # Vault.purge(now=ahead, allow_future="no") deleted records before their time
    from facesel.vault import create_authority, open_records, shred_expired
    from test_vault_common import share_paths

    adir, vault_dir, _, _ = vault
    with pytest.raises(TypeError, match=r"^allow_single_share must be True or False, got 'no'$"):
        create_authority(tmp_path / "a1", 3, 1, DAY, 30 * DAY, DAY, T0, allow_single_share="no")
    assert not (tmp_path / "a1").exists()
    with pytest.raises(TypeError, match=r"^insecure_kdf must be True or False, got 'no'$"):
        create_authority(tmp_path / "a2", 3, 2, DAY, 30 * DAY, DAY, T0, insecure_kdf="no")
    with pytest.raises(TypeError, match=r"^all_records must be True or False, got 'no'$"):
        open_records(vault_dir, share_paths(adir)[:2], adir / "keystore", "case 1", tmp_path / "o", all_records="no")
    assert not (tmp_path / "o").exists()
    with pytest.raises(TypeError, match=r"^dry_run must be True or False, got 'no'$"):
        shred_expired(adir, dry_run="no")
    with vault_at(vault_dir, adir, clock=FakeClock(T0 + 5 * 3600), purge_at_start=False) as opened:
        held = len(opened.rows())
        with pytest.raises(TypeError, match=r"^allow_future must be True or False, got 'no'$"):
            opened.purge(now=T0 + 1000 * DAY, allow_future="no")
        assert len(opened.rows()) == held > 0


def test_an_expect_head_file_that_is_not_there_is_named_as_missing(vault, capsys, tmp_path):
    # ux20: `audit verify --expect witness/head.json` with a typo in the path said "--expect must be
    # SEQ:SHA256HEX or a head file from 'facesel audit head', got 'witness/head.json'": the form
    # blamed, not the missing file; a hash cut short was told the same.
    adir, vault_dir, _, _ = vault
    missing = tmp_path / "witness" / "haed.json"
    code, _, err = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir, "--expect", missing)
    _one_line_error(code, err, "audit")
    assert f"--expect {missing}: no such file; give the head file that 'facesel audit head --out FILE' wrote" in err
    code, _, err = run_cli(capsys, "audit", "verify", "--vault", vault_dir, "--authority", adir, "--expect", "7:ab12")
    _one_line_error(code, err, "audit")
    assert "--expect 7:ab12: SEQ:SHA256HEX needs the head's 64 hex characters after the colon, got 4" in err
