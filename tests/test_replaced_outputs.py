"""Outputs written as a new file renamed over their path never replace a device, FIFO, socket or link.

Found in session 22's walkthrough (ux23): ``facesel audit head --vault V --out /dev/null``, run as
root, said ``signed head seq 3 written to /dev/null`` and had replaced the machine's ``/dev/null``
(a character device) with a regular file: ``atomic_write`` renames a new file over whatever the path
names. ``authority head --out`` and ``serve --pid-file`` write the same way (and
``--out /dev/stdout`` would replace that link; ``open --bundle`` refuses any path that exists). Each is now refused before anything is written,
naming the flag and what lies there. The tests use a FIFO and a link in ``tmp_path``, never a real
device: each fails on the branch's base (the FIFO or the link is replaced by a regular file).
"""

from __future__ import annotations

import os
import stat

import pytest
from test_vault_common import orl_faces, run_cli, sealed_vault


def _fifo(path):
    os.mkfifo(path)
    return path


def _link(path, target):
    target.write_text("kept\n")
    path.symlink_to(target)
    return path


def _still_there(path, kind):
    mode = path.lstat().st_mode
    assert (stat.S_ISFIFO(mode) if kind == "fifo" else stat.S_ISLNK(mode)), f"{path} was replaced: mode {oct(mode)}"


@pytest.fixture(scope="module")
def case(shared_data, tmp_path_factory):
    """A sealed vault and its authority folder."""
    adir, vault_dir, ids = sealed_vault(tmp_path_factory.mktemp("case"), orl_faces(shared_data, 1))
    return adir, vault_dir, ids


def _target(tmp_path, kind):
    return _fifo(tmp_path / "head.json") if kind == "fifo" else _link(tmp_path / "head.json", tmp_path / "real.json")


@pytest.mark.parametrize("kind", ["fifo", "link"])
def test_audit_head_and_authority_head_do_not_replace_a_fifo_or_a_link(case, tmp_path, capsys, kind):
    adir, vault_dir, _ = case
    target = _target(tmp_path, kind)
    what = "a FIFO" if kind == "fifo" else f"a symbolic link (to {tmp_path / 'real.json'})"
    for argv, command in ((["audit", "head", "--vault", vault_dir, "--out", target], "audit head"),
                          (["authority", "head", "--dir", adir, "--out", target], "authority head")):
        code, out, err = run_cli(capsys, *argv)
        assert code == 1, (out, err)
        assert err.strip() == (f"facesel {command}: error: --out {target}: {what}, not a regular file: this output "
                               "is written as a new file renamed over the path, which would put a regular file in "
                               f"place of the {what.split(' ', 1)[1].split(' (')[0]}; give the path of a regular "
                               "file (or a new one)"), err
        _still_there(target, kind)
    if kind == "link":
        assert (tmp_path / "real.json").read_text() == "kept\n"
    # a regular file there is replaced as before
    regular = tmp_path / "regular.json"
    regular.write_text("old\n")
    assert run_cli(capsys, "audit", "head", "--vault", vault_dir, "--out", regular)[0] == 0
    assert '"seq"' in regular.read_text()


def test_serve_pid_file_does_not_replace_a_fifo(tmp_path, capsys):
    from facesel.cli import main
    from facesel.serve.pidfile import PidFile

    target = _fifo(tmp_path / "facesel.pid")
    with pytest.raises(SystemExit) as stop:  # the flag's type: a usage error before the config is read
        main(["serve", "--config", str(tmp_path / "none.toml"), "--pid-file", str(target)])
    assert stop.value.code == 2
    assert f"argument --pid-file: {target}: a FIFO, not a regular file" in capsys.readouterr().err
    with pytest.raises(ValueError, match="a FIFO, not a regular file"):
        PidFile(target).__enter__()
    _still_there(target, "fifo")
