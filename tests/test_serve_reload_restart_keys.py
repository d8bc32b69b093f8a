"""``facesel serve reload`` with a changed ``[serve]`` table (ux20).

``listen``, ``status_hosts``, ``view``, ``mqtt``, ``webhook``, ``log_format`` and ``log_level``
are applied at the start only. A reload of a file that turned the view on (or the log level to
debug) answered "reloaded: added none, removed none, changed none", exit 0, and logged the same:
nothing told the operator the change was not taken. Now the answer and the log name those keys.
A real service with its status port; its one camera is disabled, so no video is read.
"""

from __future__ import annotations

import logging

from facesel.demo_data import demo_clip
from facesel.ports import unclaimed_port
from facesel.serve.config import load_config
from facesel.serve.service import Service
from test_serve import authority, keys  # noqa: F401 - module fixtures
from test_vault_common import run_cli


def test_a_reload_names_the_serve_keys_it_does_not_apply(authority, keys, tmp_path, capsys, caplog):
    path, port = tmp_path / "facesel.toml", unclaimed_port()

    def write(serve_extra: str) -> None:
        path.write_text(f'[serve]\nlisten = "127.0.0.1:{port}"\n{serve_extra}\n[defaults]\nauthority = "{authority}"\n'
                        f'[cameras.door]\nsource = "{demo_clip()}"\nvault = "{tmp_path / "door"}"\n'
                        f'camera_key = "{keys("door")}"\nenabled = false\n')
        path.chmod(0o600)

    write("")
    service = Service(load_config(path)).start()
    try:
        write('view = true\nlog_level = "debug"\nshutdown_timeout = 30')
        with caplog.at_level(logging.INFO, logger="facesel.serve"):
            code, out, err = run_cli(capsys, "serve", "reload", "--config", path)
        assert (code, err) == (0, ""), err
        assert out.splitlines() == ["reloaded: added none, removed none, changed none",
                                    "not applied: serve.view, serve.log_level changed in the file; they take a "
                                    "restart (stop and start facesel serve)"]
        assert service.config.shutdown_timeout == 30 and service.config.view is False  # what a reload applies
        assert "reload: serve.view, serve.log_level changed in the file, not applied: they take a restart" in [
            r.getMessage() for r in caplog.records]
        code, out, _ = run_cli(capsys, "serve", "reload", "--config", path)  # the file as it is: nothing to add
        assert code == 0 and out.splitlines()[1:] == ["not applied: serve.view, serve.log_level changed in the file; "
                                                      "they take a restart (stop and start facesel serve)"]
    finally:
        service.stop(timeout=60)
