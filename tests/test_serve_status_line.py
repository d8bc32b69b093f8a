"""``facesel serve status``'s line for a camera that cannot connect (ux20).

A camera whose stream never answered read ``DOWN, reconnecting (...); 0 frames, ..., 0
reconnects``: its failed connection attempts were counted (``/metrics``) but not shown, so the
line read like a camera that had not tried. Now the line adds ``N failed connection attempts``.
A real service and status port; the camera's stream is a port nothing listens on.
"""

from __future__ import annotations

import re

from facesel.ports import unclaimed_port
from facesel.serve.config import load_config
from facesel.serve.control import status_report
from facesel.serve.service import Service
from test_serve import authority, keys  # noqa: F401 - module fixtures
from test_sources import wait_for
from test_vault_common import run_cli


def test_status_shows_the_failed_connection_attempts_of_a_camera_that_never_connected(authority, keys, tmp_path,
                                                                                        capsys):
    path, port = tmp_path / "facesel.toml", unclaimed_port()
    path.write_text(f'[serve]\nlisten = "127.0.0.1:{port}"\n[defaults]\nauthority = "{authority}"\n'
                    f'[cameras.door]\nsource = "http://127.0.0.1:{unclaimed_port()}/video.mjpg"\n'
                    f'vault = "{tmp_path / "door"}"\ncamera_key = "{keys("door")}"\nopen_timeout = 2\n'
                    'reconnect_max_delay = 1\n')
    path.chmod(0o600)
    service = Service(load_config(path)).start()
    try:
        assert wait_for(lambda: status_report(service)["cameras"]["door"]["connect_failures"] >= 2, timeout=120)
        code, out, err = run_cli(capsys, "serve", "status", "--config", path)
        assert code == 3, (out, err)  # a camera down
        line = next(line for line in out.splitlines() if line.startswith("  door:"))
        assert re.search(r"0 reconnects, (\d+) failed connection attempts$", line), line
        assert int(re.search(r"(\d+) failed connection attempts", line).group(1)) >= 2
    finally:
        service.stop(timeout=60)
