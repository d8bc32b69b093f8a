"""Review 5, finding 4 (medium): libpq quotes the piece of a connection string it cannot take, and
that piece was the password: ``unexpected spaces found in "PASS WORD"`` (a URI whose password has a
space), ``invalid percent-encoded token: "PA%ZZSS"``, ``missing "=" after "WORD"`` (a key=value
string whose password has an unquoted space). The message went to stderr and to the log of
``facesel sync --watch``; the redaction masked ``password=`` settings and URL user parts only, so
a piece without its key passed. Every quoted piece of the connection string is masked now.

Real CLI processes; the strings fail before any connection, so no server is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import facesel
import pytest

HOME = str(os.path.dirname(os.path.dirname(os.path.abspath(facesel.__file__))))
SECRET = "Hunter2Sesame"

DSNS = {
    "uri-space": f"postgresql://cam:{SECRET} 9@127.0.0.1:5432/evidence",
    "uri-bad-escape": f"postgresql://cam:{SECRET}%ZZ@127.0.0.1:5432/evidence",
    "keyvalue-unquoted-space": f"host=127.0.0.1 dbname=evidence user=cam password=x {SECRET}",
    "keyvalue-bad-port": f"host=127.0.0.1 dbname=evidence user=cam port={SECRET}",
}


COMMANDS = {"central": ["central", "list"], "sync": ["sync", "--vault", "v", "--camera", "c"]}
# sync parses the string before it looks at the vault; a string libpq parses (the bad port) is
# used only once the vault is there, so it is tried through ``central list``.
CASES = [(name, command) for name in sorted(DSNS) for command in sorted(COMMANDS)
         if not (name == "keyvalue-bad-port" and command == "sync")]


@pytest.mark.parametrize("name,command", CASES, ids=lambda v: v)
def test_no_piece_of_the_password_reaches_an_error(name, command, tmp_path):
    command = COMMANDS[command]
    env = {**os.environ, "FACESEL_CENTRAL": DSNS[name],
           "PYTHONPATH": os.pathsep.join([HOME, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "facesel", *command], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert SECRET not in done.stderr + done.stdout, done.stderr  # before: quoted in the error
    assert "***" in done.stderr, done.stderr  # the piece is masked, the message keeps its shape
