"""A camera whose seals fail (a full disk) stays down in /healthz until a seal succeeds (ux17).

Before, a failed seal restarted the camera ("down"), and as soon as frames flowed again it was
"running" and "up": on a full 160 KiB tmpfs /healthz answered 200 "ok" most of the time while
every record was lost. The full disk is stood in for by the vault's seal raising the vault's own
VaultWriteError while an Event is set, so that the same camera can recover.
"""

from __future__ import annotations

import threading

from facesel.serve.camera import Camera
from facesel.serve.retention import open_camera_vault
from facesel.vault.errors import VaultWriteError
from test_serve import authority, keys, videos  # noqa: F401 - module fixtures
from test_serve_capacity import arcade_camera, serve_config
from test_sources import wait_for


class _FillingVault:
    """The camera's real vault, whose seal fails as on a full disk while ``full`` is set."""

    def __init__(self, vault, full: threading.Event):
        self._vault, self._full = vault, full

    def seal(self, result):
        if self._full.is_set():
            raise VaultWriteError(f"could not store record x in {self._vault.path}: No space left on device; "
                                  "nothing was stored")
        return self._vault.seal(result)

    def __getattr__(self, name):
        return getattr(self._vault, name)


def test_a_camera_whose_seals_fail_is_not_sealing_until_one_succeeds(videos, authority, keys, tmp_path):
    full = threading.Event()
    full.set()
    config = serve_config(authority, {"door": arcade_camera(videos, tmp_path / "door", keys("door"), realtime=False,
                                                            live=False)})
    camera = Camera(config.cameras["door"], open_vault=lambda cfg: _FillingVault(open_camera_vault(cfg), full))
    camera.start()
    try:
        # Frames flow again after the restart a failed seal caused: still down, saying why.
        seen = []  # the health of a camera whose frames flow after that restart (not one between restarts)
        assert wait_for(lambda: camera.pipeline_restarts >= 1 and seen.append(camera.health()) is None
                        and seen[-1]["state"] in ("running", "not sealing"), timeout=300)
        health = seen[-1]
        assert health["up"] is False and health["state"] == "not sealing", health
        assert "No space left on device" in health["reason"]
        full.clear()  # space freed: the next seal succeeds and the camera is up again
        assert wait_for(lambda: camera.sealed > 0 and camera.health()["up"], timeout=300), camera.health()
        assert camera.health()["state"] == "running"
    finally:
        camera.stop(timeout=120)



def test_health_is_of_one_moment_while_the_camera_thread_changes_state(videos, authority, keys, tmp_path):
    """``/healthz`` runs on the status port's threads while the camera's thread goes down (a failed
    seal restarting its pipeline) and up again. health() read the state more than once: a change
    between two readings mixed two moments. Made deterministic: the camera goes down while health()
    asks its source for the last frame's age (no frame yet). Running with no frame is "no frames";
    down is down; before, the second reading skipped the no-frames rule and the first one's
    "running" was answered: {"up": True, "state": "running"} for a camera with no frame, now down."""
    config = serve_config(authority, {"door": arcade_camera(videos, tmp_path / "door", keys("door"))})
    camera = Camera(config.cameras["door"])  # not started: the test plays the camera's thread
    down = "VaultWriteError: No space left on device"

    class GoesDownWhileAsked:
        def frame_age(self):
            camera._set_state("down", down)  # the camera's thread, between two readings of health()
            return None  # no frame received yet

    camera._set_state("running", "")
    camera.source = GoesDownWhileAsked()
    health = camera.health()
    assert health["up"] is False, health
    assert health in ({"up": False, "state": "no frames", "last_frame_age_s": None},  # the moment before
                      {"up": False, "state": "down", "reason": down, "last_frame_age_s": None}), health
