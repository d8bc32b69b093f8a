"""Review 7, finding 2: an opening's memory read by another process of the same user.

``facesel open`` holds the holders' passphrases, the master key rebuilt from them and every
decrypted crop. On a system without Yama's ``ptrace_scope`` (or with it at 0), any other process
of the opener's user (a browser extension's helper, a compromised tool in the same account)
could read all of it through ``/proc/PID/mem`` while the opening runs. ``keep_memory_private``
(``prctl(PR_SET_DUMPABLE, 0)``) closes that; the test first proves, with the same two processes,
that the read works on this machine without it. Swap is not covered (see facesel.core_dumps).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_vault_common import orl_faces, sealed_vault, share_paths

OTHER_USER = 65534  # nobody: as root, both processes become this user (root reads any memory)
PR_GET_DUMPABLE = 3

_HOLDER = """
import ctypes, os, sys
from facesel.core_dumps import keep_memory_private
if os.getuid() == 0:  # become an ordinary user; a uid change leaves the process undumpable, so
    os.setresgid({other}, {other}, {other})  # restore what an ordinary user's process starts with
    os.setgroups([])
    os.setresuid({other}, {other}, {other})
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)
if sys.argv[1] == "private":
    keep_memory_private()
secret = bytearray(os.urandom(32))  # stands for a decrypted crop or the master key
address = ctypes.addressof((ctypes.c_char * len(secret)).from_buffer(secret))
print(address, secret.hex(), flush=True)
sys.stdin.read()
"""

_READER = """
import os, sys
if os.getuid() == 0:
    os.setresgid({other}, {other}, {other})
    os.setgroups([])
    os.setresuid({other}, {other}, {other})
pid, address, size = map(int, sys.argv[1:])
try:
    with open(f"/proc/{{pid}}/mem", "rb") as mem:
        mem.seek(address)
        print(mem.read(size).hex())
except PermissionError as err:
    print("refused", err)
"""


def _read_holders_secret(mode: str) -> tuple[str, str]:
    """(the holder's secret, what a same-user reader got from its memory)."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER.format(other=OTHER_USER), mode],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        address, secret = holder.stdout.readline().split()
        reader = subprocess.run([sys.executable, "-c", _READER.format(other=OTHER_USER), str(holder.pid), address,
                                 str(len(secret) // 2)], capture_output=True, text=True, timeout=120)
        assert reader.returncode == 0, reader.stderr
        return secret, reader.stdout.strip()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        holder.stdout.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/PID/mem and prctl are Linux's")
def test_another_process_of_the_user_cannot_read_a_private_openings_memory():
    secret, got = _read_holders_secret("plain")
    if got.startswith("refused"):
        pytest.skip(f"this system already refuses same-user memory reads (Yama ptrace_scope): {got}")
    assert got == secret, "the reader should see an ordinary process's memory (the attack this guards against)"
    secret, got = _read_holders_secret("private")
    assert got.startswith("refused") and secret not in got, got


_CLI_OPENING = """
import ctypes, sys
from pathlib import Path
import facesel.vault.opening as opening
from facesel.cli import main

write = opening._write_outputs

def write_and_note(staging, opened):
    Path({note!r}).write_text(str(ctypes.CDLL(None).prctl({get}, 0, 0, 0, 0)))
    write(staging, opened)

opening._write_outputs = write_and_note
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_facesel_open_keeps_its_memory_private_while_it_writes_the_faces(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    authority, vault, ids = sealed_vault(tmp_path, orl_faces(shared_data, 1))
    note = tmp_path / "dumpable"
    argv = ["open", "--vault", vault, "--reason", "case 7", "--out", tmp_path / "out", "--all"]
    for share in share_paths(authority)[:2]:
        argv += ["--share", share]
    done = subprocess.run([sys.executable, "-c", _CLI_OPENING.format(note=str(note), get=PR_GET_DUMPABLE),
                           *map(str, argv)], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / ids[0] / "crop.png").is_file()
    assert note.read_text() == "0", "the opening's memory was readable by the user's other processes"


_CLI_EXTEND = """
import ctypes, sys
from pathlib import Path
import facesel.cli.authority as authority
from facesel.cli import main

extend = authority.extend_authority

def extend_and_note(directory, master, until):
    Path({note!r}).write_text(str(ctypes.CDLL(None).prctl({get}, 0, 0, 0, 0)))
    return extend(directory, master, until)

authority.extend_authority = extend_and_note
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_authority_commands_keep_the_rebuilt_master_key_private(tmp_path):
    """``authority register``, ``extend`` and ``shred`` rebuild the master key from K shares the
    same way (one function); ``extend`` stands for them."""
    from test_vault_common import DAY, T0, make_authority

    _, authority = make_authority(tmp_path / "auth")
    note = tmp_path / "dumpable"
    argv = ["authority", "extend", "--dir", authority, "--until", str(T0 + 12 * DAY)]
    for share in share_paths(authority)[:2]:
        argv += ["--share", share]
    done = subprocess.run([sys.executable, "-c", _CLI_EXTEND.format(note=str(note), get=PR_GET_DUMPABLE),
                           *map(str, argv)], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert note.read_text() == "0", (done.returncode, done.stderr)
