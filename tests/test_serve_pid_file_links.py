"""Review 6, finding 5 (low): ``--pid-file`` wrote through a planted link.

The pid was written to ``.NAME.PID.tmp`` beside the pid file, a name anyone can predict, with an
open that follows symbolic links and truncates: whoever could write the pid file's folder (a
shared run folder) planted that name as a link to a file of the service's user (its
``camera.key``, a vault's ``audit.log``), and the start overwrote that file with the pid. A pid
file that is a link to a FIFO made the start hang reading it. Now the temporary is created new
(``O_EXCL``, random name, links never followed) and the old pid file is read only when it is a
small regular file.
"""

from __future__ import annotations

import os
import threading

from facesel.serve.pidfile import PidFile, running_pid


def test_a_link_planted_at_the_temporary_name_is_not_written_through(tmp_path):
    victim = tmp_path / "camera.key"
    victim.write_text("precious\n")
    run = tmp_path / "run"
    run.mkdir()
    path = run / "facesel.pid"
    for pid in range(os.getpid() - 2, os.getpid() + 3):  # the old name's guessable part
        (run / f".{path.name}.{pid}.tmp").symlink_to(victim)
    with PidFile(path):
        assert path.read_text() == f"{os.getpid()}\n" and not path.is_symlink()
        assert victim.read_text() == "precious\n", "the pid was written through the planted link"
    assert not path.exists() and victim.read_text() == "precious\n"


def test_a_pid_file_that_is_a_fifo_does_not_hang_the_start(tmp_path):
    path = tmp_path / "facesel.pid"
    os.mkfifo(path)
    result = []
    worker = threading.Thread(target=lambda: result.append(running_pid(path)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    hung = worker.is_alive()
    if hung:  # unblock the reader so the test process can end
        with open(path, "w") as writer:
            writer.write("")
    assert not hung and result == [None]
