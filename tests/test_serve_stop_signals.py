"""What `facesel serve` does when its shutdown does not go as planned (ux20).

- A second SIGINT/SIGTERM while the cameras seal their open tracks: the handlers used to be put
  back before the cameras were stopped, so a second Ctrl-C raised KeyboardInterrupt in the middle
  of the shutdown; the real service then aborted ("FATAL: exception not rethrown", exit 134) with
  the open tracks unsealed. Now it is logged and the sealing goes on.
- A camera whose last seals fail while it stops (a full disk at SIGTERM): it used to log
  "retrying" (nothing retries after a stop) and the service said "stopped", exit 0. Now the
  camera says its tracks are not all sealed and the service exits 1.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from facesel.serve.config import ServeConfig
from facesel.serve.service import Service
from test_serve import authority, keys, videos  # noqa: F401 - module fixtures
from test_sources import wait_for


def _signal_once_handled(signum, when=lambda: True) -> threading.Thread:
    """A thread that sends ``signum`` to this process once the service's handler replaced Python's
    default one (a condition, not a delay: before that it would interrupt the test itself) and
    ``when()`` holds."""
    default = signal.getsignal(signum)

    def send():
        if wait_for(lambda: signal.getsignal(signum) is not default, timeout=60):
            thread.when_held = wait_for(when, timeout=300)  # sent anyway after that: the test ends, and says so
            os.kill(os.getpid(), signum)
    thread = threading.Thread(target=send, daemon=True)
    thread.when_held = None
    thread.start()
    return thread


def test_a_second_stop_signal_while_the_cameras_seal_is_logged_and_the_sealing_goes_on(caplog, monkeypatch):
    service = Service(ServeConfig(cameras={}, listen=None))
    stop = service.stop
    interrupted = []

    def stop_while_signalled_again(timeout=None):
        # the operator presses Ctrl-C again while the cameras seal (inside Service.stop)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            wait_for(lambda: any("already stopping" in r.getMessage() for r in caplog.records), timeout=60)
        except KeyboardInterrupt:  # caught here: let out, it would stop the whole test session
            interrupted.append(True)
        return stop(timeout)

    monkeypatch.setattr(service, "stop", stop_while_signalled_again)
    before = signal.getsignal(signal.SIGINT)
    _signal_once_handled(signal.SIGTERM)
    with caplog.at_level(logging.INFO, logger="facesel.serve"):
        code = service.run_until_signalled()
    assert not interrupted, "the second Ctrl-C interrupted the shutdown"
    assert code == 0
    warning = next(r.getMessage() for r in caplog.records if "already stopping" in r.getMessage())
    assert warning.startswith("SIGINT: already stopping") and "SIGKILL" in warning
    assert any(r.getMessage().startswith("stopped;") for r in caplog.records)
    # the stop names its signal (ux24: "stopping: closing ..." alone)
    assert "stopping (SIGTERM): closing and sealing open tracks" in [r.getMessage() for r in caplog.records]
    assert signal.getsignal(signal.SIGINT) is before  # the handlers are put back at the end


def test_a_camera_whose_seals_fail_while_it_stops_makes_the_service_exit_1(videos, authority, keys, tmp_path,
                                                                           caplog):
    from facesel.serve.retention import open_camera_vault
    from test_serve_capacity import arcade_camera, serve_config
    from test_serve_seal_failing import _FillingVault

    class FullOnceStopping:
        """The disk is full from the very moment the camera is asked to stop: no seal before it
        fails (that would be a failure while running), and none of the stop's seals succeeds."""
        def is_set(self):
            camera = service.cameras.get("door")
            return camera is not None and camera.stopping

    config = serve_config(authority, {"door": arcade_camera(videos, tmp_path / "door", keys("door"), realtime=False,
                                                            live=False)})
    service = Service(config, open_vault=lambda cfg: _FillingVault(open_camera_vault(cfg), FullOnceStopping()))
    service.start()
    camera = service.cameras["door"]
    # people in view when the signal goes (checked just before it, not earlier: a pass of the
    # looping file ends by sealing every track): the stop's flush has tracks to seal. Four, not
    # one: the finaliser drops up to two of a pass's tracks (a not-a-face, a second box on a head)
    adapter_open = lambda: camera.adapter is not None and camera.adapter.open_tracks >= 4  # noqa: E731
    sender = _signal_once_handled(signal.SIGTERM, when=adapter_open)
    with caplog.at_level(logging.INFO, logger="facesel.serve"):
        code = service.run_until_signalled()
    sender.join()
    assert sender.when_held, f"no four tracks open within 300 s: {camera.health()}"
    messages = [r.getMessage() for r in caplog.records]
    assert code == 1, messages[-5:]
    assert "No space left on device" in camera.stop_failure
    assert not any(m.endswith("retrying") for m in messages), "a stopped camera retries nothing"
    assert any(m.startswith("stopped with open tracks not sealed: door (VaultWriteError") for m in messages)
    assert not any(m.startswith("stopped;") for m in messages)
