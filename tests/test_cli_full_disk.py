"""Commands that write key material or a witness file onto a full disk name the file (ux17).

``os.write`` and ``os.fsync`` raise an OSError that names no file: ``facesel audit head --out``
said only ``No space left on device``. The full disk is stood in for by the write raising ENOSPC
as the kernel does (``vault.fsutil._write_all``); the last test uses a real tmpfs (root only).
"""

from __future__ import annotations

import errno
import os
import re

from small_tmpfs import small_tmpfs
from test_vault_common import orl_faces, run_cli, sealed_vault


def _full_disk(monkeypatch):
    from facesel.vault import fsutil

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fsutil, "_write_all", full)


def _error(code, err, command):
    assert code == 1 and "Traceback" not in err, err
    lines = [line for line in err.splitlines() if re.match(rf"facesel {command}( [a-z-]+)?: error:", line)]
    assert len(lines) == 1, err
    return lines[0]


def test_audit_head_onto_a_full_disk_names_the_head_file(shared_data, tmp_path, capsys, monkeypatch):
    vault = sealed_vault(tmp_path, orl_faces(shared_data, 1))[1]
    head = tmp_path / "witness" / "head.json"
    _full_disk(monkeypatch)
    line = _error(*run_cli(capsys, "audit", "head", "--vault", vault, "--out", head)[::2], "audit")
    assert line.endswith(f"{head}: No space left on device"), line
    assert not head.exists() and not [p for p in head.parent.iterdir()]  # no temporary left


def test_authority_init_onto_a_full_disk_names_the_file_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    _full_disk(monkeypatch)
    out = tmp_path / "authority"
    line = _error(*run_cli(capsys, "authority", "init", "--out", out, "--shares", "3", "--threshold", "2",
                           "--generate-passphrases", tmp_path / "pp")[::2], "authority")
    assert f"{out}{os.sep}" in line and line.endswith(": No space left on device"), line
    assert not out.exists()


def test_audit_head_onto_a_real_full_tmpfs(shared_data, tmp_path, capsys):
    vault = sealed_vault(tmp_path, orl_faces(shared_data, 1))[1]
    with small_tmpfs(tmp_path / "small", "8k") as mount:
        _fill(mount)
        line = _error(*run_cli(capsys, "audit", "head", "--vault", vault, "--out", mount / "head.json")[::2], "audit")
        assert line.endswith(f"{mount / 'head.json'}: No space left on device"), line


def _fill(folder):
    """Fill a small file system to its last byte (unbuffered: the last write is the one refused)."""
    fd = os.open(folder / "fill", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 512) > 0:
            pass
    except OSError as err:
        assert err.errno == errno.ENOSPC, err
    finally:
        os.close(fd)
