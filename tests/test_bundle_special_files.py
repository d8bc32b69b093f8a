"""Review round 10b, finding 3: a bundle handed over as something other than a file.

The bundle comes from whoever made it, often inside an archive, and an archive can hold a FIFO or
a link to a device under the name ``evidence.zip``. ``facesel verify-bundle`` opened the name as a
file: on a FIFO it waited for a writer for ever, saying nothing; a link to ``/dev/zero`` was read
as a zip. Both must be refused at once, naming what the path is. The command runs in a child
process, waited for with a generous deadline, so that the check before the fix fails instead of
hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

DEADLINE = 120  # seconds: refusing takes milliseconds; a hang is what fails


def _verify(path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([sys.executable, "-m", "facesel", "verify-bundle", str(path)], capture_output=True,
                              text=True, timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        pytest.fail(f"verify-bundle {path} was still waiting after {DEADLINE} s")


def test_a_fifo_named_like_a_bundle_is_refused_unopened(tmp_path):
    fifo = tmp_path / "evidence.zip"
    os.mkfifo(fifo)
    done = _verify(fifo)
    assert done.returncode == 1, done.stderr
    assert "NOT VERIFIED" in done.stdout and "a FIFO" in done.stdout, done.stdout


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this system")
def test_a_link_to_a_device_is_refused_naming_it(tmp_path):
    link = tmp_path / "evidence.zip"
    link.symlink_to("/dev/zero")
    done = _verify(link)
    assert done.returncode == 1, done.stderr
    assert "a character device" in done.stdout, done.stdout
