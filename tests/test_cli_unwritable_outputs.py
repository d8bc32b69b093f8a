"""An operator's output folder that facesel may not write (ux15's round).

Before, ``run --plaintext-out/--report/--vault/--preview``, ``demo --workdir`` and ``audit head
--out`` into a folder the user may not write failed only at the first write, after the models had
loaded, with Python's ``[Errno 13] Permission denied: 'x'`` (or the name of a temporary file), and
``open --out`` failed after the holders' shares had been read and an ``open`` plus an
``open-aborted`` entry had been written to both audit logs. Now each is refused before any work:
one line naming the flag, the value and the folder that refuses, exit status 1, nothing written.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from test_vault_common import orl_faces, run_cli, sealed_vault

CLIP = Path(__file__).resolve().parents[1] / "python" / "facesel" / "demo_data" / "intel_face_demographics_walking.gif"
OTHER_USER = 65534  # nobody


def _as_other_user(call):
    """call() with another user's rights when run as root (root writes anywhere: a real denial
    needs another user); as any other user the folder's own mode denies it."""
    as_root = os.geteuid() == 0
    if as_root:
        os.seteuid(OTHER_USER)
    try:
        return call()
    finally:
        if as_root:
            os.seteuid(0)


@pytest.fixture
def home(capsys):
    """A folder every user may enter (pytest's own are 0700), holding ``shut/``, which no one but
    its owner (root, or the user running the tests with its write bit off) may write into."""
    # The commands import some modules lazily, and the other user may not read them where the clone
    # sits below a folder only its owner may enter (a CI's mkdtemp): import them now, as root.
    # Every module of the package, then (2 s): which ones a command needs is not this test's concern.
    import facesel

    for module in pkgutil.walk_packages(facesel.__path__, "facesel."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    folder = Path(tempfile.mkdtemp(prefix="facesel-ux15-"))
    folder.chmod(0o755)
    (folder / "shut").mkdir()
    (folder / "shut").chmod(0o555)
    yield folder
    (folder / "shut").chmod(0o755)
    shutil.rmtree(folder)


def _one_line(code, err, command):
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and re.match(rf"facesel {command}( [a-z-]+)?: error: ", lines[0]), err
    assert "Errno" not in err and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(("flag", "extra", "what"), [
    ("--plaintext-out", [], "out"),
    ("--report", ["--dry-run"], "report"),
    ("--preview", ["--dry-run"], "preview.avi"),
    ("--vault", ["--authority", "AUTHORITY", "--camera", "CAMERA"], "vault"),
])
def test_run_refuses_an_output_it_cannot_make_before_any_work(home, capsys, flag, extra, what):
    authority = home / "authority.pub"
    authority.write_bytes(b"checked later")  # the output is refused before the key is read
    extra = [str(authority) if a == "AUTHORITY" else str(home) if a == "CAMERA" else a for a in extra]
    target = home / "shut" / what
    code, _, err = _as_other_user(lambda: run_cli(capsys, "run", CLIP, "--no-progress", flag, target, *extra))
    line = _one_line(code, err, "run")
    made = "cannot be written" if flag == "--preview" else "cannot be made"
    assert line.endswith(f"{flag} {target}: {made}: permission denied on {home / 'shut'}"), line
    assert "input " not in err  # refused before the input was opened and the models loaded
    assert list((home / "shut").iterdir()) == []


def test_run_refuses_an_existing_output_folder_it_cannot_write_into(home, capsys):
    target = home / "shut"
    code, _, err = _as_other_user(lambda: run_cli(capsys, "run", CLIP, "--no-progress", "--plaintext-out", target))
    assert _one_line(code, err, "run").endswith(f"--plaintext-out {target}: cannot write into it: permission denied")


def test_an_output_below_a_file_names_the_file(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("a file")
    target = tmp_path / "notes.txt" / "run1"
    line = _one_line(*run_cli(capsys, "run", CLIP, "--no-progress", "--plaintext-out", target)[::2], "run")
    assert line.endswith(f"--plaintext-out {target}: cannot be made: {tmp_path / 'notes.txt'} is a file, not a folder")


def test_demo_refuses_a_workdir_it_cannot_make(home, capsys):
    target = home / "shut" / "demo"
    code, _, err = _as_other_user(lambda: run_cli(capsys, "demo", "--workdir", target))
    assert _one_line(code, err, "demo").endswith(f"--workdir {target}: cannot be made: permission denied on {home / 'shut'}")


@pytest.fixture
def case(shared_data, home):
    """A sealed vault and its authority under ``home``, owned by the other user when run as root
    (so that only ``--out`` is what the user may not write)."""
    adir, vault_dir, ids = sealed_vault(home / "case", orl_faces(shared_data, 1))
    if os.geteuid() == 0:
        for path in [home / "case", *(home / "case").rglob("*")]:
            os.chown(path, OTHER_USER, OTHER_USER, follow_symlinks=False)
    return adir, vault_dir


def _logs(adir, vault_dir):
    """Both audit logs' bytes (the authority's is made at its first opening)."""
    return [path.read_bytes() if path.exists() else None for path in (vault_dir / "audit.log", adir / "audit.log")]


def test_audit_head_refuses_an_out_it_cannot_write(case, home, capsys):
    _, vault_dir = case
    target = home / "shut" / "head.json"
    code, _, err = _as_other_user(lambda: run_cli(capsys, "audit", "head", "--vault", vault_dir, "--out", target))
    # Before: "permission denied: .../shut/.head.json.1a2b3c4d.tmp", a file the user never named.
    assert _one_line(code, err, "audit").endswith(f"--out {target}: cannot be written: permission denied on {home / 'shut'}")


def test_open_into_an_out_it_cannot_make_reads_no_share_and_logs_nothing(case, home, capsys):
    adir, vault_dir = case
    before = _logs(adir, vault_dir)
    target = home / "shut" / "opened"
    shares = [arg for path in sorted((adir / "shares").glob("share-*.json"))[:2] for arg in ("--share", path)]
    code, _, err = _as_other_user(lambda: run_cli(capsys, "open", "--vault", vault_dir, *shares, "--reason", "case 1",
                                                  "--all", "--out", target))
    assert _one_line(code, err, "open").endswith(f"--out {target}: cannot be made: permission denied on {home / 'shut'}")
    assert _logs(adir, vault_dir) == before  # before: an "open" and an "open-aborted" entry in each log
    code, out, err = _as_other_user(lambda: run_cli(capsys, "open", "--vault", vault_dir, *shares, "--reason", "case 1",
                                                    "--all", "--out", home / "case" / "opened"))
    assert code == 0 and "opened 1 record(s)" in out, err  # the same holders, a folder they may write


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_open_names_a_share_that_is_no_file(case, capsys, kind):
    # Before: "no keystore found next to the share files; give --keystore DIR" for a mistyped share.
    adir, vault_dir = case
    share = adir / "share-9.json" if kind == "missing" else adir / "shares"
    good = sorted((adir / "shares").glob("share-*.json"))[0]
    code, _, err = run_cli(capsys, "open", "--vault", vault_dir, "--share", good, "--share", share,
                           "--reason", "case 1", "--all", "--out", adir.parent / "out")
    said = "no such file" if kind == "missing" else "a folder, not a share file"
    assert _one_line(code, err, "open").endswith(f"--share {share}: {said}" + ("" if kind == "missing" else " (share-I-of-N.json)"))


@pytest.mark.parametrize("command", [["run", str(CLIP), "--no-progress", "--vault", "V", "--camera", "C"], ["list", "--vault", "V"]])
def test_a_missing_authority_file_names_the_flag(tmp_path, capsys, command):
    # Before: "X does not exist" (run: after the models loaded), naming no flag.
    missing = tmp_path / "authority.pub"
    argv = [str(tmp_path / "v") if a == "V" else str(tmp_path) if a == "C" else a for a in command]
    line = _one_line(*run_cli(capsys, *argv, "--authority", missing)[::2], command[0])
    assert f"--authority {missing}: no such file" in line


def test_run_authority_given_as_its_folder_points_to_the_file(tmp_path, capsys):
    line = _one_line(*run_cli(capsys, "run", CLIP, "--no-progress", "--vault", tmp_path / "v", "--camera", tmp_path,
                              "--authority", tmp_path)[::2], "run")
    assert line.endswith(f"--authority {tmp_path} is a folder: give its public key file, {tmp_path / 'authority.pub'}")


def test_verify_bundle_on_a_folder_says_it_is_a_folder(tmp_path, capsys):
    code, out, err = run_cli(capsys, "verify-bundle", tmp_path)
    assert code == 1 and "Errno" not in out + err
    assert f"{tmp_path} is a folder, not a bundle file" in out + err


@pytest.mark.parametrize("kind", ["file", "below a file", "unwritable"])
def test_serve_check_refuses_a_vault_the_camera_cannot_use(home, kind):
    # ux15: `facesel serve --check` said "1 camera(s) OK" for a vault path that is a file (or lies
    # below one) or that the service's user may not make; the camera failed only once started.
    from facesel.serve.config import parse_config
    from test_vault_common import camera_dir, make_live_authority

    make_live_authority(home / "auth", camera_id="door")
    if os.geteuid() == 0:  # the other user reads the camera's key; only the vault's folder is shut
        for path in [*home.glob("auth*"), *(p for folder in home.glob("auth*") for p in folder.rglob("*"))]:
            os.chown(path, OTHER_USER, OTHER_USER, follow_symlinks=False)
    (home / "notes.txt").write_text("a file")
    # The camera's source where the other user may read it: the clone itself may sit below a
    # folder only its owner may enter (a CI's mkdtemp), which is not what this test is about.
    source = home / CLIP.name
    shutil.copyfile(CLIP, source)
    source.chmod(0o644)
    vault = {"file": home / "notes.txt", "below a file": home / "notes.txt" / "v",
             "unwritable": home / "shut" / "v"}[kind]
    table = {"defaults": {"authority": str(home / "auth" / "authority.pub")},
             "cameras": {"door": {"source": str(source), "vault": str(vault),
                                  "camera_key": str(camera_dir(home / "auth", "door"))}}}
    said = {"file": f"cameras.door.vault: {vault} is a file, not a folder",
            "below a file": f"cameras.door.vault {vault}: cannot be made: {home / 'notes.txt'} is a file, not a folder",
            "unwritable": f"cameras.door.vault {vault}: cannot be made: permission denied on {home / 'shut'}"}[kind]
    with pytest.raises(ValueError) as refused:
        _as_other_user(lambda: parse_config(table)) if kind == "unwritable" else parse_config(table)
    assert str(refused.value) == said
    table["cameras"]["door"]["vault"] = str(home / "vault")
    assert parse_config(table).cameras["door"].vault == home / "vault"


@pytest.mark.parametrize("whose", ["vault", "authority"])
def test_open_with_an_audit_log_it_cannot_write_reads_no_share(case, home, capsys, monkeypatch, whose):
    # ux17: a vault on a read-only disk (or an audit log the user may not append to) was found out
    # only when the opening was logged, after the holders had given their shares and passphrases:
    # "facesel open: error: /mnt/v/audit.log: Read-only file system". Checked before any share is
    # read now. The vault's log shut here is the file; the authority's, its folder (its log is
    # made at the first opening).
    from facesel.vault import opening

    adir, vault_dir = case
    shut = vault_dir / "audit.log" if whose == "vault" else adir
    if os.geteuid() == 0:
        os.chown(shut, 0, 0)
    shut.chmod(0o444 if whose == "vault" else 0o555)
    asked = []
    monkeypatch.setattr(opening, "reconstruct_master", lambda *a, **k: asked.append(1) or pytest.fail("a share was read"))
    before = _logs(adir, vault_dir)
    shares = [arg for path in sorted((adir / "shares").glob("share-*.json"))[:2] for arg in ("--share", path)]
    try:
        code, _, err = _as_other_user(lambda: run_cli(capsys, "open", "--vault", vault_dir, *shares, "--reason", "c 1",
                                                      "--all", "--out", home / "case" / "opened"))
    finally:
        shut.chmod(0o644 if whose == "vault" else 0o755)
    line = _one_line(code, err, "open")
    log = vault_dir / "audit.log" if whose == "vault" else adir / "audit.log"
    assert f"its audit log {log} cannot be written (permission denied)" in line and line.endswith("no share was read")
    assert not asked and _logs(adir, vault_dir) == before


def test_the_desk_on_a_vault_whose_log_it_cannot_write_warns_at_its_start(case, capsys, monkeypatch):
    # ux17: `facesel review` started without a word on a vault whose audit log could not be
    # written; the holders found out after giving their shares. It still starts (searching a
    # read-only evidence copy is useful) and says at once that nothing can be opened.
    pytest.importorskip("starlette", reason="the desk needs the 'review' extra")
    from facesel.review import serve as desk

    adir, vault_dir = case
    log = vault_dir / "audit.log"
    if os.geteuid() == 0:
        os.chown(log, 0, 0)
    log.chmod(0o444)
    started = []
    monkeypatch.setattr(desk, "serve", lambda *args, **kwargs: started.append(args))
    try:
        code, _, err = _as_other_user(lambda: run_cli(capsys, "review", "--vault", vault_dir, "--keystore",
                                                      adir / "keystore"))
    finally:
        log.chmod(0o644)
    assert code == 0 and started, err
    assert (f"review: WARNING: --vault {vault_dir}: its audit log {log} cannot be written (permission denied): "
            "records can be found and listed, but not opened") in err
    log.chmod(0o644)
    code, _, err = run_cli(capsys, "review", "--vault", vault_dir, "--keystore", adir / "keystore")
    assert code == 0 and "WARNING" not in err, err
