"""``facesel central cameras | head -0`` and ``central list | head -0`` end quietly (ux18c).

A reader that leaves early is normal for a listing (``ls | head``); the commands said "the output
was closed..." or raised instead of ending with exit 0 and nothing on stderr. The vault's own
``facesel list`` is tested in ``test_vault_bad_input.py`` (a real pipe, one line read, then closed).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from central_common import facesel


@pytest.mark.parametrize("listing", [["central", "cameras"], ["central", "list"], ["central", "list", "--json"]])
def test_a_central_listing_whose_reader_left_ends_quietly(central_dsn, authority, cameras, listing):
    cameras("cam-a")
    for args in (["central", "init", "--authority", str(authority[1] / "authority.pub")],
                 ["central", "register-camera", str(cameras.key_dir("cam-a"))]):
        done = facesel(*args, "--central", central_dsn)
        assert done.returncode == 0, done.stderr
    proc = subprocess.Popen([sys.executable, "-m", "facesel", *listing, "--central", central_dsn],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # gone before the first write: the command's first print meets a closed pipe
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0, err
    assert err == ""
