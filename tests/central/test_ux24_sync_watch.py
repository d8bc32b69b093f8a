"""ux24: a watching forwarder (``facesel sync --watch``) prints its first pass and then only the
passes that move a record; its stop line counts the passes. ux23 found one summary line a pass,
moved or not: 2,880 lines a day of "0 record(s) stored" at ``--watch 30``."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

from facesel.vault import Vault
from test_vault_common import orl_faces, track_result


def test_a_watching_forwarder_prints_only_the_passes_that_move_a_record(central_dsn, authority, cameras, tmp_path,
                                                                       shared_data):
    cameras.in_new_store(central_dsn, authority[0])
    folder = tmp_path / "cam-a"
    with Vault(folder, cameras.pub_path, camera=cameras("cam-a")) as vault:
        vault.seal(track_result(orl_faces(shared_data, 1)[0]))
    out, err = tmp_path / "watch.out", tmp_path / "watch.err"
    with open(out, "w") as out_file, open(err, "w") as err_file:
        watcher = subprocess.Popen([sys.executable, "-m", "facesel", "sync", "--vault", str(folder),
                                    "--camera", str(cameras.key_dir("cam-a")), "--central", central_dsn,
                                    "--watch", "0.1"], stdout=out_file, stderr=err_file, text=True)
        try:
            deadline = time.monotonic() + 60
            while list((folder / "records").glob("*.fsr")) and time.monotonic() < deadline:
                time.sleep(0.1)
            # Idle passes, every 0.1 s: the stop line's count below checks that some took place.
            time.sleep(2.0)
        finally:
            watcher.send_signal(signal.SIGTERM)
            watcher.wait(timeout=60)
    assert watcher.returncode == 0, err.read_text()
    lines = out.read_text().splitlines()
    assert len(lines) == 1 and "1 record(s) stored centrally" in lines[0], lines  # before: one a pass
    stopped = re.search(r"stopped by a signal after (\d+) pass\(es\), 1 record\(s\) stored", err.read_text())
    assert stopped, err.read_text()
    assert int(stopped.group(1)) >= 3, "too few passes to have idle ones: " + err.read_text()
    assert "watching: a pass every 0.1 s" in err.read_text()
