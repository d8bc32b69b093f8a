"""``facesel central``/``sync``/``batch`` end in one line naming the fix, never a traceback (issue 24,
finding 8): without the PostgreSQL client installed, and with a malformed ``--central`` string."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Runs the real CLI in a fresh interpreter where ``import psycopg`` fails as it does when the
# package is not installed (a None entry in sys.modules makes the import raise ModuleNotFoundError).
_WITHOUT_PSYCOPG = ("import sys; sys.modules['psycopg'] = None; "
                    "from facesel.cli import main; sys.exit(main(sys.argv[1:]))")


def _run(args: list[str], without_psycopg: bool = False) -> subprocess.CompletedProcess:
    prefix = ["-c", _WITHOUT_PSYCOPG] if without_psycopg else ["-m", "facesel"]
    return subprocess.run([sys.executable, *prefix, *args], capture_output=True, text=True, timeout=120)


def _one_clean_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


DSN = "host=127.0.0.1 port=1 dbname=nothing"


@pytest.mark.parametrize("args", [
    ["central", "init", "--central", DSN, "--authority", "authority.pub"],
    ["central", "cameras", "--central", DSN],
    ["central", "list", "--central", DSN],
    ["central", "purge", "--central", DSN],
    ["central", "audit", "--central", DSN],
    ["central", "open", "--central", DSN, "--all", "--share", "s.json", "--reason", "r", "--out", "o"],
    ["sync", "--central", DSN, "--vault", "v", "--camera", "c"],
    ["batch", "--central", DSN, "--authority", "a.pub", "--camera", "c", "v.mp4"],
], ids=lambda a: "-".join(a[:2]))
def test_without_psycopg_one_line_names_the_extra(args, tmp_path):
    line = _one_clean_line(_run(args, without_psycopg=True))
    assert "psycopg" in line and "facesel[central]" in line, line


def test_an_offline_export_check_needs_no_psycopg(tmp_path):
    """``central audit --log FILE`` reads a file: it works without the PostgreSQL client."""
    (tmp_path / "empty.jsonl").write_text("")
    done = _run(["central", "audit", "--log", str(tmp_path / "empty.jsonl")], without_psycopg=True)
    assert done.returncode == 0 and "OK, 0 entries" in done.stdout, done.stderr


@pytest.mark.parametrize("dsn", ["this is not a dsn", "host=127.0.0.1 port=5432 dbname", "postgresql://[::1"])
@pytest.mark.parametrize("command", [["central", "list"], ["central", "audit"], ["sync", "--vault", "v", "--camera", "c"]],
                         ids=lambda c: c[0] + "-" + c[1])
def test_a_malformed_connection_string_is_one_line(dsn, command):
    line = _one_clean_line(_run([*command, "--central", dsn]))
    assert "connection string" in line and "postgresql://" in line, line


@pytest.mark.parametrize("flag", ["--expect", "--authority"])
def test_an_empty_anchor_flag_of_an_export_check_is_refused(tmp_path, flag):
    """ux19: ``central audit --log F --expect ""`` (or ``--authority ""``), an unset shell variable,
    was read as no flag: OK, exit 0, without the witness (or signature) check asked for."""
    (tmp_path / "empty.jsonl").write_text("")
    done = _run(["central", "audit", "--log", str(tmp_path / "empty.jsonl"), flag, ""], without_psycopg=True)
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.splitlines()[-1] == (f"facesel central audit: error: argument {flag}: empty value "
                                            "(a shell variable left unset?)")


def test_an_expect_head_file_that_is_not_there_is_named_as_missing(tmp_path):
    """ux20: a typo in ``--expect``'s path was told the form was wrong ("must be SEQ:SHA256HEX or a
    head file"), not that the file is missing."""
    (tmp_path / "empty.jsonl").write_text("")
    missing = tmp_path / "haed.json"
    line = _one_clean_line(_run(["central", "audit", "--log", str(tmp_path / "empty.jsonl"), "--expect", str(missing)],
                                without_psycopg=True))
    assert f"--expect {missing}: no such file; give the head file that 'facesel central head --out FILE' wrote" in line
