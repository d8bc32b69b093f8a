"""A second ``facesel serve`` on the same vault folders is refused at the start (ux20).

Before, it started (another port) and ran with every camera down, retrying the vault's lock
until the first stopped. Now the start names the vault folder and the holder; a holder that died
blocks nothing; two services started at the same instant leave exactly one running.
Real services (their cameras' streams are ports nothing listens on: no vault needs a record).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import pytest

from facesel.ports import unclaimed_port
from facesel.serve.config import load_config
from facesel.serve.service import Service
from facesel.vault import VaultLockedError
from test_serve import authority, keys  # noqa: F401 - module fixtures


def _config(tmp_path, authority, keys, name: str, cameras=("door", "yard")):
    """A config file ``name`` with a status port of its own and the cameras' vaults under tmp_path."""
    text = f'[serve]\nlisten = "127.0.0.1:{unclaimed_port()}"\n[defaults]\nauthority = "{authority}"\n'
    for camera in cameras:
        text += (f'[cameras.{camera}]\nsource = "http://127.0.0.1:{unclaimed_port()}/video.mjpg"\n'
                 f'vault = "{tmp_path / camera}"\ncamera_key = "{keys(camera)}"\nopen_timeout = 2\n')
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return load_config(path)


def test_a_second_service_on_the_same_vaults_is_refused_naming_the_folder(authority, keys, tmp_path):
    first = Service(_config(tmp_path, authority, keys, "a.toml")).start()
    try:
        second = Service(_config(tmp_path, authority, keys, "b.toml"))
        with pytest.raises(VaultLockedError) as refused:
            second.start()
            second.stop(timeout=30)  # main's code: it started, cameras down; leave nothing running
        message = str(refused.value)
        assert "cameras.door.vault" in message and str((tmp_path / "door").resolve()) in message, message
        assert "another facesel serve" in message, message
        assert second.status is None and not second.camera_list()  # nothing of it started
    finally:
        first.stop(timeout=60)
    # once the first stopped, the folders are free again
    again = Service(_config(tmp_path, authority, keys, "c.toml")).start()
    again.stop(timeout=60)


def test_a_service_that_died_does_not_block_the_next_start(authority, keys, tmp_path):
    config = _config(tmp_path, authority, keys, "a.toml", cameras=("door",))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from facesel.serve.config import load_config; from facesel.serve.vault_claims import VaultClaims;"
         "c = VaultClaims(); c.claim_all(load_config(sys.argv[1]).cameras.values()); print('held', flush=True);"
         "sys.stdin.read()", str(config.path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    with holder:
        try:
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(VaultLockedError) as refused:
                Service(config).start().stop(timeout=30)
            assert f"pid {holder.pid}" in str(refused.value)  # the holder is named
        finally:
            holder.send_signal(signal.SIGKILL)  # dies without any clean-up
            holder.wait(timeout=60)
    Service(config).start().stop(timeout=60)  # the dead holder's claim went with it


def test_two_services_started_at_once_leave_exactly_one_running(authority, keys, tmp_path):
    services = [Service(_config(tmp_path, authority, keys, f"{i}.toml")) for i in range(2)]
    barrier, outcomes = threading.Barrier(2), {}

    def start(i):
        barrier.wait()
        try:
            services[i].start()
            outcomes[i] = "started"
        except VaultLockedError:
            outcomes[i] = "refused"
    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert sorted(outcomes.values()) == ["refused", "started"], outcomes
        winner = services[next(i for i, outcome in outcomes.items() if outcome == "started")]
        assert sorted(cam.config.name for cam in winner.camera_list()) == ["door", "yard"]
    finally:
        for i, outcome in outcomes.items():
            if outcome == "started":
                services[i].stop(timeout=60)
